"""Every page in words, not codes (Chinese first, English on request); the agency's file screen.

Issue 8: the subject page said ``状态 active``; consoles showed ``self_service``,
``under_objection``, ``permit``; the agency's "upload a file to screen" said not available.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from xinyong.catalog import default_catalog
from xinyong.measures.reach import reach_of, way_of
from xinyong.measures.tables import restrictions
from xinyong.store.engine import opened
from xinyong.store.tables import records, subject_identifiers, subjects

from .conftest import csrf_of, log_in

#: Codes that must never reach a reader of a Chinese page as they are.
CODES = (
    "enterprise",
    "individual",
    "sole_trader",
    "organisation",
    "active",
    "under_objection",
    "withdrawn",
    "repaired",
    "corrected",
    "self_service",
    "read_file",
    "report.issue",
    "legal_representative",
    "subject_only",
    "permit",
    "deny",
    "review",
    "open",
    "pending",
)
CODE_PATTERN = re.compile(r"(?<![\w.])(" + "|".join(re.escape(c) for c in CODES) + r")(?![\w.])")


def visible_text(page: str) -> str:
    """What a reader sees: no tags, scripts, styles or attribute values."""
    body = page.split("<body>", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _subject(demo_db: str, record_type: str, kind: str, *, last: bool = False) -> tuple[int, str]:
    with opened(demo_db) as engine, engine.connect() as conn:
        order = subjects.c.id.desc() if last else subjects.c.id
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                records.c.record_type == record_type,
                records.c.superseded_at.is_(None),
                records.c.status == "active",
                subjects.c.kind == kind,
            )
            .order_by(order)
        ).first()
    assert row is not None, f"the demo has no {kind} with {record_type}"
    return int(row[0]), str(row[1])


def _restricted(demo_db: str, action: str = "buy_train_seat_premium") -> str:
    """The citizen number of a person the restriction index denies ``action`` today: the first
    whose facts carry a measure of ``action`` that denies (``reach``)."""
    r = restrictions.c
    reach = reach_of(default_catalog())
    with opened(demo_db) as engine, engine.connect() as conn:
        rows = conn.execute(
            select(subject_identifiers.c.value, r.list_id, r.subject_kind, r.role)
            .join(restrictions, r.subject_id == subject_identifiers.c.subject_id)
            .where(
                subject_identifiers.c.scheme == "ric",
                r.superseded_at.is_(None),
                r.valid_to.is_(None) | (r.valid_to >= date.today()),
                r.valid_from.is_(None) | (r.valid_from <= date.today()),
            )
            .order_by(subject_identifiers.c.subject_id, r.id)
        ).all()
    found = next(
        (
            code
            for code, list_id, kind, role in rows
            if any(
                m.effect == "deny" for m in reach.for_action(list_id, way_of(kind, role), action)
            )
        ),
        None,
    )
    assert found is not None, f"nobody in the demo is denied {action}"
    return str(found)


def _public_paths(demo_db: str) -> list[str]:
    enterprise, code = _subject(demo_db, "admin_penalty", "enterprise")
    person, _ = _subject(demo_db, "judgment_defaulter", "individual")
    return [
        "/",
        f"/search?q={code}",
        f"/subjects/{enterprise}",
        f"/subjects/{person}",
        "/lists",
        "/lists/judgment_defaulters",
        "/catalog",
        "/dashboard",
        "/login",
    ]


def test_public_pages_say_words_not_codes(client: TestClient, demo_db: str) -> None:
    for path in _public_paths(demo_db):
        response = client.get(path)
        assert response.status_code == 200, path
        leaked = set(CODE_PATTERN.findall(visible_text(response.text)))
        assert not leaked, (path, leaked)


def test_subject_page_status_and_details_in_chinese_then_english(
    client: TestClient, demo_db: str
) -> None:
    person, code = _subject(demo_db, "judgment_defaulter", "individual")
    page = client.get(f"/subjects/{person}").text
    assert re.search(r'<td class="status-active">有效</td>', page)
    assert "<dt>执行法院</dt>" in page
    assert code not in page
    client.get("/lang", params={"to": "en", "next": "/"})
    english = client.get(f"/subjects/{person}").text
    assert '<td class="status-active">in force</td>' in english
    assert "<dt>Court</dt>" in english
    assert "individual" in visible_text(english)
    for word in ("有效", "向社会公开", "执行法院", "个人"):
        assert word not in visible_text(english), word


def test_enterprise_codes_are_shown_whole(client: TestClient, demo_db: str) -> None:
    enterprise, code = _subject(demo_db, "admin_penalty", "enterprise")
    page = client.get(f"/subjects/{enterprise}").text
    assert f'id="subject-code">{code}<' in page
    assert "*" not in visible_text(page).replace("**", "")  # nothing starred on its page
    api = client.get(f"/api/v1/subjects/{enterprise}").json()
    assert api["code"] == code
    assert {r["fields"].get("subject_code") for r in api["records"]} <= {code, None}


def test_consoles_say_words_not_codes(client: TestClient, demo_db: str) -> None:
    defaulter = _restricted(demo_db)
    log_in(client, "agency:china_railway")
    page = client.get("/agency").text
    checked = client.post(
        "/agency/check",
        data={"subject": defaulter, "action": "buy_train_seat_premium", "csrf": csrf_of(page)},
    )
    assert checked.status_code == 200
    text = visible_text(checked.text)
    assert "拒绝" in text and not CODE_PATTERN.findall(text), CODE_PATTERN.findall(text)
    for login, path in (("operator", "/operator"), ("samr", "/department")):
        log_in(client, login)
        response = client.get(path)
        assert response.status_code == 200, path
        assert not CODE_PATTERN.findall(visible_text(response.text)), path
    _sid, own = _subject(demo_db, "admin_penalty", "enterprise", last=True)
    log_in(client, own)
    mine = client.get("/me").text
    assert not CODE_PATTERN.findall(visible_text(mine)), CODE_PATTERN.findall(visible_text(mine))
    assert "本人查询" in mine and "查看档案" in mine


def test_agency_console_checks_only_its_own_measures_actions(
    client: TestClient, demo_db: str
) -> None:
    """The console offers and answers only the actions the agency's measures implement."""
    defaulter = _restricted(demo_db)
    log_in(client, "agency:china_railway")
    page = client.get("/agency").text
    assert 'value="buy_train_seat_premium"' in page
    assert 'value="buy_flight_ticket"' not in page and 'value="green_channel"' not in page
    for action in ("buy_flight_ticket", "green_channel"):
        refused = client.post(
            "/agency/check",
            data={"subject": defaulter, "action": action, "csrf": csrf_of(page)},
        )
        assert refused.status_code == 403, action
        assert "implements no measure on " + action in refused.text
    screened = _screen(client, "codes.csv", f"code\n{defaulter}\n".encode(), "buy_flight_ticket")
    assert screened.status_code == 400
    assert "implements no measure" in screened.text


def _screen(
    client: TestClient, name: str, body: bytes, action: str = "buy_train_seat_premium"
) -> httpx.Response:
    page = client.get("/agency").text
    return client.post(
        "/agency/screen",
        data={"action": action, "csrf": csrf_of(page)},
        files={"file": (name, body, "application/octet-stream")},
    )


def test_agency_screens_a_file_in_input_order(client: TestClient, demo_db: str) -> None:
    defaulter = _restricted(demo_db)
    _sid, enterprise = _subject(demo_db, "enterprise_registration", "enterprise")
    assert client.post("/agency/screen", follow_redirects=False).status_code == 303
    log_in(client, "agency:china_railway")
    assert "此功能尚未上线" not in client.get("/agency").text
    codes = [enterprise, "123", defaulter, "11010519491231002Y"]
    body = ("code\n" + "\n".join(codes) + "\n").encode()
    response = _screen(client, "buyers.csv", body)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/csv")
    assert "screened-buy_train_seat_premium.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["code"] for r in rows] == codes
    assert [r["outcome"] for r in rows] == ["permit", "invalid", "deny", "invalid"]
    assert rows[1]["measures"] and rows[2]["measures"] and rows[2]["until"] != "x"

    buffer = io.BytesIO()
    pq.write_table(pa.table({"身份证号码": [defaulter, "junk"]}), buffer)
    parquet = _screen(client, "buyers.parquet", buffer.getvalue())
    assert parquet.status_code == 200, parquet.text[:500]
    assert [r["outcome"] for r in csv.DictReader(io.StringIO(parquet.text))] == [
        "deny",
        "invalid",
    ]


@pytest.mark.parametrize(
    ("name", "body", "action"),
    [
        ("junk.csv", b"\x00\x01\x02\xff not a table", "buy_train_seat_premium"),
        ("junk.parquet", b"PAR1 broken", "buy_train_seat_premium"),
        ("codes.xlsx", b"PK\x03\x04", "buy_train_seat_premium"),
        ("codes.csv", b"code\n123\n", "fly_to_the_moon"),
        ("", b"", "buy_train_seat_premium"),
    ],
)
def test_agency_screen_refuses_bad_input_clearly(
    client: TestClient, name: str, body: bytes, action: str
) -> None:
    log_in(client, "agency:china_railway")
    response = _screen(client, name, body, action)
    assert response.status_code == 400
    assert 'id="screen-problem"' in response.text
    assert "Traceback" not in response.text

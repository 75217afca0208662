"""No re-identification from public data (issue 16), tried as an attacker would.

A listed person's masked number (``3501**********4620``) hides the county (two digits) and the
birth date (eight); the sequence and the check character stay. The attacker gathers everything
public about the person — portal search, subject page, list pages and their CSV, the API's
search, subject, lists and reports (JSON and HTML, with ``?at=`` variants) — and tries to
rebuild the number: from what the pages say, and by asking the public routes about candidate
numbers. Both must fail: no public output holds the number, the birth date, an age or the
county's code; the candidates left stay in the thousands; and a candidate, the true number and
an unknown number get the same answers. A person the store holds but the public may not see is
"not found" exactly as an unknown code is, on every public route, after the same statements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from tests.process.conftest import ENTERPRISE, OTHER_PERSON, PERSON, defaulter, make_loader, penalty
from typer.testing import CliRunner

from xinyong.api.app import create_app
from xinyong.catalog import Catalog
from xinyong.cli import app
from xinyong.codes import regions, ric
from xinyong.disclose import issue_report, subject_view
from xinyong.disclose.masking import mask_ric
from xinyong.errors import SubjectNotFound
from xinyong.store.tables import subjects

#: The listed person: 福州市鼓楼区 (350102), born 1982-06-24, a woman (sequence 462).
BIRTH = date(1982, 6, 24)
COUNTY = PERSON[:6]
#: A valid number no subject holds, with the same shape as the hidden person's.
UNKNOWN = "41172419581206824" + ric.check_character("41172419581206824")
#: A person listed in 2024, whose list entries ended in 2026 (the record stays public).
FORMER = "11010119900307123" + ric.check_character("11010119900307123")
#: The person was listed a month ago (a listing is published for a limited time).
LISTED = date.today() - timedelta(days=30)
#: Days the attacker asks reports about, besides today.
PAST = tuple(str(LISTED + timedelta(days=d)) for d in (-400, -1, 0, 10))


@pytest.fixture()
def site(engine: Engine, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    load = make_loader(engine, tmp_path)
    load(
        "judgment_defaulter",
        [defaulter(PERSON, "王伟", "（2024）闽0102执9号", decided=LISTED.isoformat())],
        source="court",
    )
    load(
        "judgment_defaulter",
        [defaulter(FORMER, "张敏", "（2024）京0101执3号", decided="2024-03-05")],
        source="court",
    )
    # An individual's ordinary penalty is not published (58号): the store holds this person,
    # the public may not know it.
    load("admin_penalty", [penalty(OTHER_PERSON, "李娜", "豫市监罚〔2024〕7号", "2024-02-01")])
    # An enterprise penalty of 2023 whose one-year publication ended in 2024.
    load(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2023〕5号", "2023-01-10")],
    )
    app = create_app(db_url, secret=b"test", rate_limit=100_000)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


def _id_of(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(subjects.c.id).where(subjects.c.primary_code == code)).scalar_one()
        )


def _public_texts(client: TestClient, catalog: Catalog, sid: int) -> dict[str, str]:
    """Everything the public can read about the person, by where it was read."""
    masked = mask_ric(PERSON)
    gets: dict[str, tuple[str, dict[str, str]]] = {
        "search name": ("/search", {"q": "王伟"}),
        "search masked": ("/search", {"q": masked}),
        "subject page": (f"/subjects/{sid}", {}),
        "subject page en": (f"/subjects/{sid}", {"lang": "en"}),
        "api search": ("/api/v1/subjects", {"q": "王伟"}),
        "api search masked": ("/api/v1/subjects", {"q": masked}),
        "api subject": (f"/api/v1/subjects/{sid}", {}),
        "lists": ("/lists", {}),
        "api lists": ("/api/v1/lists", {}),
        "dashboard": ("/dashboard", {}),
    }
    for list_id in catalog.lists:
        gets[f"list {list_id}"] = (f"/lists/{list_id}", {})
        gets[f"list {list_id} csv"] = (f"/lists/{list_id}", {"format": "csv"})
        gets[f"api list {list_id}"] = (f"/api/v1/lists/{list_id}", {})
    for fmt in ("json", "html"):
        for lang in ("zh", "en"):
            gets[f"report {fmt} {lang} by masked number"] = (
                f"/api/v1/reports/{masked}",
                {"format": fmt, "lang": lang},
            )
            gets[f"report {fmt} {lang} by number"] = (
                f"/api/v1/reports/{PERSON}",
                {"format": fmt, "lang": lang},
            )
            gets[f"report {fmt} {lang}"] = (
                f"/api/v1/subjects/{sid}/report",
                {"format": fmt, "lang": lang},
            )
            for day in PAST:
                gets[f"report {fmt} {lang} at {day}"] = (
                    f"/api/v1/subjects/{sid}/report",
                    {"format": fmt, "lang": lang, "at": day},
                )
    out = {}
    for where, (path, params) in gets.items():
        response = client.get(path, params=params)
        assert response.status_code in (200, 400, 404, 422), (where, response.status_code)
        text = response.text + "\n" + json.dumps(dict(response.headers))
        # What the attacker typed, echoed back, teaches nothing.
        out[where] = text.replace(PERSON, "<asked>") if PERSON in path else text
    return out


def _birth_forms(day: date) -> list[str]:
    return [
        day.strftime("%Y%m%d"),
        day.isoformat(),
        day.strftime("%Y/%m/%d"),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day.month:02d}月{day.day:02d}日",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
    ]


def _ages(at: date) -> set[int]:
    return {at.year - BIRTH.year - d for d in (0, 1)}


def candidates(masked: str, county_names_seen: set[str], latest_birth: date) -> list[str]:
    """Every number the masked one may be: counties of the shown city (only those the public
    output names, if it names any), birth dates from 1920 until ``latest_birth``, the shown
    sequence, the check character the shown one must equal."""
    head, tail = masked[:4], masked[-4:]
    counties = sorted(c for c in regions.valid_codes() if c.startswith(head) and c[4:] != "00")
    named = [
        c
        for c in counties
        if (region := regions.lookup(c)) is not None and region.name in county_names_seen
    ]
    out = []
    for county in named or counties:
        day = date(1920, 1, 1)
        while day <= latest_birth:
            first17 = county + day.strftime("%Y%m%d") + tail[:3]
            if ric.check_character(first17) == tail[3]:
                out.append(first17 + tail[3])
            day += timedelta(days=1)
    return out


def test_a_masked_number_cannot_be_rebuilt_from_public_output(
    site: TestClient, engine: Engine, catalog: Catalog
) -> None:
    sid = _id_of(engine, PERSON)
    texts = _public_texts(site, catalog, sid)
    for where in (
        "subject page",
        "api subject",
        "list judgment_defaulters csv",
        "report json zh",
        "report html en",
    ):
        assert "王伟" in texts[where] and mask_ric(PERSON) in texts[where], where
    everything = "\n".join(texts.values())
    # Nothing public holds the number, the birth date, an age or the county's code.
    assert PERSON not in everything
    for form in _birth_forms(BIRTH):
        assert form not in everything, form
    for where, text in texts.items():
        assert COUNTY not in re.sub(r"[0-9]{7,}", "", text), where
        for age in _ages(date.today()) | _ages(LISTED):
            assert not re.search(rf"(?<![0-9]){age}\s*(岁|周岁|years)", text), (where, age)
            assert not re.search(rf'"age"\s*:\s*{age}\b', text), (where, age)
    # The counties the output names (a court's name may carry one: 鼓楼区人民法院) narrow the
    # county at most; the birth date stays hidden: thousands of candidates are left.
    county = regions.lookup(COUNTY)
    assert county is not None
    seen = {
        r.name
        for c in regions.valid_codes()
        if c.startswith(PERSON[:4])
        and c[4:] != "00"
        and (r := regions.lookup(c)) is not None
        and r.name in everything
    }
    left = candidates(mask_ric(PERSON), seen, LISTED - timedelta(days=16 * 365))
    assert PERSON in left
    assert len(left) >= 2000, len(left)


def _comparable(text: str, *asked: str) -> str:
    """The text with each asked value (a whole number, not inside another) as ``<asked>``."""
    for value in asked:
        for echo in (quote(quote(value)), quote(value)):  # in a link back to the page
            text = text.replace(echo, value)
        text = re.sub(rf"(?<![0-9A-Za-z*]){re.escape(value)}(?![0-9A-Za-z])", "<asked>", text)
    return text


def test_search_by_a_full_number_confirms_nothing(site: TestClient, engine: Engine) -> None:
    """Before: the true number answered "exact_code" while a wrong candidate answered nothing,
    so enumerating the candidates behind a masked number rebuilt it; and a hidden person's
    number was told apart from an unknown one."""
    behind = candidates(mask_ric(PERSON), {"鼓楼区", "仓山区"}, date(1990, 1, 1))
    wrong = [c for c in behind if c != PERSON][::1500][:3]
    assert len(wrong) == 3 and {c[:6] for c in wrong} != {COUNTY}
    # Nor does the report route: a person's report is asked for by subject id, a number is
    # "not found" whoever it names (before: the true number answered 200, a candidate 404).
    truth = site.get(f"/api/v1/reports/{PERSON}")
    assert truth.status_code == 404
    for other in [*wrong, UNKNOWN, OTHER_PERSON]:
        answer = site.get(f"/api/v1/reports/{other}")
        keys = (PERSON, other, mask_ric(PERSON), mask_ric(other))
        assert (answer.status_code, _comparable(answer.text, *keys)) == (
            truth.status_code,
            _comparable(truth.text, *keys),
        ), other
    for path in ("/search", "/api/v1/subjects"):
        truth = site.get(path, params={"q": PERSON})
        assert truth.status_code == 200
        assert mask_ric(PERSON) in truth.text and "exact_code" not in truth.text
        for other in wrong:
            answer = site.get(path, params={"q": other})
            assert (answer.status_code, _comparable(answer.text, other)) == (
                truth.status_code,
                _comparable(truth.text, PERSON),
            ), other
        # Six leading digits (as some lists print it) do not confirm the county either.
        six = site.get(path, params={"q": PERSON[:6] + "*" * 8 + PERSON[-4:]})
        other_county = site.get(path, params={"q": "350103" + "*" * 8 + PERSON[-4:]})
        assert _comparable(six.text, PERSON[:6]) == _comparable(other_county.text, "350103")
        # A person the public may not see, by number or by name, is nobody: same page, same
        # statements.
        for hidden_q, unknown_q in ((OTHER_PERSON, UNKNOWN), ("李娜", "赵雷")):
            h_status, h_text, h_sql = _asked(site, path, {"q": hidden_q})
            u_status, u_text, u_sql = _asked(site, path, {"q": unknown_q})
            assert h_status == u_status == 200
            keys = (hidden_q, unknown_q, mask_ric(OTHER_PERSON), mask_ric(UNKNOWN))
            assert _comparable(h_text, *keys) == _comparable(u_text, *keys), hidden_q
            assert h_sql == u_sql, (hidden_q, h_sql, u_sql)


class Statements:
    """The SQL statements a request runs, as the code builds them (parameters, and how many
    values an IN list expands to, left out)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, *args: object) -> None:
        self.seen.append(str(args[1]))


def _asked(client: TestClient, path: str, params: dict[str, str]) -> tuple[int, str, list[str]]:
    listener = Statements()
    event.listen(Engine, "before_execute", listener)
    try:
        response = client.get(path, params=params)
    finally:
        event.remove(Engine, "before_execute", listener)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("date",)}
    return response.status_code, response.text + json.dumps(headers), listener.seen


def test_a_person_the_public_may_not_see_is_an_unknown_code_everywhere(
    site: TestClient, engine: Engine
) -> None:
    """Before: the API named the hidden person (their masked number) where an unknown code got
    the code back, and ran more statements for them; a person's score answered 403 for a code in
    the store and 404 for an unknown one."""
    hidden_id = _id_of(engine, OTHER_PERSON)
    unknown_id = int("9" * len(str(hidden_id)))
    with engine.connect() as conn:
        assert (
            conn.execute(select(subjects.c.id).where(subjects.c.id == unknown_id)).first() is None
        )
    pairs = [
        (f"/subjects/{hidden_id}", f"/subjects/{unknown_id}", {}, str(hidden_id), str(unknown_id)),
        (
            f"/api/v1/subjects/{hidden_id}",
            f"/api/v1/subjects/{unknown_id}",
            {},
            str(hidden_id),
            str(unknown_id),
        ),
    ]
    for fmt in ("json", "html"):
        for extra in ({}, {"at": "2024-06-01"}):
            pairs.append(
                (
                    f"/api/v1/subjects/{hidden_id}/report",
                    f"/api/v1/subjects/{unknown_id}/report",
                    {"format": fmt, **extra},
                    str(hidden_id),
                    str(unknown_id),
                )
            )
            pairs.append(
                (
                    f"/api/v1/reports/{OTHER_PERSON}",
                    f"/api/v1/reports/{UNKNOWN}",
                    {"format": fmt, **extra},
                    OTHER_PERSON,
                    UNKNOWN,
                )
            )
    for code in (OTHER_PERSON, PERSON):
        pairs.append((f"/api/v1/subjects/{code}/score", f"/api/v1/subjects/{UNKNOWN}/score", {},
                      code, UNKNOWN))  # fmt: skip
    for hidden_path, unknown_path, params, hidden_key, unknown_key in pairs:
        site.get(unknown_path, params=params)  # first use: the app checks the schema once
        h_status, h_body, h_sql = _asked(site, hidden_path, params)
        u_status, u_body, u_sql = _asked(site, unknown_path, params)
        # Not found, or for a score (never public for a person) refused, before any lookup.
        expected = 403 if hidden_path.endswith("/score") else 404
        assert h_status == u_status == expected, (hidden_path, h_status, u_status)
        # The asked code comes back as asked (masked, as the public sees codes), nothing else.
        keys = (hidden_key, unknown_key, mask_ric(hidden_key), mask_ric(unknown_key))
        assert _comparable(h_body, *keys) == _comparable(u_body, *keys), hidden_path
        assert "李娜" not in h_body
        assert h_sql == u_sql, (hidden_path, h_sql, u_sql)


def test_a_past_date_never_republishes(site: TestClient, engine: Engine, catalog: Catalog) -> None:
    """Before: ``?at=`` on a day inside an ended publication period showed the record again."""
    then = date(2023, 6, 1)
    old = site.get(f"/api/v1/reports/{ENTERPRISE}", params={"at": then.isoformat()})
    assert old.status_code == 200
    report = old.json()
    assert report["as_of"] == then.isoformat()
    assert "榕市监罚〔2023〕5号" not in old.text
    assert [r["record_type"] for r in report["records"]] == ["enterprise_registration"] or (
        report["records"] == []
    )
    # A list entry that has ended is not published again for a day it was in force.
    former_id = _id_of(engine, FORMER)
    for day in (None, "2024-06-01"):
        former = site.get(f"/api/v1/subjects/{former_id}/report", params={"at": day} if day else {})
        assert former.status_code == 200
        assert [r["record_type"] for r in former.json()["records"]] == ["judgment_defaulter"]
        assert former.json()["lists"]["entries"] == [], day
    # The person's file asked about a day before the listing: not found, as today's intersect
    # with then is empty.
    before = site.get(f"/api/v1/subjects/{_id_of(engine, PERSON)}/report", params={"at": PAST[0]})
    assert before.status_code == 404
    # The library call without ``today`` reads ``at`` as the day of the read (history tools);
    # the subject and authorities keep their own view of the past.
    with engine.begin() as conn:
        kept = subject_view(
            conn, catalog, ENTERPRISE, audience="agency", at=then, today=date.today(),
            actor="发改委信用处", purpose="招标资格审查",
        )  # fmt: skip
        assert "榕市监罚〔2023〕5号" in json.dumps(kept, ensure_ascii=False)
        public_then = subject_view(conn, catalog, ENTERPRISE, audience="public", at=then)
        assert "榕市监罚〔2023〕5号" in json.dumps(public_then, ensure_ascii=False)
        with pytest.raises(SubjectNotFound):
            issue_report(
                conn,
                catalog,
                PERSON,
                fmt="json",
                at=date.fromisoformat(PAST[0]),
                today=date.today(),
            )


def test_verifying_a_made_up_file_does_not_name_whom_a_report_is_about(
    site: TestClient, engine: Engine, catalog: Catalog
) -> None:
    """Before: a body carrying only a report's code answered "altered" with the subject's
    full ID number, so a leaked or guessed code named the person."""
    with engine.begin() as conn:
        data, code = issue_report(
            conn, catalog, PERSON, fmt="json", audience="subject", actor="王伟",
            purpose="本人查询",
        )  # fmt: skip
    made_up = json.dumps({"verification": {"code": code}}).encode()
    answer = site.post("/api/v1/reports/verify", content=made_up)
    assert answer.status_code == 200
    assert answer.json()["reason"] == "altered"
    assert PERSON not in answer.text
    genuine = site.post("/api/v1/reports/verify", content=data)
    assert genuine.json()["genuine"] and genuine.json()["subject_code"] == PERSON


def test_the_cli_public_report_of_a_hidden_person_is_an_unknown_code(
    site: TestClient, db_url: str
) -> None:
    """``xinyong report CODE`` (public): a person with no public record is "not found" in the
    same words and exit code as an unknown number, the number masked."""
    runner = CliRunner()
    hidden = runner.invoke(app, ["report", OTHER_PERSON, "--db", db_url])
    unknown = runner.invoke(app, ["report", UNKNOWN, "--db", db_url])
    assert hidden.exit_code == unknown.exit_code != 0
    keys = (mask_ric(OTHER_PERSON), mask_ric(UNKNOWN))
    assert _comparable(hidden.output, *keys) == _comparable(unknown.output, *keys)
    assert OTHER_PERSON not in hidden.output and "李娜" not in hidden.output

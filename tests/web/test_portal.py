"""The portal as a visitor and each role use it, through Starlette's test client."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from xinyong.store.engine import opened
from xinyong.store.tables import records, subject_identifiers, subjects
from xinyong.web.i18n import EN
from xinyong.web.rendering import template_dir
from xinyong.web.sessions import COOKIE, Session, encode

from .conftest import csrf_of, log_in


def _one(demo_db: str, record_type: str, kind: str) -> tuple[int, str, str]:
    """(subject id, code, name) of a subject of ``kind`` with a current ``record_type``."""
    with opened(demo_db) as engine, engine.connect() as conn:
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code, records.c.subject_name)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                records.c.record_type == record_type,
                records.c.superseded_at.is_(None),
                records.c.status == "active",
                subjects.c.kind == kind,
            )
            .order_by(subjects.c.id)
        ).first()
    assert row is not None, f"the demo has no {kind} with {record_type}"
    return row[0], row[1], row[2]


def test_home_and_public_pages_render(client: TestClient) -> None:
    for path in ("/", "/lists", "/catalog", "/dashboard", "/login", "/search?q="):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<h1>" in response.text
        assert "Traceback" not in response.text


def test_search_by_uscc_name_traditional_and_pinyin(client: TestClient, demo_db: str) -> None:
    sid, code, name = _one(demo_db, "enterprise_registration", "enterprise")
    by_code = client.get("/search", params={"q": code.lower()}).text
    assert f'href="/subjects/{sid}"' in by_code
    assert client.get("/search", params={"q": name}).text.count(f'href="/subjects/{sid}"') == 1
    import opencc
    from pypinyin import lazy_pinyin

    traditional = opencc.OpenCC("s2t").convert(name)
    assert f'href="/subjects/{sid}"' in client.get("/search", params={"q": traditional}).text
    pinyin = "".join(lazy_pinyin(name[:4]))
    response = client.get("/api/v1/subjects", params={"q": pinyin})
    assert response.status_code == 200
    assert response.json()["count"] >= 1


def test_individuals_are_masked_and_found_by_masked_number(
    client: TestClient, demo_db: str
) -> None:
    sid, code, _name = _one(demo_db, "judgment_defaulter", "individual")
    page = client.get(f"/subjects/{sid}").text
    masked = code[:4] + "*" * 10 + code[-4:]
    assert masked in page
    assert code not in page
    hits = client.get("/search", params={"q": masked}).text
    assert f'href="/subjects/{sid}"' in hits
    # As some published lists print it, with six leading digits, also finds them.
    six = client.get("/search", params={"q": code[:6] + "*" * 8 + code[-4:]}).text
    assert f'href="/subjects/{sid}"' in six
    assert code not in client.get("/lists/judgment_defaulters", params={"kind": "individual"}).text


def test_defaulter_list_csv_is_masked_and_filters(client: TestClient) -> None:
    response = client.get("/lists/judgment_defaulters", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) > 1
    assert {row[2] for row in rows[1:]} <= {"个人", "企业", "个体工商户", "社会组织等", "机关"}
    assert {row[7] for row in rows[1:]} == {"失信被执行人"}
    people = [row for row in rows[1:] if row[2] == "个人"]
    assert people
    for row in people:
        assert re.fullmatch(r"[0-9]{4}\*{10}[0-9]{3}[0-9X]", row[1]), row[1]
    organisations = client.get(
        "/lists/judgment_defaulters", params={"format": "csv", "kind": "organisation"}
    ).text
    assert ",个人," not in organisations
    client.get("/lang", params={"to": "en", "next": "/"})
    english = client.get("/lists/judgment_defaulters", params={"format": "csv"}).text
    assert ",individual," in english and "judgment defaulter" in english.lower()


def test_unknown_things_are_clear_404_pages(client: TestClient) -> None:
    for path in ("/subjects/999999999", "/subjects/abc", "/lists/no_such_list", "/nope"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert 'id="error-message"' in response.text
        assert "Traceback" not in response.text
    api = client.get("/api/v1/subjects/999999999")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_consoles_need_the_right_role(client: TestClient) -> None:
    for path in ("/me", "/agency", "/department", "/operator"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    log_in(client, "operator")
    assert client.get("/operator").status_code == 200
    assert client.get("/me").status_code == 403


def test_wrong_password_and_forged_csrf_are_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"login": "operator", "password": "guess", "csrf": token})
    assert response.status_code == 401
    assert 'id="login-failed"' in response.text
    response = client.post(
        "/login", data={"login": "operator", "password": "demo", "csrf": "forged"}
    )
    assert response.status_code == 400


def test_expired_session_says_so(client: TestClient) -> None:
    stale = Session(role="operator", login="operator", name="op", expires=1.0)
    client.cookies.set(COOKIE, encode(stale, b"test-secret"))
    response = client.get("/operator", follow_redirects=False)
    assert response.status_code == 303
    assert "reason=expired" in response.headers["location"]
    assert "会话已过期" in client.get(response.headers["location"]).text


def test_subject_objects_and_sees_the_status_change(client: TestClient, demo_db: str) -> None:
    _sid, code, _name = _one(demo_db, "admin_penalty", "enterprise")
    log_in(client, code)
    page = client.get("/me").text
    record_id = re.search(r'name="record_id" value="(\d+)"', page)
    assert record_id
    response = client.post(
        "/me/objections",
        data={"record_id": record_id.group(1), "reason": "金额有误", "csrf": csrf_of(page)},
    )
    assert response.status_code == 200
    assert "异议处理中" in response.text
    assert '"status-under_objection">异议处理中<' in response.text
    assert "金额有误" in response.text
    assert "本人查询" in response.text  # who looked at my file: the subject itself


def test_department_upload_of_junk_is_a_clear_error(client: TestClient) -> None:
    log_in(client, "court")
    page = client.get("/department").text
    response = client.post(
        "/department/upload",
        data={"record_type": "judgment_defaulter", "csrf": csrf_of(page)},
        files={"file": ("junk.csv", b"\x00\x01\x02 not a table", "text/csv")},
    )
    assert response.status_code == 400
    assert 'id="upload-problem"' in response.text


def test_a_market_regulator_cannot_upload_court_defaulters(client: TestClient) -> None:
    """samr's session is samr as the source; court defaulters come only from courts."""
    log_in(client, "samr")
    page = client.get("/department").text
    assert '<option value="judgment_defaulter">' not in page
    before = re.findall(r"/department/batches/(\d+)", page)
    response = client.post(
        "/department/upload",
        data={"record_type": "judgment_defaulter", "csrf": csrf_of(page)},
        files={"file": ("defaulters.csv", _DEFAULTERS.encode("gbk"), "text/csv")},
    )
    assert response.status_code == 403
    problem = re.findall(r'id="upload-problem">([^<]*)', response.text)
    assert problem and "court, spc" in problem[0]
    assert re.findall(r"/department/batches/(\d+)", response.text) == before


_DEFAULTERS = (
    "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间,立案时间,"
    "生效法律文书确定的义务,被执行人的履行情况,失信被执行人行为具体情形\n"
    "张三,11010519491231002X,北京市朝阳区人民法院,(2024)京0105执9号,2024-05-01,"
    "2024-01-02,给付,全部未履行,有履行能力而拒不履行\n"
)


def test_department_upload_reports_rejects(client: TestClient, tmp_path: Path) -> None:
    log_in(client, "court")
    page = client.get("/department").text
    body = (
        "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间,立案时间,"
        "生效法律文书确定的义务,被执行人的履行情况,失信被执行人行为具体情形\n"
        "张三,11010519491231002X,北京市朝阳区人民法院,(2024)京0105执1号,2024-05-01,"
        "2024-01-02,给付,全部未履行,有履行能力而拒不履行\n"
        "李四,123,北京市朝阳区人民法院,(2024)京0105执2号,2024-05-01,2024-01-02,给付,"
        "全部未履行,有履行能力而拒不履行\n"
    )
    response = client.post(
        "/department/upload",
        data={"record_type": "judgment_defaulter", "csrf": csrf_of(page)},
        files={"file": ("defaulters.csv", body.encode("gbk"), "text/csv")},
    )
    assert response.status_code == 200, re.findall(r'id="upload-problem">([^<]*)', response.text)
    batch = re.search(r'id="upload-result">.*?/department/batches/(\d+)', response.text, re.S)
    assert batch
    rejects = client.get(f"/department/batches/{batch.group(1)}").text
    assert 'id="rejects"' in rejects
    assert "李四" in rejects


def test_english_with_one_click(client: TestClient) -> None:
    response = client.get("/lang", params={"to": "en", "next": "/lists"})
    assert response.status_code == 200
    assert "Red and black lists" in response.text
    assert client.get("/lang", params={"to": "zh", "next": "//evil.example"}).url.path == "/"


def test_every_template_phrase_has_english() -> None:
    missing = set()
    for path in template_dir().glob("*.html"):
        for phrase in re.findall(r'_\(\s*"([^"]+)"', path.read_text("utf-8")) + re.findall(
            r"_\(\s*'([^']+)'", path.read_text("utf-8")
        ):
            if phrase not in EN:
                missing.add(phrase)
    assert not missing, sorted(missing)


def test_demo_logins_only_in_demo_mode(demo_db: str) -> None:
    from xinyong.api.app import create_app
    from xinyong.web.sessions import decode

    with TestClient(create_app(demo_db, secret=b"s")) as plain:
        page = plain.get("/login").text
        assert 'name="password"' not in page
        token = decode(plain.cookies.get(COOKIE), b"s").csrf
        response = plain.post(
            "/login", data={"login": "operator", "password": "demo", "csrf": token}
        )
        assert response.status_code == 401


def test_identifier_table_has_codes(demo_db: str) -> None:
    with opened(demo_db) as engine, engine.connect() as conn:
        assert conn.execute(select(subject_identifiers.c.value).limit(1)).first() is not None


def test_department_upload_takes_a_mapping_file(client: TestClient) -> None:
    """The portal's ingest console has the same mapping field as ``xinyong ingest --map``."""
    log_in(client, "court")
    page = client.get("/department").text
    assert 'name="mapping"' in page
    body = (
        "姓名,证件,法院,案号,情形\n"
        "张三,11010519491231002X,北京市朝阳区人民法院,(2024)京0105执9号,违反财产报告制度的\n"
    )
    mapping = (
        "columns:\n  姓名: subject_name\n  证件: subject_code\n  法院: court\n  情形: ground\n"
    ).encode()
    response = client.post(
        "/department/upload",
        data={"record_type": "judgment_defaulter", "csrf": csrf_of(page)},
        files={
            "file": ("own.csv", body.encode("gbk"), "text/csv"),
            "mapping": ("own.yaml", mapping, "application/yaml"),
        },
    )
    assert response.status_code == 200, re.findall(r'id="upload-problem">([^<]*)', response.text)
    assert re.search(r'id="upload-result">.*?接收.*? 1 ', response.text, re.S)
    page = client.get("/department").text
    response = client.post(
        "/department/upload",
        data={"record_type": "judgment_defaulter", "csrf": csrf_of(page)},
        files={
            "file": ("own.csv", body.encode("gbk"), "text/csv"),
            "mapping": ("own.yaml", b"columns:\n  x: no_such_field\n", "application/yaml"),
        },
    )
    assert response.status_code == 400
    assert "own.yaml:2" in response.text

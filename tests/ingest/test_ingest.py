"""`xinyong ingest`, checked from outside as the issue writes it, and `ingest_file` inside."""

from __future__ import annotations

import csv
import json
import random
import shutil
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.codes import ric, uscc
from xinyong.errors import UnusableInput
from xinyong.ingest import ingest_file, load
from xinyong.store.queries import find_subject, records_for
from xinyong.store.tables import batches, provenance, records, rejects, subjects

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: Every sample file: (record type, source authority, rows that load).
SAMPLES = {
    "judgment_defaulter.gbk.csv": ("judgment_defaulter", "spc", 4),
    "consumption_restriction_order.csv": ("consumption_restriction_order", "court", 2),
    "admin_penalty.xlsx": ("admin_penalty", "samr", 2),
    "admin_license.csv": ("admin_license", "approval_agencies", 1),
    "professional_penalty.jsonl": ("professional_penalty", "sector_regulators", 1),
    "enterprise_registration.csv": ("enterprise_registration", "samr", 5),
    "enterprise_officer.xlsx": ("enterprise_officer", "samr", 10),
    "abnormal_operation.jsonl": ("abnormal_operation", "samr", 2),
    "serious_illegal_dishonest_enterprise.gb18030.csv": (
        "serious_illegal_dishonest_enterprise",
        "samr",
        1,
    ),
    "major_tax_violation.csv": ("major_tax_violation", "sta", 1),
    "tax_credit_rating.xlsx": ("tax_credit_rating", "sta", 5),
    "railway_safety_violation.csv": ("railway_safety_violation", "china_railway", 2),
    "aviation_safety_violation.jsonl": ("aviation_safety_violation", "caac", 1),
    "government_dishonesty.csv": ("government_dishonesty", "court", 1),
    "commitment_breach.csv": ("commitment_breach", "samr", 1),
    "consumption_restriction_single_lifting.csv": (
        "consumption_restriction_single_lifting",
        "court",
        1,
    ),
    "exit_restriction_decision.csv": ("exit_restriction_decision", "court", 1),
    "procurement_debarment.csv": ("procurement_debarment", "finance_departments", 1),
    "tender_debarment.csv": ("tender_debarment", "tendering_supervisors", 1),
    "ip_pledge_registration.csv": ("ip_pledge_registration", "cnipa", 1),
    "social_insurance_arrears.csv": ("social_insurance_arrears", "mohrss", 1),
    "honesty_honour.csv": ("honesty_honour", "government_bodies", 1),
    "admin_other_act.csv": ("admin_other_act", "government_bodies", 1),
    "voluntary_information.csv": ("voluntary_information", "ncpcic", 1),
    # One file per national layout (docs/ingest.md, "Layouts").
    "admin_penalty.sgs_v1.gbk.csv": ("admin_penalty", "samr", 2),
    "admin_penalty.sgs_v2.xlsx": ("admin_penalty", "samr", 2),
    "admin_license.sgs_v1.gb18030.csv": ("admin_license", "approval_agencies", 1),
    "admin_license.sgs_v2.csv": ("admin_license", "approval_agencies", 2),
    "consumption_restriction_order.zxgk.csv": ("consumption_restriction_order", "court", 2),
    "major_tax_violation.sta.csv": ("major_tax_violation", "sta", 1),
    "abnormal_operation.gsxt.csv": ("abnormal_operation", "samr", 2),
    "serious_illegal_dishonest_enterprise.gsxt.xlsx": (
        "serious_illegal_dishonest_enterprise",
        "samr",
        1,
    ),
}
#: The layout each layout example is detected as.
LAYOUT_EXAMPLES = {
    "admin_penalty.sgs_v1.gbk.csv": "sgs_penalty_v1",
    "admin_penalty.sgs_v2.xlsx": "sgs_penalty_v2",
    "admin_license.sgs_v1.gb18030.csv": "sgs_license_v1",
    "admin_license.sgs_v2.csv": "sgs_license_v2",
    "judgment_defaulter.gbk.csv": "zxgk_defaulter",
    "consumption_restriction_order.zxgk.csv": "zxgk_consumption_restriction",
    "major_tax_violation.sta.csv": "sta_major_violation",
    "abnormal_operation.gsxt.csv": "gsxt_abnormal_operation",
    "serious_illegal_dishonest_enterprise.gsxt.xlsx": "gsxt_serious_violation",
}
#: Sample files with rows that give a name and no code (loaded, linked to nobody).
UNLINKED = {
    "judgment_defaulter.gbk.csv": 1,
    "railway_safety_violation.csv": 1,
    "consumption_restriction_order.zxgk.csv": 1,
}
HEADER = "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,失信被执行人行为具体情形,发布时间"
runner = CliRunner()
RNG = random.Random(2014)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def ingest(db: str, path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ingest", str(path), "--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_every_example_loads_shows_and_reloads_as_nothing(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    for name, (rtype, source, rows) in SAMPLES.items():
        path = tmp_path / name
        shutil.copy(EXAMPLES / name, path)
        code, out, err = ingest(db_url, path, "--type", rtype, "--source", source, "--json")
        assert code == 0, (name, out, err)
        assert json.loads(out) == {
            "batch": json.loads(out)["batch"],
            "accepted": rows,
            "rejected": 0,
            "duplicates": 0,
            "rejects_file": None,
            "unmapped_columns": [],
            "unlinked": UNLINKED.get(name, 0),
        }
        with engine.connect() as conn:
            linked = (
                conn.execute(
                    select(records.c.subject_code).where(
                        records.c.record_type == rtype, records.c.subject_id.is_not(None)
                    )
                )
                .scalars()
                .all()
            )
        assert linked, name
        shown = runner.invoke(app, ["subject", "show", linked[0], "--db", db_url, "--json"])
        assert shown.exit_code == 0, shown.output
        file = json.loads(shown.stdout)
        mine = [r for r in file["records"] if r["record_type"] == rtype]
        assert mine, name
        assert mine[0]["provenance"][0]["source"] == source
        before = count(engine, records)
        code, out, _ = ingest(db_url, path, "--type", rtype, "--source", source, "--json")
        assert code == 0
        assert json.loads(out)["duplicates"] == rows
        assert json.loads(out)["accepted"] == 0
        assert count(engine, records) == before


@pytest.mark.parametrize(("name", "layout"), sorted(LAYOUT_EXAMPLES.items()))
def test_each_layout_example_is_recognised_with_nothing_unmapped(name: str, layout: str) -> None:
    rtype = SAMPLES[name][0]
    result = runner.invoke(
        app, ["ingest", str(EXAMPLES / name), "--type", rtype, "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["layout"]["id"] == layout
    assert report["layout"]["matched"] == report["layout"]["of"]
    assert report["unmapped_columns"] == []
    assert report["rejected"] == 0


def test_every_shipped_layout_has_an_example() -> None:
    shipped = {layout.id for rt in default_catalog().record_types.values() for layout in rt.layouts}
    assert shipped == set(LAYOUT_EXAMPLES.values())


def test_the_examples_cover_every_record_type_and_every_file() -> None:
    assert {rtype for rtype, _, _ in SAMPLES.values()} == set(default_catalog().record_types)
    files = {p.name for p in EXAMPLES.iterdir() if p.suffix != ".py" and "bad_rows" not in p.name}
    assert files == set(SAMPLES)


def load_examples(engine: Engine, tmp_path: Path) -> None:
    for name, (rtype, source, _) in SAMPLES.items():
        ingest_file(
            engine,
            EXAMPLES / name,
            rtype,
            source,
            catalog=default_catalog(),
            rejects_path=tmp_path / f"{name}.rejects.csv",
        )


def show(db_url: str, code: str) -> dict[str, Any]:
    shown = runner.invoke(app, ["subject", "show", code, "--db", db_url, "--json"])
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.stdout))


def code_of(engine: Engine, rtype: str, name: str) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            select(records.c.subject_code).where(
                records.c.record_type == rtype, records.c.subject_name == name
            )
        ).scalar_one()
    return str(found)


def test_the_examples_tell_one_story(engine: Engine, db_url: str, tmp_path: Path) -> None:
    load_examples(engine, tmp_path)
    # A restricted enterprise whose legal representative is a person in the data.
    rongda = show(db_url, code_of(engine, "consumption_restriction_order", "成都蓉达物流有限公司"))
    types = {r["record_type"] for r in rongda["records"]}
    assert {
        "consumption_restriction_order",
        "enterprise_registration",
        "abnormal_operation",
    } <= types
    (rel,) = [r for r in rongda["relations"] if r["role"] == "legal_representative"]
    chen = show(db_url, rel["subject_code"])
    assert [n["name"] for n in chen["names"]] == ["陈刚"]
    assert chen["relations"][0]["subject_code"] == rongda["primary_code"]
    # The defaulter enterprise: tax violator, D grade, and owed money by a county bureau.
    hengxin = show(db_url, code_of(engine, "judgment_defaulter", "广州市恒信建材有限公司"))
    types = {r["record_type"] for r in hengxin["records"]}
    assert {"judgment_defaulter", "major_tax_violation", "tax_credit_rating"} <= types
    assert sorted(r["role"] for r in hengxin["relations"]) == [
        "actual_controller",
        "legal_representative",
    ]  # 王伟 as 负责人 without an ID number: no relation
    # A-grade taxpayers.
    with engine.connect() as conn:
        grades = [
            r.fields["grade"]
            for r in conn.execute(
                select(records.c.fields).where(records.c.record_type == "tax_credit_rating")
            )
        ]
    assert grades.count("A") == 2
    # 王伟: two coded defaulters, and name-only rows that link to nobody.
    with engine.connect() as conn:
        wang = conn.execute(
            select(records.c.record_type, records.c.subject_id).where(
                records.c.subject_name == "王伟"
            )
        ).all()
    assert len({sid for _, sid in wang if sid is not None}) == 2
    assert sorted(t for t, sid in wang if sid is None) == [
        "judgment_defaulter",
        "railway_safety_violation",
    ]


def test_homonyms_in_the_defaulter_file_stay_apart(engine: Engine, db_url: str) -> None:
    ingest_file(
        engine,
        EXAMPLES / "judgment_defaulter.gbk.csv",
        "judgment_defaulter",
        "spc",
        catalog=default_catalog(),
        rejects_path=None,
    )
    with engine.connect() as conn:
        wang = conn.execute(
            select(records.c.subject_code, records.c.subject_id).where(
                records.c.subject_name == "王伟"
            )
        ).all()
    linked = {sid for code, sid in wang if code}
    assert len(linked) == 2  # two people called 王伟, two subjects
    assert [sid for code, sid in wang if not code] == [None]  # the name-only row links to nobody


def test_bad_rows_are_rejected_with_line_and_reason(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    shutil.copy(EXAMPLES / "judgment_defaulter_bad_rows.csv", path)
    code, out, _ = ingest(db_url, path, "--type", "judgment_defaulter", "--source", "spc", "--json")
    assert code == 3
    result = json.loads(out)
    assert (result["accepted"], result["rejected"]) == (1, 4)
    rejects_file = Path(result["rejects_file"])
    assert rejects_file == tmp_path / "bad.csv.rejects.csv"
    assert rejects_file.read_bytes().startswith(b"\xef\xbb\xbf")
    with rejects_file.open(encoding="utf-8-sig") as f:
        got = list(csv.DictReader(f))
    reasons = {int(r["row"]): r["reason"] for r in got}
    assert set(reasons) == {3, 4, 5, 6}
    assert reasons[3].startswith("subject_code：校验码不正确") and "checksum" in reasons[3]
    assert "published_on：日期不存在" in reasons[4] and "no such date" in reasons[4]
    assert "subject_name：必填值为空" in reasons[5]
    assert "ground：未知取值：欠钱不还的" in reasons[6]
    assert got[0]["被执行人姓名/名称"] == "钱进"  # the original columns are kept
    assert count(engine, rejects) == 4


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("args", "content", "words"),
    [
        (["--type", "no_such_type", "--source", "spc"], None, "unknown record type"),
        (["--type", "judgment_defaulter", "--source", "nobody"], None, "unknown source authority"),
        # A market regulator may not submit court defaulters: the catalog's sources say who may.
        (
            ["--type", "judgment_defaulter", "--source", "samr"],
            None,
            "allowed sources: court, spc",
        ),
        (
            ["--type", "judgment_defaulter", "--source", "spc"],
            "姓名,案号\n王伟,（2024）京01执1号\n",
            "missing required column",
        ),
        (["--type", "judgment_defaulter", "--source", "spc"], "", "empty"),
        (["--type", "judgment_defaulter", "--source", "spc"], HEADER + "\n", "no data rows"),
        (
            ["--type", "judgment_defaulter", "--source", "spc", "--encoding", "ascii"],
            None,
            "does not decode",
        ),
        (
            ["--type", "judgment_defaulter", "--source", "spc", "--encoding", "klingon"],
            None,
            "unknown encoding",
        ),
    ],
)
def test_unusable_files_load_nothing_exit_2(
    engine: Engine, db_url: str, tmp_path: Path, args: list[str], content: str | None, words: str
) -> None:
    path = tmp_path / "in.csv"
    if content is None:
        shutil.copy(EXAMPLES / "judgment_defaulter.gbk.csv", path)
    else:
        write(path, content)
    code, _, err = ingest(db_url, path, *args)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert count(engine, batches) == 0 and count(engine, records) == 0
    assert not (tmp_path / "in.csv.rejects.csv").exists()


def test_junk_and_missing_files_are_unusable(engine: Engine, db_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00\x01not a zip at all" * 100)
    code, _, err = ingest(db_url, junk, "--type", "judgment_defaulter", "--source", "spc")
    assert code == 2 and "XLSX" in err
    code, _, err = ingest(
        db_url, tmp_path / "none.csv", "--type", "judgment_defaulter", "--source", "spc"
    )
    assert code == 2 and "no such file" in err
    binary = write(tmp_path / "bin.csv", "", "utf-8")
    binary.write_bytes(bytes(range(128, 256)) * 50)
    code, _, err = ingest(db_url, binary, "--type", "judgment_defaulter", "--source", "spc")
    assert code == 2 and "cannot tell the file's encoding" in err and "--encoding" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(engine: Engine, tmp_path: Path, encoding: str) -> None:
    code = ric.generate(__import__("random").Random(7))
    path = write(
        tmp_path / "d.csv",
        f"{HEADER}\n李娜,{code},北京市海淀区人民法院,（2024）京0108执9号,违反财产报告制度的,2024年3月5日\n",
        encoding,
    )
    result = ingest_file(engine, path, "judgment_defaulter", "spc", catalog=default_catalog())
    assert (result.accepted, result.rejected) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(select(records.c.subject_name)).scalar_one() == "李娜"


def test_a_changed_row_is_a_new_version_never_an_overwrite(engine: Engine, tmp_path: Path) -> None:
    code = ric.generate(__import__("random").Random(8))
    row = f"{HEADER}\n张伟,{code},北京市海淀区人民法院,（2024）京0108执9号,{{ground}},2024-03-05\n"
    first = write(tmp_path / "a.csv", row.format(ground="违反财产报告制度的"))
    catalog = default_catalog()
    ingest_file(engine, first, "judgment_defaulter", "spc", catalog=catalog)
    with engine.connect() as conn:
        before = conn.execute(select(records.c.recorded_at)).scalar_one()
    second = write(tmp_path / "b.csv", row.format(ground="违反限制消费令的"))
    result = ingest_file(engine, second, "judgment_defaulter", "spc", catalog=catalog)
    assert (result.accepted, result.duplicates, result.corrections) == (1, 0, 1)
    with engine.connect() as conn:
        versions = conn.execute(
            select(
                records.c.version, records.c.superseded_at, records.c.supersedes, records.c.id
            ).order_by(records.c.version)
        ).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].superseded_at is not None and versions[1].superseded_at is None
        assert versions[1].supersedes == versions[0].id
        sid = find_subject(conn, code).id
        now = records_for(conn, sid)
        assert [r.fields["ground"] for r in now] == ["violate_consumption_order"]
        then = records_for(conn, sid, known_at=_aware(before) + timedelta(microseconds=1))
        assert [r.fields["ground"] for r in then] == ["violate_asset_reporting"]


def _aware(value):  # type: ignore[no-untyped-def]
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_crash_mid_batch_leaves_nothing_and_a_rerun_completes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = __import__("random").Random(9)
    lines = (
        [HEADER]
        + [
            f"被执行人{i},{ric.generate(rng)},北京市海淀区人民法院,（2024）京0108执{i}号,违反财产报告制度的,2024-03-05"
            for i in range(25)
        ]
        + ["坏行,123,北京市海淀区人民法院,（2024）京0108执999号,违反财产报告制度的,2024-03-05"]
    )
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    monkeypatch.setattr(load, "CHUNK_ROWS", 10)

    def killed(rows: int) -> None:
        if rows >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(
            engine, path, "judgment_defaulter", "spc", catalog=default_catalog(), progress=killed
        )
    assert count(engine, records) == count(engine, batches) == count(engine, provenance) == 0
    assert not list(tmp_path.glob("*.rejects.csv*"))
    assert not [t for t in threading.enumerate() if t.name == "xinyong-ingest-read"]
    result = ingest_file(engine, path, "judgment_defaulter", "spc", catalog=default_catalog())
    assert (result.accepted, result.rejected) == (25, 1)
    assert count(engine, records) == 25 and count(engine, provenance) == 25


def test_jsonl_bad_line_is_a_rejected_row(engine: Engine, tmp_path: Path) -> None:
    code = ric.generate(__import__("random").Random(10))
    good = {
        "姓名": "王芳",
        "身份证号码": code,
        "处罚决定书文号": "京司罚〔2024〕8号",
        "处罚决定日期": "2024-04-18",
        "执业类别": "律师",
        "处罚机关": "北京市司法局",
    }
    path = write(tmp_path / "p.jsonl", json.dumps(good, ensure_ascii=False) + "\n{not json\n")
    result = ingest_file(
        engine, path, "professional_penalty", "sector_regulators", catalog=default_catalog()
    )
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.rejects_file is not None
    assert "{not json" in Path(result.rejects_file).read_text(encoding="utf-8-sig")


def test_unknown_type_from_the_library_raises_unusable_input(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(UnusableInput):
        ingest_file(engine, tmp_path / "x.csv", "nope", "spc", catalog=default_catalog())


def test_an_officer_file_relates_the_person_and_a_name_only_row_does_not(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    firm, person = uscc.generate(RNG, authority="9", category="1"), ric.generate(RNG)
    path = tmp_path / "officers.csv"
    path.write_text(
        "企业名称,统一社会信用代码,人员姓名,人员身份证号码,职务,任职日期,离任日期\n"
        f"成都蓉达物流有限公司,{firm},陈刚,{person},法定代表人,2019-04-01,\n"
        f"成都蓉达物流有限公司,{firm},王伟,,实际控制人,2019-04-01,\n",
        encoding="utf-8",
    )
    code, out, err = ingest(
        db_url, path, "--type", "enterprise_officer", "--source", "samr", "--json"
    )
    assert code == 0, (out, err)
    shown = runner.invoke(app, ["subject", "show", person, "--db", db_url, "--json"])
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["kind"] == "individual"
    assert [n["name"] for n in data["names"]] == ["陈刚"]
    assert [
        (r["direction"], r["role"], r["subject_code"], r["valid_from"]) for r in data["relations"]
    ] == [("incoming", "legal_representative", firm, "2019-04-01")]
    firm_file = json.loads(
        runner.invoke(app, ["subject", "show", firm, "--db", db_url, "--json"]).stdout
    )
    # 王伟 without an ID number: his row is on the enterprise's file, but no relation, no subject.
    assert len(firm_file["relations"]) == 1
    assert sorted(r["fields"]["person_name"] for r in firm_file["records"]) == ["王伟", "陈刚"]
    assert count(engine, subjects) == 2


def test_xlsx_codes_stored_as_numbers(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    good, lost = ric.generate(RNG), ric.generate(RNG)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号码", "处罚决定书文号", "处罚决定日期", "执业类别", "处罚机关"])
    sheet.append(["张静", good, "京司罚〔2024〕7号", "2024-04-18", "lawyer", "北京市司法局"])
    sheet.append(
        ["李娜", int(lost[:17] + "0"), "京司罚〔2024〕8号", "2024-04-18", "lawyer", "北京市司法局"]
    )
    path = tmp_path / "numbers.xlsx"
    book.save(path)
    result = ingest_file(
        engine, path, "professional_penalty", "sector_regulators", catalog=default_catalog()
    )
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.rejects_file is not None
    with Path(result.rejects_file).open(encoding="utf-8-sig") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["row"] == "3"
    assert "Excel 把证件号码存成了数字" in row["reason"]
    assert "Excel stored the ID number as a number" in row["reason"]

"""Department files in the national layouts, written as departments write them: every row linked
by its code, no column lost, the dry run, mappings and their drafts — through the CLI."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.ingest.conftest import FORMATS, write_department_file
from typer.testing import CliRunner

from xinyong.catalog import default_catalog, normalise_header
from xinyong.cli import app
from xinyong.codes import orgcode, regno, ric, uscc
from xinyong.ingest.plan import plan_columns
from xinyong.store.engine import opened
from xinyong.store.tables import records, subject_identifiers, subject_relations, subjects

runner = CliRunner()
RNG = random.Random(17)

FIRM = uscc.generate(RNG, region="440300", authority="9", category="1")
ORG_ONLY = orgcode.generate(RNG)  # an enterprise the file gives by organisation code only
PERSON = ric.generate(RNG, region="330106", birth_date=date(1979, 6, 2))
SHOP = uscc.generate(RNG, region="320102", authority="9", category="2")  # a sole trader
REP = ric.generate(RNG, region="440304", birth_date=date(1970, 1, 9))
NO_ID_REP = "赵敏"

#: The older double-publicity penalty layout, headers with the parentheses departments mix:
#: half-width, full-width with a space, a trailing colon.
PENALTY_V1 = [
    "行政处罚决定书文号",
    "处罚名称",
    "处罚类别1",
    "处罚类别2",
    "处罚事由",
    "处罚依据",
    "行政相对人名称",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2 （组织机构代码）",
    "行政相对人代码_3(工商登记码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(居民身份证号)",
    "法定代表人姓名",
    "处罚结果",
    "处罚决定日期",
    "处罚机关：",
    "当前状态",
    "地方编码",
    "数据更新时间戳",
    "备注",
    "内部编号",
]


def penalty_v1_rows() -> list[list[object]]:
    return [
        [
            "深市监罚〔2025〕301号",
            "虚假宣传案",
            "罚款",
            "警告",
            "网店宣传产品获得专利，经查无此专利",
            "《反不正当竞争法》第二十条",
            "深圳市新锐电子科技有限公司",
            FIRM,
            FIRM[8:17],
            "",
            "",
            "",
            "黄志明",
            "罚款人民币五万元",
            "2025年11月3日",
            "深圳市市场监督管理局",
            "0",
            "440300",
            "2025-11-04 09:12:00",
            "",
            "SZ-0001",
        ],
        [
            "深市监罚〔2025〕302号",
            "无照经营案",
            "罚款",
            "",
            "未取得营业执照从事经营",
            "《无证无照经营查处办法》第十三条",
            "深圳市老字号商行",
            "",
            ORG_ONLY,
            "440301000123456",
            "",
            "",
            "",
            "罚款人民币一万元",
            "2026/3/10",
            "深圳市市场监督管理局",
            "0",
            "440300",
            "2026-03-11 10:00:00",
            "只有组织机构代码",
            "SZ-0002",
        ],
        [
            "杭西市监罚〔2026〕9号",
            "销售过期食品案",
            "罚款",
            "",
            "销售超过保质期的食品",
            "《食品安全法》第一百二十四条",
            "张伟",
            "",
            "",
            "",
            "",
            PERSON,
            "",
            "罚款人民币二千元",
            "2026年1月5日",
            "杭州市西湖区市场监督管理局",
            "0",
            "330106",
            "2026-01-06 08:00:00",
            "",
            "HZ-0003",
        ],
    ]


#: The newer layout (行政相对人类别, codes _1 to _6, 证件类型/证件号码, amounts in 万元).
PENALTY_V2 = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3（组织机构代码）",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5（事业单位证书号）",
    "行政相对人代码_6（社会组织登记证号）",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
    "内部编号",
]


def penalty_v2_rows() -> list[list[object]]:
    authority = "11440300MB2C92041F"
    return [
        [
            "深圳市新锐电子科技有限公司",
            "法人及非法人组织",
            FIRM,
            "",
            "",
            "",
            "",
            "",
            "黄志明",
            "身份证",
            REP,
            "",
            "",
            "深市监罚〔2025〕301号",
            "虚假宣传",
            "网店宣传产品获得专利",
            "《反不正当竞争法》第二十条",
            "罚款",
            "罚款人民币五万元",
            "5",
            "0.35",
            "",
            "2025年11月3日",
            "2026/11/2",
            "2028/11/3",
            "深圳市市场监督管理局",
            authority,
            "深圳市市场监督管理局",
            authority,
            "",
            "SZ-0001",
        ],
        [
            "深圳市老字号商行",
            "法人及非法人组织",
            "",
            "440301000123456",
            ORG_ONLY,
            "",
            "",
            "",
            NO_ID_REP,
            "",
            "",
            "",
            "",
            "深市监罚〔2025〕302号",
            "无照经营",
            "未取得营业执照从事经营",
            "《无证无照经营查处办法》第十三条",
            "罚款",
            "罚款人民币一万元",
            "1万元",
            "",
            "",
            "2026/3/10",
            "",
            "",
            "深圳市市场监督管理局",
            authority,
            "深圳市市场监督管理局",
            authority,
            "",
            "SZ-0002",
        ],
        [
            "张伟",
            "自然人",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "身份证",
            PERSON,
            "杭西市监罚〔2026〕9号",
            "食品安全",
            "销售超过保质期的食品",
            "《食品安全法》第一百二十四条",
            "罚款",
            "罚款人民币二千元",
            "2000元",
            "",
            "",
            "2026年1月5日",
            "",
            "",
            "杭州市西湖区市场监督管理局",
            "",
            "杭州市西湖区市场监督管理局",
            "",
            "",
            "HZ-0003",
        ],
        [
            "南京市玄武区好味小吃店",
            "个体工商户",
            SHOP,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "玄市监罚〔2026〕17号",
            "食品安全",
            "未按规定公示许可证",
            "《食品经营许可管理办法》",
            "警告",
            "警告",
            "",
            "",
            "",
            "2026-02-14",
            "",
            "",
            "南京市玄武区市场监督管理局",
            "",
            "南京市玄武区市场监督管理局",
            "",
            "首次违法",
            "NJ-0004",
        ],
    ]


LICENSE_V2 = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(事业单位证书号)",
    "行政相对人代码_6(社会组织登记证号)",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "许可机关统一社会信用代码",
    "当前状态",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]
LICENSE_V1 = [
    "行政许可决定书文号",
    "项目名称",
    "审批类别",
    "许可内容",
    "行政相对人名称",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2（组织机构代码）",
    "行政相对人代码_3（工商登记码）",
    "行政相对人代码_4（税务登记号）",
    "行政相对人代码_5（居民身份证号）",
    "法定代表人姓名",
    "许可决定日期",
    "许可截止期",
    "许可机关",
    "当前状态",
    "地方编码",
    "数据更新时间戳",
    "备注",
]


def license_rows(layout: str) -> list[list[object]]:
    if layout == "v1":
        return [
            [
                "苏宁药许〔2025〕16号",
                "药品经营许可",
                "普通",
                "药品零售",
                "南京瑞康大药房有限公司",
                FIRM,
                "",
                "",
                "",
                "",
                "陈刚",
                "2025年11月3日",
                "2030/11/2",
                "南京市市场监督管理局",
                "1",
                "320100",
                "2025-11-03 12:00:00",
                "",
            ],
            [
                "苏宁食许〔2026〕3号",
                "食品经营许可",
                "普通",
                "食品销售",
                "李娜",
                "",
                "",
                "",
                "",
                PERSON,
                "",
                "2026/3/10",
                "2031/3/9",
                "南京市市场监督管理局",
                "1",
                "320100",
                "2026-03-10 12:00:00",
                "个人",
            ],
        ]
    return [
        [
            "南京瑞康大药房有限公司",
            "法人及非法人组织",
            FIRM,
            "",
            "",
            "",
            "",
            "",
            "陈刚",
            "身份证",
            REP,
            "",
            "",
            "药品经营许可证",
            "苏宁药许〔2025〕16号",
            "普通",
            "药品经营许可证",
            "苏AA0250016",
            "药品零售",
            "2025年11月3日",
            "2025年11月3日",
            "2030/11/2",
            "南京市市场监督管理局",
            "11320100MB1234567X",
            "有效",
            "南京市市场监督管理局",
            "",
            "",
        ],
        [
            "李娜",
            "自然人",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "身份证",
            PERSON,
            "食品经营许可证",
            "苏宁食许〔2026〕3号",
            "普通",
            "食品经营许可证",
            "JY13201000001",
            "食品销售",
            "2026/3/10",
            "2026/3/10",
            "2031/3/9",
            "南京市市场监督管理局",
            "",
            "有效",
            "南京市市场监督管理局",
            "",
            "",
        ],
    ]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ingest", *args])
    return result.exit_code, result.stdout, result.stderr


def stored(url: str, record_type: str) -> list[Any]:
    with opened(url) as engine, engine.connect() as conn:
        return list(
            conn.execute(
                select(records.c.subject_id, records.c.subject_code, records.c.fields)
                .where(records.c.record_type == record_type)
                .order_by(records.c.document_no)
            )
        )


def kind_of(url: str, code: str) -> str:
    with opened(url) as engine, engine.connect() as conn:
        return str(
            conn.execute(select(subjects.c.kind).where(subjects.c.primary_code == code)).scalar()
        )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_penalty_layouts_load_every_row_linked_and_keep_every_column(
    sqlite_url: str, tmp_path: Path, layout: str, fmt: str
) -> None:
    headers, rows = (
        (PENALTY_V1, penalty_v1_rows()) if layout == "v1" else (PENALTY_V2, penalty_v2_rows())
    )
    path = write_department_file(tmp_path / f"penalties_{layout}", headers, rows, fmt)
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", sqlite_url, "--json"
    )
    assert code == 0, (out, err)
    summary = json.loads(out)
    assert summary["accepted"] == len(rows)
    assert summary["rejected"] == 0
    assert summary["unlinked"] == 0
    assert summary["unmapped_columns"] == ["内部编号"]
    found = stored(sqlite_url, "admin_penalty")
    assert len(found) == len(rows)
    assert all(r.subject_id is not None for r in found)
    by_doc = {r.fields["document_no"]: r for r in found}
    firm = by_doc["深市监罚〔2025〕301号"]
    assert firm.subject_code == FIRM
    assert firm.fields["decided_on"] == "2025-11-03"
    assert firm.fields["内部编号"] == "SZ-0001"  # kept under its header as written
    assert by_doc["深市监罚〔2025〕302号"].subject_code == ORG_ONLY
    assert by_doc["深市监罚〔2025〕302号"].fields["decided_on"] == "2026-03-10"
    assert by_doc["杭西市监罚〔2026〕9号"].subject_code == PERSON
    assert kind_of(sqlite_url, PERSON) == "individual"
    if layout == "v1":
        assert firm.fields["penalty_kind"] == "罚款"
        assert firm.fields["penalty_kind_2"] == "警告"
        assert firm.fields["penalty_content"] == "罚款人民币五万元"
        assert firm.fields["data_updated_at"] == "2025-11-04 09:12:00"
        assert by_doc["深市监罚〔2025〕302号"].fields["registration_no"] == "440301000123456"
    else:
        assert firm.fields["fine_amount"] == "5"  # 万元, as the standard keeps it
        assert firm.fields["confiscated_amount"] == "0.35"
        assert by_doc["深市监罚〔2025〕302号"].fields["fine_amount"] == "1"
        assert by_doc["杭西市监罚〔2026〕9号"].fields["fine_amount"] == "0.2"  # 2000元
        assert firm.fields["publicity_until"] == "2028-11-03"
        assert by_doc["玄市监罚〔2026〕17号"].subject_code == SHOP
        assert kind_of(sqlite_url, SHOP) == "sole_trader"
        assert by_doc["玄市监罚〔2026〕17号"].fields["remarks"] == "首次违法"
    # Every column with a value is in the records' fields, under a field or its own header.
    header_fields = default_catalog().record_types["admin_penalty"].header_map()
    for i, header in enumerate(headers):
        name = header_fields.get(normalise_header(header), header)
        if any(str(row[i]) for row in rows):
            assert any(name in r.fields for r in found), header


def test_the_legal_representative_is_related_only_with_an_id_number(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = write_department_file(tmp_path / "p", PENALTY_V2, penalty_v2_rows(), "utf-8-sig")
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", sqlite_url
    )
    assert code == 0, (out, err)
    with opened(sqlite_url) as engine, engine.connect() as conn:
        rows = conn.execute(
            select(
                subject_relations.c.role, subjects.c.primary_code, subject_relations.c.valid_to
            ).join(subjects, subjects.c.id == subject_relations.c.to_subject_id)
        ).all()
    assert [(r.role, r.primary_code, r.valid_to) for r in rows] == [
        ("legal_representative", REP, date(2025, 11, 3))
    ]
    shown = runner.invoke(app, ["subject", "show", REP, "--db", sqlite_url, "--json"])
    assert shown.exit_code == 0, shown.output


@pytest.mark.parametrize("fmt", ["gb18030", "xlsx"])
@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_license_layouts_load_every_row_linked(
    sqlite_url: str, tmp_path: Path, layout: str, fmt: str
) -> None:
    headers = LICENSE_V1 if layout == "v1" else LICENSE_V2
    rows = license_rows(layout)
    path = write_department_file(tmp_path / f"licences_{layout}", headers, rows, fmt)
    code, out, err = run(
        str(path),
        "--type",
        "admin_license",
        "--source",
        "approval_agencies",
        "--db",
        sqlite_url,
        "--json",
    )
    assert code == 0, (out, err)
    assert json.loads(out)["unmapped_columns"] == []
    assert json.loads(out)["unlinked"] == 0
    found = stored(sqlite_url, "admin_license")
    assert sorted(r.subject_code for r in found) == sorted([FIRM, PERSON])
    assert all(r.subject_id is not None for r in found)
    assert {r.fields["valid_until"] for r in found} == {"2030-11-02", "2031-03-09"}


@pytest.mark.parametrize(
    ("headers", "rows", "layout"),
    [
        (PENALTY_V1, penalty_v1_rows(), "sgs_penalty_v1"),
        (PENALTY_V2, penalty_v2_rows(), "sgs_penalty_v2"),
    ],
)
def test_a_dry_run_reports_and_writes_nothing(
    tmp_path: Path, headers: list[str], rows: list[list[object]], layout: str
) -> None:
    bad = list(rows[0])
    bad[headers.index("处罚决定日期")] = "2025年2月30日"
    path = write_department_file(tmp_path / "dry", headers, [*rows, bad], "gbk")
    db = tmp_path / "never.db"
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--dry-run", "--json", "--db", f"sqlite:///{db}"
    )
    assert code == 3, (out, err)
    report = json.loads(out)
    assert report["dry_run"] is True
    assert report["encoding"] == "gb18030"
    assert report["layout"]["id"] == layout
    assert report["unmapped_columns"] == ["内部编号"]
    assert report["missing"] == []
    assert {
        "header": "处罚机关" if layout.endswith("v2") else "处罚机关：",
        "field": "penalising_authority",
        "by": "catalog",
    } in report["mapping"]
    assert (report["rows"], report["accepted"], report["rejected"], report["unlinked"]) == (
        len(rows) + 1,
        len(rows),
        1,
        0,
    )
    assert report["reasons"][0]["row"] == len(rows) + 2
    assert "decided_on" in report["reasons"][0]["reason"]
    # Nothing written: no database, no rejects file, nothing else beside the input.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    code, out, _ = run(str(path), "--type", "admin_penalty", "--dry-run")
    assert code == 3
    assert "试运行" in out and layout in out and "内部编号" in out


def test_a_missing_required_column_names_the_headers_and_aliases(tmp_path: Path) -> None:
    headers = [h for h in PENALTY_V2 if h != "处罚机关"]
    rows = [
        r[: PENALTY_V2.index("处罚机关")] + r[PENALTY_V2.index("处罚机关") + 1 :]
        for r in penalty_v2_rows()
    ]
    path = write_department_file(tmp_path / "nocol", headers, rows, "utf-8")
    code, out, err = run(str(path), "--type", "admin_penalty", "--dry-run", "--json")
    assert code == 2
    assert json.loads(out)["missing"] == ["penalising_authority"]
    assert "penalising_authority" in err and "处罚机关" in err and "行政相对人名称" in err
    db = tmp_path / "x.db"
    assert runner.invoke(app, ["init", "--db", f"sqlite:///{db}"]).exit_code == 0
    code, _, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", f"sqlite:///{db}"
    )
    assert code == 2
    assert "处罚机关" in err and "Traceback" not in err
    assert not Path(str(path) + ".rejects.csv").exists()


def test_rows_without_a_code_are_refused_or_counted_unlinked_by_record_type(
    migrated: Engine, db_url: str, tmp_path: Path
) -> None:
    rows = penalty_v2_rows()
    nameless = list(rows[0])
    nameless[PENALTY_V2.index("行政相对人代码_1（统一社会信用代码）")] = ""
    nameless[PENALTY_V2.index("行政处罚决定书文号")] = "深市监罚〔2025〕399号"
    path = write_department_file(tmp_path / "p", PENALTY_V2, [rows[0], nameless], "utf-8")
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", db_url, "--json"
    )
    assert code == 3, (out, err)
    assert (json.loads(out)["accepted"], json.loads(out)["rejected"]) == (1, 1)
    reasons = Path(json.loads(out)["rejects_file"]).read_text(encoding="utf-8-sig")
    assert "no code to link by" in reasons
    # A court list publishes individuals with their numbers masked: loaded, unlinked, counted.
    defaulters = write_department_file(
        tmp_path / "d",
        [
            "被执行人姓名/名称",
            "身份证号码/组织机构代码",
            "执行法院",
            "案号",
            "失信被执行人行为具体情形",
            "发布时间",
        ],
        [
            [
                "王伟",
                "1101**********1234",
                "北京市朝阳区人民法院",
                "（2025）京0105执1号",
                "违反财产报告制度的",
                "2025年11月3日",
            ],
            [
                "广州市恒信建材有限公司",
                FIRM,
                "广州市天河区人民法院",
                "（2025）粤0106执2号",
                "违反限制消费令的",
                "2026/3/10",
            ],
        ],
        "gbk",
    )
    code, out, err = run(
        str(defaulters),
        "--type",
        "judgment_defaulter",
        "--source",
        "spc",
        "--db",
        db_url,
        "--json",
    )
    assert code == 0, (out, err)
    assert (json.loads(out)["accepted"], json.loads(out)["unlinked"]) == (2, 1)
    with migrated.connect() as conn:
        masked = conn.execute(
            select(records.c.subject_id, records.c.fields).where(
                records.c.document_no == "（2025）京0105执1号"
            )
        ).one()
        total = conn.execute(select(func.count()).select_from(records)).scalar_one()
    assert masked.subject_id is None
    assert masked.fields["subject_code_masked"] == "1101**********1234"
    assert total == 3


def v2_penalty(doc: str, name: str, category: str, **codes: str) -> list[object]:
    """A newer-layout penalty row for ``name`` with only the code columns given filled
    (``uscc=``, ``regno=``, ``orgcode=``)."""
    row = list(penalty_v2_rows()[0])
    columns = {
        "uscc": "行政相对人代码_1（统一社会信用代码）",
        "regno": "行政相对人代码_2(工商注册号)",
        "orgcode": "行政相对人代码_3（组织机构代码）",
    }
    for key, header in columns.items():
        row[PENALTY_V2.index(header)] = codes.get(key, "")
    row[PENALTY_V2.index("行政相对人名称")] = name
    row[PENALTY_V2.index("行政相对人类别")] = category
    row[PENALTY_V2.index("行政处罚决定书文号")] = doc
    row[PENALTY_V2.index("内部编号")] = doc
    return row


def identifiers_of(url: str, subject_id: int) -> set[tuple[str, str]]:
    with opened(url) as engine, engine.connect() as conn:
        found = conn.execute(
            select(subject_identifiers.c.scheme, subject_identifiers.c.value).where(
                subject_identifiers.c.subject_id == subject_id
            )
        )
        return {(scheme, value) for scheme, value in found}


def test_a_row_with_only_a_registration_number_is_linked_by_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    rng = random.Random(2006)
    old_firm, shop, bad = regno.generate(rng), regno.generate(rng), regno.generate(rng)
    bad = bad[:14] + str((int(bad[14]) + 1) % 10)  # a wrong check digit
    successor = uscc.generate(rng, region="440306", authority="9", category="1")
    also_known = regno.generate(rng)
    rows = [
        v2_penalty("注册号〔2025〕1号", "宝安老五金厂", "法人及非法人组织", regno=old_firm),
        v2_penalty(
            "注册号〔2025〕2号", "罗湖陈记小吃店", "个体工商户", regno=f" {shop[:6]}-{shop[6:]}"
        ),
        v2_penalty("注册号〔2025〕3号", "南山某某商行", "法人及非法人组织", regno=bad),
        v2_penalty("注册号〔2025〕4号", "一位自然人", "自然人", regno=old_firm),
        # a USCC first: the registration number beside it is neither checked nor linked by
        v2_penalty(
            "注册号〔2025〕5号",
            "深圳市新锐电子科技有限公司",
            "法人及非法人组织",
            uscc=FIRM,
            regno="123",
        ),
    ]
    path = write_department_file(tmp_path / "regno", PENALTY_V2, rows, "gbk")
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", sqlite_url, "--json"
    )
    assert code == 3, (out, err)  # some rows rejected
    summary = json.loads(out)
    assert (summary["accepted"], summary["rejected"], summary["unlinked"]) == (3, 2, 0)
    reasons = Path(summary["rejects_file"]).read_text(encoding="utf-8-sig")
    assert "registration_no" in reasons and "(checksum)" in reasons and bad in reasons
    assert "subject_category" in reasons  # 自然人 with a registration number
    by_doc = {r.fields["document_no"]: r for r in stored(sqlite_url, "admin_penalty")}
    first = by_doc["注册号〔2025〕1号"]
    assert first.subject_code == f"registration_no:{old_firm}"
    assert first.fields["registration_no"] == old_firm  # the cell as written, kept
    assert identifiers_of(sqlite_url, first.subject_id) == {("registration_no", old_firm)}
    # its primary code is qualified too, so the subject's handle identifies it again
    assert kind_of(sqlite_url, f"registration_no:{old_firm}") == "enterprise"
    assert kind_of(sqlite_url, f"registration_no:{shop}") == "sole_trader"  # from 行政相对人类别
    assert by_doc["注册号〔2025〕5号"].subject_code == FIRM
    shown = runner.invoke(
        app, ["subject", "show", f"registration_no:{old_firm}", "--db", sqlite_url, "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["identifiers"] == [
        {"scheme": "registration_no", "value": old_firm}
    ]

    # Later rows about the same registration number find the same subject. The same firm seen
    # with its USCC is another subject: nothing in a USCC names the registration number it
    # replaced, and ingest does not merge by name.
    later = [
        v2_penalty("注册号〔2026〕6号", "宝安老五金厂", "法人及非法人组织", regno=old_firm),
        v2_penalty("注册号〔2026〕7号", "宝安老五金厂", "法人及非法人组织", uscc=successor),
    ]
    path = write_department_file(tmp_path / "later", PENALTY_V2, later, "utf-8")
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", sqlite_url, "--json"
    )
    assert code == 0, (out, err)
    by_doc = {r.fields["document_no"]: r for r in stored(sqlite_url, "admin_penalty")}
    assert by_doc["注册号〔2026〕6号"].subject_id == first.subject_id
    renamed = by_doc["注册号〔2026〕7号"].subject_id
    assert renamed != first.subject_id

    # Where the store already holds both identifiers for one subject, either code finds it.
    with opened(sqlite_url) as engine, engine.begin() as conn:
        conn.execute(
            subject_identifiers.insert().values(
                subject_id=renamed, scheme="registration_no", value=also_known
            )
        )
    path = write_department_file(
        tmp_path / "linked",
        PENALTY_V2,
        [v2_penalty("注册号〔2026〕8号", "宝安老五金厂", "法人及非法人组织", regno=also_known)],
        "utf-8",
    )
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--source", "samr", "--db", sqlite_url, "--json"
    )
    assert code == 0, (out, err)
    by_doc = {r.fields["document_no"]: r for r in stored(sqlite_url, "admin_penalty")}
    assert by_doc["注册号〔2026〕8号"].subject_id == renamed


OWN_HEADERS = ["当事人", "信用代码", "文号", "处罚日期", "罚没款（元）", "严重程度", "经办人"]
OWN_ROWS = [
    [
        "深圳市新锐电子科技有限公司",
        FIRM,
        "深龙市监罚〔2026〕5号",
        "2026年1月5日",
        "50,000",
        "较重",
        "李四",
    ],
    ["深圳市老字号商行", ORG_ONLY, "深龙市监罚〔2026〕6号", "2026/3/10", "3000", "轻微", "王五"],
]


def test_suggest_map_then_load_with_the_mapping(sqlite_url: str, tmp_path: Path) -> None:
    path = write_department_file(tmp_path / "own", OWN_HEADERS, OWN_ROWS, "xlsx")
    code, out, err = run(str(path), "--type", "admin_penalty", "--dry-run", "--json")
    assert code == 2  # penalising_authority and the others are not in the file
    code, draft, err = run("--suggest-map", str(path), "--type", "admin_penalty")
    assert code == 0, err
    assert "record_type: admin_penalty" in draft
    assert '"处罚日期": decided_on' in draft
    assert '"严重程度": severity' in draft
    assert "penalising_authority" in draft  # required, not in the file: listed for a person
    mapping = tmp_path / "mapping.yaml"
    code, _, err = run(
        "--suggest-map", str(path), "--type", "admin_penalty", "--output", str(mapping)
    )
    assert code == 0 and mapping.read_text(encoding="utf-8") == draft
    mapping.write_text(
        "record_type: admin_penalty\n"
        "columns:\n"
        "  当事人: subject_name\n"
        "  信用代码: subject_code\n"
        "  文号: document_no\n"
        "  处罚日期: decided_on\n"
        "  罚没款(元): fine_amount\n"
        "  严重程度: severity\n"
        "constants:\n"
        "  penalising_authority: 深圳市龙岗区市场监督管理局\n"
        "values:\n"
        "  severity:\n"
        "    较重: serious\n"
        "    轻微: minor\n",
        encoding="utf-8",
    )
    code, out, err = run(
        str(path), "--type", "admin_penalty", "--map", str(mapping), "--dry-run", "--json"
    )
    assert code == 0, (out, err)
    report = json.loads(out)
    assert {"header": "当事人", "field": "subject_name", "by": "mapping"} in report["mapping"]
    assert report["unmapped_columns"] == ["经办人"]
    code, out, err = run(
        str(path),
        "--type",
        "admin_penalty",
        "--source",
        "samr",
        "--map",
        str(mapping),
        "--db",
        sqlite_url,
        "--json",
    )
    assert code == 0, (out, err)
    assert json.loads(out)["unmapped_columns"] == ["经办人"]
    found = {r.subject_code: r for r in stored(sqlite_url, "admin_penalty")}
    assert set(found) == {FIRM, ORG_ONLY}
    firm = found[FIRM].fields
    assert firm["penalising_authority"] == "深圳市龙岗区市场监督管理局"
    assert firm["severity"] == "serious"
    assert firm["fine_amount"] == "5"  # 50,000 元 in the field's 万元
    assert firm["经办人"] == "李四"
    assert found[ORG_ONLY].fields["severity"] == "minor"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("columns:\n  当事人: subject_name\n  文号: document_number\n", 3, "document_number"),
        ("columns:\n  当事人: subject_name\nconstants:\n  decided_on: 上个月\n", 4, "decided_on"),
        ("values:\n  severity:\n    较重: serious\n    很重: deadly\n", 4, "deadly"),
        ("record_type: admin_license\n", 1, "admin_license"),
        ("colums:\n  当事人: subject_name\n", 1, "colums"),
        ("columns:\n  当事人: [subject_name\n", 3, "YAML"),
    ],
)
def test_a_bad_mapping_exits_2_with_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write_department_file(tmp_path / "own", OWN_HEADERS, OWN_ROWS, "utf-8")
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(text, encoding="utf-8")
    code, out, err = run(str(path), "--type", "admin_penalty", "--map", str(mapping), "--dry-run")
    assert code == 2, out
    assert f"{mapping}:{line}" in err
    assert words in err
    assert "Traceback" not in err


def test_every_shipped_layout_maps_every_column() -> None:
    catalog = default_catalog()
    layouts = {
        (rtype.id, layout.id): plan_columns(rtype, list(layout.columns))
        for rtype in catalog.record_types.values()
        for layout in rtype.layouts
    }
    assert {"sgs_penalty_v1", "sgs_penalty_v2", "sgs_license_v1", "sgs_license_v2"} <= {
        layout for _, layout in layouts
    }
    for (_rtype, layout), plan in layouts.items():
        assert plan.unmapped == (), layout
        assert plan.layout is not None and plan.layout.id == layout

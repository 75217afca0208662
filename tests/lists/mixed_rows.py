"""A few hundred mixed rows (officers, defaulters, consumption restriction orders, tax ratings,
then corrections), and the derived state of a database in a form two loads can be compared by.

Codes are valid ones drawn with a fixed seed from ``xinyong.codes``; some rows carry no code or
an invalid one (they link to nobody and list nobody). Ids differ between two loads of the same
rows, so the snapshot names subjects by code, records by key and entries by (list, record key).
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from xinyong import pipeline
from xinyong.catalog import Catalog
from xinyong.codes import ric, uscc
from xinyong.feed.tables import feed_events
from xinyong.lists.tables import list_entries
from xinyong.measures.tables import restrictions
from xinyong.process.records import new_version, record_by_id
from xinyong.store.tables import records, subjects

GROUNDS = [
    "有履行能力而拒不履行生效法律文书确定义务的",
    "违反财产报告制度的",
    "违反限制消费令的",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的",
]
ROLES = ["法定代表人", "法定代表人", "主要负责人", "实际控制人", "董事", "监事"]
COURT = "杭州市西湖区人民法院"

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Mixed:
    """Rows by record type for the first load, and the corrections loaded after it."""

    first: dict[str, Rows]
    corrections: dict[str, Rows]
    #: Then these records (by document number) get a new version of this status.
    new_statuses: dict[str, str]

    def count(self) -> int:
        return sum(len(r) for r in self.first.values()) + sum(
            len(r) for r in self.corrections.values()
        )


def _day(rng: random.Random, first_year: int = 2017, last_year: int = 2025) -> str:
    return f"{rng.randint(first_year, last_year)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def mixed_rows(seed: int = 11, *, defaulters: int = 120) -> Mixed:
    rng = random.Random(seed)
    people = [ric.generate(rng) for _ in range(60)]
    firms = [uscc.generate(rng, authority="9", category="1") for _ in range(25)]
    officers: Rows = []
    for i, firm in enumerate(firms[:20]):
        for _ in range(rng.randint(1, 3)):
            code = rng.choice(people) if rng.random() < 0.9 else "110101199003074510"  # bad sum
            row = {
                "企业名称": f"杭州某某{i}号有限公司",
                "统一社会信用代码": firm,
                "人员姓名": "李强",
                "人员身份证号码": code,
                "职务": rng.choice(ROLES),
                "任职日期": _day(rng, 2010, 2020),
                "离任日期": _day(rng, 2021, 2025) if rng.random() < 0.2 else "",
            }
            officers.append(row)
    defaulter_rows: Rows = []
    for i in range(defaulters):
        pick = rng.random()
        code = rng.choice(people) if pick < 0.6 else rng.choice(firms) if pick < 0.9 else ""
        defaulter_rows.append(
            {
                "被执行人姓名/名称": rng.choice("王李张刘陈") + rng.choice("伟芳娜强磊"),
                "身份证号码/组织机构代码": code,
                "执行法院": COURT,
                "案号": f"（2024）浙0106执{i}号",
                "失信被执行人行为具体情形": rng.choice(GROUNDS),
                "决定日期": _day(rng),
            }
        )
    orders: Rows = []
    for i in range(40):
        code = rng.choice(firms) if rng.random() < 0.6 else rng.choice(people)
        orders.append(
            {
                "被执行人": "杭州某某贸易有限公司",
                "统一社会信用代码": code,
                "执行法院": COURT,
                "案号": f"（2023）浙0106执{500 + i}号",
                "决定日期": _day(rng, 2019, 2025),
                "解除日期": _day(rng, 2024, 2026) if rng.random() < 0.25 else "",
                "法定代表人": "李强",
            }
        )
    ratings: Rows = [
        {
            "纳税人名称": "杭州某某贸易有限公司",
            "纳税人识别号": firm,
            "评价日期": f"{rng.choice([2023, 2024, 2025])}-04-01",
            "评价年度": "2024",
            "纳税信用等级": rng.choice("ABMCD"),
        }
        for firm in firms[:15]
    ]
    fixed_defaulters = [
        {**row, "决定日期": _day(rng)}
        for row in rng.sample(defaulter_rows, 20)
        if row["身份证号码/组织机构代码"]
    ]
    lifted = [{**row, "解除日期": _day(rng, 2024, 2026)} for row in rng.sample(orders, 8)]
    # Officers appointed after their enterprise was listed (relations that arrive late).
    late_officers = [
        {
            "企业名称": f"杭州某某{i}号有限公司",
            "统一社会信用代码": firm,
            "人员姓名": "王芳",
            "人员身份证号码": rng.choice(people),
            "职务": rng.choice(ROLES),
            "任职日期": _day(rng, 2015, 2024),
            "离任日期": "",
        }
        for i, firm in enumerate(firms[10:], start=10)
    ]
    return Mixed(
        first={
            "enterprise_officer": officers,
            "judgment_defaulter": defaulter_rows,
            "consumption_restriction_order": orders,
            "tax_credit_rating": ratings,
        },
        corrections={
            "judgment_defaulter": fixed_defaulters,
            "consumption_restriction_order": lifted,
            "enterprise_officer": late_officers,
        },
        new_statuses={
            row["案号"]: rng.choice(["withdrawn", "repaired", "under_objection"])
            for row in rng.sample(defaulter_rows + orders, 25)
            if row.get("身份证号码/组织机构代码", row.get("统一社会信用代码"))
        },
    )


def write_csv(path: Path, rows: Rows) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


Load = Callable[[str, Rows], Any]


def load_all(mixed: Mixed, load: Load, *, one_row_per_batch: bool) -> None:
    """Load the first rows then the corrections, per record type, as one batch each or one row
    per batch."""
    for phase in (mixed.first, mixed.corrections):
        for record_type, rows in phase.items():
            if one_row_per_batch:
                for row in rows:
                    load(record_type, [row])
            else:
                load(record_type, rows)


def change_statuses(
    engine: Engine, catalog: Catalog, mixed: Mixed, *, at: date, one_by_one: bool
) -> None:
    """Give the records named in ``mixed.new_statuses`` a new version of that status: one
    transaction and pipeline run each, or all in one transaction and ONE pipeline run."""

    def run(documents: list[str]) -> None:
        with engine.begin() as conn:
            changed: list[int] = []
            for document in documents:
                found = conn.execute(
                    select(records).where(
                        records.c.document_no == document, records.c.superseded_at.is_(None)
                    )
                ).first()
                if found is None:
                    continue
                stored = record_by_id(conn, found.id)
                changed.append(new_version(conn, stored, status=mixed.new_statuses[document]))
            pipeline.apply_records(conn, changed, catalog=catalog, at=at)

    documents = sorted(mixed.new_statuses)
    if one_by_one:
        for document in documents:
            run([document])
    else:
        run(documents)


def _names(conn: Connection) -> tuple[dict[int, str], dict[int, str]]:
    codes = {
        r.id: r.primary_code for r in conn.execute(select(subjects.c.id, subjects.c.primary_code))
    }
    keys = {r.id: r.record_key for r in conn.execute(select(records.c.id, records.c.record_key))}
    return codes, keys


def snapshot(engine: Engine) -> dict[str, Counter[str]]:
    """Every version of every list entry and index row, and every outbox event, named by codes
    and record keys instead of ids; as multisets of JSON lines."""
    with engine.connect() as conn:
        codes, keys = _names(conn)
        first_version = {
            r.entry_id: (r.list_id, r.record_key)
            for r in conn.execute(
                select(list_entries).where(list_entries.c.id == list_entries.c.entry_id)
            )
        }
        entries = Counter(
            _line(
                list_id=r.list_id,
                subject=codes[r.subject_id],
                record=keys[r.record_id],
                entry=first_version[r.entry_id],
                state=r.state,
                notified_on=r.notified_on,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                until_event=r.until_event,
                extended=r.extended,
                removed_on=r.removed_on,
                reason=r.reason,
                current=r.superseded_at is None,
            )
            for r in conn.execute(select(list_entries))
        )
        index = Counter(
            _line(
                subject=codes[r.subject_id],
                kind=r.subject_kind,
                list_id=r.list_id,
                entry=first_version[r.entry_id],
                source=codes[r.source_subject_id],
                record=keys[r.record_id],
                via=codes.get(r.via_subject_id or 0),
                role=r.role,
                relation_record=keys.get(r.relation_record_id or 0),
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                current=r.superseded_at is None,
            )
            for r in conn.execute(select(restrictions))
        )
        events = Counter(
            _line(
                type=r.event_type,
                subject=r.subject_code,
                kind=r.subject_kind,
                region=r.region,
                payload=_payload(r.payload, keys, first_version),
            )
            for r in conn.execute(select(feed_events))
        )
    return {"entries": entries, "index": index, "events": events}


def _payload(
    payload: Mapping[str, Any], keys: dict[int, str], entries: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    out = dict(payload)
    for name in ("id", "supersedes", "relation_record_id"):  # record ids
        if out.get(name) is not None:
            out[name] = keys[out[name]]
    if out.get("entry_id") is not None:
        out["entry_id"] = entries[out["entry_id"]]
    out.pop("subject_id", None)
    return out


def _line(**values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)

"""Linking: by code exactly; a name alone never links, and homonyms stay apart."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select, update

from xinyong.catalog import ROLES
from xinyong.codes import ric, uscc
from xinyong.link import candidates, identify, link_records, names
from xinyong.link.attach import RELATION_POSTS
from xinyong.link.names import normalise, pinyin_key, similarity
from xinyong.store.engine import opened, utcnow
from xinyong.store.tables import (
    RELATION_ROLES,
    link_leads,
    records,
    subject_identifiers,
    subject_relations,
    subjects,
)

RNG = random.Random(20240305)


@pytest.fixture()
def conn(db_url: str) -> Iterator[Connection]:
    with opened(db_url) as engine, engine.begin() as connection:
        yield connection


def add(conn: Connection, name: str, code: str | None = None, **fields: Any) -> int:
    key = f"{name}|{code}|{RNG.random()}"
    return int(
        conn.execute(
            insert(records).returning(records.c.id),
            {
                "record_type": fields.pop("record_type", "admin_penalty"),
                "source": "samr",
                "subject_code": code,
                "subject_name": name,
                "document_no": f"罚字〔2024〕{RNG.randint(1, 9999)}号",
                "decided_on": date(2024, 3, 5),
                "fields": fields,
                "recorded_at": utcnow(),
                "record_key": key[:64],
                "row_hash": "x",
            },
        ).scalar_one()
    )


def subject_of(conn: Connection, record_id: int) -> int | None:
    return conn.execute(select(records.c.subject_id).where(records.c.id == record_id)).scalar_one()


def test_two_people_with_one_name_are_kept_apart(conn: Connection) -> None:
    first, second = ric.generate(RNG), ric.generate(RNG)
    a, b = add(conn, "王伟", first), add(conn, "王伟", second)
    result = link_records(conn, [a, b])
    assert subject_of(conn, a) != subject_of(conn, b)
    assert result.subject_ids == {subject_of(conn, a), subject_of(conn, b)}
    kinds = conn.execute(select(subjects.c.kind)).scalars().all()
    assert kinds == ["individual", "individual"]


def test_a_name_only_record_about_wang_wei_links_to_nobody(conn: Connection) -> None:
    known = add(conn, "王伟", ric.generate(RNG))
    link_records(conn, [known])
    name_only = add(conn, "王伟")
    result = link_records(conn, [name_only])
    assert subject_of(conn, name_only) is None
    assert result.unlinked == [name_only]
    # The namesake is offered to a person as a lead, never attached.
    leads = conn.execute(select(link_leads).where(link_leads.c.record_id == name_only)).all()
    assert [(lead.subject_id, lead.state) for lead in leads] == [(subject_of(conn, known), "open")]


def test_an_invalid_code_keeps_the_record_unlinked(conn: Connection) -> None:
    code = ric.generate(RNG)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    rid = add(conn, "李娜", bad)
    link_records(conn, [rid])
    assert subject_of(conn, rid) is None
    assert conn.execute(select(subjects)).first() is None


def test_same_code_links_to_the_same_subject(conn: Connection) -> None:
    code = uscc.generate(RNG, authority="9", category="1")
    a, b = add(conn, "北京华为技术有限公司", code), add(conn, "北京華為技術有限公司", code)
    link_records(conn, [a])
    link_records(conn, [b])
    assert subject_of(conn, a) == subject_of(conn, b)
    assert conn.execute(select(subjects.c.kind)).scalar_one() == "enterprise"


def test_orgcode_inside_a_known_uscc_links_to_that_subject(conn: Connection) -> None:
    code = uscc.generate(RNG, authority="9", category="1")
    a = add(conn, "甲公司", code)
    link_records(conn, [a])
    b = add(conn, "甲公司", code[8:17])
    link_records(conn, [b])
    assert subject_of(conn, b) == subject_of(conn, a)


def test_a_subject_first_known_by_orgcode_gains_its_uscc(conn: Connection) -> None:
    code = uscc.generate(RNG, authority="9", category="1")
    a = add(conn, "乙公司", code[8:17])
    link_records(conn, [a])
    b = add(conn, "乙公司", code)
    link_records(conn, [b])
    assert subject_of(conn, b) == subject_of(conn, a)
    schemes = conn.execute(select(subject_identifiers.c.scheme)).scalars().all()
    assert sorted(schemes) == ["orgcode", "uscc"]


def test_a_legacy_15_digit_number_links_after_conversion(conn: Connection) -> None:
    full = ric.generate(RNG, birth_date=date(1975, 6, 1))
    legacy = full[:6] + full[8:17]
    a, b = add(conn, "张敏", full), add(conn, "张敏", legacy)
    link_records(conn, [a, b])
    assert subject_of(conn, a) == subject_of(conn, b)
    assert identify(legacy).value == full


@pytest.mark.parametrize(
    ("authority", "category", "kind"),
    [
        ("9", "2", "sole_trader"),
        ("9", "3", "enterprise"),
        ("1", "1", "government"),
        ("5", "1", "organisation"),
    ],
)
def test_kind_follows_the_code(conn: Connection, authority: str, category: str, kind: str) -> None:
    rid = add(conn, "某主体", uscc.generate(RNG, authority=authority, category=category))
    link_records(conn, [rid])
    assert conn.execute(select(subjects.c.kind)).scalar_one() == kind


def test_record_type_may_fix_the_kind(conn: Connection) -> None:
    rid = add(conn, "某单位", uscc.generate(RNG, authority="5", category="1"), record_type="x")
    link_records(conn, [rid], kind_for={"x": "enterprise"})
    assert conn.execute(select(subjects.c.kind)).scalar_one() == "enterprise"


def officer(
    conn: Connection, company: str, role: str, person_code: str | None, **extra: Any
) -> int:
    fields = {"person_name": "刘伟", "role": role, **extra}
    if person_code is not None:
        fields["person_code"] = person_code
    return add(conn, "丙有限公司", company, record_type="enterprise_officer", **fields)


def person_subject(conn: Connection, code: str) -> int | None:
    return conn.execute(
        select(subject_identifiers.c.subject_id).where(subject_identifiers.c.value == code)
    ).scalar_one_or_none()


def test_officer_records_create_relations_by_the_persons_code(conn: Connection) -> None:
    company, person = uscc.generate(RNG, authority="9", category="1"), ric.generate(RNG)
    rid = officer(conn, company, "legal_representative", person, ended_on="2025-06-30")
    link_records(conn, [rid], registration_types={"enterprise_officer"})
    rel = conn.execute(select(subject_relations)).one()
    assert (rel.role, rel.from_subject_id) == ("legal_representative", subject_of(conn, rid))
    assert rel.to_subject_id == person_subject(conn, person)
    assert (rel.valid_from, rel.valid_to) == (date(2024, 3, 5), date(2025, 6, 30))
    kind = conn.execute(select(subjects.c.kind).where(subjects.c.id == rel.to_subject_id))
    assert kind.scalar_one() == "individual"
    # Running the same record through again adds nothing.
    link_records(conn, [rid], registration_types={"enterprise_officer"})
    assert len(conn.execute(select(subject_relations)).all()) == 1


def test_a_name_only_officer_creates_no_relation_and_no_person(conn: Connection) -> None:
    company = uscc.generate(RNG, authority="9", category="1")
    rid = officer(conn, company, "legal_representative", None)
    link_records(conn, [rid], registration_types={"enterprise_officer"})
    assert conn.execute(select(subject_relations)).first() is None
    assert conn.execute(select(subjects.c.kind)).scalars().all() == ["enterprise"]


@pytest.mark.parametrize("post", ["director", "supervisor", "manager"])
def test_posts_no_measure_may_reach_are_no_relation(conn: Connection, post: str) -> None:
    company, person = uscc.generate(RNG, authority="9", category="1"), ric.generate(RNG)
    rid = officer(conn, company, post, person)
    link_records(conn, [rid], registration_types={"enterprise_officer"})
    assert conn.execute(select(subject_relations)).first() is None
    assert person_subject(conn, person) is None
    # The post stays on the enterprise's file, as its record.
    assert subject_of(conn, rid) == person_subject(conn, company)


def test_officer_rows_of_a_type_that_is_not_registration_create_nothing(conn: Connection) -> None:
    company, person = uscc.generate(RNG, authority="9", category="1"), ric.generate(RNG)
    rid = officer(conn, company, "principal", person)
    link_records(conn, [rid], registration_types=set())
    assert conn.execute(select(subject_relations)).first() is None


def test_relation_roles_are_stored_roles_and_reach_no_further_than_measures() -> None:
    assert set(RELATION_POSTS) == set(ROLES)
    assert set(ROLES) <= set(RELATION_ROLES)


def test_name_normalisation() -> None:
    assert (
        normalise("北京華為技術有限公司") == normalise("北京华为技术股份有限公司") == "北京华为技术"
    )
    assert normalise("ＡＢＣ　科技有限责任公司") == "abc科技"
    assert normalise("甲公司北京分公司") != normalise("甲公司")
    assert pinyin_key("王伟") == "wangwei"
    assert similarity("王伟", "王伟") == 1.0
    assert 0 < similarity("王伟", "汪玮") < 1.0


def test_candidates_rank_closest_first(conn: Connection) -> None:
    near = add(
        conn, "深圳市腾讯计算机系统有限公司", uscc.generate(RNG, authority="9", category="1")
    )
    far = add(conn, "深圳市某某贸易有限公司", uscc.generate(RNG, authority="9", category="1"))
    link_records(conn, [near, far])
    found = candidates(conn, "深圳市騰訊計算機系統有限責任公司")
    assert found[0] == (subject_of(conn, near), 1.0)


def test_pinyin_keys_read_people_by_character_and_organisations_by_phrase() -> None:
    assert pinyin_key("汪玮") == pinyin_key("王伟") == "wangwei"
    assert pinyin_key("欧阳娜娜") == "ouyangnana"
    # Phrases keep their reading in longer names: 重庆 chongqing, 银行 yinhang.
    assert pinyin_key("重庆银行股份有限公司") == "chongqingyinhang"


def test_among_takes_thousands_of_values_as_one_parameter(conn: Connection) -> None:
    from xinyong.link.bulk import among

    ids = [add(conn, f"主体{i}") for i in range(30)]
    wanted = [*ids[::3], *range(10**6, 10**6 + 20000)]  # most of them match nothing
    found = conn.execute(select(records.c.id).where(among(conn, records.c.id, wanted)))
    assert sorted(found.scalars()) == ids[::3]
    keys = conn.execute(select(records.c.record_key).where(records.c.id.in_(ids[:2]))).scalars()
    by_key = select(records.c.id).where(among(conn, records.c.record_key, list(keys)))
    assert sorted(conn.execute(by_key).scalars()) == ids[:2]
    assert conn.execute(select(records.c.id).where(among(conn, records.c.id, []))).first() is None


def test_among_finds_text_that_array_syntax_would_misread(conn: Connection) -> None:
    """``among`` of strings that array syntax quotes or escapes: quotes, backslashes, commas,
    braces, spaces, the word NULL and the empty string find themselves."""
    from xinyong.link.bulk import among

    awkward = ['王"伟', "a\\b", "a,b", "{x}", " 空 格 ", "NULL", "", "\\", '"', "李\t秀英"]
    ids = {add(conn, name): name for name in awkward}
    decoy = add(conn, "王伟")
    query = select(records.c.id, records.c.subject_name).where(
        among(conn, records.c.subject_name, [*awkward, "无此人"])
    )
    assert {r.id: r.subject_name for r in conn.execute(query)} == ids and decoy not in ids


def test_current_by_key_finds_the_current_version_of_each_key_and_nothing_else(
    conn: Connection,
) -> None:
    """One row per key: the current version (a superseded one never), only among the keys
    asked; an empty list asks nothing."""
    from xinyong.link.bulk import current_by_key

    old, new, other, alone = (add(conn, f"主体{i}") for i in range(4))
    key_of = {r.id: r.record_key for r in conn.execute(select(records.c.id, records.c.record_key))}
    shared = key_of[old]
    conn.execute(update(records).where(records.c.id == old).values(superseded_at=utcnow()))
    conn.execute(update(records).where(records.c.id == new).values(record_key=shared))
    columns = (records.c.record_key, records.c.id)
    found = {
        r.record_key: r.id
        for r in current_by_key(conn, records, columns, [shared, key_of[alone], "无此键" * 5])
    }
    assert found == {shared: new, key_of[alone]: alone}
    assert key_of[other] not in found
    assert current_by_key(conn, records, columns, []) == []


@pytest.mark.pg
def test_current_by_key_looks_each_key_up_in_its_own_partition(pg_store_url: str) -> None:
    """On PostgreSQL, in a store just loaded (no statistics yet), each key is one index probe
    in the one partition of ``records`` its hash names, not a probe of every partition nor a
    scan of the current rows: what keeps ingest's version look-up flat as the store grows."""
    from xinyong.link.bulk import current_by_key

    with opened(pg_store_url) as engine, engine.begin() as conn:
        ids = [add(conn, f"主体{i}") for i in range(400)]
        keys = conn.execute(select(records.c.record_key).where(records.c.id.in_(ids[:50])))
        asked = [*keys.scalars(), "无此键"]
        found, scans = _scans_of_records(
            conn, lambda: current_by_key(conn, records, (records.c.id,), asked)
        )
    assert len(found) == 50
    assert len(scans) == 16  # every partition is in the plan …
    assert {s["Node Type"] for s in scans} == {"Index Scan"}
    assert all("record_key" in s.get("Index Cond", "") for s in scans), scans
    # … and each key is looked up in one of them: the probes add up to the keys asked.
    assert sum(s.get("Actual Loops", 0) for s in scans) == len(asked)


def _scans_of_records(
    conn: Connection, call: Callable[[], list[Any]]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """What ``call`` returned, and the scans of ``records`` partitions in the executed plan of
    the one statement it ran (``EXPLAIN ANALYZE`` of that statement, run again)."""
    statements: list[Any] = []
    execute = conn.execute

    def capture(statement: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(statement)
        return execute(statement, *args, **kwargs)

    conn.execute = capture  # type: ignore[method-assign]
    try:
        found = call()
    finally:
        conn.execute = execute  # type: ignore[method-assign]
    assert len(statements) == 1, statements
    compiled = statements[0].compile(conn)
    plan = conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params
    ).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    scans: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name", "").startswith("records"):
            scans.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found, scans


def test_by_id_finds_the_same_rows_whatever_keys_it_is_given(conn: Connection) -> None:
    """``by_id`` with every key right, with some missing, with wrong ones and with none finds
    the rows with those ids, no more, no fewer."""
    from xinyong.link.bulk import by_id

    ids = [add(conn, f"主体{i}") for i in range(12)]
    key_of = {r.id: r.record_key for r in conn.execute(select(records.c.id, records.c.record_key))}
    asked = [*ids[:8], 10**9]  # one id that is no record
    columns = (records.c.id, records.c.subject_name)
    expected = {i: f"主体{n}" for n, i in enumerate(ids[:8])}
    for keys in (
        {i: key_of[i] for i in ids[:8]},
        {i: key_of[i] for i in ids[:3]},
        {i: "错" * 64 for i in ids[:8]} | {10**9: "无"},
        {ids[0]: key_of[ids[1]], ids[1]: key_of[ids[0]]},  # each other's keys
        {},
    ):
        found = by_id(conn, records, columns, asked, keys)
        assert sorted(r.id for r in found) == sorted(expected), keys
        assert {r.id: r.subject_name for r in found} == expected
        # without ``id`` among the columns, every row ends with it, whichever way it was read
        named = by_id(conn, records, (records.c.subject_name,), asked, keys)
        assert sorted(tuple(r) for r in named) == sorted((n, i) for i, n in expected.items())
    assert by_id(conn, records, columns, [], key_of) == []


@pytest.mark.pg
def test_by_id_with_keys_looks_each_record_up_in_its_own_partition(pg_store_url: str) -> None:
    """On PostgreSQL, given their keys, the rows are read one primary-key probe each, in the
    partition the key names: what keeps the pipeline's reads of a chunk's records flat as the
    store grows (by id alone, every partition is probed for every id). Every key right: one
    statement, nothing read again by id alone."""
    from xinyong.link.bulk import by_id

    with opened(pg_store_url) as engine, engine.begin() as conn:
        ids = [add(conn, f"主体{i}") for i in range(400)]
        key_of = {
            r.id: r.record_key
            for r in conn.execute(select(records.c.id, records.c.record_key)).all()
        }
        asked = ids[:50]
        found, scans = _scans_of_records(
            conn, lambda: by_id(conn, records, (records.c.id,), asked, key_of)
        )
    assert len(found) == 50
    assert len(scans) == 16 and {s["Node Type"] for s in scans} == {"Index Scan"}
    assert sum(s.get("Actual Loops", 0) for s in scans) == len(asked)


def test_a_name_with_no_character_the_t2s_tables_know_is_left_as_it_is() -> None:
    """``normalise`` skips the traditional → simplified conversion for a text none of whose
    characters is in a key of its tables: the conversion would return it unchanged."""
    known = names._t2s_characters()
    assert known is not None and "華" in known and "王" not in known
    convert = names._t2s().convert
    texts = [chr(c) for c in range(0x4E00, 0xA000)]
    texts += ["王伟", "李秀英", "北京华为技术", "乾隆", "著作权", "臺灣", "后天", "王 伟-1"]
    for text in texts:
        if known.isdisjoint(text):
            assert convert(text) == text, text
    assert names.normalise("北京華為技術有限公司") == names.normalise("北京华为技术股份有限公司")

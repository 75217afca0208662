"""The audit chain: recording, reading, and catching every kind of tampering, on both databases."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, update

from xinyong.audit import (
    GENESIS_HASH,
    AuditEvent,
    events_for_subject,
    list_events,
    record,
    verify,
)
from xinyong.audit import events as events_module
from xinyong.audit.chain import canonical_body, canonical_json, canonical_time, event_hash
from xinyong.audit.tables import audit_events, audit_head
from xinyong.errors import Conflict

T0 = datetime(2025, 1, 24, 8, 0, tzinfo=UTC)
SUBJECTS = ("91110000100000000A", "110101199003077777")


def append(engine: Engine, n: int, *, start: int = 0) -> list[AuditEvent]:
    events = []
    for i in range(start, start + n):
        with engine.begin() as conn:
            events.append(
                record(
                    conn,
                    actor=f"agency-user-{i % 3}",
                    role="agency",
                    purpose="限制消费核查 / consumption restriction check",
                    subject=SUBJECTS[i % 2],
                    action="check",
                    resource="decision",
                    outcome="deny" if i % 2 else "permit",
                    detail={"action": "buy_flight_ticket", "n": i, "名称": "测试"},
                    at=T0 + timedelta(minutes=i),
                )
            )
    return events


def tamper(engine: Engine, *statements: Any) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def shift_ids_from(position: int) -> list[Any]:
    """Statements that move events ``position``… one place up (via negative ids, no clashes)."""
    ids = audit_events.c.id
    return [
        update(audit_events).where(ids >= position).values(id=-ids),
        update(audit_events).where(ids < 0).values(id=-ids + 1),
    ]


def test_record_chains_events_and_verify_passes(audit_engine: Engine) -> None:
    events = append(audit_engine, 5)
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == 5
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert result.ok
    assert result.count == 5
    assert result.head_hash == events[-1].hash
    assert result.first_broken is None


def test_empty_chain_verifies(audit_engine: Engine) -> None:
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.count, result.head_hash) == (True, 0, GENESIS_HASH)


def test_events_read_back_as_written(audit_engine: Engine) -> None:
    written = append(audit_engine, 4)
    with audit_engine.connect() as conn:
        mine = events_for_subject(conn, SUBJECTS[1])
        nobody = events_for_subject(conn, "no-such-subject")
        last_two = list_events(conn, limit=2)
    assert [e.id for e in mine] == [2, 4]
    assert mine == [written[1], written[3]]
    assert mine[0].detail == {"action": "buy_flight_ticket", "n": 1, "名称": "测试"}
    assert mine[0].at == T0 + timedelta(minutes=1)
    assert mine[0].at.tzinfo is not None
    assert nobody == []
    assert [e.id for e in last_two] == [3, 4]


def test_times_are_kept_in_utc_to_the_microsecond(audit_engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    at = datetime(2025, 10, 8, 23, 59, 59, 123456, tzinfo=beijing)
    with audit_engine.begin() as conn:
        event = record(
            conn, actor="u", role="subject", purpose="查看本人信用记录", subject="S", action="read",
            at=at,
        )  # fmt: skip
    with audit_engine.connect() as conn:
        (stored,) = events_for_subject(conn, "S")
        assert verify(conn).ok
    assert stored.at == at
    assert stored.hash == event.hash


def test_rolled_back_event_leaves_no_gap(audit_engine: Engine) -> None:
    append(audit_engine, 2)
    with pytest.raises(RuntimeError), audit_engine.begin() as conn:
        record(conn, actor="u", role="agency", purpose="p", subject="S", action="read")
        raise RuntimeError("the audited work failed")
    append(audit_engine, 1, start=2)
    with audit_engine.connect() as conn:
        result = verify(conn)
        ids = [e.id for e in list_events(conn)]
    assert result.ok
    assert ids == [1, 2, 3]


def test_changed_field_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 5)
    tamper(
        audit_engine,
        update(audit_events).where(audit_events.c.id == 3).values(purpose="例行检查"),
    )
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert not result.ok
    assert (result.first_broken, result.reason) == (3, "changed")
    assert result.count == 2
    assert result.explanation is not None and "event 3" in result.explanation


@pytest.mark.parametrize("column", ["actor", "subject", "outcome", "detail", "hash"])
def test_any_changed_column_is_detected(audit_engine: Engine, column: str) -> None:
    append(audit_engine, 3)
    value = '{"n":99}' if column == "detail" else "f" * 64 if column == "hash" else "x"
    tamper(audit_engine, update(audit_events).where(audit_events.c.id == 2).values({column: value}))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 2, "changed")


def test_changed_time_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 3)
    later = T0 + timedelta(minutes=1, microseconds=1)
    tamper(audit_engine, update(audit_events).where(audit_events.c.id == 2).values(at=later))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.first_broken, result.reason) == (2, "changed")


def test_deleted_event_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 5)
    tamper(audit_engine, delete(audit_events).where(audit_events.c.id == 3))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 3, "deleted")


def test_deleted_event_with_ids_closed_up_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 5)
    ids = audit_events.c.id
    tamper(
        audit_engine,
        delete(audit_events).where(ids == 3),
        update(audit_events).where(ids > 3).values(id=-ids),
        update(audit_events).where(ids < 0).values(id=-ids - 1),
        update(audit_head).values(seq=4),
    )
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 3, "deleted")


def test_cut_off_tail_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 5)
    tamper(audit_engine, delete(audit_events).where(audit_events.c.id >= 4))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 4, "deleted")
    assert result.count == 3


def test_forged_event_inserted_in_the_middle_is_detected(audit_engine: Engine) -> None:
    # A forger who knows the hashing: renumbers events 3… up, writes a self-consistent event 3
    # that follows event 2, and points the old event 3 at it.
    events = append(audit_engine, 5)
    forged_at = T0 + timedelta(minutes=2, seconds=30)
    fields = dict(
        at=forged_at, actor="forger", role="agency", purpose="伪造", subject=SUBJECTS[0],
        action="check", resource=None, outcome="permit", detail=None,
    )  # fmt: skip
    forged_hash = event_hash(**fields, prev_hash=events[1].hash)  # type: ignore[arg-type]
    tamper(
        audit_engine,
        *shift_ids_from(3),
        update(audit_events).where(audit_events.c.id == 4).values(prev_hash=forged_hash),
        audit_events.insert().values(id=3, **fields, prev_hash=events[1].hash, hash=forged_hash),
        update(audit_head).values(seq=6),
    )
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 3, "inserted")


def test_forged_event_with_made_up_link_is_detected(audit_engine: Engine) -> None:
    # A cruder forger: renumbers and inserts a self-consistent event that names no real
    # predecessor (the unique prev_hash refuses a second successor of event 2).
    append(audit_engine, 5)
    fields = dict(
        at=T0, actor="forger", role="agency", purpose="伪造", subject=None, action="read",
        resource=None, outcome=None, detail=None, prev_hash="a" * 64,
    )  # fmt: skip
    tamper(
        audit_engine,
        *shift_ids_from(3),
        audit_events.insert().values(id=3, **fields, hash=event_hash(**fields)),  # type: ignore[arg-type]
        update(audit_head).values(seq=6),
    )
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 3, "inserted")


def test_reordered_events_are_detected(audit_engine: Engine) -> None:
    append(audit_engine, 5)
    ids = audit_events.c.id
    tamper(
        audit_engine,
        update(audit_events).where(ids == 2).values(id=-2),
        update(audit_events).where(ids == 3).values(id=2),
        update(audit_events).where(ids == -2).values(id=3),
    )
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 2, "reordered")


def test_changed_head_is_detected(audit_engine: Engine) -> None:
    append(audit_engine, 3)
    tamper(audit_engine, update(audit_head).values(hash="b" * 64))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.reason) == (False, "head")


def test_missing_head_is_detected_and_recording_refuses(audit_engine: Engine) -> None:
    append(audit_engine, 3)
    tamper(audit_engine, delete(audit_head))
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.first_broken, result.reason) == (False, 1, "head")
    with pytest.raises(Conflict), audit_engine.begin() as conn:
        record(conn, actor="u", role="agency", purpose="p", subject="S", action="read")


def rewrite_from(engine: Engine, position: int) -> None:
    """The attack anchoring is for: change event ``position`` and rehash everything after it."""
    with engine.begin() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.id)).all()
        prev = rows[position - 2].hash if position > 1 else GENESIS_HASH
        for row in rows[position - 1 :]:
            fields = {k: getattr(row, k) for k in row._fields if k not in ("id", "hash")}
            if row.id == position:
                fields["purpose"] = "改写"
            fields["prev_hash"] = prev
            prev = event_hash(**fields)
            values = {**fields, "hash": prev}
            conn.execute(update(audit_events).where(audit_events.c.id == row.id).values(values))
        conn.execute(update(audit_head).values(hash=prev))


def test_rewritten_chain_passes_alone_but_not_against_an_anchor(audit_engine: Engine) -> None:
    events = append(audit_engine, 5)
    anchor = {4: events[3].hash}
    with audit_engine.connect() as conn:
        assert verify(conn, anchors=anchor).ok
    rewrite_from(audit_engine, 3)
    with audit_engine.connect() as conn:
        alone = verify(conn)
        anchored = verify(conn, anchors=anchor)
        missing = verify(conn, anchors={9: "c" * 64})
    assert alone.ok  # the limit docs/audit.md states: a full rewrite is self-consistent
    assert (anchored.ok, anchored.first_broken, anchored.reason) == (False, 4, "anchor")
    assert (missing.ok, missing.first_broken, missing.reason) == (False, 9, "anchor")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("purpose", ""),
        ("purpose", "   "),
        ("actor", None),
        ("role", 3),
        ("subject", "a\x00b"),
        ("action", "\ud800"),  # a lone surrogate cannot be stored as UTF-8
        ("detail", {"s": {1, 2}}),
        ("detail", {"x": float("nan")}),
        ("detail", ["not", "a", "mapping"]),
        ("at", datetime(2025, 1, 1, 8, 0)),  # naive: which zone?
        ("at", "2025-01-01"),
    ],
)
def test_bad_events_are_refused(audit_engine: Engine, field: str, value: object) -> None:
    kwargs: dict[str, Any] = dict(
        actor="u", role="agency", purpose="核查", subject="S", action="read"
    )
    kwargs[field] = value
    with pytest.raises(ValueError), audit_engine.begin() as conn:
        record(conn, **kwargs)
    with audit_engine.connect() as conn:
        assert verify(conn).count == 0


def test_threads_appending_at_once_keep_one_chain(audit_engine: Engine) -> None:
    threads, per_thread, errors = 4, 15, []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                with audit_engine.begin() as conn:
                    record(
                        conn, actor=f"thread-{n}", role="agency", purpose="并发测试",
                        subject=SUBJECTS[i % 2], action="read", detail={"i": i},
                    )  # fmt: skip
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with audit_engine.connect() as conn:
        result = verify(conn)
        events = list_events(conn)
    assert result.ok, result.explanation
    assert result.count == threads * per_thread
    assert [e.id for e in events] == list(range(1, threads * per_thread + 1))
    assert {e.actor for e in events} == {f"thread-{n}" for n in range(threads)}


APPENDER = """
import sys
from xinyong.audit import record
from xinyong.store.engine import connect
engine = connect(sys.argv[1])
for i in range(int(sys.argv[3])):
    with engine.begin() as conn:
        record(conn, actor=sys.argv[2], role="agency", purpose="并发测试", subject="S",
               action="read", detail={"i": i})
"""


@pytest.mark.slow
def test_processes_appending_at_once_keep_one_chain(audit_engine: Engine, db_url: str) -> None:
    processes, per_process = 4, 20
    running = [
        subprocess.Popen([sys.executable, "-c", APPENDER, db_url, f"proc-{n}", str(per_process)])
        for n in range(processes)
    ]
    assert [p.wait(timeout=120) for p in running] == [0] * processes
    with audit_engine.connect() as conn:
        result = verify(conn)
    assert result.ok, result.explanation
    assert result.count == processes * per_process


GROUPED_APPENDER = """
import sys, threading
from xinyong.measures.writer import DecisionWriter, wait
from xinyong.store.engine import connect
engine = connect(sys.argv[1])
writer = DecisionWriter(engine, sync=False)
def caller(t):
    for i in range(int(sys.argv[3])):
        wait(writer.append_event({"actor": f"{sys.argv[2]}-{t}", "role": "agency",
             "purpose": "并发测试", "subject": "S", "action": "read", "detail": {"i": i}}))
threads = [threading.Thread(target=caller, args=(t,)) for t in range(8)]
for t in threads: t.start()
for t in threads: t.join()
writer.close()
print(writer.groups)
"""


def test_two_processes_group_committing_keep_one_chain(audit_engine: Engine, db_url: str) -> None:
    """Two API-like processes, each with its writer and 8 waiting callers: their groups
    interleave on the head (one lock per group, not per event) and the chain verifies."""
    processes, per_caller = 2, 25
    running = [
        subprocess.Popen(
            [sys.executable, "-c", GROUPED_APPENDER, db_url, f"proc-{n}", str(per_caller)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in running]
    assert [p.returncode for p in running] == [0] * processes
    with audit_engine.connect() as conn:
        result = verify(conn)
        actors = {e.actor for e in list_events(conn)}
    assert result.ok, result.explanation
    assert result.count == processes * 8 * per_caller
    assert len(actors) == processes * 8
    groups = sum(int(out.split()[-1]) for out in outputs)
    assert groups < result.count  # some groups held more than one event


def test_a_head_behind_the_events_cannot_fork_the_chain(audit_engine: Engine) -> None:
    events = append(audit_engine, 3)
    tamper(audit_engine, update(audit_head).values(seq=2, hash=events[1].hash))
    with pytest.raises(Conflict, match="fork"), audit_engine.begin() as conn:
        record(conn, actor="u", role="agency", purpose="p", subject="S", action="read")
    with audit_engine.connect() as conn:
        assert [e.id for e in list_events(conn)] == [1, 2, 3]


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
#: An event's free fields, any text (quotes, backslashes, control characters, CJK, astral).
_EVENT_TEXTS: dict[str, st.SearchStrategy[Any]] = {
    "actor": _texts,
    "purpose": _texts,
    "subject": st.none() | _texts,
    "resource": st.none() | _texts,
    "detail": st.none() | st.sampled_from(['{"a":"\\u0000"}', '{"x":"引号\\""}', "{}"]),
    "micro": st.integers(0, 10**12),
}


@settings(max_examples=300, deadline=None)
@given(**_EVENT_TEXTS)
def test_the_fast_form_is_canonical_json(
    actor: str, purpose: str, subject: str | None, resource: str | None, detail: str | None,
    micro: int,
) -> None:  # fmt: skip
    """``event_hash`` writes the canonical text itself: the same bytes as ``canonical_json`` of
    the body, for any text (quotes, backslashes, control characters, CJK, astral planes)."""
    fields: dict[str, Any] = {
        "at": datetime(2020, 1, 1, tzinfo=UTC) + timedelta(microseconds=micro),
        "actor": actor, "role": "agency\n", "purpose": purpose, "subject": subject,
        "action": "check:x", "resource": resource, "outcome": None, "detail": detail,
        "prev_hash": "0" * 64,
    }  # fmt: skip
    expected = hashlib.sha256(canonical_body(**fields).encode("utf-8")).hexdigest()
    assert event_hash(**fields) == expected


@settings(max_examples=200, deadline=None)
@given(**_EVENT_TEXTS)
def test_the_one_statement_rows_are_the_chained_rows(
    actor: str, purpose: str, subject: str | None, resource: str | None, detail: str | None,
    micro: int,
) -> None:  # fmt: skip
    """``append_after``'s JSON rows, written field by field with each text quoted once for its
    hash and its row, are the rows ``_chain`` makes as ``json.dumps`` writes them, hashes
    included."""
    at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(microseconds=micro)
    prepared = [
        {
            "at": at + timedelta(seconds=n), "actor": actor, "role": "agency\n",
            "purpose": purpose, "subject": subject, "action": "check:x", "resource": resource,
            "outcome": None if n else "deny", "detail": detail,
        }
        for n in range(3)
    ]  # fmt: skip
    text, last = events_module._chain_json(prepared, 7, "0" * 64)
    rows = events_module._chain(prepared, 7, "0" * 64)
    expected = json.dumps(rows, default=events_module._json_time, ensure_ascii=False)
    assert json.loads(text) == json.loads(expected)
    assert last == rows[-1]["hash"]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values)
def test_canonical_json_is_json_dumps_with_its_options(value: Any) -> None:
    """``canonical_json`` calls the C encoder itself: the text ``json.dumps`` gives with the
    canonical options, and the same refusals (infinity; NaN is excluded by the strategy)."""
    options: dict[str, Any] = {
        "sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "allow_nan": False,
    }  # fmt: skip
    try:
        expected = json.dumps(value, **options)
    except ValueError:
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_canonical_json_refuses_what_json_dumps_refuses() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    for bad in (float("nan"), {"x": float("inf")}, cyclic, {"x": object()}):
        with pytest.raises((ValueError, TypeError)):
            canonical_json(bad)


def test_a_fixed_event_hashes_to_its_fixed_digest() -> None:
    """The hashed form is frozen: chains written by any earlier version verify unchanged. These
    digests were computed before the hashing was made faster and must never change (a new form
    needs a new ``CHAIN_VERSION``)."""
    first = event_hash(
        at=datetime(2025, 1, 24, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
        actor="api:caac-agency", role="agency",
        purpose="限制消费核查 / consumption restriction check", subject="91110000100000000A",
        action="check", resource="buy_flight_ticket", outcome="deny",
        detail='{"decision_id":"d-1","名称":"测试\\"\\n"}', prev_hash=GENESIS_HASH,
    )  # fmt: skip
    second = event_hash(
        at=datetime(2025, 1, 24, tzinfo=UTC), actor="u", role="agency", purpose="p",
        subject=None, action="read", resource=None, outcome=None, detail=None, prev_hash=first,
    )  # fmt: skip
    assert first == "a75d74d680e083695ec11fad94b7c992762f35c105062723e68fc73d7e8eea76"
    assert second == "2203affbcd6572ea6af9ae5ae9796463a9b2a400e6226040350d1f9d379a5ac6"


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "999-01-02T03:04:05.000006Z"),
        (datetime(2025, 1, 1, 7, 30, tzinfo=timezone(timedelta(hours=8))),
         "2024-12-31T23:30:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    ],
)  # fmt: skip
def test_times_enter_the_hash_in_one_form(at: datetime, text: str) -> None:
    assert canonical_time(at) == text

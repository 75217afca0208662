"""Checks on a long-lived engine: the API's and any busy caller's hot path.

``Checker(engine, catalog).check(subject, action, at, known_at, actor=…, audit=…)`` gives the same
``Decision`` as ``decisions.check`` (same reasons, same combination), but does no per-call work
that can be done once:

- the lookup (identifier → subject and, joined to it, the index's facts of the day with their
  record types and linking codes: one statement, one round trip) is fixed SQL text run on the
  driver's cursor, on a connection each thread keeps (no pool checkout, no SQL compilation per
  call); each fact is expanded to the measures of the action from the catalog
  (``decisions.expand``);
- the catalog's part of each reason (measure, list, legal basis, way out) is built once per
  measure, list and record type;
- the decision and its audit event go to the engine's ``DecisionWriter``, which commits them
  in groups from one background thread; ``check`` returns once the group holding them is
  committed, and raises ``LogUnavailable`` (no answer) if it could not be (fail closed); the
  calling thread writes the group itself when no other is being written (no thread hop).
  ``decide`` + ``log`` + ``writer.wait_async`` is the same for an event loop (the API on
  SQLite, where the lookup runs inline).

Reads see every committed change: SQLite's connections run each SELECT outside a transaction
(WAL: readers never wait for the writer), PostgreSQL's run in autocommit. The connections are
closed when the engine is disposed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, event

from xinyong.catalog.model import Catalog
from xinyong.codes.identifiers import Identifier, identify
from xinyong.measures.decisions import (
    Decision,
    Fact,
    IndexRow,
    Lifting,
    decide,
    expand,
    known_at_from,
    liftable_lists,
    lifting_fields,
    lifts_action,
    require_action,
)
from xinyong.measures.writer import Committed, DecisionWriter, writer_for
from xinyong.metrics import count_check
from xinyong.store.engine import database_errors

#: The subject and its index rows in one statement (one round trip, one transaction on
#: PostgreSQL): no row if no subject is stored under the identifier, one row with no list
#: (``list_id`` is never NULL in ``restrictions``) if it has no index row holding then.
_LOOKUP_SQL = """
SELECT i.subject_id, r.list_id, r.subject_kind, r.entry_id, r.record_id, r.relation_record_id,
       r.valid_from, r.valid_to, r.via_subject_id, r.role, rec.record_type, v.primary_code
FROM subject_identifiers i
LEFT JOIN restrictions r ON r.subject_id = i.subject_id
  AND (r.valid_from IS NULL OR r.valid_from <= ?)
  AND (r.valid_to IS NULL OR r.valid_to >= ?)
  AND {known}
LEFT JOIN records rec ON rec.id = r.record_id AND rec.record_key = r.record_key
LEFT JOIN subjects v ON v.id = r.via_subject_id
WHERE i.scheme = ? AND i.value = ?
ORDER BY r.id
"""
_CURRENT = "r.superseded_at IS NULL"
_AS_KNOWN = "r.recorded_at <= ? AND (r.superseded_at IS NULL OR r.superseded_at > ?)"

#: ``decisions.liftings_for`` for one subject (its twin: ``test_check_parity`` compares lifted
#: decisions), the record types that lift written in from the catalog.
_LIFTINGS_SQL = """
SELECT r.id, r.record_type, r.document_no, r.valid_from, r.valid_to, r.fields
FROM records r
WHERE r.subject_id = ? AND r.record_type IN ({types}) AND r.status != 'withdrawn'
  AND r.valid_from <= ? AND r.valid_to >= ?
  AND {known}
ORDER BY r.id
"""


class Checker:
    """Decisions for one engine and catalog; thread-safe, meant to live as long as the engine."""

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        *,
        writer: DecisionWriter | None = None,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.writer = writer or writer_for(engine)
        self._sqlite = engine.dialect.name == "sqlite"
        self._liftable = liftable_lists(catalog)
        mark = "?" if self._sqlite else "%s"
        self._lookup_sql = {
            known: _LOOKUP_SQL.format(known=known).replace("?", mark)
            for known in (_CURRENT, _AS_KNOWN)
        }
        self._lifting_fields = lifting_fields(catalog)
        types = ", ".join("'" + t.replace("'", "''") + "'" for t in sorted(self._lifting_fields))
        self._liftings_sql = {
            known: _LIFTINGS_SQL.format(types=types, known=known).replace("?", mark)
            for known in (_CURRENT, _AS_KNOWN)
        }
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self._on_dispose)
        weakref.finalize(self, _close_all, self._connections)

    def check(
        self,
        subject: str,
        action: str,
        at: date | None = None,
        known_at: date | datetime | None = None,
        *,
        actor: str | None = None,
        audit: Mapping[str, Any] | None = None,
    ) -> Decision:
        """``decide``, log the decision (and ``audit``: ``xinyong.audit.record``'s keyword
        arguments without ``outcome``/``resource``/``subject``, which come from the decision),
        and return it once both are committed. ``LogUnavailable`` if they cannot be."""
        decision = self.decide(subject, action, at, known_at)
        self.writer.commit(decision, actor=actor, audit=self._event(decision, audit))
        count_check(action, decision.outcome)
        return decision

    def log(
        self,
        decision: Decision,
        *,
        actor: str | None = None,
        audit: Mapping[str, Any] | None = None,
    ) -> Committed:
        """Hand ``decision`` and its audit event to the writer; the future of their commit.
        Answer the decision only once it is resolved (``writer.wait`` / ``wait_async``)."""
        return self.writer.submit(decision, actor=actor, audit=self._event(decision, audit))

    @staticmethod
    def _event(decision: Decision, audit: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if audit is None:
            return None
        return {
            "subject": decision.subject,
            "resource": decision.decision_id,
            "outcome": decision.outcome,
            **audit,
        }

    def decide(
        self,
        subject: str,
        action: str,
        at: date | None = None,
        known_at: date | datetime | None = None,
    ) -> Decision:
        """The decision, not logged. Raises like ``decisions.check``."""
        require_action(self.catalog, action)
        ident = identify(subject)
        day = at or date.today()
        known = known_at_from(known_at)
        with database_errors():
            sid, rows = self._lookup(ident, action, day, known)
            liftings = []
            if sid is not None and any(row.list_id in self._liftable for row in rows):
                liftings = self._liftings(sid, action, day, known)
        return decide(self.catalog, ident, action, day, known, sid, rows, liftings)

    def _liftings(self, sid: int, action: str, day: date, known: datetime | None) -> list[Lifting]:
        """The subject's single liftings of ``action`` holding on ``day`` (``liftings_for``, on
        this thread's connection: a denied check of a liftable list runs it)."""
        if not self._lifting_fields:
            return []
        day_param, known_param = self._params(day, known)
        cursor = self._cursor()
        params: tuple[Any, ...] = (sid, day_param, day_param)
        if known is None:
            cursor.execute(self._liftings_sql[_CURRENT], params)
        else:
            cursor.execute(self._liftings_sql[_AS_KNOWN], (*params, known_param, known_param))
        out = []
        for record_id, record_type, document_no, valid_from, valid_to, fields in cursor:
            if isinstance(fields, str):  # SQLite keeps JSON as text
                fields = json.loads(fields)
            if lifts_action(self._lifting_fields, record_type, fields, action):
                out.append(
                    Lifting(record_id, record_type, document_no, _day(valid_from), _day(valid_to))
                )
        return out

    def _params(self, day: date, known: datetime | None) -> tuple[Any, Any]:
        """The day and the known-at time as the driver compares them with stored values."""
        if not self._sqlite:
            return day, known
        return day.isoformat(), (
            known.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if known else None
        )

    def _lookup(
        self, ident: Identifier, action: str, day: date, known: datetime | None
    ) -> tuple[int | None, list[IndexRow]]:
        cursor = self._cursor()
        day_param, known_param = self._params(day, known)
        params: tuple[Any, ...]
        if known is None:
            sql, params = self._lookup_sql[_CURRENT], (day_param, day_param)
        else:
            sql = self._lookup_sql[_AS_KNOWN]
            params = (day_param, day_param, known_param, known_param)
        fetched = []
        for pair in ident.lookup_keys:
            cursor.execute(sql, (*params, *pair))
            fetched = cursor.fetchall()
            if fetched:
                break
        if not fetched:
            return None, []
        sid = int(fetched[0][0])
        if fetched[0][1] is None:  # no index row holding then
            return sid, []
        if self._sqlite:
            facts = [
                Fact._make((*row[1:6], _day(row[6]), _day(row[7]), *row[8:])) for row in fetched
            ]
        else:
            facts = [Fact._make(row[1:]) for row in fetched]
        return sid, expand(self.catalog, action, facts)

    def _cursor(self) -> Any:
        cursor = getattr(self._local, "cursor", None)
        if cursor is not None:
            return cursor
        with database_errors():
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours for as long as this thread lives; never back in the pool
            dbapi = fairy.dbapi_connection
            if not self._sqlite:
                dbapi.autocommit = True  # type: ignore[union-attr]
        with self._lock:
            self._connections.append(dbapi)
        cursor = dbapi.cursor()  # type: ignore[union-attr]
        self._local.cursor = cursor
        return cursor

    def _on_dispose(self, _engine: Engine) -> None:
        self._local = threading.local()
        with self._lock:
            _close_all(self._connections)


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _close_all(connections: list[Any]) -> None:
    while connections:
        # closing at shutdown (maybe from another thread): nothing useful to do with a failure
        with contextlib.suppress(Exception):
            connections.pop().close()


_checkers: weakref.WeakKeyDictionary[Engine, dict[str, Checker]] = weakref.WeakKeyDictionary()
_checkers_lock = threading.Lock()


def checker_for(engine: Engine, catalog: Catalog) -> Checker:
    """The engine's checker for ``catalog`` in this process, made on first use."""
    found = _checkers.get(engine, {}).get(catalog.version)
    if found is None:
        with _checkers_lock:
            by_version = _checkers.setdefault(engine, {})
            found = by_version.get(catalog.version)
            if found is None:
                found = by_version[catalog.version] = Checker(engine, catalog)
    return found

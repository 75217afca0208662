"""The main jobs from Python, in a few lines: what ``import xinyong`` offers.

::

    import xinyong

    xinyong.check_code("91350100M000100Y43").valid          # needs no store
    with xinyong.open("sqlite:///xinyong.db") as store:    # migrated, with the catalog in force
        store.ingest("defaulters.csv", "judgment_defaulter", source="court")
        store.check("340405199011034461", "buy_flight_ticket").outcome
        store.subject("340405199011034461")                 # the public file, as a dict
        store.report("340405199011034461")                  # (JSON bytes, verification code)

Each is a thin wrapper over the library function named in its docstring, with the store's
engine and catalog filled in; the library functions stay the way to do anything more. The jobs
on a store are its methods (``xinyong.ingest`` is the ingest package).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from xinyong import codes
from xinyong.catalog import Catalog, catalog_in_force
from xinyong.disclose import issue_report, subject_view
from xinyong.ingest import BatchResult, ingest_file
from xinyong.measures import Decision
from xinyong.measures import check as check_action
from xinyong.settings import load as load_settings
from xinyong.store.engine import DEFAULT_URL, connect
from xinyong.store.schema import upgrade


@dataclass(frozen=True)
class Store:
    """An open store: its engine and the catalog it runs with, and the main jobs on it.
    Close it (or use ``with``)."""

    engine: Engine
    catalog: Catalog

    def ingest(
        self, path: str | Path, record_type: str, *, source: str, encoding: str | None = None
    ) -> BatchResult:
        """Load one file as a batch, through link → lists → measures → feed
        (:func:`xinyong.ingest.ingest_file`); rejected rows go to ``FILE.rejects.csv``."""
        return ingest_file(
            self.engine, path, record_type, source, catalog=self.catalog, encoding=encoding
        )

    def check(
        self, subject: str, action: str, at: date | None = None, *, actor: str = "python"
    ) -> Decision:
        """May ``subject`` (a code) do ``action`` on ``at`` (default today): the decision with
        its measures, lists, records and legal bases, logged (:func:`xinyong.measures.check`).
        """
        with self.engine.begin() as conn:
            return check_action(conn, subject, action, at, catalog=self.catalog, actor=actor)

    def subject(
        self,
        code: str,
        *,
        audience: str = "public",
        at: date | None = None,
        actor: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """A subject's file as ``audience`` may see it on ``at``; a non-public read needs
        ``actor`` and ``purpose`` and is audited (:func:`xinyong.disclose.subject_view`)."""
        with self.engine.begin() as conn:
            return subject_view(
                conn, self.catalog, code, audience=audience, at=at, actor=actor, purpose=purpose
            )

    def report(
        self,
        code: str,
        *,
        fmt: str = "json",
        audience: str = "public",
        lang: str = "zh",
        at: date | None = None,
        actor: str | None = None,
        purpose: str | None = None,
    ) -> tuple[bytes, str]:
        """A credit report (``json``, ``html`` or ``pdf``) and its verification code,
        registered so that ``xinyong report verify`` can check it
        (:func:`xinyong.disclose.issue_report`)."""
        with self.engine.begin() as conn:
            return issue_report(
                conn,
                self.catalog,
                code,
                fmt=fmt,
                audience=audience,
                lang=lang,
                at=at,
                actor=actor,
                purpose=purpose,
            )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open(url: str | None = None, *, catalog_dirs: Sequence[Path | str] = ()) -> Store:
    """The store at ``url`` (default ``$XINYONG_DB``, then ``sqlite:///xinyong.db``), created or
    migrated to the newest schema (``xinyong init``), with the catalog in force: shipped +
    ``$XINYONG_CATALOG`` + ``catalog_dirs`` (:func:`xinyong.catalog.catalog_in_force`)."""
    catalog = catalog_in_force(catalog_dirs)
    engine = connect(url or load_settings().db or DEFAULT_URL)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, catalog)


def check_code(code: str, kind: str = "auto") -> codes.CodeCheck:
    """Whether a USCC, citizen ID number or organisation code is valid, why not, and its parts
    (:func:`xinyong.codes.check`; needs no store)."""
    return codes.check(code, kind)

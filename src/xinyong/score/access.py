"""Who may read a score, and the audit event every non-public read writes.

A score is computed from a subject's records, so it is no more public than they are:

- **Public reads** need no key and write no audit event: a subject that is not a natural person
  (``enterprise``, ``organisation``, ``government``; not ``individual`` and not ``sole_trader``)
  under a *public* model: one that is not an example and reads only record types whose
  ``disclosure`` is ``public``. A scorecard is never public (its weights are fitted, not
  published rules). No shipped model is public: both are examples and both read
  ``tax_credit_rating``, which is shared among agencies only.
- **Every other read** is a read of non-public data: only agencies and operators (API keys with
  those roles, or the CLI, which is an operator's tool) may make it, they must state a purpose,
  and it writes ``audit.record(…, action="score.read")`` in the same transaction.

The public asking for anything else gets ``Forbidden``; a read without a purpose,
``UnusableInput``. Subjects reading their own score do so through the portal (its own rules).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from xinyong import audit
from xinyong.catalog.model import Catalog, PointsSpec, ScoringModel
from xinyong.codes import detect_kind, normalise
from xinyong.errors import Forbidden, UnusableInput
from xinyong.score.result import Score
from xinyong.score.subject import score_subject
from xinyong.store.queries import SubjectRef

#: The audit action of a score read.
SCORE_READ = "score.read"
#: Subject kinds whose scores the public may read (never a natural person's).
PUBLIC_KINDS = frozenset({"enterprise", "organisation", "government"})
#: Roles that may read any score (with a purpose, audited).
READER_ROLES = ("agency", "operator")
PUBLIC = "public"


def public_model(model: ScoringModel, catalog: Catalog) -> bool:
    """Whether the public may read this model's scores (of subjects that are not people)."""
    if model.example or not isinstance(model.spec, PointsSpec):
        return False
    conditions = [*model.spec.rules, *(g.when for g in model.spec.grade_rules)]
    for condition in conditions:
        rtype = catalog.record_types.get(condition.record_type)
        if rtype is None or rtype.disclosure != "public":
            return False
    return True


def public_read(subject: SubjectRef, model_id: str, catalog: Catalog) -> bool:
    """A read anyone may make, unaudited: a public model's score of a subject not a person."""
    model = catalog.scoring_models.get(model_id)
    return subject.kind in PUBLIC_KINDS and model is not None and public_model(model, catalog)


def refuse_public_ask(code: str, model_ids: list[str], catalog: Catalog) -> None:
    """``Forbidden`` for what the public may never read, decided from what it asked alone —
    before the store is looked at, so that the answer (403) is the same whether or not the
    store holds the subject: a citizen number, or a model that is not public (issue 16)."""
    private = [
        m
        for m in model_ids
        if (model := catalog.scoring_models.get(m)) is None or not public_model(model, catalog)
    ]
    if detect_kind(normalise.compact(code)) == "ric":
        private = list(model_ids)
    if private:
        _refuse(PUBLIC, private)


def _refuse(role: str, private: list[str]) -> None:
    who = "公众" if role == PUBLIC else f"角色 {role}"
    raise Forbidden(
        f"{who}不能查询该评分（自然人或非公开模型）/ {role} may not read this score: "
        f"{', '.join(private)} (a natural person or a model that is not public; agencies "
        "and operators read it with an API key and a purpose)"
    )


def read_scores(
    conn: Connection,
    subject: SubjectRef,
    model_ids: list[str],
    at: date,
    known_at: datetime | None = None,
    *,
    actor: str,
    role: str,
    purpose: str | None,
    catalog: Catalog,
) -> list[Score]:
    """The subject's scores under ``model_ids``, as ``role`` may read them.

    ``role`` is ``public`` (refused with ``Forbidden`` unless every read is public), ``agency``
    or ``operator`` (any score; a non-public read needs ``purpose`` and is audited in ``conn``'s
    transaction, one event for the request). Any other role is ``Forbidden``.
    """
    private = [m for m in model_ids if not public_read(subject, m, catalog)]
    if private and role not in READER_ROLES:
        _refuse(role, private)
    if private and not (purpose and purpose.strip()):
        raise UnusableInput(
            "查询非公开评分须说明目的 / reading a non-public score needs a purpose (--purpose)"
        )
    scores = [score_subject(conn, subject, m, at, known_at, catalog=catalog) for m in model_ids]
    if private:
        audit.record(
            conn,
            actor=actor,
            role=role,
            purpose=(purpose or "").strip(),
            subject=subject.code,
            action=SCORE_READ,
            resource=",".join(private),
            outcome="scored",
            detail={"at": at.isoformat(), "known_at": known_at.isoformat() if known_at else None},
        )
    return scores

"""Attach records to subjects: exact code first; names only ever give leads for a person.

- ``link_records(conn, record_ids, kind_for=…, registration_types=…)`` → ``LinkResult``; officer
  rows (``person_code``, ``role``) of registration types become ``subject_relations`` for the
  roles a measure may reach (``RELATION_POSTS`` = ``catalog.ROLES``), as do records that name
  their subject's legal representative by ID number; ``relation_types(catalog)``: the record
  types that may make relations (what the pipeline passes as ``registration_types``)
- ``resolve_codes(conn, codes, kind=None)`` → subject ids (created if new), None where no code
- ``candidates(conn, name)`` → ranked ``(subject_id, confidence)``
- ``identify(code)`` → ``Identifier(scheme, value, kind)`` (from :mod:`xinyong.codes.identifiers`);
  ``names.normalise``, ``pinyin_key``, ``similarity``
- ``list_leads(conn, …)``, ``confirm_lead(conn, lead_id, *, actor, reason, …)``,
  ``reject_lead(conn, lead_id, *, actor, reason, …)``: a person decides a name-only record's
  leads; confirming links it (audited) and returns the record ids the caller runs through the
  pipeline
"""

from xinyong.codes.identifiers import Identifier, identify
from xinyong.link.attach import (
    LinkResult,
    candidates,
    link_records,
    relation_types,
    resolve_codes,
)
from xinyong.link.leads import Lead, LeadDecision, confirm_lead, list_leads, reject_lead

__all__ = [
    "Identifier",
    "Lead",
    "LeadDecision",
    "LinkResult",
    "candidates",
    "confirm_lead",
    "identify",
    "link_records",
    "list_leads",
    "reject_lead",
    "relation_types",
    "resolve_codes",
]

"""Disclosure: what each audience may see, masking, the credit report and its verification.

- ``subject_view(conn, catalog, code, *, audience, at, actor, purpose, source)`` — a subject's
  file as ``public|agency|source|subject|operator`` sees it on ``at`` (audited unless public).
- ``may_see(audience, …)`` and the tables in :mod:`.policy` — the policy, in one place.
- ``mask_ric``, ``public_fields`` — masking (:mod:`.masking`).
- Disclosure periods: ``xinyong.catalog.periods.disclosure(record_type, record)`` (one period
  rule for disclosure, lists, scores and repair).
- ``issue_report(conn, catalog, code, *, fmt, audience, lang, at, actor, purpose)`` →
  ``(bytes, code)``; ``verify_report(conn, data)`` → ``Verification``.
"""

from xinyong.disclose.masking import mask_ric, public_fields
from xinyong.disclose.policy import AUDIENCES, Audience, may_see
from xinyong.disclose.report import PdfUnavailable, build_report, issue_report
from xinyong.disclose.verification import Verification, verify_report
from xinyong.disclose.view import subject_view

__all__ = [
    "AUDIENCES",
    "Audience",
    "PdfUnavailable",
    "Verification",
    "build_report",
    "issue_report",
    "mask_ric",
    "may_see",
    "public_fields",
    "subject_view",
    "verify_report",
]

"""The portal's one table, on the shared metadata.

::

    revoked_sessions   the SHA-256 of each session token ended by log-out, and the time until
                       which it is remembered (when the session would have expired anyway):
                       every server process reads it, so a cookie revoked in one is refused by
                       all (``xinyong.web.sessions.Revoked``)
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from xinyong.audit.tables import UTCDateTime
from xinyong.store.metadata import metadata

revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("until", UTCDateTime(), nullable=False, index=True),
)

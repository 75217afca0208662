"""Implementing agencies' API keys (``api_clients``): create, list, revoke, authenticate.

A key is shown once, when it is created; the store keeps only its SHA-256. Each client names
an authority of the catalog and a role: ``agency`` (an implementing agency: may check the actions
of the measures it implements), ``department`` (a source of records) or ``operator``; and may
name its own rate limit (requests per minute; None: the API's default for a key,
``xinyong.api.ratelimit.KEY_RATE_LIMIT``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from xinyong.catalog.model import Catalog
from xinyong.errors import Forbidden, NotFound, UnusableInput
from xinyong.measures.tables import CLIENT_ROLES, api_clients
from xinyong.store.engine import utcnow

KEY_PREFIX = "xy_"


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    authority: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    rate_limit: int | None = None
    """Requests per minute for this key; None: the default."""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "authority": self.authority,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "rate_limit": self.rate_limit,
        }


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_client(
    conn: Connection,
    catalog: Catalog,
    *,
    authority: str,
    role: str,
    name: str | None = None,
    rate_limit: int | None = None,
) -> tuple[Client, str]:
    """A new client and its key (the only time the key is seen); ``rate_limit`` requests per
    minute, None for the default."""
    if authority not in catalog.authorities:
        known = ", ".join(sorted(catalog.authorities))
        raise UnusableInput(f"未知部门 / unknown authority {authority!r} (known: {known})")
    if role not in CLIENT_ROLES:
        raise UnusableInput(f"角色须为 / role must be one of {', '.join(CLIENT_ROLES)}: {role!r}")
    if rate_limit is not None and rate_limit < 1:
        raise UnusableInput(f"速率上限须为正整数 / rate limit must be positive: {rate_limit}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = {
        "name": name or f"{authority}-{role}",
        "authority": authority,
        "role": role,
        "key_sha256": key_hash(key),
        "created_at": now,
        "revoked_at": None,
        "rate_limit": rate_limit,
    }
    client_id = conn.execute(insert(api_clients).returning(api_clients.c.id), row).scalar_one()
    client = Client(client_id, row["name"], authority, role, now, None, rate_limit)  # type: ignore[arg-type]
    return client, key


def _client(row: object) -> Client:
    m = row._mapping  # type: ignore[attr-defined]
    return Client(
        m["id"],
        m["name"],
        m["authority"],
        m["role"],
        m["created_at"],
        m["revoked_at"],
        m["rate_limit"],
    )


def list_clients(conn: Connection) -> list[Client]:
    return [_client(r) for r in conn.execute(select(api_clients).order_by(api_clients.c.id))]


def revoke_client(conn: Connection, client_id: int) -> Client:
    """Revoke a client's key from now on; ``NotFound`` if there is no such client."""
    found = conn.execute(select(api_clients).where(api_clients.c.id == client_id)).first()
    if found is None:
        raise NotFound(f"没有这个客户端 / no API client {client_id}")
    if found.revoked_at is None:
        conn.execute(
            update(api_clients).where(api_clients.c.id == client_id).values(revoked_at=utcnow())
        )
    row = conn.execute(select(api_clients).where(api_clients.c.id == client_id)).one()
    return _client(row)


def client_for_key(conn: Connection, key: str) -> Client | None:
    """The live (not revoked) client a key belongs to, or None."""
    row = conn.execute(
        select(api_clients).where(
            api_clients.c.key_sha256 == key_hash(key), api_clients.c.revoked_at.is_(None)
        )
    ).first()
    return _client(row) if row is not None else None


def actions_of(catalog: Catalog, authority: str) -> frozenset[str]:
    """The actions an implementing agency may check: those of the measures it implements."""
    return frozenset(
        action
        for measure in catalog.measures.values()
        if measure.implementing_agency == authority
        for action in measure.actions
    )


def require_may_check(catalog: Catalog, role: str, authority: str | None, action: str) -> None:
    """Refuse (``Forbidden``) a caller checking ``action`` unless it is the operator or an agency
    implementing a measure on that action — for API keys and portal sessions alike."""
    if role == "operator":
        return
    if role != "agency" or authority is None or action not in actions_of(catalog, authority):
        raise Forbidden(
            f"{authority} 不实施涉及 {action} 的措施 / "
            f"{authority} implements no measure on {action}"
        )

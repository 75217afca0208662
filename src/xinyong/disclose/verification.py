"""Verification codes: the platform can prove a report it issued is genuine and unaltered.

Each report gets a code (``XY20250301-7F3A9C2E1B4D``) printed in it before it is rendered. When
it is issued, the platform stores the code with the sha256 of the report's *canonical content*
and an HMAC-SHA256 of ``code|sha256`` under the platform secret (``XINYONG_REPORT_SECRET``, else
a random key kept in the ``platform_secrets`` table, made on first use).

Canonical content: for JSON the parsed document re-serialised (sorted keys, no spaces), so a
re-indented file still verifies and a changed value does not; for HTML the text with line ends
normalised and trailing spaces stripped; for PDF the file's bytes (found by its hash).

``verify_report(conn, data)`` → ``Verification`` (``genuine``, ``code``, ``reason``): reasons
``genuine``, ``altered`` (code known, content changed), ``unknown`` (no such report), ``forged``
(the stored row does not match the secret: the database was edited).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from xinyong.disclose.masking import mask_code
from xinyong.errors import UnusableInput
from xinyong.json_nesting import require_shallow
from xinyong.process.tables import platform_secrets, reports
from xinyong.settings import load as load_settings

SECRET_ENV = "XINYONG_REPORT_SECRET"
SECRET_NAME = "report_hmac"
CODE_PATTERN = re.compile(r"XY\d{8}-[0-9A-F]{12}")
HTML_CODE = re.compile(r'<meta name="xinyong-verification" content="(XY\d{8}-[0-9A-F]{12})"')


@dataclass(frozen=True)
class Verification:
    genuine: bool
    reason: str
    code: str | None = None
    subject_code: str | None = None
    issued_at: str | None = None
    audience: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "genuine": self.genuine,
            "reason": self.reason,
            "code": self.code,
            "subject_code": self.subject_code,
            "issued_at": self.issued_at,
            "audience": self.audience,
        }


def new_code(at: date) -> str:
    return f"XY{at:%Y%m%d}-{secrets.token_hex(6).upper()}"


def detect_format(data: bytes) -> str:
    if data.startswith(b"%PDF"):
        return "pdf"
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return "json"
    if b"<html" in data[:2048].lower():
        return "html"
    raise UnusableInput("不是本平台出具的报告格式 / not a report format the platform issues")


def canonical(fmt: str, data: bytes) -> bytes:
    if fmt == "pdf":
        return data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnusableInput("报告不是 UTF-8 文本 / the report is not UTF-8 text") from error
    if fmt == "json":
        require_shallow(data)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise UnusableInput(f"JSON 无法解析 / unreadable JSON: {error.msg}") from error
        return json.dumps(
            parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip().encode()


def platform_secret(conn: Connection) -> bytes:
    """The HMAC key: from the environment, else the database (made once)."""
    env = load_settings().report_secret
    if env is not None:
        return env.get_secret_value().encode()
    value = conn.execute(
        select(platform_secrets.c.value).where(platform_secrets.c.name == SECRET_NAME)
    ).scalar_one_or_none()
    if value is None:
        value = secrets.token_hex(32)
        conn.execute(
            insert(platform_secrets).values(
                name=SECRET_NAME, value=value, created_at=datetime.now(UTC)
            )
        )
    return str(value).encode()


def _mac(secret: bytes, code: str, digest: str) -> str:
    return hmac.new(secret, f"{code}|{digest}".encode(), hashlib.sha256).hexdigest()


def register(
    conn: Connection,
    *,
    code: str,
    data: bytes,
    fmt: str,
    subject_code: str,
    audience: str,
    lang: str,
    as_of: date,
    issued_by: str,
) -> str:
    """Store an issued report's code, hash and HMAC; returns the hash."""
    digest = hashlib.sha256(canonical(fmt, data)).hexdigest()
    conn.execute(
        insert(reports).values(
            code=code,
            subject_code=subject_code,
            audience=audience,
            format=fmt,
            lang=lang,
            as_of=as_of,
            issued_at=datetime.now(UTC),
            issued_by=issued_by,
            sha256=digest,
            mac=_mac(platform_secret(conn), code, digest),
        )
    )
    return digest


def embedded_code(fmt: str, data: bytes) -> str | None:
    if fmt == "json":
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        code = (parsed.get("verification") or {}).get("code") if isinstance(parsed, dict) else None
        return code if isinstance(code, str) else None
    if fmt == "html":
        found = HTML_CODE.search(data.decode("utf-8", errors="replace"))
        return found.group(1) if found else None
    return None


def verify_report(conn: Connection, data: bytes) -> Verification:
    """Whether ``data`` is a report this platform issued, unaltered; a JSON one nested
    deeper than ``json_nesting.MAX_DEPTH`` is unusable input."""
    if not data:
        raise UnusableInput("文件为空 / the file is empty")
    fmt = detect_format(data)
    digest = hashlib.sha256(canonical(fmt, data)).hexdigest()
    code = embedded_code(fmt, data)
    if code is not None:
        row = conn.execute(select(reports).where(reports.c.code == code)).first()
    else:
        row = conn.execute(
            select(reports).where(reports.c.sha256 == digest, reports.c.format == fmt)
        ).first()
    if row is None:
        return Verification(False, "unknown", code)
    info = {
        "code": row.code,
        # Only the holder of the very file learns whom it is about: it says so itself. A file
        # that is not the one issued (altered, forged, or a made-up body carrying a guessed
        # code) gets the code as the public sees it, never a citizen number whole.
        "subject_code": mask_code(row.subject_code),
        "issued_at": row.issued_at.isoformat(),
        "audience": row.audience,
    }
    if row.sha256 != digest:
        return Verification(False, "altered", **info)
    if not hmac.compare_digest(row.mac, _mac(platform_secret(conn), row.code, row.sha256)):
        return Verification(False, "forged", **info)
    return Verification(True, "genuine", **{**info, "subject_code": row.subject_code})

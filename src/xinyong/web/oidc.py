"""Log-in through the deployment's OpenID Connect provider (xinyong as a relying party).

::

    GET /login/oidc?next=/me      → 303 to the provider (Authorization Code flow, PKCE S256,
                                    fresh state and nonce kept in a signed 10-minute cookie)
    GET /login/oidc/callback      ← the provider; state checked, code exchanged with the code
                                    verifier, the ID token's signature checked against the
                                    provider's JWKS and its iss, aud, exp, iat and nonce checked
                                    (Authlib); then who it is, from the claims (below)
    GET /logout/oidc              → 303 to the provider's end_session_endpoint when it has one
                                    (RP-initiated logout); ``POST /logout`` ends the local
                                    session first, then comes here

Configured by ``XINYONG_OIDC_ISSUER`` (discovery: ``{issuer}/.well-known/openid-configuration``,
whose ``issuer`` must be the same URL), ``XINYONG_OIDC_CLIENT_ID`` and
``XINYONG_OIDC_CLIENT_SECRET``; the provider must list ``{portal}/login/oidc/callback`` as a
redirect URI and ``{portal}/`` as a post-logout redirect URI.

Who is who (:func:`account_for`), in this order:

1. staff: the role-mapping file ``XINYONG_ROLES`` by provider subject (``sub``), then by group
   (claim ``groups``), else the claims ``xinyong_role`` (agency | department | operator) and
   ``xinyong_authority``; the authority must be in the catalog with that role;
2. a subject: the claim ``XINYONG_OIDC_SUBJECT_CLAIM`` (default ``xinyong_subject``) holds a
   valid citizen ID number or USCC (the provider did the real-name check) of a subject in the
   store;
3. anyone else stays the public: refused, with a page saying so.

Every log-in and every refusal writes an audit event (action ``log_in``, outcome ``permit`` or
``refuse``, the reason in ``detail``); the provider's subject is the actor (``oidc:<sub>``).
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import Connection

from xinyong import audit
from xinyong.catalog import Catalog
from xinyong.codes import ric, uscc
from xinyong.dependencies import catalog_of, engine
from xinyong.disclose.queries import display_names
from xinyong.errors import ConfigurationError, InvalidCode, SubjectNotFound
from xinyong.settings import Settings
from xinyong.store.queries import find_subject
from xinyong.web import i18n
from xinyong.web.accounts import Account
from xinyong.web.consoles import HOME_OF
from xinyong.web.rendering import lang_of, render
from xinyong.web.sessions import Session

__all__ = ["RoleMap", "account_for", "install", "load_roles", "router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "xinyong_oidc"
FLOW_LIFETIME = 10 * 60
"""Seconds between leaving for the provider and coming back."""
LEEWAY = 60
"""Seconds of clock difference tolerated on the ID token's exp and iat."""
STAFF_ROLES = {"agency": "implementing_agency", "department": "source", "operator": None}
"""Staff role → the catalog role its authority must hold (the operator has no authority)."""
MAX_SUB = 120
"""Longest provider subject taken (``oidc:<sub>`` is the actor of decisions and audit events)."""
ROLE_CLAIM = "xinyong_role"
AUTHORITY_CLAIM = "xinyong_authority"
GROUPS_CLAIM = "groups"


class Refused(Exception):
    """A log-in that does not happen; ``reason`` is stable (audit detail, tests)."""

    def __init__(self, reason: str, *, status: int = 400, actor: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.actor = reason, status, actor
        self.audited = False


@dataclass(frozen=True)
class Grant:
    role: str
    authority: str | None = None


@dataclass(frozen=True)
class RoleMap:
    """The operator's role-mapping file: provider subject or group → role and authority."""

    subjects: dict[str, Grant]
    groups: dict[str, Grant]


def load_roles(path: Path | None, catalog: Catalog) -> RoleMap:
    """Read and check ``XINYONG_ROLES``; a bad file stops start-up (:class:`ConfigurationError`
    naming the file and the entry)."""
    if path is None:
        return RoleMap({}, {})
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"XINYONG_ROLES {path}: {error}") from error
    if not isinstance(data, dict) or set(data) - {"subjects", "groups"}:
        raise ConfigurationError(
            f"XINYONG_ROLES {path}: 顶层只能有 subjects 与 groups / only 'subjects' and "
            "'groups' at the top"
        )
    maps: dict[str, dict[str, Grant]] = {}
    for part in ("subjects", "groups"):
        entries = data.get(part) or {}
        if not isinstance(entries, dict):
            raise ConfigurationError(f"XINYONG_ROLES {path}: {part} must be a mapping")
        maps[part] = {}
        for key, value in entries.items():
            role = value.get("role") if isinstance(value, dict) else None
            authority = value.get("authority") if isinstance(value, dict) else None
            problem = _grant_problem(catalog, role, authority)
            if problem:
                raise ConfigurationError(f"XINYONG_ROLES {path}: {part}.{key}: {problem}")
            maps[part][str(key)] = Grant(str(role), authority)
    return RoleMap(maps["subjects"], maps["groups"])


def _grant_problem(catalog: Catalog, role: object, authority: object) -> str | None:
    if role not in STAFF_ROLES:
        return f"角色应为 agency、department 或 operator / role must be one of {list(STAFF_ROLES)}"
    needed = STAFF_ROLES[str(role)]
    if needed is None:
        return None if authority is None else "operator 不带机构 / the operator has no authority"
    found = catalog.authorities.get(str(authority)) if isinstance(authority, str) else None
    if found is None or needed not in found.roles:
        return f"目录中没有可作为 {role} 的机构 {authority!r} / no {role} authority {authority!r}"
    return None


def _valid_subject_code(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 32:
        return None
    for scheme in (uscc, ric):
        try:
            return str(scheme.validate(value))
        except InvalidCode:
            continue
    return None


def account_for(
    conn: Connection, claims: dict[str, Any], settings: Settings, roles: RoleMap, catalog: Catalog
) -> Account:
    """The account the verified ID token's claims name; :class:`Refused` for anyone else."""
    sub = str(claims.get("sub") or "")
    if not sub or len(sub) > MAX_SUB or not sub.isprintable():
        raise Refused("unusable_sub")  # it becomes the actor of decisions (128 characters)
    login = f"oidc:{sub}"
    name = str(claims.get("name") or sub)[:100]
    grant = roles.subjects.get(sub)
    if grant is None:
        groups = claims.get(GROUPS_CLAIM)
        for group in groups if isinstance(groups, list) else []:
            grant = roles.groups.get(str(group))
            if grant is not None:
                break
    if grant is None and ROLE_CLAIM in claims:
        role, authority = claims.get(ROLE_CLAIM), claims.get(AUTHORITY_CLAIM)
        if _grant_problem(catalog, role, authority) is not None:
            raise Refused("bad_role_claim", status=403, actor=login)
        grant = Grant(str(role), str(authority) if authority is not None else None)
    if grant is not None:
        label = catalog.authorities[grant.authority].name_zh if grant.authority else name
        return Account(grant.role, login, label, authority=grant.authority)
    if settings.oidc_subject_claim in claims:
        code = _valid_subject_code(claims[settings.oidc_subject_claim])
        if code is None:
            raise Refused("invalid_subject_code", status=403, actor=login)
        try:
            subject = find_subject(conn, code)
        except SubjectNotFound as error:
            raise Refused("subject_not_in_store", status=403, actor=login) from error
        shown = display_names(conn, [subject.id]).get(subject.id, subject.code)
        return Account("subject", login, shown, subject_id=subject.id, subject_code=subject.code)
    raise Refused("unmapped", status=403, actor=login)


class Provider:
    """The configured provider, through Authlib's Starlette client (no Starlette session: the
    flow's state, nonce and code verifier travel in our own signed cookie)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.issuer = settings.oidc_issuer
        secret = settings.oidc_client_secret
        self.client: StarletteOAuth2App = OAuth().register(
            "provider",
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
        )

    async def metadata(self) -> dict[str, Any]:
        try:
            found: dict[str, Any] = await self.client.load_server_metadata()
        except Exception as error:  # the provider is down or answers garbage
            log.warning("OIDC discovery failed: %s", error)
            raise Refused("provider_unreachable", status=503) from error
        if found.get("issuer", "").rstrip("/") != self.issuer:
            # OpenID Connect Discovery 1.0 §4.3: the issuer must be the URL we asked.
            raise Refused("discovery_issuer_mismatch", status=503)
        return found

    async def authorization(self, redirect_uri: str) -> dict[str, str]:
        await self.metadata()
        result: dict[str, str] = await self.client.create_authorization_url(redirect_uri)
        return result

    async def claims(self, redirect_uri: str, code: str, flow: dict[str, Any]) -> dict[str, Any]:
        """Exchange the code (with the PKCE verifier) and verify the ID token."""
        await self.metadata()
        try:
            token = await self.client.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=flow["code_verifier"]
            )
        except Exception as error:  # the provider refused the code, or did not answer
            log.warning("OIDC token exchange failed: %s", error)
            raise Refused("token_exchange_failed") from error
        return await self.verify(token, flow["nonce"])

    async def verify(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The ID token's claims: signature against the provider's JWKS, ``iss`` the configured
        issuer, ``aud`` our client id, ``exp``/``iat`` (with :data:`LEEWAY`), ``nonce``."""
        if "id_token" not in token:
            raise Refused("no_id_token")
        options = {"iss": {"essential": True, "value": self.issuer}, "exp": {"essential": True}}
        try:
            claims = await self.client.parse_id_token(
                token, nonce=nonce, claims_options=options, leeway=LEEWAY
            )
        except (JoseError, ValueError) as error:
            log.info("OIDC ID token refused: %s", error)
            raise Refused(f"id_token_{getattr(error, 'error', 'invalid')}") from error
        return dict(claims)

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        try:
            found = await self.metadata()
        except Refused:
            return None
        if not found.get("end_session_endpoint"):
            return None
        result = await self.client.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri,
            client_id=self.client.client_id,
        )
        url: str = result["url"]
        return url


def install(app: FastAPI) -> None:
    """Mount the routes; configure the provider and read the role map when OIDC is set up."""
    settings: Settings = app.state.settings
    app.state.oidc = Provider(settings) if settings.oidc_enabled else None
    app.state.oidc_roles = load_roles(settings.roles, app.state.catalog)
    app.include_router(router)


def _provider(request: Request) -> Provider | None:
    provider: Provider | None = getattr(request.app.state, "oidc", None)
    return provider


def _key(request: Request) -> OctKey:
    return OctKey.import_key(request.app.state.secret)


def _safe_next(target: str) -> str | None:
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok and target != "/" and len(target) <= 400 else None


@router.get("/login/oidc")
async def start(request: Request, next: str = "/") -> Response:
    provider = _provider(request)
    if provider is None:
        return RedirectResponse("/login", status_code=303)
    redirect_uri = str(request.url_for("oidc_callback"))
    try:
        auth = await provider.authorization(redirect_uri)
    except Refused as refused:
        return await _refuse(request, refused)
    flow = {
        "state": auth["state"],
        "nonce": auth["nonce"],
        "code_verifier": auth["code_verifier"],
        "next": _safe_next(next) or "",
        "exp": int(time.time()) + FLOW_LIFETIME,
    }
    response = RedirectResponse(auth["url"], status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        jwt.encode({"alg": "HS256"}, flow, _key(request)),
        max_age=FLOW_LIFETIME,
        path="/login/oidc",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or bool(request.app.state.secure_cookies),
    )
    return response


def _flow(request: Request) -> dict[str, Any]:
    cookie = request.cookies.get(FLOW_COOKIE)
    if not cookie or len(cookie) > 2000:
        raise Refused("no_login_in_progress")
    try:
        token = jwt.decode(cookie, _key(request), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise Refused("no_login_in_progress") from error
    return dict(token.claims)


@router.get("/login/oidc/callback", name="oidc_callback")
async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    provider = _provider(request)
    if provider is None:
        return RedirectResponse("/login", status_code=303)
    try:
        flow = _flow(request)
        if not hmac.compare_digest(state.encode(), str(flow.get("state", "")).encode()):
            raise Refused("state_mismatch")
        if error:
            raise Refused(f"provider_error_{error[:40]}", status=403)
        if not code:
            raise Refused("no_code")
        claims = await provider.claims(str(request.url_for("oidc_callback")), code, flow)
        account = await run_in_threadpool(_sign_in, request, claims)
    except Refused as refused:
        response = await _refuse(request, refused)
        response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
        return response
    request.state.new_session = Session(
        role=account.role,
        login=account.login,
        name=account.name,
        authority=account.authority,
        subject_id=account.subject_id,
        subject_code=account.subject_code,
    ).renewed()
    target = _safe_next(str(flow.get("next") or "")) or HOME_OF[account.role]
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response


def _sign_in(request: Request, claims: dict[str, Any]) -> Account:
    """Map the claims to an account and audit the log-in (or the refusal) in one transaction."""
    settings: Settings = request.app.state.settings
    catalog = catalog_of(request)
    refused: Refused | None = None
    with engine(request).begin() as conn:
        try:
            account = account_for(conn, claims, settings, request.app.state.oidc_roles, catalog)
        except Refused as error:
            refused = error
            _audit(conn, error.actor or "oidc:unknown", "public", None, "refuse", error.reason)
        else:
            _audit(conn, account.login, account.role, account.subject_code, "permit", None)
    if refused is not None:  # raised once the refusal's audit event is committed
        refused.audited = True
        raise refused
    return account


def _audit(
    conn: Connection, actor: str, role: str, subject: str | None, outcome: str, reason: str | None
) -> None:
    audit.record(
        conn,
        actor=actor,
        role=role,
        purpose="log_in",
        subject=subject,
        action="log_in",
        outcome=outcome,
        detail={"via": "oidc", **({"reason": reason} if reason else {})},
    )


async def _refuse(request: Request, refused: Refused) -> Response:
    """Audit a refusal (unless already audited) and show the log-in page saying why."""
    if not refused.audited:

        def write() -> None:
            actor = refused.actor or "oidc:unknown"
            with engine(request).begin() as conn:
                _audit(conn, actor, "public", None, "refuse", refused.reason)

        try:
            await run_in_threadpool(write)
        except Exception:  # no audit, but also no log-in: the refusal stands
            log.exception("could not audit an OIDC refusal (%s)", refused.reason)
    _ = i18n.translator(lang_of(request))
    message = (
        _("您的身份未对应任何角色；您可以继续使用公开信息。")
        if refused.status == 403
        else _("登录未完成，请重试。")
    )
    return render(
        request,
        "login.html",
        status=refused.status,
        next="/",
        reason="",
        logins=[],
        failed=False,
        refused=message,
        refused_reason=refused.reason,
    )


@router.get("/logout/oidc")
async def provider_logout(request: Request) -> Response:
    """After ``POST /logout`` ended the local session: the provider's session too, if it can."""
    provider = _provider(request)
    home = str(request.url_for("home"))
    url = await provider.end_session_url(home) if provider is not None else None
    return RedirectResponse(url or "/", status_code=303)

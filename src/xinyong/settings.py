"""Every ``XINYONG_*`` environment variable, in one typed place, checked when a process starts.

::

    load(environ=None) -> Settings        # raises ConfigurationError naming the variable
    Settings.<field>                       # XINYONG_<FIELD>; docs/deploy.md lists each

Code that needs a setting calls :func:`load` (it reads the environment afresh, so a test's
``monkeypatch.setenv`` is seen) or is handed the value by whoever did; nothing else reads
``os.environ`` for a ``XINYONG_`` name. ``xinyong serve`` loads the settings before anything
else, so a bad value stops start-up with one bilingual line instead of failing on the first
request. ``tests/test_deploy_doc.py`` checks that docs/deploy.md lists every field with its
default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from xinyong.errors import ConfigurationError

PREFIX = "XINYONG_"
DEFAULT_RECORD_PARTITIONS = 16
MAX_RECORD_PARTITIONS = 1024


class Settings(BaseSettings):
    """The process's configuration. Field ``x`` is the environment variable ``XINYONG_X``."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", frozen=True, env_ignore_empty=True
    )

    db: str | None = Field(
        None, description="数据库 URL / database URL; unset: sqlite:///xinyong.db"
    )
    catalog: str = Field(
        "", description="运营方目录文件夹，以 : 分隔 / operator catalog folders, ':'-separated"
    )
    secret: SecretStr | None = Field(
        None,
        description="会话签名密钥（serve 必需）/ the session signing key (required by serve)",
    )
    report_secret: SecretStr | None = Field(
        None,
        description="信用报告核验密钥；未设则存于数据库 / credit report verification key; "
        "unset: one kept in the database",
    )
    https: bool = Field(
        False, description="门户经 HTTPS 提供，Cookie 加 Secure / cookies are Secure"
    )
    nats: str = Field("nats://127.0.0.1:4222", description="NATS 服务器 / NATS server URL")
    decision_log: Literal["batched", "sync"] = Field(
        "batched",
        description="决定日志写入方式 / how decisions are written: batched or sync "
        "(one transaction per decision)",
    )
    record_partitions: int = Field(
        DEFAULT_RECORD_PARTITIONS,
        ge=1,
        le=MAX_RECORD_PARTITIONS,
        description="PostgreSQL records 表的哈希分区数（迁移 0008 时读取）/ hash partitions of "
        "records on PostgreSQL (read when migration 0008 runs)",
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect 身份提供方（发现文档所在）/ the OIDC provider's issuer URL",
    )
    oidc_client_id: str | None = Field(None, description="OIDC client_id")
    oidc_client_secret: SecretStr | None = Field(None, description="OIDC client_secret")
    oidc_subject_claim: str = Field(
        "xinyong_subject",
        description="含身份证号或统一社会信用代码的声明 / the claim holding the citizen ID "
        "number or USCC",
    )
    roles: Path | None = Field(
        None,
        description="角色映射 YAML（提供方 subject 或 group → 角色与机构）/ role mapping file",
    )
    metrics_key: SecretStr | None = Field(
        None,
        description="读取 /metrics 的密钥（Bearer）；未设则仅本机可读 / bearer key for "
        "/metrics; unset: loopback only",
    )
    demo_logins: bool = Field(
        False,
        description="演示账户（xinyong demo 与 serve --demo-logins 设置，生产勿用）/ demo "
        "log-ins: set by xinyong demo and serve --demo-logins; never in production",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="请求日志格式 / request log format: text or json"
    )

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_is_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("roles")
    @classmethod
    def _roles_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        named = {"oidc_issuer": self.oidc_issuer, "oidc_client_id": self.oidc_client_id}
        if any(named.values()) and not all(named.values()):
            missing = ", ".join(env_name(k) for k, v in named.items() if not v)
            raise ValueError(f"OIDC 配置不完整 / OIDC is half configured: {missing} missing")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


class _FromMapping(Settings):
    """The same fields, read from a given mapping only (tests, subprocess environments)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment (or ``environ``); :class:`ConfigurationError` naming
    each bad variable and why."""
    try:
        if environ is None:
            return Settings()
        values: dict[str, Any] = {
            key[len(PREFIX) :].lower(): value
            for key, value in environ.items()
            if key.startswith(PREFIX) and value != ""
        }
        return _FromMapping(**values)
    except ValidationError as error:
        raise ConfigurationError(_describe(error)) from error


def _describe(error: ValidationError) -> str:
    """``XINYONG_X: why; XINYONG_Y: why`` — names and reasons, never the (maybe secret) value."""
    parts = []
    for item in error.errors():
        if item["loc"]:
            parts.append(f"{env_name(str(item['loc'][0]))}: {item['msg']}")
        else:  # a rule across several settings names them in its message
            parts.append(str(item["msg"]).removeprefix("Value error, "))
    return "; ".join(parts)

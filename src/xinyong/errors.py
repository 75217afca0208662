"""Every error xinyong raises on purpose.

One root, a few families; each class holds its own message in Chinese and English, so raise
sites stay short (``raise InvalidChecksum()``) and every surface (CLI, API, pages) shows the same
words. The API maps classes to HTTP status by ``type(exc)`` in one table.

::

    XinyongError
    ├── InvalidCode            a code fails a check; ``reason`` is stable and machine-readable
    │   ├── InvalidLength          reason "length"
    │   ├── InvalidCharset         reason "charset"
    │   ├── InvalidChecksum        reason "checksum"
    │   ├── InvalidAuthority       reason "authority"      (USCC position 1)
    │   ├── InvalidCategory        reason "category"       (USCC position 2, per authority)
    │   ├── InvalidRegion          reason "region"         (GB/T 2260)
    │   ├── InvalidBirthDate       reason "birth_date"     (citizen ID number)
    │   └── InvalidOrgChecksum     reason "org_checksum"   (GB 11714 inside a USCC)
    ├── InvalidRecord          a department's row is bad data: per-field errors, becomes a reject
    ├── UnusableInput          a whole input (file, request) cannot be used at all
    │   ├── MappingError           a department's column mapping file is bad (file, line)
    │   └── ConfigurationError     an operator's ``XINYONG_*`` setting is bad: start-up stops
    ├── CatalogError           an operator's catalog is bad configuration: file, line, entity
    │   └── CatalogMismatch        the catalog in force lacks ids the store's derived tables hold
    ├── CalendarUnknown        a date in a year whose holidays no source knows yet
    ├── NotFound               no such record, batch, …
    │   └── SubjectNotFound        no subject holds that code
    ├── Forbidden              the caller's role may not do this
    ├── Conflict               the request clashes with the current state
    └── LogUnavailable         the decision log / audit chain cannot be written: no answer

Bad data is not bad configuration: a department's bad row is an ``InvalidRecord`` (a reject with
a reason, the batch goes on); an operator's bad catalog is a ``CatalogError`` (start-up stops).
"""

from __future__ import annotations

from collections.abc import Mapping


class XinyongError(Exception):
    """Root of xinyong's errors. Subclasses set ``message_zh`` and ``message_en``."""

    message_zh: str = "信用平台错误"
    message_en: str = "xinyong error"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(self.message())

    def message(self, lang: str = "zh") -> str:
        """The message in one language (``zh`` or ``en``), with the detail if any."""
        base = self.message_en if lang == "en" else self.message_zh
        return f"{base}: {self.detail}" if self.detail else base

    def bilingual(self) -> str:
        """``中文 / English: detail``, as the CLI prints it (the detail once: raise sites write
        it in both languages already)."""
        zh, en = self.message_zh, self.message_en
        base = zh if zh == en else f"{zh} / {en}"
        return f"{base}: {self.detail}" if self.detail else base


class InvalidCode(XinyongError):
    """An identifier code failed a check. ``reason`` names the check, stable across versions."""

    reason: str = "invalid"
    message_zh = "代码无效"
    message_en = "invalid code"


class InvalidLength(InvalidCode):
    reason = "length"
    message_zh = "代码长度不正确"
    message_en = "the code has the wrong length"


class InvalidCharset(InvalidCode):
    reason = "charset"
    message_zh = "代码含有不允许的字符"
    message_en = "the code contains characters that are not allowed"


class InvalidChecksum(InvalidCode):
    reason = "checksum"
    message_zh = "校验码不正确"
    message_en = "the check character does not match"


class InvalidAuthority(InvalidCode):
    reason = "authority"
    message_zh = "登记管理部门代码无效"
    message_en = "unknown registration authority"


class InvalidCategory(InvalidCode):
    reason = "category"
    message_zh = "机构类别代码与登记管理部门不符"
    message_en = "organisation category not valid for its registration authority"


class InvalidRegion(InvalidCode):
    reason = "region"
    message_zh = "行政区划代码无效"
    message_en = "unknown administrative division code"


class InvalidBirthDate(InvalidCode):
    reason = "birth_date"
    message_zh = "出生日期无效"
    message_en = "invalid date of birth"


class InvalidOrgChecksum(InvalidCode):
    reason = "org_checksum"
    message_zh = "组织机构代码校验码不正确"
    message_en = "the organisation code's check character does not match"


def invalid_code(reason: str | None) -> InvalidCode:
    """The error for a stable ``reason`` (``"checksum"`` → ``InvalidChecksum()``); an unknown or
    missing reason gives the generic ``InvalidCode``."""
    for cls in InvalidCode.__subclasses__():
        if cls.reason == reason:
            return cls()
    return InvalidCode()


class InvalidRecord(XinyongError):
    """A row or record that does not fit its record type. ``errors`` maps field → problem."""

    message_zh = "记录无效"
    message_en = "invalid record"

    def __init__(self, errors: Mapping[str, str] | None = None, detail: str | None = None) -> None:
        self.errors: dict[str, str] = dict(errors or {})
        if detail is None and self.errors:
            detail = "; ".join(f"{field}: {problem}" for field, problem in self.errors.items())
        super().__init__(detail)


class UnusableInput(XinyongError):
    """A whole input cannot be used: unreadable file, unknown type, missing required column."""

    message_zh = "输入无法使用"
    message_en = "unusable input"


class MappingError(UnusableInput):
    """A department's mapping file (``xinyong ingest --map``) that cannot be used: file and line."""

    message_zh = "字段映射文件错误"
    message_en = "mapping file error"

    def __init__(self, detail: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file, self.line = file, line
        where = ":".join(str(p) for p in (file, line) if p is not None)
        super().__init__(f"{where}: {detail}" if where else detail)


class CatalogError(XinyongError):
    """Bad catalog configuration, naming the file, the line and the entity."""

    message_zh = "信用信息目录配置错误"
    message_en = "catalog error"

    def __init__(
        self,
        detail: str,
        *,
        file: str | None = None,
        line: int | None = None,
        entity: str | None = None,
    ) -> None:
        self.file, self.line, self.entity = file, line, entity
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = " ".join(p for p in (where, f"[{entity}]" if entity else "") if p)
        super().__init__(f"{prefix}: {detail}" if prefix else detail)


class CatalogMismatch(CatalogError):
    """The catalog in force lacks lists, measures or actions the store's derived tables hold:
    running the pipeline with it would silently drop them, so it is refused (nothing written).
    The detail names the ids and the catalog version that derived them."""

    message_zh = "当前目录缺少数据库中已有的名单、措施或行为，拒绝运行"
    message_en = "the catalog in force lacks lists, measures or actions the store holds; refused"


class ConfigurationError(UnusableInput):
    """A ``XINYONG_*`` environment variable (or a file it names) that cannot be used: the detail
    names the variable and why. Raised at start-up (:mod:`xinyong.settings`), never per request."""

    message_zh = "配置无效"
    message_en = "invalid configuration"


class CalendarUnknown(XinyongError):
    """A working-day question about a year for which no holiday notice is known: never guess."""

    message_zh = "该年度的节假日安排未知（国务院办公厅通知尚未收录）"
    message_en = "the holiday arrangements for that year are not known (no State Council notice)"


class NotFound(XinyongError):
    message_zh = "未找到"
    message_en = "not found"


class SubjectNotFound(NotFound):
    """A valid code that no subject in the store holds (the detail is the normalised code)."""

    message_zh = "未找到信用主体"
    message_en = "no such subject"


class Forbidden(XinyongError):
    message_zh = "无权执行此操作"
    message_en = "forbidden"


class Conflict(XinyongError):
    message_zh = "与当前状态冲突"
    message_en = "conflict with the current state"


def first_line(error: BaseException | None) -> str:
    """The first line of an error's message (an engine's or a driver's can run to pages), or
    its type's name when it has none: what a one-line message quotes."""
    text = str(error or "").strip()
    return text.splitlines()[0] if text else type(error).__name__


class LogUnavailable(XinyongError):
    """The decision log or the audit chain cannot be written, so nothing is answered (fail
    closed): the API gives 503, the CLI exits 2."""

    message_zh = "决定日志暂不可用"
    message_en = "decision log unavailable"

"""``/api/v1/reports``: the public credit report of a subject, and verification of any report.

Non-public reports go through the portal or the CLI, where the reader and purpose are known and
audited; the API issues the public one only. A person the public knows no record of is "not
found" exactly as an unknown code is, and ``?at=`` in the past shows at most what is public
today as well as then (:func:`xinyong.disclose.view.subject_view`). A person's report is asked
for by subject id (``/api/v1/subjects/{id}/report``); a citizen number here is always "not
found" (:func:`xinyong.disclose.view.refuse_citizen_number`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Engine

from xinyong.catalog import Catalog
from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import issue_report, verify_report
from xinyong.disclose.report import MEDIA_TYPES
from xinyong.disclose.view import refuse_citizen_number

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/{code}", summary="公共信用信息报告 / a subject's public credit report")
def report(
    code: Annotated[str, Path(min_length=1, max_length=32)],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    fmt: Annotated[Literal["json", "html", "pdf"], Query(alias="format")] = "json",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    at: Annotated[date | None, Query()] = None,
) -> Response:
    refuse_citizen_number(code)
    return public_report(db, catalog, code, fmt=fmt, lang=lang, at=at)


def public_report(
    db: Engine,
    catalog: Catalog,
    subject: str | int,
    *,
    fmt: Literal["json", "html", "pdf"],
    lang: Literal["zh", "en"],
    at: date | None,
) -> Response:
    """The public report of ``subject`` (an organisation's code or a subject id) as the API
    answers it, with its verification code in a header; today bounds what ``at`` shows."""
    with db.begin() as conn:
        data, verification = issue_report(
            conn,
            catalog,
            subject,
            fmt=fmt,
            audience="public",
            lang=lang,
            at=at,
            today=date.today(),
        )
    return Response(
        data, media_type=MEDIA_TYPES[fmt], headers={"X-Verification-Code": verification}
    )


@router.post("/verify", summary="查验报告 / verify a report (the file as the request body)")
async def verify(request: Request, db: Annotated[Engine, Depends(engine)]) -> dict[str, Any]:
    data = await request.body()
    with db.begin() as conn:
        return verify_report(conn, data).as_json()

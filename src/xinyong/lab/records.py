"""Records of every catalog type for a batch of subjects, with the truth beside them.

For each record type, each eligible subject (its kind among the type's ``subject_kinds``; an
individual from the 18th birthday, an organisation from its registration) gets a Poisson number
of records at the type's rate (:mod:`xinyong.lab.rates`) over the part of ``[start, end]`` in
which it is eligible, each decided on a uniform day of that window, so periods expire and lists
change within the run.

A :class:`RecordBatch` holds the clean rows (English field names, typed values, enum ids) and,
row for row, the truth: which subject each row is really about. Error injection (the next part
of the lab) is a function ``RecordBatch → RecordBatch`` that alters rows and notes the error in
``truth``; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from xinyong.catalog import Catalog, FieldSpec, FieldType, RecordType
from xinyong.lab.population import place_name
from xinyong.lab.rates import rate_for

TRUTH_SCHEMA = pa.schema(
    [
        ("record_type", pa.string()),
        ("row_no", pa.int64()),
        ("document_no", pa.string()),
        ("subject_id", pa.int64()),
        ("subject_code", pa.string()),
        ("subject_name", pa.string()),
        ("subject_kind", pa.string()),
        ("error", pa.string()),
    ]
)
_ADULT_DAYS = 6575  # 18 × 365.25

_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.DATE: pa.date32(),
    FieldType.INTEGER: pa.int64(),
    FieldType.DECIMAL: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
}


def arrow_schema(record_type: RecordType) -> pa.Schema:
    """The clean rows' schema: one column per catalog field, in catalog order."""
    return pa.schema([(f.name, _ARROW_TYPES.get(f.type, pa.string())) for f in record_type.fields])


@dataclass(frozen=True)
class RecordBatch:
    """Rows of one record type and, aligned row for row, the truth about them."""

    record_type: RecordType
    rows: pa.Table
    truth: pa.Table


@dataclass(frozen=True)
class SubjectPool:
    """The subjects of one batch as flat arrays (individuals and organisations together)."""

    subject_id: npt.NDArray[np.int64]
    kind: npt.NDArray[np.str_]
    code: npt.NDArray[np.object_]
    name: npt.NDArray[np.object_]
    region: npt.NDArray[np.object_]
    since: npt.NDArray[np.datetime64]
    """First day a record may be about the subject: 18th birthday or registration."""
    rep_code: npt.NDArray[np.object_]
    rep_name: npt.NDArray[np.object_]
    sex: npt.NDArray[np.object_]
    """``male`` / ``female`` for individuals, None for organisations."""
    birth: npt.NDArray[np.datetime64]
    """Birth date for individuals, NaT for organisations."""

    @classmethod
    def from_tables(cls, people: pa.Table, organisations: pa.Table) -> SubjectPool:
        births = people.column("birth_date").to_numpy().astype("datetime64[D]")
        registered = organisations.column("registered_on").to_numpy().astype("datetime64[D]")

        def obj(table: pa.Table, name: str) -> npt.NDArray[np.object_]:
            return np.array(table.column(name).to_pylist(), dtype=object)

        n = people.num_rows
        return cls(
            subject_id=np.concatenate(
                [
                    people.column("subject_id").to_numpy(),
                    organisations.column("subject_id").to_numpy(),
                ]
            ),
            kind=np.array(
                people.column("kind").to_pylist() + organisations.column("kind").to_pylist(),
                dtype=str,
            ),
            code=np.concatenate([obj(people, "code"), obj(organisations, "code")]),
            name=np.concatenate([obj(people, "name"), obj(organisations, "name")]),
            region=np.concatenate([obj(people, "region_code"), obj(organisations, "region_code")]),
            since=np.concatenate([births + np.timedelta64(_ADULT_DAYS, "D"), registered]),
            rep_code=np.concatenate(
                [np.full(n, None, dtype=object), obj(organisations, "legal_rep_code")]
            ),
            rep_name=np.concatenate(
                [np.full(n, None, dtype=object), obj(organisations, "legal_rep_name")]
            ),
            sex=np.concatenate(
                [
                    np.where(np.array(people.column("sex").to_pylist()) == "男", "male", "female")
                    .astype(object)
                    .reshape(n),
                    np.full(organisations.num_rows, None, dtype=object),
                ]
            ),
            birth=np.concatenate(
                [births, np.full(organisations.num_rows, np.datetime64("NaT"), "datetime64[D]")]
            ),
        )


def records(
    rng: np.random.Generator,
    pool: SubjectPool,
    catalog: Catalog,
    *,
    start: date,
    end: date,
    first_row: dict[str, int] | None = None,
) -> Iterator[RecordBatch]:
    """One :class:`RecordBatch` per record type of ``catalog`` (in id order) for ``pool``.

    ``first_row`` numbers rows per record type across batches (updated in place), which keeps
    document numbers unique over a whole run.
    """
    counters = first_row if first_row is not None else {}
    for type_id in sorted(catalog.record_types):
        record_type = catalog.record_types[type_id]
        row0 = counters.get(type_id, 0)
        batch = _records_of(rng, pool, record_type, start=start, end=end, row0=row0)
        counters[type_id] = row0 + batch.rows.num_rows
        yield batch


def _records_of(
    rng: np.random.Generator,
    pool: SubjectPool,
    record_type: RecordType,
    *,
    start: date,
    end: date,
    row0: int,
) -> RecordBatch:
    rate = rate_for(record_type)
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    kinds = np.isin(pool.kind, np.array(record_type.subject_kinds))
    individual = pool.kind == "individual"
    if rate.once:
        chosen = np.flatnonzero(kinds & ~individual & (pool.since <= hi))
        decided = pool.since[chosen]
    else:
        window_start = np.maximum(pool.since, lo)
        window = (hi - window_start).astype(np.int64) + 1
        per_year = np.where(individual, rate.individual, rate.organisation)
        expected = np.where(kinds & (window > 0), per_year * np.maximum(window, 0) / 365.25, 0.0)
        counts = rng.poisson(expected)
        chosen = np.repeat(np.arange(pool.kind.shape[0]), counts)
        offsets = (rng.random(chosen.shape[0]) * window[chosen]).astype(np.int64)
        decided = window_start[chosen] + offsets.astype("timedelta64[D]")
        order = np.lexsort((pool.subject_id[chosen], decided))
        chosen, decided = chosen[order], decided[order]
    n = chosen.shape[0]
    row_no = np.arange(row0, row0 + n, dtype=np.int64)
    years = decided.astype("datetime64[Y]").astype(np.int64) + 1970
    document_no = [
        f"{region[:2]}{region[2:4]}{_prefix(record_type)}〔{y}〕{r + 1:06d}号"
        for region, y, r in zip(
            pool.region[chosen].tolist(), years.tolist(), row_no.tolist(), strict=True
        )
    ]
    published = np.minimum(decided + rng.integers(0, 8, size=n), hi)
    columns: dict[str, object] = {}
    for spec in record_type.fields:
        columns[spec.name] = _values(
            rng, spec, record_type, pool, chosen, decided, document_no, end
        )
    columns["subject_code"] = pool.code[chosen].tolist()
    columns["subject_name"] = pool.name[chosen].tolist()
    columns["document_no"] = document_no
    columns["decided_on"] = decided
    if "published_on" in columns:
        columns["published_on"] = published
    schema = arrow_schema(record_type)
    rows = pa.table(
        {
            f.name: pa.nulls(n, f.type) if columns[f.name] is None else columns[f.name]
            for f in schema
        },
        schema=schema,
    )
    truth = pa.table(
        {
            "record_type": pa.repeat(record_type.id, n) if n else pa.array([], pa.string()),
            "row_no": row_no,
            "document_no": document_no,
            "subject_id": pool.subject_id[chosen],
            "subject_code": pool.code[chosen].tolist(),
            "subject_name": pool.name[chosen].tolist(),
            "subject_kind": pool.kind[chosen],
            "error": pa.nulls(n, pa.string()),
        },
        schema=TRUTH_SCHEMA,
    )
    return RecordBatch(record_type, rows, truth)


def _authority_word(record_type: RecordType) -> str:
    if record_type.category.value == "admin_license":
        return "行政审批局"
    return "市场监督管理局"


def _prefix(record_type: RecordType) -> str:
    """A short mark for document numbers: 执 for court records, 罚 for penalties, …"""
    marks = {"court_decision": "执", "admin_penalty": "罚", "admin_license": "许"}
    return marks.get(record_type.category.value, "信")


def _values(
    rng: np.random.Generator,
    spec: FieldSpec,
    record_type: RecordType,
    pool: SubjectPool,
    chosen: npt.NDArray[np.int64],
    decided: npt.NDArray[np.datetime64],
    document_no: Sequence[str],
    end: date,
) -> object:
    """Plausible values for a type-specific field (common fields are filled by the caller)."""
    n = chosen.shape[0]
    name = spec.name
    if spec.type is FieldType.ENUM:
        ids = np.array([v.id for v in spec.enum or ()])
        if name == "sex" and set(ids) >= {"male", "female"}:
            return pool.sex[chosen].tolist()
        if name == "subject_category":  # must agree with the code (ingest checks it)
            kinds = {"individual": "individual", "sole_trader": "sole_trader"}
            return [kinds.get(k, "legal_person") for k in pool.kind[chosen].tolist()]
        if name.endswith("id_type"):  # given with an ID number only
            return None
        weights = 1.0 / np.arange(1, ids.shape[0] + 1)  # the first listed value is the usual one
        return ids[rng.choice(ids.shape[0], size=n, p=weights / weights.sum())]
    if spec.type is FieldType.DATE:
        if name == "valid_from":
            return decided
        if "until" in name or "expire" in name:
            return decided + np.timedelta64(365 * 5, "D") if "licen" in record_type.id else None
        if any(word in name for word in ("lifted", "removed", "revoked", "ended")):
            later = decided + rng.integers(30, 1000, size=n).astype("timedelta64[D]")
            lifted = (rng.random(n) < 0.3) & (later <= np.datetime64(end, "D"))
            return pa.array(later, mask=~lifted)
        return decided - rng.integers(0, 365, size=n).astype("timedelta64[D]")
    if spec.type is FieldType.INTEGER and name == "age":
        years = (decided - pool.birth[chosen]).astype(np.int64) // 365.2425
        return pa.array(years.astype(np.int64), mask=np.isnat(pool.birth[chosen]))
    if spec.type is FieldType.DECIMAL:
        return np.round(np.exp(rng.normal(np.log(5000), 1.5, size=n)), 2)
    if spec.type is FieldType.INTEGER:
        return rng.integers(1, 100, size=n)
    if spec.type is FieldType.BOOLEAN:
        return rng.random(n) < 0.5
    if spec.type is FieldType.REGION:
        return pool.region[chosen].tolist()
    if spec.type in (FieldType.RIC, FieldType.USCC, FieldType.SUBJECT_CODE):
        if "rep" in name or "principal" in name:
            return pool.rep_code[chosen].tolist()
        return None if not spec.required else pool.code[chosen].tolist()
    if spec.type is FieldType.ORGCODE:
        return [
            c[8:17] if c and len(c) == 18 and not c[:17].isdigit() else None
            for c in pool.code[chosen].tolist()
        ]
    if name == "legal_representative_code":
        return pool.rep_code[chosen].tolist()
    if name.endswith(("id_number", "_code")):  # other ID and code columns: not given
        return None
    if "rep" in name or "principal" in name:
        return pool.rep_name[chosen].tolist()
    if "authority" in name:
        places = [place_name(r) for r in pool.region[chosen].tolist()]
        return [f"{p}{_authority_word(record_type)}" for p in places]
    if "court" in name or "issuer" in name:
        return [f"{place_name(r)}人民法院" for r in pool.region[chosen].tolist()]
    if "case" in name or "_no" in name:
        return [d.replace("〔", "（").replace("〕", "）") for d in document_no]
    return [f"{record_type.name_zh}（模拟）"] * n

"""Error injection: the mistakes departments make, applied to clean rows at chosen rates.

``inject(rng, batch, spec, namesakes)`` is a function ``RecordBatch → RecordBatch``: it alters
rows and writes the kind of error into the truth's ``error`` column, so the truth still says
which subject each row is really about. The generator is untouched.

Kinds (``ERROR_KINDS``), each row getting at most one:

- ``wrong_digit``: one character of the subject's code replaced by another of its alphabet.
  The check characters of GB 11643 (ISO 7064 MOD 11-2) and GB 32100 (mod 31) catch every such
  error, so the code becomes invalid: the record cannot be linked by code.
- ``transposition``: two adjacent, different characters of the code swapped (also caught).
- ``name_only``: the code left out; the row names the subject only.
- ``namesake``: the department attached the record to a namesake: the row carries the valid
  code (and sex and age) of another subject of the same name. No check can see this.
  Rows whose subject has no namesake are left clean.
- ``stale``: a record whose ending (``lifted_on``, ``removed_on`` …) never reached the platform:
  the ending field is emptied, so the record stays in force after it should have expired.
  Only rows that have an ending can go stale.
- ``duplicate``: the same decision submitted twice, its document number written with
  half-width brackets so the platform's idempotency key does not catch it; the copy follows
  the original, its truth row points to the same subject.

Rates (``ErrorSpec``) are per row; where a kind does not apply to a row (no namesake, no
ending) the row stays clean, so a realised rate can be below the nominal one: the truth
column is the measure, not the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.catalog import FieldType
from xinyong.errors import UnusableInput
from xinyong.lab.records import RecordBatch

__all__ = [
    "DEFAULT_SPEC",
    "ERROR_KINDS",
    "ErrorSpec",
    "NamesakeIndex",
    "ending_fields",
    "inject",
]

ERROR_KINDS: tuple[str, ...] = (
    "wrong_digit",
    "transposition",
    "name_only",
    "namesake",
    "stale",
    "duplicate",
)

#: The default rates, per record row. No published error rate exists for these submissions;
#: these are assumptions of the magnitude of manual keying and merging errors (about one row
#: in a hundred with a mistyped or missing code, one in a thousand attached to the wrong
#: person), the same as the issue's example.
DEFAULT_SPEC = (
    "wrong_digit=0.01,transposition=0.005,name_only=0.02,namesake=0.001,stale=0.01,duplicate=0.02"
)

_RIC_ALPHABET = "0123456789"
_RIC_CHECK = "0123456789X"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Words in a date field's name that make it the record's ending (as the generator fills them).
_ENDING_WORDS = ("lifted", "removed", "revoked", "ended")


@dataclass(frozen=True)
class ErrorSpec:
    """Rates per record row, by error kind (kinds not named have rate 0)."""

    rates: Mapping[str, float]

    @classmethod
    def parse(cls, text: str) -> ErrorSpec:
        """``wrong_digit=0.01,name_only=0.02``; ``none`` or an empty string for no errors.

        Raises ``UnusableInput`` with one line for an unknown kind, a rate outside [0, 1], a
        kind named twice, or rates summing above 1."""
        text = text.strip()
        if text in ("", "none"):
            return cls({})
        rates: dict[str, float] = {}
        for part in text.split(","):
            kind, sep, value = part.partition("=")
            kind = kind.strip()
            if not sep or not kind:
                raise UnusableInput(
                    f"错误规格应为 种类=比率，用逗号分隔 / an error spec is kind=rate, "
                    f"comma-separated, not {part.strip()!r}"
                )
            if kind not in ERROR_KINDS:
                raise UnusableInput(
                    f"未知错误种类 {kind!r}（可用：{', '.join(ERROR_KINDS)}）/ unknown error kind "
                    f"{kind!r} (choose from {', '.join(ERROR_KINDS)})"
                )
            if kind in rates:
                raise UnusableInput(f"错误种类 {kind} 重复 / error kind {kind} given twice")
            try:
                rate = float(value)
            except ValueError:
                rate = -1.0
            if not 0.0 <= rate <= 1.0:
                raise UnusableInput(
                    f"{kind} 的比率须在 0 到 1 之间 / the rate of {kind} must be between 0 and 1, "
                    f"not {value.strip()!r}"
                )
            rates[kind] = rate
        if sum(rates.values()) > 1.0:
            raise UnusableInput("各比率之和超过 1 / the rates add up to more than 1")
        return cls(rates)

    def rate(self, kind: str) -> float:
        return float(self.rates.get(kind, 0.0))

    def __str__(self) -> str:
        return ",".join(f"{k}={self.rates[k]:g}" for k in ERROR_KINDS if k in self.rates) or "none"


@dataclass(frozen=True)
class NamesakeIndex:
    """Subjects by exact name, to find a namesake: ``name → [(code, sex, birth date)]``.

    Built over the whole population (individuals and organisations kept apart), so a row can
    be attached to a namesake anywhere in the country."""

    by_name: Mapping[tuple[bool, str], list[tuple[str, str | None, date | None]]]

    @classmethod
    def from_tables(cls, people: pa.Table, organisations: pa.Table | None = None) -> NamesakeIndex:
        """Only names held by two subjects or more are kept."""
        index: dict[tuple[bool, str], list[tuple[str, str | None, date | None]]] = {}
        tables = [(True, people)] + ([(False, organisations)] if organisations is not None else [])
        for individual, table in tables:
            names = table.column("name")
            counts = pc.value_counts(names)
            shared = pc.filter(
                counts.field("values"), pc.greater(counts.field("counts"), pa.scalar(1, pa.int64()))
            )
            if len(shared) == 0:
                continue
            keep = table.filter(pc.is_in(names, value_set=shared))
            sexes = keep.column("sex").to_pylist() if individual else [None] * keep.num_rows
            births = keep.column("birth_date").to_pylist() if individual else [None] * keep.num_rows
            for name, code, sex, birth in zip(
                keep.column("name").to_pylist(),
                keep.column("code").to_pylist(),
                sexes,
                births,
                strict=True,
            ):
                index.setdefault((individual, name), []).append((code, sex, birth))
        return cls(index)

    def others(
        self, individual: bool, name: str, code: str
    ) -> list[tuple[str, str | None, date | None]]:
        """The namesakes of the subject ``code`` called ``name`` (never the subject itself)."""
        return [entry for entry in self.by_name.get((individual, name), ()) if entry[0] != code]


def ending_fields(batch: RecordBatch) -> list[str]:
    """The date fields that end a record of this type (``lifted_on``, ``removed_on`` …)."""
    return [
        spec.name
        for spec in batch.record_type.fields
        if spec.type is FieldType.DATE and any(word in spec.name for word in _ENDING_WORDS)
    ]


def _wrong_digit(rng: np.random.Generator, code: str) -> str:
    position = int(rng.integers(0, len(code)))
    if code.isdigit() or (code[:17].isdigit() and code[17:] in ("X", "x")):
        alphabet = _RIC_CHECK if position == 17 else _RIC_ALPHABET
    else:
        alphabet = _USCC_ALPHABET
    choices = [c for c in alphabet if c != code[position].upper()]
    new = choices[int(rng.integers(0, len(choices)))]
    return code[:position] + new + code[position + 1 :]


def _transpose(rng: np.random.Generator, code: str) -> str | None:
    pairs = [i for i in range(len(code) - 1) if code[i] != code[i + 1]]
    if not pairs:
        return None
    i = pairs[int(rng.integers(0, len(pairs)))]
    return code[:i] + code[i + 1] + code[i] + code[i + 2 :]


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def inject(
    rng: np.random.Generator,
    batch: RecordBatch,
    spec: ErrorSpec,
    namesakes: NamesakeIndex | None = None,
) -> RecordBatch:
    """``batch`` with errors at ``spec``'s rates; the truth's ``error`` column names each one.

    Deterministic for a given ``rng`` state. ``namesakes`` is needed for the ``namesake`` kind
    (without it such rows stay clean)."""
    n = batch.rows.num_rows
    if n == 0 or not spec.rates:
        return batch
    draw = rng.random(n)
    kinds: npt.NDArray[np.object_] = np.full(n, None, dtype=object)
    low = 0.0
    for kind in ERROR_KINDS:
        high = low + spec.rate(kind)
        kinds[(draw >= low) & (draw < high)] = kind
        low = high
    columns = {name: batch.rows.column(name).to_pylist() for name in batch.rows.column_names}
    errors: list[str | None] = batch.truth.column("error").to_pylist()
    codes: list[str | None] = columns["subject_code"]
    names: list[str] = columns["subject_name"]
    kinds_of_subject: list[str] = batch.truth.column("subject_kind").to_pylist()
    endings = ending_fields(batch)
    duplicates: list[int] = []
    for i in np.flatnonzero(kinds != None).tolist():  # noqa: E711 — object array comparison
        kind = str(kinds[i])
        code = codes[i]
        applied = False
        if kind == "wrong_digit" and code:
            codes[i] = _wrong_digit(rng, code)
            applied = True
        elif kind == "transposition" and code:
            swapped = _transpose(rng, code)
            if swapped is not None:
                codes[i] = swapped
                applied = True
        elif kind == "name_only" and code:
            codes[i] = None
            applied = True
        elif kind == "namesake" and code and namesakes is not None:
            individual = kinds_of_subject[i] == "individual"
            others = namesakes.others(individual, names[i], code)
            if others:
                other_code, sex, birth = others[int(rng.integers(0, len(others)))]
                codes[i] = other_code
                if "sex" in columns and sex is not None:
                    columns["sex"][i] = "male" if sex == "男" else "female"
                decided = columns["decided_on"][i]
                if "age" in columns and birth is not None and isinstance(decided, date):
                    columns["age"][i] = _age_on(birth, decided)
                applied = True
        elif kind == "stale":
            ended = [f for f in endings if columns[f][i] is not None]
            for field in ended:
                columns[field][i] = None
            applied = bool(ended)
        elif kind == "duplicate":
            duplicates.append(i)
            applied = True
        if applied and kind != "duplicate":
            errors[i] = kind
    rows = pa.table(columns, schema=batch.rows.schema)
    truth_columns = {name: batch.truth.column(name) for name in batch.truth.column_names}
    truth_columns["error"] = pa.array(errors, pa.string())
    truth = pa.table(truth_columns, schema=batch.truth.schema)
    if duplicates:
        take = pa.array(duplicates, pa.int64())
        copies = rows.take(take)
        docs = [
            d.replace("〔", "(").replace("〕", ")") if d else d
            for d in copies.column("document_no").to_pylist()
        ]
        copies = copies.set_column(
            copies.schema.get_field_index("document_no"), "document_no", pa.array(docs, pa.string())
        )
        copy_truth = truth.take(take)
        copy_truth = copy_truth.set_column(
            copy_truth.schema.get_field_index("error"),
            "error",
            pa.array(["duplicate"] * len(duplicates), pa.string()),
        )
        # Each copy right after its original keeps the rows in decision order.
        order = np.argsort(
            np.concatenate([np.arange(n), np.array(duplicates)]).astype(np.float64)
            + np.concatenate([np.zeros(n), np.full(len(duplicates), 0.5)]),
            kind="stable",
        )
        rows = pa.concat_tables([rows, copies]).take(pa.array(order))
        truth = pa.concat_tables([truth, copy_truth]).take(pa.array(order))
    return RecordBatch(batch.record_type, rows, truth)

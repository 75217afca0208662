"""A statistical scorecard: weight-of-evidence binning, logistic regression, points scaling.

Written on numpy alone, so the core needs no scikit-learn:

- **Binning** (:func:`fit_binning`): a numeric feature is cut at up to ``prebins`` quantiles,
  then adjacent bins are merged, smallest information-value loss first, until every bin holds at
  least ``min_bin_share`` of the rows, the bad rate is monotonic where asked (``ascending``,
  ``descending``, or ``auto``: the direction of the rank correlation) and no more than
  ``max_bins`` remain. A text feature gets a bin per category (rare ones pooled as ``其他 /
  other``). Missing values have a bin of their own. WoE = ln(share of bads / share of goods),
  with 0.5 added to each count so an empty cell stays finite.
- **Regression**: logistic regression on the WoE values by iteratively reweighted least squares
  with a small ridge penalty; features with information value below ``min_iv`` are left out.
- **Scaling**: ``factor = pdo / ln 2``, ``offset = base_score − factor · ln(base_odds)``; a
  subject's score is ``offset − factor · logit(p_bad)``, split into a base
  (``offset − factor · intercept``) and one contribution per feature
  (``−factor · coefficient · woe``), each rounded to two decimals; the score is their sum, held to
  ``score_range`` by a contribution of its own.

A trained model is saved as JSON with its binning tables (:meth:`Scorecard.save`), versioned by
a hash of its content.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from xinyong.errors import UnusableInput

FORMAT = "xinyong-scorecard"
FORMAT_VERSION = 1
Trend = Literal["auto", "ascending", "descending", "none"]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Bin:
    """One bin: numeric ``[low, high)`` or a set of categories, or the missing values."""

    label: str
    woe: float
    count: int
    bads: int
    low: float | None = None
    high: float | None = None
    categories: list[str] | None = None
    missing: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "woe": self.woe,
            "count": self.count,
            "bads": self.bads,
            "low": self.low,
            "high": self.high,
            "categories": self.categories,
            "missing": self.missing,
        }


@dataclass
class Binning:
    """The binning table of one feature."""

    feature: str
    kind: Literal["numeric", "categorical"]
    bins: list[Bin]
    iv: float

    def bin_of(self, value: Any) -> Bin:
        """The bin a raw value falls into (missing → the missing bin, else WoE 0)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            return next(
                (b for b in self.bins if b.missing), Bin("missing", 0.0, 0, 0, missing=True)
            )
        if self.kind == "categorical":
            text = str(value)
            for b in self.bins:
                if b.categories is not None and text in b.categories:
                    return b
            other = next((b for b in self.bins if b.categories == []), None)
            return other or Bin("unseen", 0.0, 0, 0, categories=[])
        x = float(value)
        for b in self.bins:
            if b.missing:
                continue
            if (b.low is None or x >= b.low) and (b.high is None or x < b.high):
                return b
        return self.bins[-1]  # pragma: no cover - the numeric bins cover the real line

    def transform(self, values: Sequence[Any]) -> FloatArray:
        return np.array([self.bin_of(v).woe for v in values], dtype=np.float64)

    def as_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "kind": self.kind,
            "iv": self.iv,
            "bins": [b.as_json() for b in self.bins],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Binning:
        return cls(
            feature=data["feature"],
            kind=data["kind"],
            iv=float(data["iv"]),
            bins=[Bin(**b) for b in data["bins"]],
        )


def _woe_iv(bads: FloatArray, goods: FloatArray) -> tuple[FloatArray, float]:
    b = (bads + 0.5) / (bads.sum() + 0.5 * len(bads))
    g = (goods + 0.5) / (goods.sum() + 0.5 * len(goods))
    woe = np.log(b / g)
    return woe, float(((b - g) * woe).sum())


def _is_numeric(values: Sequence[Any]) -> bool:
    for v in values:
        if v is None or v == "":
            continue
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            return False
    return True


def fit_binning(
    feature: str,
    values: Sequence[Any],
    y: npt.NDArray[Any],
    *,
    trend: Trend = "auto",
    max_bins: int = 6,
    prebins: int = 20,
    min_bin_share: float = 0.05,
) -> Binning:
    """Bin one feature against the 0/1 target ``y`` (1 = bad)."""
    target = np.asarray(y, dtype=np.float64)
    present = np.array(
        [not (v is None or v == "" or (isinstance(v, float) and math.isnan(v))) for v in values]
    )
    missing_bin: list[Bin] = []
    if not present.all():
        nb = float(target[~present].sum())
        missing_bin = [Bin("缺失 / missing", 0.0, int((~present).sum()), int(nb), missing=True)]
    if _is_numeric(values):
        x = np.array([float(v) if p else np.nan for v, p in zip(values, present, strict=True)])
        bins = _numeric_bins(x[present], target[present], trend, max_bins, prebins, min_bin_share)
        kind: Literal["numeric", "categorical"] = "numeric"
    else:
        texts = [str(v) for v, p in zip(values, present, strict=True) if p]
        bins = _categorical_bins(texts, target[present], min_bin_share)
        kind = "categorical"
    everything = bins + missing_bin
    bads = np.array([b.bads for b in everything], dtype=np.float64)
    goods = np.array([b.count - b.bads for b in everything], dtype=np.float64)
    woe, iv = _woe_iv(bads, goods)
    for b, w in zip(everything, woe, strict=True):
        b.woe = round(float(w), 6)
    return Binning(feature, kind, everything, round(iv, 6))


def _numeric_bins(
    x: FloatArray,
    y: FloatArray,
    trend: Trend,
    max_bins: int,
    prebins: int,
    min_share: float,
) -> list[Bin]:
    if len(x) == 0:
        return [Bin("全部 / all", 0.0, 0, 0)]
    cuts = np.unique(np.quantile(x, np.linspace(0, 1, prebins + 1)[1:-1]))
    uniq = np.unique(x)
    if len(uniq) <= prebins:
        cuts = uniq[1:]
    edges = [float(c) for c in cuts]
    idx = np.searchsorted(np.array(edges), x, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    bads = np.bincount(idx, weights=y, minlength=len(edges) + 1)
    groups = [[i] for i in range(len(edges) + 1)]
    c, b = list(counts), list(bads)
    # Empty prebins (ties at a quantile) merge into a neighbour first.
    for i in reversed(range(len(c))):
        if c[i] == 0 and len(c) > 1:
            j = i - 1 if i > 0 else i + 1
            _merge(groups, c, b, min(i, j))
    if trend == "auto":
        rho = np.corrcoef(x, y)[0, 1] if np.std(x) > 0 and np.std(y) > 0 else 0.0
        trend = "ascending" if rho >= 0 else "descending"
    total = sum(c)
    while len(c) > 1:
        rates = [bi / ci for bi, ci in zip(b, c, strict=True)]
        small = [i for i, ci in enumerate(c) if ci < min_share * total]
        violations = []
        if trend == "ascending":
            violations = [i for i in range(len(c) - 1) if rates[i] > rates[i + 1]]
        elif trend == "descending":
            violations = [i for i in range(len(c) - 1) if rates[i] < rates[i + 1]]
        if small:
            i = small[0]
            pair = i - 1 if i == len(c) - 1 else (i if i == 0 else _closer(rates, i))
        elif violations:
            pair = min(violations, key=lambda k: abs(rates[k] - rates[k + 1]))
        elif len(c) > max_bins:
            pair = min(range(len(c) - 1), key=lambda k: _iv_loss(c, b, k))
        else:
            break
        _merge(groups, c, b, pair)
    bounds: list[Bin] = []
    for k, g in enumerate(groups):
        low = edges[g[0] - 1] if g[0] > 0 else None
        high = edges[g[-1]] if g[-1] < len(edges) else None
        label = (
            f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'})"
        )
        bounds.append(Bin(label, 0.0, int(c[k]), int(b[k]), low=low, high=high))
    return bounds


def _closer(rates: list[float], i: int) -> int:
    """Merge bin ``i`` with the neighbour whose bad rate is closer (returns the left index)."""
    return i - 1 if abs(rates[i] - rates[i - 1]) <= abs(rates[i] - rates[i + 1]) else i


def _merge(groups: list[list[int]], c: list[float], b: list[float], i: int) -> None:
    groups[i] = groups[i] + groups[i + 1]
    c[i] += c[i + 1]
    b[i] += b[i + 1]
    del groups[i + 1], c[i + 1], b[i + 1]


def _iv_loss(c: list[float], b: list[float], k: int) -> float:
    before = _woe_iv(np.array(b[k : k + 2]), np.array(c[k : k + 2]) - np.array(b[k : k + 2]))[1]
    return before


def _categorical_bins(texts: list[str], y: FloatArray, min_share: float) -> list[Bin]:
    cats = sorted(set(texts))
    counts = {c: 0 for c in cats}
    bads = {c: 0.0 for c in cats}
    for t, v in zip(texts, y, strict=True):
        counts[t] += 1
        bads[t] += float(v)
    total = len(texts)
    bins = [
        Bin(c, 0.0, counts[c], int(bads[c]), categories=[c])
        for c in cats
        if counts[c] >= min_share * total
    ]
    rare = [c for c in cats if counts[c] < min_share * total]
    if rare:
        bins.append(
            Bin(
                "其他 / other",
                0.0,
                sum(counts[c] for c in rare),
                int(sum(bads[c] for c in rare)),
                categories=[],
            )
        )
        bins[-1].categories = []
        bins[-1].label = "其他 / other: " + ", ".join(rare)
    return bins


def logistic_regression(x: FloatArray, y: FloatArray, ridge: float = 1e-3) -> FloatArray:
    """Coefficients (intercept first) by IRLS with an L2 penalty on the slopes."""
    design = np.column_stack([np.ones(len(x)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], ridge * len(x))
    penalty[0] = 0.0
    for _ in range(100):
        eta = np.clip(design @ beta, -30, 30)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = np.maximum(p * (1 - p), 1e-9)
        grad = design.T @ (y - p) - penalty * beta
        hess = (design * w[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if float(np.abs(step).max()) < 1e-9:
            break
    result: FloatArray = beta
    return result


RIDGES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def choose_ridge(x: FloatArray, y: FloatArray, folds: int = 5, seed: int = 0) -> float:
    """The ridge penalty with the best mean AUC over stratified ``folds``-fold cross-validation
    of the training rows (the test rows are never looked at)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for cls in (0.0, 1.0):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % folds
    best, best_auc = RIDGES[0], -1.0
    for ridge in RIDGES:
        aucs = []
        for k in range(folds):
            fit, held = fold != k, fold == k
            if len(np.unique(y[held])) < 2 or len(np.unique(y[fit])) < 2:
                continue
            beta = logistic_regression(x[fit], y[fit], ridge)
            aucs.append(auc(y[held], beta[0] + x[held] @ beta[1:]))
        mean = float(np.mean(aucs)) if aucs else 0.0
        if mean > best_auc:
            best, best_auc = ridge, mean
    return best


# -- metrics ----------------------------------------------------------------------------------


def auc(y: npt.NDArray[Any], risk: npt.NDArray[Any]) -> float:
    """Area under the ROC curve of ``risk`` (higher = more likely bad), ties counted half."""
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(risk, kind="mergesort")
    ranks = np.empty(len(risk))
    sorted_risk = np.asarray(risk)[order]
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and sorted_risk[j + 1] == sorted_risk[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_bad, n_good = y.sum(), len(y) - y.sum()
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def ks(y: npt.NDArray[Any], risk: npt.NDArray[Any]) -> float:
    """Kolmogorov–Smirnov: the largest gap between the cumulative shares of bads and goods."""
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(-np.asarray(risk), kind="mergesort")
    r = np.asarray(risk)[order]
    yb = y[order]
    cb = np.cumsum(yb) / yb.sum()
    cg = np.cumsum(1 - yb) / (len(yb) - yb.sum())
    last = np.r_[r[1:] != r[:-1], True]  # evaluate only between distinct values
    return float(np.abs(cb - cg)[last].max())


def psi(expected: npt.NDArray[Any], actual: npt.NDArray[Any], bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` over expected's deciles."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1)
    pe = (e + 0.5) / (e.sum() + 0.5 * len(e))
    pa = (a + 0.5) / (a.sum() + 0.5 * len(a))
    return float(((pa - pe) * np.log(pa / pe)).sum())


# -- the scorecard ----------------------------------------------------------------------------


@dataclass
class Scaling:
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0
    score_range: tuple[float, float] = (300.0, 900.0)

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)


@dataclass
class Scorecard:
    """A trained scorecard: binning tables, coefficients, scaling."""

    target: str
    binnings: list[Binning]
    intercept: float
    coefficients: list[float]
    scaling: Scaling = field(default_factory=Scaling)
    metrics: dict[str, float] = field(default_factory=dict)
    trained_at: str = ""
    catalog_version: str | None = None

    @property
    def features(self) -> list[str]:
        return [b.feature for b in self.binnings]

    @classmethod
    def fit(
        cls,
        columns: Mapping[str, Sequence[Any]],
        y: Sequence[Any],
        *,
        target: str = "target",
        trends: Mapping[str, Trend] | None = None,
        max_bins: int = 6,
        min_iv: float = 0.0,
        ridge: float | None = None,
        scaling: Scaling | None = None,
    ) -> Scorecard:
        yy = np.asarray(y, dtype=np.float64)
        if len(yy) == 0 or not set(np.unique(yy)) <= {0.0, 1.0} or len(np.unique(yy)) < 2:
            raise UnusableInput(
                "目标列须同时含有 0 和 1（1 = 违约/坏）/ the target must hold both 0 and 1 "
                "(1 = bad)"
            )
        binnings = [
            fit_binning(
                name, list(values), yy, trend=(trends or {}).get(name, "auto"), max_bins=max_bins
            )
            for name, values in columns.items()
        ]
        kept = [b for b in binnings if b.iv >= min_iv] or sorted(binnings, key=lambda b: -b.iv)[:1]
        x = np.column_stack([b.transform(list(columns[b.feature])) for b in kept])
        if ridge is None:
            ridge = choose_ridge(x, yy)
        beta = logistic_regression(x, yy, ridge)
        card = cls(
            target=target,
            binnings=kept,
            intercept=float(beta[0]),
            coefficients=[float(v) for v in beta[1:]],
            scaling=scaling or Scaling(),
            trained_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        )
        risk = card.logit(columns)
        card.metrics = {"train_auc": auc(yy, risk), "train_ks": ks(yy, risk), "rows": len(yy)}
        return card

    def logit(self, columns: Mapping[str, Sequence[Any]]) -> FloatArray:
        """log-odds of bad for each row."""
        total = np.full(len(next(iter(columns.values()))), self.intercept)
        for b, coef in zip(self.binnings, self.coefficients, strict=True):
            total = total + coef * b.transform(list(columns[b.feature]))
        return total

    def scores(self, columns: Mapping[str, Sequence[Any]]) -> FloatArray:
        s = self.scaling
        raw = s.offset - s.factor * self.logit(columns)
        return np.clip(raw, *s.score_range)

    def explain(self, row: Mapping[str, Any]) -> list[tuple[str, float, str]]:
        """``(source, points, bin label)`` for the base and each feature; they add up (before
        the range) to the row's score, rounded to two decimals each."""
        s = self.scaling
        parts = [("base", round(s.offset - s.factor * self.intercept, 2), "")]
        for b, coef in zip(self.binnings, self.coefficients, strict=True):
            found = b.bin_of(row.get(b.feature))
            parts.append((b.feature, round(-s.factor * coef * found.woe, 2), found.label))
        return parts

    # -- file ----------------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        body = {
            "target": self.target,
            "trained_at": self.trained_at,
            "catalog_version": self.catalog_version,
            "intercept": self.intercept,
            "coefficients": dict(zip(self.features, self.coefficients, strict=True)),
            "scaling": {
                "pdo": self.scaling.pdo,
                "base_score": self.scaling.base_score,
                "base_odds": self.scaling.base_odds,
                "score_range": list(self.scaling.score_range),
            },
            "metrics": self.metrics,
            "binning": [b.as_json() for b in self.binnings],
        }
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": digest, **body}

    @property
    def version(self) -> str:
        return str(self.as_json()["version"])

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Scorecard:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnusableInput(
                f"无法读取评分卡文件 / cannot read scorecard file {path}: {exc}"
            ) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UnusableInput(f"不是评分卡文件 / not a scorecard file: {path}")
        if data.get("format_version") != FORMAT_VERSION:
            raise UnusableInput(
                f"评分卡文件版本 {data.get('format_version')} 不受支持 / unsupported scorecard "
                f"format version {data.get('format_version')}: {path}"
            )
        binnings = [Binning.from_json(b) for b in data["binning"]]
        sc = data["scaling"]
        return cls(
            target=data["target"],
            binnings=binnings,
            intercept=float(data["intercept"]),
            coefficients=[float(data["coefficients"][b.feature]) for b in binnings],
            scaling=Scaling(sc["pdo"], sc["base_score"], sc["base_odds"], tuple(sc["score_range"])),
            metrics=dict(data.get("metrics", {})),
            trained_at=data.get("trained_at", ""),
            catalog_version=data.get("catalog_version"),
        )

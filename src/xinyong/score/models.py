"""The scoring models a catalog declares, looked up by id, each ready to score.

A points model becomes a :class:`~xinyong.score.ledger.Ledger`; a scorecard model loads its
trained file (relative to the catalog file that declares it). ``--model`` may also name a
trained scorecard file directly (``model.json``), for trying a model before declaring it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xinyong.catalog.loader import SHIPPED_DIR
from xinyong.catalog.model import Catalog, PointsSpec, ScorecardSpec, ScoringModel
from xinyong.errors import NotFound, UnusableInput
from xinyong.score.features import Feature, parse_feature
from xinyong.score.ledger import Ledger
from xinyong.score.scorecard import Scorecard


@dataclass(frozen=True)
class LoadedScorecard:
    """A trained scorecard with its features checked against the catalog."""

    id: str
    card: Scorecard
    features: list[Feature]
    example: bool = False
    subject_kinds: tuple[str, ...] = ()


Engine = Ledger | LoadedScorecard


def model_ids(catalog: Catalog) -> list[str]:
    return sorted(catalog.scoring_models)


def _catalog_dir(model: ScoringModel) -> Path:
    origin = model.origin.file if model.origin else ""
    if origin.startswith("xinyong/catalog/data/"):
        return SHIPPED_DIR
    return Path(origin).parent


def load_scorecard(path: Path, catalog: Catalog, model_id: str | None = None) -> LoadedScorecard:
    card = Scorecard.load(path)
    features = [parse_feature(name, catalog) for name in card.features]
    return LoadedScorecard(model_id or f"file:{path.name}", card, features)


def engine_for(model_id: str, catalog: Catalog) -> Engine:
    """The model ``model_id`` of the catalog (or a scorecard file), ready to score."""
    model = catalog.scoring_models.get(model_id)
    if model is None:
        path = Path(model_id)
        if path.suffix == ".json" and path.is_file():
            return load_scorecard(path, catalog)
        known = ", ".join(model_ids(catalog)) or "-"
        raise NotFound(
            f"没有评分模型 {model_id!r}（已有：{known}）/ no scoring model "
            f"{model_id!r} (known: {known})"
        )
    try:
        model.check_references(catalog.record_types)
    except ValueError as exc:
        raise UnusableInput(f"评分模型 {model_id}: {exc}") from exc
    if isinstance(model.spec, PointsSpec):
        return Ledger(model, catalog)
    assert isinstance(model.spec, ScorecardSpec)
    loaded = load_scorecard(_catalog_dir(model) / model.spec.file, catalog, model.id)
    return LoadedScorecard(
        model.id, loaded.card, loaded.features, model.example, tuple(model.subject_kinds)
    )

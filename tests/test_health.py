"""Study health: the edge rule, the epoch-budget verdicts and the counts on hand-made trials;
every search of the committed study drawn and described; and a real run of a profile whose
best learning rate sits on its range's edge, which must be warned about."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib.legend
import pandas as pd
import pytest
from matplotlib.figure import Figure

from course.report import figures, health, health_figures
from course.report.evidence import Evidence
from course.space import EPOCHS, HYPERPARAMETERS
from tests.conftest import ROOT, run_course

COMMITTED = ROOT / "docs" / "generated"
EDGE_PROFILE = ROOT / "tests" / "data" / "edge-profile.toml"
LABEL = "toy"
LR = {"low": 1e-4, "high": 1e-1, "log": True, "grid": None}


def _evidence(
    space: dict[str, Any],
    rows: list[dict[str, Any]],
    selection: str = "val_accuracy",
    patience: int = 5,
    slug: str = "toy",
    methods: dict[str, Any] | None = None,
) -> Evidence:
    """Evidence of one search from hand-made fits: every hyperparameter at its default (epochs
    at 40) unless a row says otherwise, one holdout fit per trial unless it gives a fold."""
    defaults = {name: spec.default for name, spec in HYPERPARAMETERS.items()} | {EPOCHS: 40}
    trials = pd.DataFrame([{"method": LABEL, "trial": i, "fold": 0, "rung": 0, "status": "ok",
                            "epochs_run": 10, "best_epoch": 5, "seconds": 1.0,
                            "val_accuracy": 0.5, "val_loss": 1.0, **defaults, **row}
                           for i, row in enumerate(rows)])  # fmt: skip
    if "trial_id" in trials:  # rows that name their trial (the folds of one configuration)
        trials["trial"] = trials.pop("trial_id").fillna(trials["trial"]).astype(int)
    results = pd.DataFrame([{"method": LABEL, "slug": slug, "kind": "search",
                             "protocol": "clean"}])  # fmt: skip
    config = {"selection": selection, "space": {**space}, "methods": methods or {slug: {}},
              "training": {"patience": patience, "max_epochs": 40}}  # fmt: skip
    return Evidence(trials=trials, results=results, provenance={"config": config})


def _scored(name: str, values: list[Any], scores: list[float]) -> list[dict[str, Any]]:
    return [{name: v, "val_accuracy": s} for v, s in zip(values, scores, strict=True)]


# --- the edge rule ------------------------------------------------------------------------------


def test_an_interior_best_gives_no_edge() -> None:
    rows = _scored("learning_rate", [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
                   [0.30, 0.40, 0.45, 0.50, 0.42, 0.31])  # fmt: skip
    ev = _evidence({"learning_rate": LR}, rows)
    assert health.edges(ev, LABEL) == []
    assert health.edge_sentence(ev, LABEL).startswith("No best value sits on an edge")


def test_the_outer_tenth_of_a_log_range_is_measured_on_its_log_scale() -> None:
    # 0.08 is 97 % of the way up 1e-4..1e-1 on a log scale: the top edge
    rows = _scored("learning_rate", [1e-4, 1e-3, 1e-2, 0.06, 0.08], [0.3, 0.4, 0.45, 0.48, 0.5])
    (edge,) = health.edges(_evidence({"learning_rate": LR}, rows), LABEL)
    assert (edge.name, edge.side, edge.kind, edge.room) == ("learning_rate", "high", "range", True)
    assert edge.value == 0.08 and (edge.near, edge.best) == (2, 2)  # 0.06 is 93 % up: in it too
    assert edge.warning == ("The best learning_rate, 0.08, sits in the top 10 % of its log-scale "
                            "range 0.0001–0.1 (2 of the best 2 evaluations sit there): widen the "
                            "range upward and search again.")  # fmt: skip
    # 0.005 is in the bottom tenth of the range counted linearly, but half-way up its log scale
    rows = _scored("learning_rate", [0.005, 0.02, 0.05, 0.1], [0.5, 0.4, 0.35, 0.3])
    assert health.edges(_evidence({"learning_rate": LR}, rows), LABEL) == []


def test_two_values_are_always_an_edge_and_never_warn() -> None:
    ev = _evidence({"units": [16, 64]}, _scored("units", [16, 64, 16, 64], [0.3, 0.5, 0.3, 0.5]))
    assert health.checked(ev, LABEL) == {"units": None}
    assert health.edges(ev, LABEL) == []
    assert "units has two values" in health.edge_sentence(ev, LABEL)


def test_three_listed_values_warn_at_an_end_with_room_beyond() -> None:
    rows = _scored("units", [16, 32, 64, 64], [0.3, 0.4, 0.5, 0.45])
    (edge,) = health.warned(_evidence({"units": [16, 32, 64]}, rows), LABEL)
    assert (edge.side, edge.kind, edge.values) == ("high", "values", (16, 32, 64))
    assert edge.warning.endswith("add larger values and search again.")
    # one layer is the fewest there are: an edge, but a note, not a warning
    rows = _scored("layers", [1, 2, 3], [0.5, 0.4, 0.3])
    ev = _evidence({"layers": [1, 2, 3]}, rows)
    (edge,) = health.edges(ev, LABEL)
    assert not edge.room and health.warned(ev, LABEL) == []
    assert "layers can go no lower than 1, so no wider range can help" in edge.warning


def test_a_grid_method_is_judged_by_its_grid_values() -> None:
    domain = {"low": 3e-4, "high": 1e-1, "log": True, "grid": [1e-3, 1e-2, 1e-1]}
    rows = _scored("learning_rate", [1e-3, 1e-2, 1e-1] * 2, [0.5, 0.4, 0.3, 0.48, 0.41, 0.3])
    ev = _evidence({"learning_rate": domain}, rows)
    assert health.checked(ev, LABEL) == {"learning_rate": "grid"}
    (edge,) = health.warned(ev, LABEL)
    assert (edge.side, edge.value, edge.bound) == ("low", 1e-3, 3e-4)
    assert edge.warning == (
        "The best learning_rate, 0.001, is the lowest of its grid values 0.001, 0.01, 0.1 (2 of "
        "the best 2 evaluations sit there): add grid values below it (the range reaches 0.0003) "
        "and search again."
    )
    # a sampling method on the same range samples it: 0.001 is 21 % up its log scale
    rows = _scored("learning_rate", [1e-3, 0.0123, 0.05], [0.5, 0.4, 0.3])
    ev = _evidence({"learning_rate": domain}, rows)
    assert health.checked(ev, LABEL) == {"learning_rate": "range"}
    assert health.edges(ev, LABEL) == []


def test_a_best_dropout_near_zero_is_a_note_nothing_lies_below() -> None:
    domain = {"low": 0.0, "high": 0.5, "log": False, "grid": None}
    ev = _evidence({"dropout": domain}, _scored("dropout", [0.01, 0.2, 0.4], [0.5, 0.4, 0.3]))
    (edge,) = health.edges(ev, LABEL)
    assert (edge.side, edge.room) == ("low", False)
    assert health.warned(ev, LABEL) == []
    assert "no wider range can help" in health.edge_sentence(ev, LABEL)


def test_the_best_quarter_follows_the_selection_score_and_keeps_two() -> None:
    rows = [{"learning_rate": 1e-3, "val_loss": float(loss)} for loss in range(10)]
    top = health.best_quarter(_evidence({"learning_rate": LR}, rows, selection="val_loss"), LABEL)
    assert list(top["score"]) == [0.0, 1.0, 2.0]  # a quarter of 10, rounded up; lowest loss first
    top = health.best_quarter(_evidence({"learning_rate": LR}, rows[:3]), LABEL)
    assert len(top) == 2


# --- the epoch budget ---------------------------------------------------------------------------


def _fits(best_epochs: list[int], budget: int = 40, **extra: Any) -> list[dict[str, Any]]:
    return [{"best_epoch": b, EPOCHS: budget, "val_accuracy": 0.3 + 0.01 * i, **extra}
            for i, b in enumerate(best_epochs)]  # fmt: skip


def test_a_budget_that_cuts_half_the_fits_is_too_small() -> None:
    # patience 5, budget 40: a best epoch after 35 left EarlyStopping no room to fire
    budget = health.best_epochs(_evidence({"learning_rate": LR}, _fits([36, 40, 12, 38])), LABEL)
    assert budget.verdict == "too small"
    assert list(budget.fits["cut"]) == [True, True, False, True]
    assert budget.sentence.startswith("3 of 4 full-budget fits (75 %) found their best epoch "
                                      "within the last 5 epochs of their 40-epoch budget, the "
                                      "best evaluation's among them")  # fmt: skip
    assert "raise `training.max_epochs`" in budget.sentence


def test_a_budget_the_fits_never_neared_is_generous_and_cost_little() -> None:
    budget = health.best_epochs(_evidence({"learning_rate": LR}, _fits([3, 8, 15])), LABEL)
    assert budget.verdict == "generous"
    assert "by epoch 15 of its 40-epoch budget" in budget.sentence
    assert "a 20-epoch budget would have ended every fit where it did" in budget.sentence


def test_a_budget_that_cuts_a_few_is_enough() -> None:
    budget = health.best_epochs(_evidence({"learning_rate": LR}, _fits([3, 30, 39])), LABEL)
    assert budget.verdict == "enough"
    assert budget.sentence.startswith("1 of 3 full-budget fits (33 %) found its best epoch")
    budget = health.best_epochs(_evidence({"learning_rate": LR}, _fits([3, 30, 20])), LABEL)
    assert budget.verdict == "enough"
    assert budget.sentence.startswith("Every one of the 3 full-budget fits stopped before its "
                                      "40-epoch budget")  # fmt: skip


def test_hyperband_is_judged_on_its_full_budget_fits_and_its_own_setting() -> None:
    rows = (_fits([1, 1, 1], budget=1, bracket=1)  # an early round: no say on the budget
            + _fits([8, 9], budget=9, bracket=0))  # fmt: skip
    ev = _evidence({"learning_rate": LR}, rows, slug="kt-hyperband",
                   methods={"kt-hyperband": {"max_epochs": 9}})  # fmt: skip
    budget = health.best_epochs(ev, LABEL)
    assert list(budget.fits[EPOCHS]) == [9, 9] and budget.verdict == "too small"
    assert "too small (`methods.kt-hyperband.max_epochs`)" in budget.sentence
    assert "a hint, not a finding" in budget.sentence  # patience 5 is over half of 9 epochs


def test_no_finished_full_budget_fit_leaves_nothing_to_judge() -> None:
    rows = _fits([3, 4], status="pruned", val_accuracy=math.nan)
    budget = health.best_epochs(_evidence({"learning_rate": LR}, rows), LABEL)
    assert budget.verdict == "no fits" and budget.sentence.startswith("No fit trained")


# --- counts -------------------------------------------------------------------------------------


def test_counts_tell_finished_pruned_diverged_and_failed_apart() -> None:
    rows = [{"status": "ok"}, {"status": "pruned"},
            {"status": "diverged", "val_accuracy": math.nan, "val_loss": math.nan},
            {"status": "ok", "val_accuracy": 0.6}]  # fmt: skip
    counts = health.counts(_evidence({"learning_rate": LR}, rows), LABEL)
    assert (counts.fits, counts.ok, counts.pruned, counts.diverged) == (4, 2, 1, 1)
    assert (counts.evaluations, counts.scored, counts.pruned_evaluations, counts.failed) == (
        4, 2, 1, 1)  # fmt: skip
    assert counts.sentence == ("4 fits: 2 finished, 1 pruned, 1 diverged (NaN loss). 4 "
                               "evaluations: 2 scored, 1 pruned before a score counted, 1 failed "
                               "(no score).")  # fmt: skip


def test_a_cv_search_counts_its_folds_and_its_refit() -> None:
    rows = [{"trial_id": t, "fold": f, "cv_score": 0.4 + t / 10}
            for t in (0, 1) for f in (0, 1, 2)] + [{"trial_id": 1, "fold": -1}]  # fmt: skip
    counts = health.counts(_evidence({"learning_rate": LR}, rows), LABEL)
    assert (counts.fits, counts.refits, counts.evaluations) == (7, 1, 2)
    assert counts.sentence.startswith(
        "7 fits (the final refit among them, which the epoch budget above leaves out)"
    )


# --- the committed study ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed() -> Evidence:
    return Evidence.load(COMMITTED)


def _legends_over_plots(fig: Figure) -> list[str]:
    """Legends over a plot area (a visible axes with its axis on) as the last draw laid them
    out (`png`'s, which crops nothing but white)."""
    plots = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    return [legend.texts[0].get_text() for legend in fig.findobj(matplotlib.legend.Legend)
            for ax in plots if legend.get_window_extent().overlaps(ax.bbox)]  # fmt: skip


def _draw(ev: Evidence, label: str) -> dict[str, Figure]:
    return {name: getattr(health_figures, name)(ev, label)
            for name in ("axis_plots", "best_epoch_histogram", "parallel")}  # fmt: skip


# one of each kind: a grid, a CV sampler, halving's rounds, pruned trials, Hyperband's brackets
DRAWN = ("grid-loop", "randomized-search-cv[cv5-n8]", "halving-random-search-cv", "optuna-tpe",
         "kt-hyperband")  # fmt: skip


@pytest.mark.parametrize("label", list(Evidence.load(COMMITTED).searches["method"]))
def test_every_search_of_the_committed_study_gets_every_view(
    committed: Evidence, label: str
) -> None:
    assert health.summary(committed, label).count("- **") == 3  # edges, budget, trials
    top = health.best_quarter(committed, label)
    full = committed.evaluations(label)
    assert len(top) == min(int(full["full_budget"].sum()), max(2, math.ceil(
        full["full_budget"].sum() / 4)))  # fmt: skip
    budget = health.best_epochs(committed, label)  # full-budget fits only: Hyperband's 9 epochs
    assert set(budget.fits[EPOCHS]) <= {int(full.loc[full["full_budget"], EPOCHS].max())}
    if label not in DRAWN:  # the report's own test draws every figure through `png`
        return
    for name, fig in _draw(committed, label).items():
        data = figures.png(fig)  # refuses text the page would show under 9 pt
        assert _legends_over_plots(fig) == [], name
        assert figures.png_width(data) <= figures.MAX_PNG_PX and len(data) < 250_000, name


# --- a profile whose best learning rate sits on its range's top edge ---------------------------


@pytest.mark.slow
def test_a_best_learning_rate_on_the_range_s_edge_is_warned_about(tmp_path: Path) -> None:
    proc = run_course("run", "quasi-random", "--config", str(EDGE_PROFILE), "--to", "out",
                      cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ev = Evidence.load(tmp_path / "out")
    assert not ev.higher_is_better  # the profile selects on validation loss
    (edge,) = health.warned(ev, "quasi-random")
    assert (edge.name, edge.side, edge.kind) == ("learning_rate", "high", "range")
    assert edge.value == ev.evaluations("quasi-random")["learning_rate"].max()
    assert "sits in the top 10 % of its log-scale range 1e-5–0.0001" in edge.warning
    assert edge.warning.endswith("widen the range upward and search again.")
    assert edge.warning in health.summary(ev, "quasi-random")
    assert health.best_epochs(ev, "quasi-random").verdict == "too small"  # eight epochs: cut
    figs = _draw(ev, "quasi-random")
    assert figs["axis_plots"].axes[0].get_title().endswith("best in the top 10 %: search beyond it")
    for fig in figs.values():
        figures.png(fig)


def test_every_search_s_page_links_to_its_block_on_the_study_health_page() -> None:
    page = (ROOT / "docs" / "study-health.md").read_text(encoding="utf-8")
    catalog = Evidence.load(ROOT / "docs" / "generated").catalog
    for slug in catalog.loc[catalog["kind"] == "search", "slug"]:
        assert f"{{#{slug}}}" in page and f'"docs/generated/health-{slug}.md"' in page, slug
        method_page = (ROOT / "docs" / f"{slug}.md").read_text(encoding="utf-8")
        assert f"(study-health.md#{slug})" in method_page, slug

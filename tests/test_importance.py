"""Importance per search: exact main effects on a full grid, fANOVA otherwise, warned of when
the evaluations are too few; on hand-made frames with known answers, and on the committed
study."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from course.report import figures, importance
from course.report.evidence import PRUNED, Evidence
from course.space import HYPERPARAMETERS, NAMES
from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "generated"
LR_GRID = [0.001, 0.01, 0.1]
SPACE = {"layers": [1, 2], "units": [16, 64],
         "learning_rate": {"low": 1e-4, "high": 0.1, "log": True, "grid": LR_GRID},
         "dropout": {"low": 0.0, "high": 0.5, "log": False, "grid": [0.2]},
         "epochs": [40], "batch_size": [16, 64]}  # fmt: skip
TUNED = ["layers", "units", "learning_rate", "dropout", "batch_size"]


def _evidence(fits: list[dict[str, Any]], method: str = "search") -> Evidence:
    """One search's fits (one holdout fit per trial unless a row says otherwise), each row's
    `score` its validation accuracy; unnamed hyperparameters at the grid's or space's value."""
    in_space = {"epochs": 40, "dropout": 0.2, "batch_size": 16}  # defaults outside SPACE
    defaults = {n: HYPERPARAMETERS[n].default for n in NAMES} | in_space
    base = {"method": method, "fold": 0, "status": "ok", "rung": 0, "seconds": 1.0,
            "epochs_run": 10}  # fmt: skip
    rows = [
        defaults
        | base
        | {"trial": i, "val_accuracy": fit["score"]}
        | {k: v for k, v in fit.items() if k != "score"}
        for i, fit in enumerate(fits)
    ]
    results = pd.DataFrame([{"method": method, "kind": "search", "protocol": "clean",
                             "slug": method}])  # fmt: skip
    provenance = {"config": {"space": SPACE, "selection": "val_accuracy"}}
    return Evidence(trials=pd.DataFrame(rows), results=results, catalog=None, provenance=provenance)


def _grid(score: Any, repeat: int = 1) -> Evidence:
    """The full grid of SPACE (dropout fixed at its one grid value), `repeat` times over."""
    combos = itertools.product(SPACE["layers"], SPACE["units"], LR_GRID, SPACE["batch_size"])
    return _evidence([{"layers": a, "units": u, "learning_rate": lr, "batch_size": b,
                       "score": score(a, u, lr, b)}
                      for a, u, lr, b in combos for _ in range(repeat)])  # fmt: skip


def _random(n: int, seed: int = 0) -> Evidence:
    """A random search whose score depends on the learning rate alone (peaked at 1e-2)."""
    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(n):
        lr = float(10 ** rng.uniform(-4, -1))
        fits.append({"layers": int(rng.choice([1, 2])), "units": int(rng.choice([16, 64])),
                     "learning_rate": lr, "dropout": float(rng.uniform(0, 0.5)),
                     "batch_size": int(rng.choice([16, 64])),
                     "score": 0.6 - 0.05 * (math.log10(lr) + 2) ** 2})  # fmt: skip
    return _evidence(fits)


def test_a_full_grid_gets_exact_main_effects_with_the_analytic_shares() -> None:
    by_rate = dict(zip(LR_GRID, (0.3, 0.5, 0.4), strict=True))
    only_lr = importance.importance(_grid(lambda a, u, lr, b: by_rate[lr]), "search")
    assert only_lr is not None and only_lr.kind == importance.MAIN_EFFECTS
    assert list(only_lr.shares) == TUNED and only_lr.n_trials == 24
    assert only_lr.shares["learning_rate"] == pytest.approx(1.0)
    assert all(only_lr.shares[n] == pytest.approx(0.0) for n in TUNED if n != "learning_rate")
    assert only_lr.interactions == pytest.approx(0.0) and only_lr.shares["dropout"] == 0.0
    # additive, layers +-1 and units +-2 (variances 1 and 4): shares 1/5 and 4/5, no rest
    additive = importance.importance(
        _grid(lambda a, u, lr, b: 0.5 + 0.01 * (2 * a - 3) + 0.02 * (1 if u == 64 else -1)),
        "search")  # fmt: skip
    assert additive is not None
    assert additive.shares["layers"] == pytest.approx(0.2)
    assert additive.shares["units"] == pytest.approx(0.8)
    assert additive.interactions == pytest.approx(0.0, abs=1e-12)
    # a pure interaction: no main effect at all, everything in the rest
    product = importance.importance(
        _grid(lambda a, u, lr, b: 0.5 + 0.01 * (2 * a - 3) * (1 if u == 64 else -1)), "search"
    )
    assert product is not None and product.interactions == pytest.approx(1.0)
    assert max(product.shares.values()) == pytest.approx(0.0, abs=1e-12)
    assert "`units` has the largest main effect" in importance.markdown(additive)
    assert "80%" in importance.markdown(additive)


def test_a_grid_run_twice_is_no_full_grid_and_gets_fanova() -> None:
    twice = importance.importance(_grid(lambda a, u, lr, b: a + lr, repeat=2), "search")
    assert twice is not None and twice.kind == importance.FANOVA and twice.n_trials == 48
    assert twice.interactions is None


def test_fanova_ranks_the_one_hyperparameter_the_score_depends_on_first() -> None:
    imp = importance.importance(_random(60), "search")
    assert imp is not None and imp.kind == importance.FANOVA and imp.n_trials == 60
    assert list(imp.shares) == TUNED
    assert max(imp.shares, key=imp.shares.__getitem__) == "learning_rate"
    assert imp.shares["learning_rate"] > 0.5
    assert sum(imp.shares.values()) == pytest.approx(1.0)
    assert "`learning_rate` has the largest fANOVA importance" in importance.markdown(imp)


def test_importance_is_deterministic() -> None:
    first = importance.importance(_random(30, seed=3), "search")
    assert first == importance.importance(_random(30, seed=3), "search")
    assert first != importance.importance(_random(30, seed=4), "search")  # not a constant


def test_the_warning_counts_the_evaluations_and_goes_when_there_are_enough() -> None:
    few = importance.importance(_random(8), "search")
    assert few is not None and "Only 8 full-budget evaluations for 5 hyperparameters" in few.warning
    assert "!!! warning" in importance.markdown(few) and few.warning in importance.markdown(few)
    enough = importance.importance(_random(5 * importance.MIN_TRIALS_PER_HYPERPARAMETER), "search")
    assert enough is not None and enough.warning == ""
    assert "!!! warning" not in importance.markdown(enough)
    # a grid whose values each rest on few scores: layers x learning rate, 2 scores per rate
    small = _evidence([{"layers": a, "learning_rate": lr, "score": a * lr}
                       for a in (1, 2) for lr in LR_GRID])  # fmt: skip
    grid = importance.importance(small, "search")
    assert grid is not None and grid.kind == importance.MAIN_EFFECTS
    assert "Only 2 scores behind a value of learning_rate" in grid.warning
    assert importance.importance(_grid(lambda a, u, lr, b: a * lr), "search").warning == ""


def test_pruned_and_early_round_evaluations_are_left_out() -> None:
    fits = _random(12).trials.to_dict("records")
    early = [fit | {"trial": 100 + k, "epochs": 2, "rung": 0, "val_accuracy": 0.1}
             for k, fit in enumerate(fits[:6])]  # fmt: skip
    last = [fit | {"rung": 1} for fit in fits]
    stopped = [fits[0] | {"trial": 200, "status": PRUNED, "val_accuracy": 0.9}]
    rows = [{k: v for k, v in fit.items() if k != "method"} for fit in early + last + stopped]
    for row in rows:
        row["score"] = row.pop("val_accuracy")
    imp = importance.importance(_evidence(rows), "search")
    assert imp is not None and imp.n_trials == 12
    kept = len(early)  # the first last-round evaluation: the only one not pruned
    few = _evidence([row | {"status": PRUNED} if k != kept else row for k, row in enumerate(rows)])
    assert importance.importance(few, "search") is None  # one left: nothing to compare
    assert "No importance" in importance.markdown(None)


def test_a_constant_score_has_no_importance() -> None:
    assert importance.importance(_grid(lambda a, u, lr, b: 0.5), "search") is None


def test_every_committed_search_gets_an_importance_or_none_and_a_legible_overview() -> None:
    ev = Evidence.load(COMMITTED)
    for label, slug in zip(ev.searches["method"], ev.searches["slug"], strict=True):
        rows = ev.evaluations(label)
        usable = int((rows["full_budget"] & rows["score"].notna()).sum())
        imp = importance.importance(ev, label)
        if imp is None:
            assert usable < 2 or rows["score"].nunique() < 2, label
        else:
            assert imp.method == label and imp.n_trials == usable
            assert list(imp.shares) == ev.tuned and min(imp.shares.values()) >= 0
            total = sum(imp.shares.values()) + (imp.interactions or 0.0)
            assert total == pytest.approx(1.0), label
            if slug in ("grid-loop", "grid-search-cv"):
                assert imp.kind == importance.MAIN_EFFECTS, label
            top = max(imp.shares, key=imp.shares.__getitem__)
            assert f"`{top}`" in importance.markdown(imp)
            assert str(imp.n_trials) in importance.markdown(imp)
    assert figures.png(importance.overview(ev))[:4] == b"\x89PNG"


def test_the_module_imports_optuna_only_when_it_computes() -> None:
    code = "import sys, course.report.importance; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)  # fmt: skip
    assert out.stdout.strip() == "False"

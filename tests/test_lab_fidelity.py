"""The lab's curves and the multi-fidelity searches replayed on them: the curves are full fits
in the ledger, the exported files keep the data contract's promises, a replay reruns to the same
evaluations, and the lab's KerasTuner oracle learns from the scores it is told."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from course.lab import fidelity, searchers, tables
from course.lab.run import Plan
from course.ledger import Ledger
from course.registry import load_profile
from course.study import CURVES
from tests.conftest import LAB_PROFILE, ledger_fits

PROFILE = load_profile(None, LAB_PROFILE)
CURVES_SETTINGS = PROFILE.lab["curves"]
MAX_EPOCHS = CURVES_SETTINGS["max_epochs"]
BUDGET_EPOCHS = CURVES_SETTINGS["budget"] * MAX_EPOCHS  # a replay's budget, in epochs
INIT_SEEDS = [PROFILE.init_seed + j for j in range(CURVES_SETTINGS["seeds"])]
FULL_FIDELITY = (fidelity.RANDOM, fidelity.TPE)
PRUNED = (fidelity.ASHA, fidelity.TPE_ASHA)
TUNED = [n for n, v in CURVES_SETTINGS["space"].items() if isinstance(v, list) and len(v) > 1]
CONFIGURATIONS = math.prod(len(CURVES_SETTINGS["space"][n]) for n in TUNED)  # the grid: 12
SEARCH = ["method", "repeat"]  # one replayed search


def curve_runs(folder: Path) -> dict[int, tuple[str, str, float | None]]:
    """init seed -> (run id, label, finished_at) of each curves run in the folder's ledger."""
    with contextlib.closing(sqlite3.connect(folder / "runs" / "ledger.sqlite")) as db:
        rows = db.execute("SELECT run_id, method, variant, finished_at FROM runs "
                          "WHERE kind = ?", (CURVES,)).fetchall()  # fmt: skip
    return {int(variant.removeprefix("init")): (run_id, label, done)
            for run_id, label, variant, done in rows}  # fmt: skip


def curve_fits(folder: Path, run_id: str) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(folder / "runs" / "ledger.sqlite")) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT trial, fold, rung, params, epochs_run, history FROM fits "
                          "WHERE run_id = ? ORDER BY trial", (run_id,)).fetchall()  # fmt: skip
    return [{**dict(row), "params": json.loads(row["params"]),
             "history": json.loads(row["history"])} for row in rows]  # fmt: skip


@pytest.fixture(scope="module")
def curves_csv(lab_generated: Path) -> pd.DataFrame:
    return pd.read_csv(lab_generated / "data" / "lab-curves.csv.gz")


@pytest.fixture(scope="module")
def fidelity_csv(lab_generated: Path) -> pd.DataFrame:
    return pd.read_csv(lab_generated / "data" / "lab-fidelity.csv.gz")


@pytest.fixture(scope="module")
def replays_csv(lab_generated: Path) -> pd.DataFrame:
    return pd.read_csv(lab_generated / "data" / "lab-replays.csv")


# --- the curves ----------------------------------------------------------------------------


def test_the_curves_are_one_finished_run_per_seed_every_configuration_a_full_length_fit(
    lab_folder: Path,
) -> None:
    """A replay reads any epoch of any curve: no fit may have been cut short by EarlyStopping
    (its history would end early and the later epochs would be missing)."""
    runs = curve_runs(lab_folder)
    assert sorted(runs) == INIT_SEEDS
    for seed, (run_id, label, finished_at) in runs.items():
        assert label == f"curves[init{seed}]"
        assert finished_at is not None
        fits = curve_fits(lab_folder, run_id)
        keys = [(f["trial"], f["fold"], f["rung"]) for f in fits]
        assert keys == [(t, 0, 0) for t in range(CONFIGURATIONS)]
        assert len({json.dumps(f["params"], sort_keys=True) for f in fits}) == CONFIGURATIONS
        for fit in fits:
            assert fit["params"]["epochs"] == MAX_EPOCHS
            assert fit["epochs_run"] == MAX_EPOCHS
            assert {"val_loss", "val_accuracy"} <= set(fit["history"])
            for name, values in fit["history"].items():
                assert len(values) == MAX_EPOCHS, (seed, fit["trial"], name)


def test_lab_curves_has_every_epoch_of_every_curve_with_its_running_best(
    lab_folder: Path, curves_csv: pd.DataFrame
) -> None:
    """One row per configuration × init seed × epoch, the values the ledger recorded, and
    `best` the best so far (the minimum: val_loss), which is what a checkpointed fit keeps."""
    runs = curve_runs(lab_folder)
    configurations = sorted(curves_csv["configuration"].unique())
    assert configurations == list(range(CONFIGURATIONS))
    assert len(curves_csv) == len(configurations) * len(INIT_SEEDS) * MAX_EPOCHS
    assert set(curves_csv["metric"]) == {"val_loss"}
    assert not curves_csv.duplicated(["configuration", "init_seed", "epoch"]).any()
    for (configuration, seed), one in curves_csv.groupby(["configuration", "init_seed"]):
        assert one["epoch"].tolist() == list(range(1, MAX_EPOCHS + 1))
        assert (one["best"] == one["value"].cummin()).all(), (configuration, seed)
        assert (one["best"].diff().dropna() <= 0).all()
        fit = curve_fits(lab_folder, runs[seed][0])[configuration]
        assert np.allclose(one["value"], fit["history"]["val_loss"], rtol=1e-5)
        assert np.allclose(one["val_accuracy"], fit["history"]["val_accuracy"], rtol=1e-5)
        for name in TUNED:  # the configuration's own hyperparameters, on every row
            assert (one[name] == fit["params"][name]).all()
    hyperparameters = curves_csv.drop_duplicates("configuration")[TUNED]
    assert not hyperparameters.duplicated().any()  # distinct configurations


# --- the replays ---------------------------------------------------------------------------


def test_each_replay_counts_its_epochs_and_starts_nothing_once_its_budget_is_spent(
    fidelity_csv: pd.DataFrame, replays_csv: pd.DataFrame
) -> None:
    """`epochs` is what the search has spent so far; a search asks for another evaluation
    only while some of its budget is left (the last one may pass it), and lab-replays sums
    the same rows."""
    assert set(fidelity_csv["method"]) == set(fidelity.REPLAYERS)
    assert len(replays_csv) == len(fidelity.REPLAYERS) * CURVES_SETTINGS["repeats"]
    assert (replays_csv["budget"] == CURVES_SETTINGS["budget"]).all()
    assert (replays_csv["factor"] == CURVES_SETTINGS["factor"]).all()
    summary = replays_csv.set_index(SEARCH)
    for (method, repeat), one in fidelity_csv.groupby(SEARCH):
        trained = one["end"] - one["start"]
        assert one["evaluation"].tolist() == list(range(1, len(one) + 1))
        assert (trained > 0).all() and (one["end"] <= MAX_EPOCHS).all()
        assert (one["epochs"] == trained.cumsum()).all()
        assert (one["epochs"] - trained < BUDGET_EPOCHS).all(), (method, repeat)
        if method != fidelity.HYPERBAND:  # KerasTuner stops when its space is exhausted
            assert one["epochs"].iloc[-1] >= BUDGET_EPOCHS, (method, repeat)
        row = summary.loc[(method, repeat)]
        assert row["evaluations"] == len(one)
        assert row["epochs"] == one["epochs"].iloc[-1] == trained.sum()
        assert row["trainings"] == (one["start"] == 0).sum()


def test_full_fidelity_searchers_train_every_evaluation_from_scratch_to_max_epochs(
    fidelity_csv: pd.DataFrame,
) -> None:
    full = fidelity_csv[fidelity_csv["method"].isin(FULL_FIDELITY)]
    assert set(full["method"]) == set(FULL_FIDELITY)
    assert (full["start"] == 0).all() and (full["end"] == MAX_EPOCHS).all()
    assert (full["final"] == 1).all()
    for _, one in full.groupby(SEARCH):
        assert len(one) == CURVES_SETTINGS["budget"]


def test_hyperband_continues_a_trial_where_its_parent_stopped_under_the_parents_seed(
    fidelity_csv: pd.DataFrame,
) -> None:
    """A later round of a Hyperband bracket trains its parent further: it starts at an epoch
    > 0 that an earlier evaluation of the same configuration, in the same training run (so
    the same init seed), ended at. Were the seed drawn afresh, the continuation would read
    another curve than the one it was judged on."""
    hyperband = fidelity_csv[fidelity_csv["method"] == fidelity.HYPERBAND]
    assert (hyperband["start"] > 0).any()
    assert (hyperband["final"] == 1).all()  # every round's trials may be the oracle's best
    for (_, repeat), one in hyperband.groupby(SEARCH):
        assert (one["start"] > 0).any(), repeat
        for i, row in one[one["start"] > 0].iterrows():
            earlier = one[one.index < i]
            parents = earlier[(earlier["configuration"] == row["configuration"])
                              & (earlier["init_seed"] == row["init_seed"])
                              & (earlier["end"] == row["start"])]  # fmt: skip
            assert len(parents) >= 1, (repeat, row.to_dict())


@pytest.mark.parametrize("method", PRUNED)
def test_successive_halving_prunes_trials_at_its_rungs_saving_epochs(
    fidelity_csv: pd.DataFrame, method: str
) -> None:
    """The pruner judges a trial only at its rungs (1, factor, factor², … epochs: min_epochs
    is 1), so a pruned trial stops at one of them and may not be returned; some stop before
    max_epochs (what pruning saves); a trial that is not pruned trains to the end."""
    factor = CURVES_SETTINGS["factor"]
    rungs = {factor**k for k in range(MAX_EPOCHS) if factor**k <= MAX_EPOCHS}  # {1, 3, 9}
    rows = fidelity_csv[fidelity_csv["method"] == method]
    assert (rows["start"] == 0).all()
    pruned = rows[rows["final"] == 0]
    assert len(pruned) > 0
    assert set(pruned["end"]) <= rungs
    assert (pruned["end"] < MAX_EPOCHS).any()
    assert (rows.loc[rows["final"] == 1, "end"] == MAX_EPOCHS).all()


@pytest.mark.parametrize("method", PRUNED)
def test_no_trial_is_pruned_after_training_all_max_epochs(
    fidelity_csv: pd.DataFrame, method: str
) -> None:
    """Optuna's SuccessiveHalvingPruner has no maximum: at max_epochs (9 = 3², as 27 in the
    default profile) it would judge a fit already trained in full, which ASHA completes."""
    rows = fidelity_csv[fidelity_csv["method"] == method]
    assert (rows.loc[rows["final"] == 0, "end"] < MAX_EPOCHS).all()


def test_a_replays_regret_is_its_incumbents_mean_curve_against_the_best_at_full_budget(
    curves_csv: pd.DataFrame, fidelity_csv: pd.DataFrame
) -> None:
    """What a replayed searcher saw is its seed's curve at the evaluation's last epoch; its
    incumbent (the best observed evaluation that may be returned) is scored by the mean over
    init seeds of that configuration's best so far at the epochs it was trained, its regret
    against the best configuration's mean at max_epochs (val_loss: lower is better)."""
    seen = curves_csv.set_index(["configuration", "init_seed", "epoch"])["best"]
    truth = curves_csv.groupby(["configuration", "epoch"])["best"].mean()  # over the seeds
    best_truth = truth.xs(MAX_EPOCHS, level="epoch").min()
    observed = seen.loc[list(zip(fidelity_csv["configuration"], fidelity_csv["init_seed"],
                                 fidelity_csv["end"], strict=True))].to_numpy()  # fmt: skip
    assert np.allclose(fidelity_csv["observed"], observed, rtol=1e-5)
    for _, one in fidelity_csv.groupby(SEARCH):
        # no incumbent until the first evaluation that may be returned
        no_incumbent = one["incumbent"].isna()
        assert (no_incumbent == (one["final"].cummax() == 0)).all()
        one = one[~no_incumbent]
        finals = one["observed"].where(one["final"] == 1)
        assert np.allclose(one["best_observed"], finals.cummin().ffill(), rtol=1e-5)
        incumbents = one[["incumbent", "incumbent_epochs"]].astype(int)
        expected = truth.loc[list(incumbents.itertuples(index=False, name=None))]
        assert np.allclose(one["incumbent_true"], expected.to_numpy(), rtol=1e-5)
        assert (one["regret"] >= 0).all()
        assert np.allclose(one["regret"], one["incumbent_true"] - best_truth, atol=1e-5)
    assert (fidelity_csv["regret"].dropna() >= 0).all()


def test_a_replay_reruns_to_the_evaluations_the_lab_recorded(
    lab_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The curves rebuilt from the ledger (resumed, nothing trained) are the ones the lab's
    replays ran on (the same keys), and every replayer, run twice here, gives the evaluations
    the lab's worker processes recorded; with seed 0 too, which KerasTuner alone would take
    as "no seed" (a different search each run)."""
    from course.lab import curves

    monkeypatch.chdir(lab_folder)
    before = ledger_fits(lab_folder)
    trained = curves.train(PROFILE, CURVES_SETTINGS, workers=1)
    assert ledger_fits(lab_folder) == before  # every fit resumed, none trained again
    assert trained.raw.shape == (CONFIGURATIONS, len(INIT_SEEDS), MAX_EPOCHS)
    assert list(trained.seeds) == INIT_SEEDS
    ledger = Ledger(lab_folder / "runs" / "ledger.sqlite")
    try:
        recorded = ledger.lab()
    finally:
        ledger.close()
    jobs = Plan.from_settings(dict(PROFILE.lab)).replays(trained)
    assert {job.method for job in jobs} == set(fidelity.REPLAYERS)
    for job in jobs:
        assert job.key in recorded, job.key  # the same curves' digest as the lab's
        first = fidelity.replay(job)["evaluations"]
        assert fidelity.replay(job)["evaluations"] == first, job.method
        assert first == recorded[job.key]["evaluations"], job.method
    unseeded = dataclasses.replace(next(j for j in jobs if j.method == fidelity.HYPERBAND), seed=0)
    first = fidelity.replay(unseeded)["evaluations"]
    assert fidelity.replay(unseeded)["evaluations"] == first


# --- the lab's KerasTuner oracle -----------------------------------------------------------


def test_the_labs_kerastuner_oracle_returns_the_best_trial_it_was_told() -> None:
    """The oracle ranks only COMPLETED trials (and falls back to the first trial otherwise):
    its best must be the trial told the best score, here neither the first nor the last."""
    table = tables.load("hpobench/australian")
    searcher = searchers.kt_random(table, 5, 3)
    scores = [0.61, 0.84, 0.97, 0.72, 0.55]
    asked = []
    for score in scores:
        candidate = searcher.ask()
        assert candidate is not None
        asked.append(candidate)
        searcher.tell(candidate, score)
    assert searcher.ask() is None  # max_trials reached
    assert len({c.trial for c in asked}) == len(asked)
    assert len({json.dumps(c.params, sort_keys=True) for c in asked}) == len(asked)
    trials = list(searcher.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * len(scores)
    assert [t.score for t in trials] == pytest.approx(scores)
    best = searcher.oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(max(scores))
    assert best.hyperparameters.values == asked[scores.index(max(scores))].params

"""`course variance`: retraining and search variance measured with fits of their own, in the
ledger, resumable, exported beside the study and drawn by the report."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from course.report import noise
from course.report.evidence import Evidence
from course.stats import expected_max
from tests.conftest import kill_and_resume, ledger_fits, read_csv, run_course

VARIANCE = ("variance", "--profile", "quick", "--inits", "2", "--searches", "2")


def test_expected_max_is_the_mean_best_of_every_subset() -> None:
    scores = np.array([0.31, 0.12, 0.5, 0.27, 0.44, 0.5])
    for m in range(1, len(scores) + 1):
        best = [max(c) for c in itertools.combinations(scores, m)]
        mean, sd = expected_max(scores, m)
        assert mean == pytest.approx(np.mean(best)) and sd == pytest.approx(np.std(best))
    with pytest.raises(ValueError):
        expected_max(scores, len(scores) + 1)


@pytest.fixture(scope="module")
def measured(quick_study: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the shared quick study, measured by `course variance`, killed once on the way
    and rerun: the ledger's fits before the kill and after the rerun."""
    folder = tmp_path_factory.mktemp("variance")
    for name in ("runs", "docs", "data"):
        if (quick_study / name).exists():
            shutil.copytree(quick_study / name, folder / name)
    study = set(ledger_fits(folder))
    fits = kill_and_resume(folder, *VARIANCE, after_fits=len(study) + 6)
    return {"folder": folder, "study": study, **fits}


@pytest.mark.slow
def test_variance_retrains_each_pick_and_reruns_a_search_with_fits_of_its_own(
    measured: dict,
) -> None:
    folder = measured["folder"]
    before, after = measured["before"], measured["after"]
    assert all(after[key] == when for key, when in before.items())  # none lost, none redone
    assert set(measured["study"]) < set(before)  # the kill came after fits of its own
    rows = read_csv(folder / "docs" / "generated" / "data" / "variance.csv")
    results = {r["method"]: r for r in read_csv(folder / "docs/generated/data/results.csv")}
    searches = [m for m, r in results.items() if r["kind"] == "search" and r["protocol"] == "clean"]
    retrained = [r for r in rows if r["kind"] == noise.RETRAIN]
    assert sorted((r["method"], r["seed"]) for r in retrained) == sorted(
        (m, s) for m in searches for s in ("42", "43")
    )
    # the study's own init seed on the study's split reproduces the grid loop's pick exactly
    own = next(r for r in retrained if r["method"] == "grid-loop" and r["seed"] == "42")
    assert float(own["test_accuracy"]) == float(results["grid-loop"]["test_accuracy"])
    assert float(own["selection_score"]) == float(results["grid-loop"]["selection_score"])
    # another init seed trains other weights: some pick's test accuracy moves
    by_seed = {s: {r["method"]: r["test_accuracy"] for r in retrained if r["seed"] == s}
               for s in ("42", "43")}  # fmt: skip
    assert by_seed["42"] != by_seed["43"]
    picked = [r for r in rows if r["kind"] == noise.SEARCHED]
    assert [r["seed"] for r in picked] == ["42", "43"]
    assert float(picked[0]["test_accuracy"]) == float(results["kt-random-search"]["test_accuracy"])
    trials = [r for r in rows if r["kind"] == noise.EVALUATED and r["seed"] == "43"]
    assert len(trials) == int(results["kt-random-search"]["n_trials"])

    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    try:
        runs = db.execute("SELECT run_id, slug, config FROM runs").fetchall()
        seeds = dict(db.execute("SELECT run_id, MIN(seed) FROM fits GROUP BY run_id").fetchall())
    finally:
        db.close()
    configs = {run_id: (slug, json.loads(config)) for run_id, slug, config in runs}
    retrain = [r for r, (slug, _) in configs.items() if slug == "retrain"]
    assert sorted(seeds[r] for r in retrain) == [42, 43]  # each fit trained with its init seed
    assert {configs[r][1]["init_seed"] for r in retrain} == {42, 43}
    search_seeds = sorted(c["search_seed"] for slug, c in configs.values()
                          if slug == "kt-random-search")  # fmt: skip
    assert search_seeds == [42, 43]
    # the study's own export is unchanged by runs of another search seed
    assert results["kt-random-search"]["run_id"] in {r for r, (s, _) in configs.items()
                                                      if s == "kt-random-search"}  # fmt: skip


@pytest.mark.slow
def test_the_report_sets_the_noise_beside_the_differences_between_methods(measured: dict) -> None:
    generated = measured["folder"] / "docs" / "generated"
    ev = Evidence.load(generated)
    assert noise.measured(ev)
    text = (generated / "variance.md").read_text(encoding="utf-8")
    assert f"{noise.pooled_sd(ev):.3f}" in text and "2 initialisation seeds" in text
    assert "2 search seeds" in text
    for name in ("variance", "best-of-m"):
        assert (generated / "figures" / f"{name}.png").stat().st_size > 10_000
        assert "figures/" in (generated / f"figure-{name}.md").read_text(encoding="utf-8")
    pooled, per_seed = noise._best_of_m(ev)
    assert list(per_seed) == [42, 43]
    assert pooled["mean"].is_monotonic_increasing  # the best of more trials is no worse
    # cleaning keeps the study's variance runs (only their checkpoints go), and rerunning
    # with nothing left to train trains nothing
    fits = ledger_fits(measured["folder"])
    table = (generated / "data" / "variance.csv").read_text(encoding="utf-8")
    cleaned = run_course("clean", "--profile", "quick", "--other-studies", cwd=measured["folder"])
    assert cleaned.returncode == 0, cleaned.stderr
    assert ledger_fits(measured["folder"]) == fits
    assert not list((measured["folder"] / "runs").glob("retrain-*/checkpoints"))
    proc = run_course(*VARIANCE, cwd=measured["folder"])
    assert proc.returncode == 0, proc.stderr
    assert ledger_fits(measured["folder"]) == fits
    assert (generated / "data" / "variance.csv").read_text(encoding="utf-8") == table


def test_variance_needs_a_study_first(workdir: Path) -> None:
    proc = run_course(*VARIANCE, cwd=workdir)
    assert proc.returncode == 2 and "run `course run-all` first" in proc.stderr

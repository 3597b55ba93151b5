"""The grid loop end to end on the quick profile: real data, real Keras training, real SQLite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from course.registry import load_profile
from course.space import NAMES
from tests.conftest import kill_and_resume, ledger_fits, read_csv, run_course, run_seconds

pytestmark = pytest.mark.slow

TRIAL_CONTRACT = ["method", "run_id", "trial", "fold", "seed", *NAMES, "epochs_run",
                  "best_epoch", "val_accuracy", "val_loss", "seconds", "status"]  # fmt: skip
RESULT_CONTRACT = ["method", "run_id", "profile", "seed", *NAMES, "selection_score",
                   "test_accuracy", "test_ci_low", "test_ci_high", "tied", "n_trials", "n_fits",
                   "epochs_run", "wall_seconds"]  # fmt: skip


def test_trials_csv_has_one_contract_row_per_configuration(quick_grid_loop: Path) -> None:
    profile = load_profile("quick")
    rows = read_csv(quick_grid_loop / "docs" / "generated" / "data" / "trials.csv")
    assert list(rows[0])[: len(TRIAL_CONTRACT)] == TRIAL_CONTRACT
    assert len(rows) == profile.space.size
    assert sorted(int(r["trial"]) for r in rows) == list(range(profile.space.size))
    configs = {tuple(r[name] for name in NAMES) for r in rows}
    assert len(configs) == profile.space.size  # every configuration once
    for row in rows:
        assert row["method"] == "grid-loop" and row["fold"] == "0" and row["status"] == "ok"
        for name in NAMES:
            assert row[name] in {str(v) for v in profile.space.grid_values()[name]}
        epochs_run, best = int(row["epochs_run"]), int(row["best_epoch"])
        # EarlyStopping stopped `patience` epochs after the best one, or the budget ran out
        assert epochs_run in (int(row["epochs"]), best + profile.training.patience)
        assert 1 <= best <= epochs_run
        assert 0 <= float(row["val_accuracy"]) <= 1 and float(row["seconds"]) > 0


def test_results_csv_reports_the_best_configuration_with_an_interval(
    quick_grid_loop: Path,
) -> None:
    generated = quick_grid_loop / "docs" / "generated"
    trials = read_csv(generated / "data" / "trials.csv")
    (result,) = read_csv(generated / "data" / "results.csv")
    assert list(result)[: len(RESULT_CONTRACT)] == RESULT_CONTRACT
    # the grid loop's rule: best validation accuracy, then lower loss, then the earlier trial
    best = max(trials, key=lambda r: (float(r["val_accuracy"]), -float(r["val_loss"]),
                                      -int(r["trial"])))  # fmt: skip
    assert float(result["selection_score"]) == pytest.approx(float(best["val_accuracy"]))
    assert all(result[name] == best[name] for name in NAMES)
    assert int(result["tied"]) == sum(r["val_accuracy"] == best["val_accuracy"] for r in trials)
    low, acc, high = (float(result[k]) for k in ("test_ci_low", "test_accuracy", "test_ci_high"))
    assert 0 < low < acc < high < 1
    assert 0.05 < high - low < 0.25  # 200 test rows: roughly ±6.5 points
    assert int(result["n_trials"]) == int(result["n_fits"]) == load_profile("quick").space.size
    assert float(result["wall_seconds"]) >= sum(float(r["seconds"]) for r in trials)
    assert result["profile"] == "quick" and result["protocol"] == "clean"


def test_provenance_says_where_the_evidence_came_from(quick_grid_loop: Path) -> None:
    provenance = json.loads((quick_grid_loop / "docs/generated/provenance.json").read_text())
    assert provenance["profile"] == "quick" and provenance["seeds"] == [42]
    assert provenance["command"] == "course run grid-loop --profile quick"
    assert provenance["keras_backend"] in ("jax", "tensorflow")
    assert provenance["cpu_count"] >= 1
    assert provenance["packages"]["keras"].startswith("3.")
    assert provenance["started_at"] <= provenance["finished_at"]
    assert provenance["dataset"]["sha256"].startswith("157391eb")
    assert "git_commit" in provenance


def test_course_predict_on_the_test_rows_reproduces_the_recorded_test_accuracy(
    quick_grid_loop: Path, tmp_path: Path
) -> None:
    """The final model is one file with its preprocessing: scored on the run's raw test rows,
    it gives the accuracy the study recorded, in the dataset's own labels."""
    import pandas as pd

    from course import data

    (result,) = read_csv(quick_grid_loop / "docs/generated/data/results.csv")
    profile = load_profile("quick")
    split = data.split(data.load(quick_grid_loop / "data" / "telecust.csv"), profile.seed, 0.2)
    rows, target = split.x_test.copy(), split.schema.target
    rows[target] = split.schema.label_of(split.y_test)  # the file's labels, 1 to 4
    rows.to_csv(tmp_path / "test-rows.csv", index=False)
    out = tmp_path / "predicted.csv"
    proc = run_course("predict", result["run_id"], str(tmp_path / "test-rows.csv"), "--out",
                      str(out), cwd=quick_grid_loop)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    predicted = pd.read_csv(out)[f"predicted_{target}"]
    assert set(predicted) <= {1, 2, 3, 4}
    accuracy = float(np.mean(predicted.to_numpy() == rows[target].to_numpy()))
    assert accuracy == pytest.approx(float(result["test_accuracy"]), abs=1e-6)
    assert f"{accuracy:.6f}" in proc.stderr

    rows.drop(columns=["income"]).to_csv(tmp_path / "short.csv", index=False)
    proc = run_course("predict", result["run_id"], str(tmp_path / "short.csv"),
                      cwd=quick_grid_loop)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "column 'income' is missing" in proc.stderr


def test_sigkilled_run_resumes_without_repeating_a_fit(
    quick_grid_loop: Path, workdir: Path
) -> None:
    total = load_profile("quick").space.size
    fits = kill_and_resume(workdir, "run", "grid-loop", "--profile", "quick", after_fits=2)
    before, after = fits["before"], fits["after"]
    assert 2 <= len(before) < total, "the kill must land mid-run"
    assert len(after) == total
    assert all(after[key] == stamp for key, stamp in before.items())  # none repeated or lost
    # the killed invocation's time was recorded as it passed (a `finally` never ran)
    ((wall, fits_seconds),) = fits["seconds"].values()
    assert fits_seconds > 0 and wall >= fits_seconds - 1.0
    ((wall, fits_seconds),) = run_seconds(workdir).values()
    assert wall >= fits_seconds - 1.0  # both invocations' time, at most a heartbeat lost

    # the resumed run found exactly what an uninterrupted run found (seeded per fit)
    resumed = read_csv(workdir / "docs/generated/data/trials.csv")
    clean = read_csv(quick_grid_loop / "docs/generated/data/trials.csv")
    assert [r["val_accuracy"] for r in resumed] == [r["val_accuracy"] for r in clean]
    assert (
        read_csv(workdir / "docs/generated/data/results.csv")[0]["test_accuracy"]
        == read_csv(quick_grid_loop / "docs/generated/data/results.csv")[0]["test_accuracy"]
    )


def test_rerun_skips_finished_fits_and_changed_config_starts_a_new_run(
    quick_grid_loop: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(quick_grid_loop, folder)
    before = ledger_fits(folder)
    results = folder / "docs/generated/data/results.csv"
    (first,) = read_csv(results)
    again = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert ledger_fits(folder) == before  # nothing retrained
    assert read_csv(results) == [first]  # a finished run is not entered again: same wall time

    other = run_course("run", "grid-loop", "--profile", "quick", "--seed", "7", cwd=folder)
    assert other.returncode == 0, other.stderr
    after = ledger_fits(folder)
    new_runs = {key[0] for key in after} - {key[0] for key in before}
    assert len(new_runs) == 1 and len(after) == 2 * len(before)
    (result,) = read_csv(folder / "docs/generated/data/results.csv")
    assert result["seed"] == "7" and result["run_id"] in new_runs


def test_seed_protocol_selects_on_the_test_split(quick_grid_loop: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(quick_grid_loop, folder)
    proc = run_course("run", "grid-loop", "--profile", "quick", "--protocol", "seed", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    rows = {r["method"]: r for r in read_csv(folder / "docs/generated/data/results.csv")}
    assert set(rows) == {"grid-loop", "grid-loop[seed-protocol]"}
    seed = rows["grid-loop[seed-protocol]"]
    assert seed["protocol"] == "seed"
    # validating on the test split makes the selection score *be* the test accuracy
    assert float(seed["selection_score"]) == pytest.approx(float(seed["test_accuracy"]), abs=1e-6)
    clean = read_csv(quick_grid_loop / "docs/generated/data/results.csv")[0]
    assert rows["grid-loop"]["test_accuracy"] == clean["test_accuracy"]


def test_tensorflow_backend_works_too(workdir: Path) -> None:
    env_backend = {"KERAS_BACKEND": "tensorflow"}
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=workdir, env=env_backend)
    assert proc.returncode == 0, proc.stderr
    (result,) = read_csv(workdir / "docs/generated/data/results.csv")
    assert result["backend"] == "tensorflow"
    assert int(result["n_fits"]) == load_profile("quick").space.size


def _fits(folder: Path) -> list[list[str]]:
    """Every fit of a run as trials.csv records it, timing aside."""
    fits = ["trial", "fold", "seed", *NAMES, "epochs_run", "best_epoch", "val_accuracy",
            "val_loss"]  # fmt: skip
    return [[r[c] for c in fits] for r in read_csv(folder / "docs/generated/data/trials.csv")]


def test_two_workers_and_xla_default_emitters_train_the_same_fits(
    quick_grid_loop: Path, workdir: Path
) -> None:
    """Speed options change no fit: two worker processes, compiling with XLA's default emitters
    instead of the legacy ones the package asks for (course/speed.py), train every fit of one
    process with the defaults to the same bits."""
    args = ["run", "grid-loop", "--profile", "quick", "--workers", "2"]
    # XLA_FLAGS cleared: this test process may carry the legacy flag from configuring Keras
    env = {"COURSE_XLA_EMITTERS": "fusion", "XLA_FLAGS": ""}
    proc = run_course(*args, cwd=workdir, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _fits(workdir) == _fits(quick_grid_loop)

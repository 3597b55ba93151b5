"""The SQLite ledger on its own: WAL, resume by run id, fresh restarts, schema versions."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from course.config import Training
from course.ledger import SCHEMA_VERSION, Ledger, Run, clock
from course.records import FitKey, FitOutcome, FitRecord
from tests.conftest import error_line, run_course

# A real ledger from before schema versions (main at c85d318): `course run grid-loop --profile
# quick`, trimmed to that run.
OLD_LEDGER = Path(__file__).parent / "data" / "ledger-before-versions.sqlite"
# A real ledger of schema version 2 (main at 5541524): `course run-all --profile quick`, whole.
V2_LEDGER = Path(__file__).parent / "data" / "ledger-v2.sqlite"


def _run(run_id: str = "grid-loop-abc") -> Run:
    return Run(run_id, "grid-loop", "grid-loop", "", "search", "clean", "quick", 42, "abc", "{}",
               "d.csv",
               "sha", "jax", "course run grid-loop", 1.0, None, 0.0)  # fmt: skip


def _outcome(val_accuracy: list[float]) -> FitOutcome:
    history = {"val_accuracy": val_accuracy, "val_loss": [1.0] * len(val_accuracy)}
    return FitOutcome.from_history(history, Training(monitor="val_accuracy", patience=2),
                                   seconds=0.5)  # fmt: skip


def test_best_epoch_is_the_first_optimum_as_the_callbacks_see_it() -> None:
    outcome = _outcome([0.3, 0.5, 0.5, 0.4])
    assert (outcome.best_epoch, outcome.epochs_run, outcome.val_accuracy) == (2, 4, 0.5)
    loss = FitOutcome.from_history(
        {"val_accuracy": [0.1, 0.2, 0.3], "val_loss": [3.0, 1.0, 2.0]},
        Training(monitor="val_loss"), seconds=1,
    )  # fmt: skip
    assert loss.best_epoch == 2 and loss.val_loss == 1.0


def test_fits_survive_reopening_and_fresh_discards_them(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "ledger.sqlite"
    ledger = Ledger(path)
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ledger.open_run(_run())
    record = FitRecord(FitKey(0, 0), {"units": 16}, 42, _outcome([0.3, 0.4]))
    ledger.record("grid-loop-abc", record)
    ledger.close()

    reopened = Ledger(path)  # a new process after an interruption
    resumed = reopened.open_run(_run())
    assert resumed.run_id == "grid-loop-abc"
    assert reopened.fit("grid-loop-abc", FitKey(0, 0)) is not None
    assert reopened.fit("grid-loop-abc", FitKey(1, 0)) is None
    assert reopened.fit("grid-loop-abc", FitKey(0, 0, rung=1)) is None  # another budget
    (fit,) = reopened.fits("grid-loop-abc")
    assert fit["params"] == {"units": 16} and fit["history"]["val_accuracy"] == [0.3, 0.4]

    reopened.open_run(_run(), fresh=True)
    assert reopened.fits("grid-loop-abc") == []
    reopened.close()


def test_a_runs_seconds_are_recorded_while_it_runs(tmp_path: Path) -> None:
    """A SIGKILL skips every `finally`: the clock writes the time as it passes instead."""
    path = tmp_path / "runs" / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.open_run(_run())
    started = time.perf_counter()
    with clock(path, "grid-loop-abc", every=0.05):
        deadline = time.monotonic() + 10  # a loaded machine may run the clock's thread late
        while (midway := ledger.runs()[0]).seconds < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)  # what a rerun after a kill here would find: the time so far
        elapsed = time.perf_counter() - started
    (after,) = ledger.runs()
    ledger.close()
    assert 0.25 <= midway.seconds <= elapsed and midway.seconds <= after.seconds


def test_a_ledger_from_before_schema_versions_migrates_and_exports(workdir: Path) -> None:
    path = workdir / "runs" / "ledger.sqlite"
    path.parent.mkdir()
    shutil.copy(OLD_LEDGER, path)
    old = sqlite3.connect(path)
    columns = "run_id, trial, fold, params, epochs_run, best_epoch, val_accuracy, val_loss, history"
    before = old.execute(f"SELECT {columns} FROM fits ORDER BY trial").fetchall()
    assert old.execute("PRAGMA user_version").fetchone()[0] == 0 and len(before) == 8
    old.close()

    ledger = Ledger(path)
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    after = ledger.db.execute(f"SELECT {columns}, rung FROM fits ORDER BY trial").fetchall()
    assert [tuple(row)[:-1] for row in after] == before  # every fit kept, value for value
    assert {row["rung"] for row in after} == {0}
    (run,) = ledger.runs()
    result = ledger.result(run.run_id)
    ledger.close()
    Ledger(path).close()  # opened again: nothing left to migrate

    assert result is not None and result["tied"] is None  # not counted before version 4
    _is_another_study(workdir, runs=1)


def _is_another_study(workdir: Path, runs: int) -> None:
    """The CLI reads the migrated ledger; its runs belong to the old quick profile, which the
    search-space issue changed, so today's study counts them as another study's."""
    assert run_course("data", "fetch", cwd=workdir).returncode == 0
    proc = run_course("clean", "--profile", "quick", "--other-studies", "--dry-run", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert f"and {runs} runs of other studies" in proc.stdout


def test_a_version_2_ledger_gains_variant_and_kind_and_exports(workdir: Path) -> None:
    path = workdir / "runs" / "ledger.sqlite"
    path.parent.mkdir()
    shutil.copy(V2_LEDGER, path)
    old = sqlite3.connect(path)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    fits_before = old.execute("SELECT * FROM fits ORDER BY run_id, trial, fold, rung").fetchall()
    old.close()

    ledger = Ledger(path)
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    fits_after = ledger.db.execute("SELECT * FROM fits ORDER BY run_id, trial, fold, rung")
    assert [tuple(row) for row in fits_after] == fits_before  # fits untouched
    runs = {run.method: run for run in ledger.runs()}
    ledger.close()
    assert {label: (run.variant, run.kind) for label, run in runs.items()} == {
        "grid-loop": ("", "search"),
        "grid-loop[seed-protocol]": ("", "search"),
        "grid-search-cv": ("", "search"),
        "randomized-search-cv[cv3-n4]": ("cv3-n4", "search"),
        "kt-random-search": ("", "search"),
        "kt-hyperband": ("", "search"),
        "cv-study[holdout]": ("holdout", "study"),
        "cv-study[cv3]": ("cv3", "study"),
    }

    _is_another_study(workdir, runs=len(runs))


def test_a_ledger_from_a_newer_course_is_refused_in_one_line(workdir: Path) -> None:
    path = workdir / "runs" / "ledger.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    line = error_line(run_course("export", "--profile", "quick", cwd=workdir))
    assert "newer than this course" in line and "ledger.sqlite" in line

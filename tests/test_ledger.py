"""The SQLite ledger on its own: WAL, resume by run id, fresh restarts."""

from __future__ import annotations

from pathlib import Path

from course.config import Training
from course.ledger import Ledger, Run
from course.records import FitKey, FitOutcome, FitRecord


def _run(run_id: str = "grid-loop-abc") -> Run:
    return Run(run_id, "grid-loop", "grid-loop", "clean", "quick", 42, "abc", "{}", "d.csv",
               "sha", "jax", "course run grid-loop", 1.0, None, 0.0)  # fmt: skip


def _outcome(val_accuracy: list[float]) -> FitOutcome:
    history = {"val_accuracy": val_accuracy, "val_loss": [1.0] * len(val_accuracy)}
    return FitOutcome.from_history(history, Training(patience=2), seconds=0.5)


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

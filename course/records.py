"""What a fit leaves behind, as plain picklable data: its key, its outcome, its record.

A record is built where the fit ran and written where the ledger lives: today a worker process
opens the SQLite file itself (WAL), but a record is plain data so that a backend whose workers
cannot reach that file can send it back to the study process instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from course import paths
from course.speed import CHECKPOINT_SUFFIX

if TYPE_CHECKING:
    from course.config import Training

OK, DIVERGED, PRUNED = "ok", "diverged", "pruned"  # a fit's status


class FitKey(NamedTuple):
    """Which fit of a run: its trial (candidate), fold (0 for holdout, -1 for a refit) and rung
    (0, or the index of the budget when one candidate is trained at several budgets, as
    successive halving does)."""

    trial: int
    fold: int = 0
    rung: int = 0

    def checkpoint(self, run_dir: Path) -> Path:
        """Where this fit's best epoch is kept (weights or a whole model: course/speed.py)."""
        return paths.checkpoint(run_dir, *self, CHECKPOINT_SUFFIX)


@dataclass(frozen=True)
class FitOutcome:
    """What the ledger keeps of one fit. `best_epoch` is 1-based, the epoch the checkpoint holds."""

    epochs_run: int
    best_epoch: int
    val_accuracy: float
    val_loss: float
    seconds: float
    history: dict[str, list[float]]
    status: str = OK

    @classmethod
    def from_history(cls, history: dict[str, list[Any]], training: Training, seconds: float,
                     pruned: bool = False, initial_epoch: int = 0) -> FitOutcome:  # fmt: skip
        """Locate the best epoch exactly as the callbacks did: the first strict optimum. A fit
        a pruner stopped early is `pruned` (its scores are those of the epochs it ran); one
        that continued an earlier fit from `initial_epoch` counts its best epoch from the
        start of training."""
        monitored = history[training.monitor]
        pick = min if training.mode == "min" else max
        best = monitored.index(pick(monitored))
        clean = {k: [float(v) for v in values] for k, values in history.items()}
        status = OK if all(math.isfinite(v) for v in clean["val_loss"]) else DIVERGED
        return cls(
            epochs_run=len(monitored),
            best_epoch=initial_epoch + best + 1,
            val_accuracy=clean["val_accuracy"][best],
            val_loss=clean["val_loss"][best],
            seconds=seconds,
            history=clean,
            status=PRUNED if pruned and status == OK else status,
        )


@dataclass(frozen=True)
class FitRecord:
    """One finished fit, ready for the ledger."""

    key: FitKey
    params: dict[str, Any]
    seed: int
    outcome: FitOutcome
    extra: dict[str, Any] = field(default_factory=dict)

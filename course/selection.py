"""How every method picks its configuration: one score, one tie rule, the ties counted.

A method ranks configurations by the profile's `selection` score (validation accuracy or loss,
at a fit's checkpointed epoch, or its mean over CV folds). On 160 validation rows accuracy moves
in steps of 0.625 points, so ties are common; every method breaks them the same way: the better
other score (lower loss for accuracy, higher accuracy for loss), then the earlier trial.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ACCURACY, LOSS = "val_accuracy", "val_loss"


def better(selection: str) -> int:
    """+1 where higher is better (accuracy), -1 where lower is (loss)."""
    return -1 if selection.endswith("loss") else 1


@dataclass(frozen=True)
class Pick:
    """The chosen candidate (its row, as given), and how many candidates shared its score."""

    row: dict[str, Any]
    tied: int

    @property
    def trial(self) -> int:
        return int(self.row["trial"])


# --8<-- [start:pick]
def pick(rows: Iterable[dict[str, Any]], selection: str) -> Pick:
    """The best of `rows` (each with `trial`, `val_accuracy` and `val_loss`) by `selection`;
    ties go to the better other score, then to the earlier trial."""
    rows = list(rows)
    other = LOSS if selection == ACCURACY else ACCURACY

    def rank(row: dict[str, Any]) -> tuple[float, float, int]:
        return (_signed(row[selection], selection), _signed(row[other], other), -row["trial"])

    best = max(rows, key=rank)
    tied = sum(row[selection] == best[selection] for row in rows)
    return Pick(best, tied)


# --8<-- [end:pick]


def _signed(value: float | None, score: str) -> float:
    """A score where higher is better; a missing or diverged (NaN) one ranks last."""
    if value is None or math.isnan(value):
        return -math.inf
    return better(score) * value

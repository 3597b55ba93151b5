"""One selection rule for every method: the selection score, then the other score, then the
earlier trial; ties counted, diverged fits last."""

from __future__ import annotations

import math
import random

import pytest

from course.selection import ACCURACY, LOSS, better, pick


def row(trial: int, accuracy: float, loss: float) -> dict:
    return {"trial": trial, ACCURACY: accuracy, LOSS: loss}


def test_the_best_accuracy_wins_whatever_its_loss() -> None:
    rows = [row(0, 0.40, 0.9), row(1, 0.45, 1.5), row(2, 0.42, 0.8)]
    chosen = pick(rows, ACCURACY)
    assert chosen.trial == 1 and chosen.tied == 1
    assert chosen.row is rows[1]  # the row as given, other keys and all


def test_accuracy_ties_go_to_the_lower_loss_then_the_earlier_trial() -> None:
    rows = [row(0, 0.40, 0.7), row(1, 0.425, 1.2), row(2, 0.425, 1.1),
            row(3, 0.425, 1.1), row(4, 0.425, 1.3)]  # fmt: skip
    chosen = pick(rows, ACCURACY)
    assert chosen.trial == 2  # 2 and 3 share the lowest loss among the tied: the earlier one
    assert chosen.tied == 4  # trials 1 to 4 share the best accuracy


def test_the_order_of_the_rows_does_not_change_the_pick() -> None:
    rows = [row(t, 0.425 if t % 2 else 0.4, 1.0 + (t % 3) / 10) for t in range(12)]
    expected = pick(rows, ACCURACY)
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert pick(shuffled, ACCURACY) == expected


def test_selecting_by_loss_takes_the_lowest_and_breaks_ties_by_accuracy() -> None:
    rows = [row(0, 0.30, 0.80), row(1, 0.50, 0.90), row(2, 0.40, 0.80), row(3, 0.45, 0.80)]
    chosen = pick(rows, LOSS)
    assert chosen.trial == 3  # lowest loss (0.80, three rows), then the highest accuracy
    assert chosen.tied == 3
    assert pick([row(5, 0.4, 0.8), row(2, 0.4, 0.8)], LOSS).trial == 2  # then the earlier trial


def test_a_diverged_fit_ranks_last() -> None:
    nan = math.nan
    by_loss = [row(0, 0.25, nan), row(1, 0.30, 1.4), row(2, 0.20, 1.3)]
    assert pick(by_loss, LOSS).trial == 2  # NaN is not the smallest loss
    by_accuracy = [row(0, nan, 0.5), row(1, 0.30, 1.4)]
    assert pick(by_accuracy, ACCURACY).trial == 1
    # a NaN other score loses the tie-break to a finite one, whichever way the rows come
    tied = [row(0, 0.4, nan), row(1, 0.4, 2.0)]
    assert pick(tied, ACCURACY).trial == pick(tied[::-1], ACCURACY).trial == 1
    assert pick([row(0, 0.4, None), row(1, 0.4, 2.0)], ACCURACY).trial == 1  # missing too


def test_better_says_which_way_each_score_improves() -> None:
    assert better(ACCURACY) == 1 and better(LOSS) == -1


@pytest.mark.parametrize("selection", [ACCURACY, LOSS])
def test_one_candidate_is_picked_alone(selection: str) -> None:
    chosen = pick([row(7, 0.3, 1.0)], selection)
    assert chosen.trial == 7 and chosen.tied == 1

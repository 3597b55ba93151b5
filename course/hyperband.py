"""Hyperband's schedule as arithmetic: brackets, rounds, trials and epochs, with no Keras import.

The method drives KerasTuner's own Hyperband; `course hyperband-plan` prints this schedule and
export writes it as data (`hyperband_plan.csv`), so the report can set the plan beside the run
without importing the method. `halving` is the same for scikit-learn's successive halving, the
loop inside one Hyperband bracket (`halving_plan.csv`).
"""

from __future__ import annotations

import math

PLAN_COLUMNS = ("iteration", "bracket", "round", "trials", "epochs", "epochs_trained")


def plan(max_epochs: int, factor: int, iterations: int = 1) -> list[dict[str, int]]:
    """KerasTuner's Hyperband schedule: trials and epochs per bracket and round.

    The same arithmetic as `keras_tuner.oracles.HyperbandOracle` (brackets are played from the
    most aggressive one down to plain random search, once per iteration).
    """
    # --8<-- [start:plan]
    brackets, epochs = 0, float(max_epochs)
    while epochs >= 1:
        epochs /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    rows = []
    for iteration in range(iterations):
        for bracket in reversed(range(brackets)):
            for round_ in range(bracket + 1):
                rows.append({
                    "iteration": iteration,
                    "bracket": bracket,
                    "round": round_,
                    "trials": math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_)),
                    "epochs": math.ceil(max_epochs / factor ** (bracket - round_)),
                })  # fmt: skip
    # --8<-- [end:plan]
    for row, before in zip(rows, [None, *rows], strict=False):
        # a later round continues its parents' weights: it trains only the epochs in between
        start = before["epochs"] if before and row["round"] > 0 else 0
        row["epochs_trained"] = row["trials"] * (row["epochs"] - start)
    return rows


def new_configurations(rows: list[dict[str, int]]) -> int:
    """How many configurations a schedule draws: every first round starts new ones."""
    return sum(row["trials"] for row in rows if row["round"] == 0)


def total_trials(rows: list[dict[str, int]]) -> int:
    return sum(row["trials"] for row in rows)


def schedule_table(max_epochs: int, factor: int, iterations: int = 1) -> str:
    """`plan` as the text table `course hyperband-plan` prints, with its totals."""
    rows = plan(max_epochs, factor, iterations)
    lines = ["  ".join(PLAN_COLUMNS)]
    lines += ["  ".join(f"{row[h]:>{len(h)}}" for h in PLAN_COLUMNS) for row in rows]
    lines.append(
        f"{len(rows)} rounds, {total_trials(rows)} trials "
        f"({new_configurations(rows)} new configurations), at most "
        f"{sum(r['epochs_trained'] for r in rows)} epochs "
        f"(max_epochs={max_epochs}, factor={factor}, iterations={iterations})"
    )
    return "\n".join(lines)


def halving(candidates: int, min_epochs: int, max_epochs: int, factor: int) -> list[dict[str, int]]:
    """scikit-learn's successive halving schedule with epochs as the resource: candidates and
    epochs per round.

    The same arithmetic as `BaseSuccessiveHalving._run_search` (without aggressive elimination):
    as many rounds as both budgets allow -- until fewer than `factor` candidates would remain,
    and until `factor` times the epochs would pass `max_epochs`.
    """
    # --8<-- [start:halving]
    required = 1 + math.floor(math.log(candidates, factor))  # ends with < factor candidates
    possible = 1 + math.floor(math.log(max_epochs // min_epochs, factor))  # ends <= max_epochs
    rows = []
    for round_ in range(min(required, possible)):
        rows.append({"round": round_, "candidates": candidates,
                     "epochs": min(min_epochs * factor**round_, max_epochs)})  # fmt: skip
        candidates = math.ceil(candidates / factor)  # the best 1/factor go on
    # --8<-- [end:halving]
    return rows

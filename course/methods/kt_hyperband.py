"""kt-hyperband: KerasTuner's Hyperband, successive halving over brackets.

Hyperband starts many configurations with a few epochs, keeps the best 1/`factor` of them and
trains those longer, round after round, up to `max_epochs`; brackets trade the number of
configurations against epochs. Epochs are Hyperband's to allot, so it does not tune them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import CourseError
from course.space import EPOCHS

if TYPE_CHECKING:
    import keras_tuner

    from course.config import Profile
    from course.runner import Context


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


def schedule_table(max_epochs: int, factor: int, iterations: int = 1) -> str:
    """`plan` as the text table `course hyperband-plan` prints, with its totals."""
    rows = plan(max_epochs, factor, iterations)
    header = ("iteration", "bracket", "round", "trials", "epochs", "epochs_trained")
    lines = ["  ".join(header)]
    lines += ["  ".join(f"{row[h]:>{len(h)}}" for h in header) for row in rows]
    new = sum(row["trials"] for row in rows if row["round"] == 0)
    lines.append(
        f"{len(rows)} rounds, {sum(row['trials'] for row in rows)} trials "
        f"({new} new configurations), at most {sum(r['epochs_trained'] for r in rows)} epochs "
        f"(max_epochs={max_epochs}, factor={factor}, iterations={iterations})"
    )
    return "\n".join(lines)


# KerasTuner draws untried configurations at random and gives up after a few collisions, so
# the schedule must leave room: at most this share of the space may be drawn.
MAX_SHARE_DRAWN = 0.75


def validate(profile: Profile, settings: dict[str, Any]) -> None:
    """Refuse a schedule the space cannot feed: KerasTuner's Hyperband stops for good once it
    cannot draw an untried configuration (epochs excluded, since Hyperband allots them)."""
    schedule = plan(settings["max_epochs"], settings["factor"], settings["hyperband_iterations"])
    needed = sum(row["trials"] for row in schedule if row["round"] == 0)
    available = profile.space.size // len(profile.space.values[EPOCHS])
    if needed > MAX_SHARE_DRAWN * available:
        raise CourseError(
            f"methods.kt-hyperband: its schedule draws {needed} new configurations from a space "
            f"of {available} (without epochs); lower max_epochs or hyperband_iterations, tune "
            "more hyperparameters, or --skip kt-hyperband"
        )


def tuner(profile: Profile, settings: dict[str, Any], run_dir: Path) -> keras_tuner.Tuner:
    from course.methods.tuner_search import LedgerHyperband, MLPHyperModel, objective

    # --8<-- [start:tuner]
    return LedgerHyperband(  # keras_tuner.Hyperband, recording each trial in the ledger
        MLPHyperModel(profile.space, seed=profile.seed, tune_epochs=False),
        objective=objective(profile.training),
        max_epochs=settings["max_epochs"],
        factor=settings["factor"],
        hyperband_iterations=settings["hyperband_iterations"],
        seed=profile.seed,
        directory=run_dir,
        project_name="tuner",
    )
    # --8<-- [end:tuner]


def run(ctx: Context) -> None:
    from course.methods.tuner_search import run_tuner

    s = ctx.settings
    schedule = plan(s["max_epochs"], s["factor"], s["hyperband_iterations"])
    run_tuner(ctx, tuner, sum(row["trials"] for row in schedule))

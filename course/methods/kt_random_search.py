"""kt-random-search: KerasTuner's RandomSearch, `max_trials` random configurations.

Each trial draws every hyperparameter at random from the space (epochs and batch size too,
through `HyperModel.fit`) and is scored on the same holdout split as the grid loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from course.runner import Context


def run(ctx: Context) -> None:
    from course.methods.tuner_search import (
        LedgerRandomSearch,
        MLPHyperModel,
        objective,
        run_tuner,
    )

    profile = ctx.profile
    # --8<-- [start:tuner]
    tuner = LedgerRandomSearch(  # keras_tuner.RandomSearch, recording each trial in the ledger
        MLPHyperModel(profile.space, seed=profile.seed),
        objective=objective(ctx),
        max_trials=ctx.settings["max_trials"],
        seed=profile.seed,
        directory=ctx.run_dir,
        project_name="tuner",  # rerunning the same run resumes from here
    )
    # --8<-- [end:tuner]
    run_tuner(ctx, tuner, min(ctx.settings["max_trials"], profile.space.size))

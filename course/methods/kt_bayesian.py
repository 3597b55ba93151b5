"""kt-bayesian: KerasTuner's BayesianOptimization, a Gaussian process proposing each trial.

The first `initial_points` trials are drawn at random; after each finished trial the oracle
fits a Gaussian process to every score so far and proposes the point that minimises a lower
confidence bound (mean minus 2.6 standard deviations, KerasTuner's `beta`): where the model
predicts a good score (exploitation) or is still unsure (exploration). Batch size and epochs
are drawn through `HyperModel.fit`, as for RandomSearch; every trial is scored on the holdout
split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course.config import Profile, Setting
from course.errors import CourseError
from course.searchers import kt_seed
from course.study import Context, Method, Outcome

if TYPE_CHECKING:
    import keras_tuner

    from course.fitting import Fitter


def tuner(profile: Profile, settings: dict[str, Any], fitter: Fitter) -> keras_tuner.Tuner:
    from course.methods.tuner_search import (
        PROJECT,
        LedgerBayesianOptimization,
        MLPHyperModel,
        objective,
    )

    # --8<-- [start:tuner]
    return LedgerBayesianOptimization(  # keras_tuner.BayesianOptimization, with the ledger
        MLPHyperModel(profile.space, fitter),
        objective=objective(profile.training),
        max_trials=settings["max_trials"],
        num_initial_points=settings["initial_points"],  # random trials before the first GP
        seed=kt_seed(profile.search_seed),
        directory=fitter.run_dir,
        project_name=PROJECT,
    )
    # --8<-- [end:tuner]


class KTBayesian(Method):
    slug = "kt-bayesian"
    title = "KerasTuner BayesianOptimization"
    summary = "KerasTuner BayesianOptimization: a Gaussian process proposes each trial, holdout"
    settings = (
        Setting("max_trials", int, 16, "Trials in all, the random ones included (the oracle "
                "refits its Gaussian process after each: keep it modest).", minimum=1),
        Setting("initial_points", int, 6, "Random trials before the Gaussian process proposes.",
                minimum=1),
    )  # fmt: skip
    order = 42

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        if settings["initial_points"] > settings["max_trials"]:
            raise CourseError(f"methods.{self.slug}.initial_points: {settings['initial_points']}"
                              f" is more than max_trials ({settings['max_trials']}): the "
                              "Gaussian process would never propose a trial")  # fmt: skip

    def run(self, ctx: Context) -> Outcome:
        from course.methods.tuner_search import run_tuner

        return run_tuner(ctx, tuner, min(ctx.settings["max_trials"], ctx.profile.space.count()))

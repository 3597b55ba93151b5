"""kt-random-search: KerasTuner's RandomSearch, `max_trials` random configurations.

Each trial draws every hyperparameter at random from the space (epochs and batch size too,
through `HyperModel.fit`) and is scored on the same holdout split as the grid loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course.config import Profile, Setting
from course.searchers import kt_seed
from course.study import Context, Method, Outcome

if TYPE_CHECKING:
    import keras_tuner

    from course.fitting import Fitter


def tuner(profile: Profile, settings: dict[str, Any], fitter: Fitter) -> keras_tuner.Tuner:
    from course.methods.tuner_search import PROJECT, LedgerRandomSearch, MLPHyperModel, objective

    # --8<-- [start:tuner]
    return LedgerRandomSearch(  # keras_tuner.RandomSearch, recording each trial in the ledger
        MLPHyperModel(profile.space, fitter),
        objective=objective(profile.training),
        max_trials=settings["max_trials"],
        seed=kt_seed(profile.search_seed),
        directory=fitter.run_dir,
        project_name=PROJECT,  # rerunning the same run resumes from here
    )
    # --8<-- [end:tuner]


class KTRandomSearch(Method):
    slug = "kt-random-search"
    title = "KerasTuner RandomSearch"
    summary = "KerasTuner RandomSearch: max_trials random configurations, holdout validation"
    settings = (Setting("max_trials", int, 10, "Random configurations to try.", minimum=1),)
    order = 40

    def run(self, ctx: Context) -> Outcome:
        from course.methods.tuner_search import run_tuner

        return run_tuner(ctx, tuner, min(ctx.settings["max_trials"], ctx.profile.space.count()))

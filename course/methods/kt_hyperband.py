"""kt-hyperband: KerasTuner's Hyperband, successive halving over brackets.

Hyperband starts many configurations with a few epochs, keeps the best 1/`factor` of them and
trains those longer, round after round, up to `max_epochs`; brackets trade the number of
configurations against epochs. Epochs are Hyperband's to allot, so it does not tune them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course import hyperband
from course.config import Profile, Setting
from course.errors import CourseError
from course.searchers import kt_seed
from course.space import EPOCHS
from course.study import Context, Method, Outcome

if TYPE_CHECKING:
    import keras_tuner

    from course.fitting import Fitter


def schedule(settings: dict[str, Any]) -> list[dict[str, int]]:
    """The schedule a profile's `[methods.kt-hyperband]` settings make."""
    return hyperband.plan(
        settings["max_epochs"], settings["factor"], settings["hyperband_iterations"]
    )


# KerasTuner draws untried configurations at random and gives up after a few collisions, so
# the schedule must leave room: at most this share of the space may be drawn.
MAX_SHARE_DRAWN = 0.75


def tuner(profile: Profile, settings: dict[str, Any], fitter: Fitter) -> keras_tuner.Tuner:
    from course.methods.tuner_search import PROJECT, LedgerHyperband, MLPHyperModel, objective

    # --8<-- [start:tuner]
    return LedgerHyperband(  # keras_tuner.Hyperband, recording each trial in the ledger
        MLPHyperModel(profile.space, fitter, tune_epochs=False),
        objective=objective(profile.training),
        max_epochs=settings["max_epochs"],
        factor=settings["factor"],
        hyperband_iterations=settings["hyperband_iterations"],
        seed=kt_seed(profile.search_seed),
        directory=fitter.run_dir,
        project_name=PROJECT,
    )
    # --8<-- [end:tuner]


class KTHyperband(Method):
    slug = "kt-hyperband"
    title = "KerasTuner Hyperband"
    summary = "KerasTuner Hyperband: successive halving of epochs over brackets"
    settings = (
        Setting("max_epochs", int, 30, "Most epochs a trial trains (the last round's).",
                minimum=2),
        Setting("factor", int, 3, "Each round keeps 1/factor of the trials, trained factor "
                "times longer.", minimum=2),
        Setting("hyperband_iterations", int, 1, "How often the whole set of brackets is "
                "played.", minimum=1),
    )  # fmt: skip
    order = 50

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        """Refuse a schedule the space cannot feed: KerasTuner's Hyperband stops for good once it
        cannot draw an untried configuration (epochs excluded, since Hyperband allots them)."""
        needed = hyperband.new_configurations(schedule(settings))
        available = profile.space.count(skip=(EPOCHS,))  # math.inf with a float range
        if needed > MAX_SHARE_DRAWN * available:
            raise CourseError(
                f"methods.kt-hyperband: its schedule draws {needed} new configurations from a "
                f"space of {available} (without epochs); lower max_epochs or "
                "hyperband_iterations, tune more hyperparameters, or --skip kt-hyperband"
            )

    def plans(self, settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {"hyperband_plan": schedule(settings)}

    def run(self, ctx: Context) -> Outcome:
        from course.methods.tuner_search import run_tuner

        return run_tuner(ctx, tuner, hyperband.total_trials(schedule(ctx.settings)))

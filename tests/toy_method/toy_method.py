"""toy-first: trains one configuration of the grid and calls it the winner.

Not a search worth running, but every step a real method takes: it declares its settings,
trains through the course's own builder and callbacks, records its fit in the ledger and
returns its final model for the study to score. It lives outside `course/` on purpose.
"""

from __future__ import annotations

from typing import Any

from course.config import Setting
from course.data import holdout_preprocessing, holdout_scaled
from course.fitting import keep_final
from course.records import FitKey
from course.study import Context, Method, Outcome


class FirstConfiguration(Method):
    slug = "toy-first"
    title = "First configuration"
    summary = "toy: trains one configuration of the grid (the plug-in path, tested)"
    settings = (Setting("trial", int, 0, "Which configuration of the grid to train.", minimum=0),)

    def check(self, profile: Any, settings: dict[str, Any]) -> None:
        from course.errors import CourseError

        if settings["trial"] >= profile.space.size:
            raise CourseError(f"methods.toy-first.trial: the grid has {profile.space.size}")

    def run(self, ctx: Context) -> Outcome:
        profile, trial = ctx.profile, ctx.settings["trial"]
        x_train, y_train, x_val, y_val, _, _ = holdout_scaled(
            ctx.split, profile.seed, profile.validation_size
        )
        params, key = profile.space.grid()[trial], FitKey(trial)
        fitter = ctx.fitter(1)  # the run's ledger, and its bar on the progress display
        if key not in fitter.done:  # a rerun resumes: the fit is in the ledger already
            fitter.fit(key, params, (x_train, y_train), validation=(x_val, y_val))
        (fit,) = ctx.fits()
        # the final model, saved with the preprocessing it learnt behind, scores the raw test rows
        scale = holdout_preprocessing(ctx.split, profile.seed, profile.validation_size)
        path, predictions = keep_final(fitter.best(key, params), scale, ctx.split, ctx.run_dir)
        return Outcome(params, fit["val_accuracy"], path, predictions)

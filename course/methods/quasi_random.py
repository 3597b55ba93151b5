"""quasi-random: scrambled Sobol points over the space, each trained on the holdout split.

The Deep Learning Tuning Playbook's choice for exploring a space: a low-discrepancy sequence
covers the unit cube more evenly than independent random draws (no clumps, no large holes),
while still giving every trial its own value of every tuned hyperparameter, which a grid does
not. Each point of `scipy.stats.qmc.Sobol` (scrambled, seeded) is mapped onto the space by
`Space.from_unit`: a list's values take equal shares of [0, 1), a range is spread evenly on its
scale (log-uniform with `log`). Training and the pick are the grid loop's.
"""

from __future__ import annotations

import warnings
from typing import Any

from course.config import Profile, Setting
from course.errors import CourseError
from course.searchers import FixedSearcher, drain
from course.study import Context, Method, Outcome


class QuasiRandom(Method):
    slug = "quasi-random"
    title = "Quasi-random search"
    summary = "scrambled Sobol points (scipy.stats.qmc) mapped onto the space, holdout validation"
    settings = (
        Setting("trials", int, 16, "Sobol points to train (a power of two keeps the sequence "
                "balanced).", minimum=1),
    )  # fmt: skip
    order = 45

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        if not profile.space.tuned:
            raise CourseError(f"methods.{self.slug}: the space tunes nothing; give a "
                              "hyperparameter a list or a range")  # fmt: skip

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        """The first `trials` points of one scrambled Sobol sequence, seeded by the profile."""
        from scipy.stats import qmc

        space = profile.space
        # --8<-- [start:points]
        sobol = qmc.Sobol(d=len(space.tuned), scramble=True, seed=profile.search_seed)
        with warnings.catch_warnings():  # balance is best at 2**m points; any count is valid
            warnings.simplefilter("ignore", UserWarning)
            points = sobol.random(settings["trials"])  # in the unit cube, one column per name
        return FixedSearcher(space.from_unit(point) for point in points)
        # --8<-- [end:points]

    def run(self, ctx: Context) -> Outcome:
        from course.methods.grid_loop import search_holdout

        return search_holdout(ctx, drain(self.searcher(ctx.profile, ctx.settings)))

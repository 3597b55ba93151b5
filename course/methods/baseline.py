"""baseline: one fit at the defaults a practitioner starts from, no search at all.

What every search must beat to have bought anything: the MLP at fixed, untuned values (Keras'
defaults where Keras has one: Adam at a learning rate of 1e-3, batch size 32, no dropout), with
the same EarlyStopping, checkpoint, epoch budget and holdout split as the grid loop, scored
once on the same test rows. The report pairs every search against it. Its values are the
profile's `[methods.baseline]` table, one key per hyperparameter (the epoch budget is
`training.max_epochs`).
"""

from __future__ import annotations

from typing import Any

from course.config import Profile, Setting
from course.searchers import FixedSearcher, drain
from course.space import EPOCHS, HYPERPARAMETERS
from course.study import BASELINE, Context, Method, Outcome


class Baseline(Method):
    slug = "baseline"
    title = "Baseline (untuned)"
    summary = "one fit at fixed default values, no search: what tuning has to beat"
    kind = BASELINE
    settings = tuple(
        Setting(name, spec.kind, spec.default, spec.meaning, check=spec.check, rule=spec.bounds)
        for name, spec in HYPERPARAMETERS.items()
        if name != EPOCHS
    )
    order = 5

    # --8<-- [start:baseline]
    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        return FixedSearcher([{**settings, EPOCHS: profile.training.max_epochs}])

    def run(self, ctx: Context) -> Outcome:
        from course.methods.grid_loop import search_holdout

        return search_holdout(ctx, drain(self.searcher(ctx.profile, ctx.settings)))

    # --8<-- [end:baseline]

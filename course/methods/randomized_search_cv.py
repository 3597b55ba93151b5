"""randomized-search-cv: scikit-learn's RandomizedSearchCV, `n_iter` configurations by k-fold CV.

It samples `n_iter` configurations from the same grid instead of trying them all, so its cost
is set by the budget, not by the size of the grid. A profile lists variants (`cv`, `n_iter`)
to show what more folds and more iterations buy; each variant is its own run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from course.runner import Context


def variants(settings: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """One run per `{cv, n_iter}` variant of the profile, named like `cv5-n30`."""
    return [(f"cv{v['cv']}-n{v['n_iter']}", v) for v in settings["variants"]]


def run(ctx: Context) -> None:
    from sklearn.model_selection import ParameterSampler, RandomizedSearchCV, StratifiedKFold

    from course.methods.sklearn_search import STEP, pipeline, run_search

    profile = ctx.profile
    n_iter = min(ctx.settings["n_iter"], profile.space.size)  # never more than the grid holds
    # --8<-- [start:search]
    search = RandomizedSearchCV(
        pipeline(ctx),
        param_distributions=profile.space.param_grid(step=STEP),  # lists: sampled uniformly
        n_iter=n_iter,
        cv=StratifiedKFold(n_splits=ctx.settings["cv"], shuffle=True, random_state=profile.seed),
        random_state=profile.seed,
        refit=True,
    )
    # --8<-- [end:search]
    sampled = ParameterSampler(search.param_distributions, n_iter, random_state=profile.seed)
    run_search(ctx, search, list(sampled))  # the same draws the search makes

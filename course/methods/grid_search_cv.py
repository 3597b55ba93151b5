"""grid-search-cv: scikit-learn's GridSearchCV over the whole grid, scored by k-fold CV.

Exhaustive like the grid loop, but every configuration is trained k times (once per fold) and
judged by its mean accuracy on the held-out folds, a less noisy estimate than one holdout.
With `refit=True` the winner is retrained on the whole development set; that model is scored
once on the test set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from course.runner import Context


def run(ctx: Context) -> None:
    from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold

    from course.methods.sklearn_search import STEP, pipeline, run_search

    profile = ctx.profile
    # --8<-- [start:search]
    search = GridSearchCV(
        pipeline(ctx),
        param_grid=profile.space.param_grid(step=STEP),
        cv=StratifiedKFold(n_splits=ctx.settings["cv"], shuffle=True, random_state=profile.seed),
        refit=True,  # retrain the best configuration on the whole development set
    )
    # --8<-- [end:search]
    run_search(ctx, search, list(ParameterGrid(search.param_grid)))

"""grid-search-cv: scikit-learn's GridSearchCV over the whole grid, scored by k-fold CV.

Exhaustive like the grid loop, but every configuration is trained k times (once per fold) and
judged by its mean accuracy on the held-out folds, a less noisy estimate than one holdout.
With `refit=True` the winner is retrained on the whole development set; that model is scored
once on the test set.
"""

from __future__ import annotations

from typing import Any

from course.config import Profile, Setting
from course.data import Split, check_folds
from course.searchers import FixedSearcher, drain
from course.study import Context, Method, Outcome


class SklearnGridSearch(Method):
    slug = "grid-search-cv"
    title = "GridSearchCV"
    summary = "scikit-learn GridSearchCV (scikeras): the whole grid, k-fold cross-validation"
    settings = (Setting("cv", int, 5, "Folds of the cross-validation.", minimum=2),)
    preload = ("scikeras.wrappers",)  # scikeras loads TensorFlow: quietly, once
    order = 20

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        profile.space.grid_values()  # a range without grid points cannot be gridded

    def check_data(self, profile: Profile, settings: dict[str, Any], split: Split) -> None:
        check_folds(settings["cv"], split, f"methods.{self.slug}.cv")

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        from sklearn.model_selection import ParameterGrid

        from course.space import from_sklearn

        # the order GridSearchCV fits in (its names' pipeline prefix keeps their sorted order)
        grid = ParameterGrid(profile.space.param_grid())
        return FixedSearcher(from_sklearn(c) for c in grid)

    def run(self, ctx: Context) -> Outcome:
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        from course.methods.sklearn_search import SCORING, STEP, Selector, pipeline, run_search

        profile = ctx.profile
        # --8<-- [start:search]
        search = GridSearchCV(
            pipeline(ctx),
            param_grid=profile.space.param_grid(step=STEP),
            cv=StratifiedKFold(
                n_splits=ctx.settings["cv"], shuffle=True, random_state=profile.split_seed
            ),
            scoring=SCORING,  # validation accuracy and loss on every held-out fold
            refit=Selector(profile.selection),  # retrain the pick on the whole development set
        )
        # --8<-- [end:search]
        candidates = [c.params for c in drain(self.searcher(profile, ctx.settings))]
        return run_search(ctx, search, candidates)

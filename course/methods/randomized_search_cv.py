"""randomized-search-cv: scikit-learn's RandomizedSearchCV, `n_iter` configurations by k-fold CV.

It samples `n_iter` configurations from the space instead of trying a grid: a list uniformly,
a range from its distribution (log-uniform with `log`), so every draw has its own learning
rate; its cost is set by the budget, not by the size of a grid. A profile lists variants
(`cv`, `n_iter`) to show what more folds and more iterations buy; each variant is its own run.
"""

from __future__ import annotations

from typing import Any

from course.config import Profile, Setting, check_keys, get_value
from course.data import Split, check_folds
from course.errors import CourseError
from course.searchers import FixedSearcher, drain
from course.study import Context, Method, Outcome, Variant

VARIANT_KEYS = {"cv": 2, "n_iter": 1}  # each variant's keys, with their smallest values


def _variants(raw: list[Any], where: str) -> list[dict[str, int]]:
    """Validate a list of `{cv = K, n_iter = N}` tables."""
    if not raw:
        raise CourseError(f"{where}: empty list; give at least one {{cv, n_iter}} table")
    variants = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]."
        if not isinstance(item, dict):
            raise CourseError(f"{where}[{index}]: expected a table like {{cv = 5, n_iter = 10}}")
        check_keys(item, set(VARIANT_KEYS), here)
        variant = {}
        for key, minimum in VARIANT_KEYS.items():
            if key not in item:
                raise CourseError(f"{here}{key}: missing")
            value = get_value(item, key, int, None, here)
            if value < minimum:
                raise CourseError(f"{here}{key}: {value} must be at least {minimum}")
            variant[key] = value
        variants.append(variant)
    return variants


class SklearnRandomizedSearch(Method):
    slug = "randomized-search-cv"
    title = "RandomizedSearchCV"
    summary = "scikit-learn RandomizedSearchCV (scikeras): n_iter sampled configurations, k-fold CV"
    settings = (
        Setting("variants", list, [{"cv": 5, "n_iter": 10}],
                "One run per table: its folds (`cv`) and sampled configurations (`n_iter`).",
                check=_variants,
                rule="tables with keys " + ", ".join(f"`{k}` ≥ {m}"
                                                     for k, m in VARIANT_KEYS.items())),
    )  # fmt: skip
    preload = ("scikeras.wrappers",)
    order = 30

    def variants(self, settings: dict[str, Any]) -> list[Variant]:
        """One run per `{cv, n_iter}` variant of the profile, named like `cv5-n30`."""
        return [Variant(f"cv{v['cv']}-n{v['n_iter']}", v) for v in settings["variants"]]

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        """A variant may not sample more configurations than a finite space holds (its name
        would promise draws it cannot make)."""
        for index, variant in enumerate(settings["variants"]):
            if variant["n_iter"] > profile.space.count():
                raise CourseError(
                    f"methods.{self.slug}.variants[{index}].n_iter: {variant['n_iter']} is more "
                    f"than the space's {profile.space.count()} configurations"
                )

    def check_data(self, profile: Profile, settings: dict[str, Any], split: Split) -> None:
        check_folds(settings["cv"], split, f"methods.{self.slug}.variants: cv = {settings['cv']}")

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        """The draws RandomizedSearchCV makes for one variant's settings (`n_iter`)."""
        from sklearn.model_selection import ParameterSampler

        from course.space import from_sklearn

        n_iter = min(settings["n_iter"], profile.space.count())  # at most a finite space's size
        # the search's parameter names carry its pipeline step's prefix; the same prefix on
        # every name keeps their sorted order, and so the draws
        sampled = ParameterSampler(profile.space.distributions(), n_iter,
                                   random_state=profile.search_seed)  # fmt: skip
        return FixedSearcher(from_sklearn(c) for c in sampled)

    def run(self, ctx: Context) -> Outcome:
        from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

        from course.methods.sklearn_search import SCORING, STEP, Selector, pipeline, run_search

        profile = ctx.profile
        candidates = [c.params for c in drain(self.searcher(profile, ctx.settings))]
        # --8<-- [start:search]
        search = RandomizedSearchCV(
            pipeline(ctx),
            param_distributions=profile.space.distributions(step=STEP),  # course/space.py
            n_iter=len(candidates),  # the profile's n_iter (at most a finite space's size)
            cv=StratifiedKFold(
                n_splits=ctx.settings["cv"], shuffle=True, random_state=profile.split_seed
            ),
            random_state=profile.search_seed,
            scoring=SCORING,  # validation accuracy and loss on every held-out fold
            refit=Selector(profile.selection),  # retrain the pick on the whole development set
        )
        # --8<-- [end:search]
        return run_search(ctx, search, candidates)  # the same draws the search makes

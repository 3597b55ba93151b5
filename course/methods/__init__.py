"""The methods of the course, by slug. Importing this is cheap: modules load on demand."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    slug: str
    module: str
    summary: str
    preload: tuple[str, ...] = ()  # heavy imports to make quietly (scikeras loads TensorFlow)
    study: bool = False  # evidence about a technique, not a search the scoreboard ranks


METHODS: dict[str, Method] = {
    m.slug: m
    for m in (
        Method(
            "grid-loop",
            "course.methods.grid_loop",
            "hand-written itertools.product loop over the grid, holdout validation",
        ),
        Method(
            "grid-search-cv",
            "course.methods.grid_search_cv",
            "scikit-learn GridSearchCV (scikeras): the whole grid, k-fold cross-validation",
            preload=("scikeras.wrappers",),
        ),
        Method(
            "randomized-search-cv",
            "course.methods.randomized_search_cv",
            "scikit-learn RandomizedSearchCV (scikeras): n_iter sampled configurations, k-fold CV",
            preload=("scikeras.wrappers",),
        ),
        Method(
            "kt-random-search",
            "course.methods.kt_random_search",
            "KerasTuner RandomSearch: max_trials random configurations, holdout validation",
        ),
        Method(
            "kt-hyperband",
            "course.methods.kt_hyperband",
            "KerasTuner Hyperband: successive halving of epochs over brackets",
        ),
        Method(
            "cv-study",
            "course.methods.cv_study",
            "study, not a search: holdout vs k-fold CV scores against test scores, per config",
            study=True,
        ),
    )
}

"""halving-random-search-cv: scikit-learn's HalvingRandomSearchCV, epochs as the resource.

Successive halving: `candidates` configurations sampled from the space are each scored by k-fold
CV with a few epochs (`min_epochs`); the best 1/`factor` of them go on to the next round with
`factor` times the epochs, and so on up to `max_epochs`. Each round trains its candidates from
scratch (scikit-learn refits the estimator), so one candidate has one fit per round and fold: a
fit's rung is its round. The winner is the best of the last round only, retrained on the whole
development set with that round's epochs. The search takes one metric, the profile's selection.
Epochs are the resource, so, as for Hyperband, a space that lists epochs has them left out.
"""

from __future__ import annotations

from typing import Any

from course import hyperband
from course.config import Profile, Setting
from course.data import Split, check_folds
from course.errors import CourseError
from course.searchers import FixedSearcher, drain
from course.space import EPOCHS
from course.study import Context, Method, Outcome


def schedule(settings: dict[str, Any]) -> list[dict[str, int]]:
    """The rounds a profile's `[methods.halving-random-search-cv]` settings make."""
    return hyperband.halving(settings["candidates"], settings["min_epochs"],
                             settings["max_epochs"], settings["factor"])  # fmt: skip


class SklearnHalvingRandomSearch(Method):
    slug = "halving-random-search-cv"
    title = "HalvingRandomSearchCV"
    summary = ("scikit-learn HalvingRandomSearchCV (scikeras): successive halving of sampled "
               "configurations, epochs as the resource, k-fold CV")  # fmt: skip
    settings = (
        Setting("candidates", int, 9, "Configurations sampled for the first round.", minimum=2),
        Setting("factor", int, 3, "Each round keeps the best 1/factor, with factor times the "
                "epochs.", minimum=2),
        Setting("min_epochs", int, 2, "Epochs of the first round.", minimum=1),
        Setting("max_epochs", int, 18, "Most epochs a round may give.", minimum=1),
        Setting("cv", int, 3, "Folds of the cross-validation.", minimum=2),
    )  # fmt: skip
    preload = ("scikeras.wrappers",)
    order = 35

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        where = f"methods.{self.slug}"
        if settings["max_epochs"] < settings["min_epochs"] * settings["factor"]:
            raise CourseError(
                f"{where}.max_epochs: {settings['max_epochs']} leaves no second round; give at "
                f"least min_epochs x factor = {settings['min_epochs'] * settings['factor']}"
            )
        if settings["candidates"] > profile.space.count(skip=(EPOCHS,)):
            raise CourseError(
                f"{where}.candidates: {settings['candidates']} is more than the "
                f"space's {profile.space.count(skip=(EPOCHS,))} configurations"
            )

    def check_data(self, profile: Profile, settings: dict[str, Any], split: Split) -> None:
        check_folds(settings["cv"], split, f"methods.{self.slug}.cv: {settings['cv']}")

    def plans(self, settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {"halving_plan": schedule(settings)}

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        """The first round's candidates, as HalvingRandomSearchCV samples them (without
        epochs, the resource it sets per round)."""
        from sklearn.model_selection import ParameterSampler

        from course.methods.sklearn_search import STEP
        from course.space import from_sklearn

        sampled = ParameterSampler(
            profile.space.distributions(STEP, skip=(EPOCHS,)),
            settings["candidates"],
            random_state=profile.search_seed,
        )
        return FixedSearcher(from_sklearn(c, STEP, skip=(EPOCHS,)) for c in sampled)

    def run(self, ctx: Context) -> Outcome:
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.model_selection import HalvingRandomSearchCV, StratifiedKFold

        from course.methods.sklearn_search import SCORING, STEP, pipeline, run_search

        profile, settings = ctx.profile, ctx.settings
        candidates = [c.params for c in drain(self.searcher(profile, settings))]
        # --8<-- [start:search]
        search = HalvingRandomSearchCV(
            pipeline(ctx),
            param_distributions=profile.space.distributions(STEP, skip=(EPOCHS,)),
            n_candidates=settings["candidates"],
            resource=f"{STEP}__{EPOCHS}",  # the classifier's epochs: more for each round
            min_resources=settings["min_epochs"],
            max_resources=settings["max_epochs"],
            factor=settings["factor"],
            cv=StratifiedKFold(
                n_splits=settings["cv"], shuffle=True, random_state=profile.split_seed
            ),
            scoring=SCORING[profile.selection],  # one metric: halving takes no more
            random_state=profile.search_seed,
            refit=True,  # the best of the last round, retrained on the whole development set
        )
        # --8<-- [end:search]
        rounds = schedule(settings)
        outcome = run_search(ctx, search, candidates, rounds)
        planned = [(r["candidates"], r["epochs"]) for r in rounds]  # the plan is what ran
        assert list(zip(search.n_candidates_, search.n_resources_, strict=True)) == planned
        return outcome

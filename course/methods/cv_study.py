"""cv-study: holdout, 3-fold and 5-fold CV (10-fold in `full`) on the same configurations.

Not a search of its own but the evidence behind the seed's claims about cross-validation: every
configuration of the grid is scored by each scheme, and every model the scheme trains is also
scored on the untouched test rows. So the site can show, per scheme, how many rows a model learns
from, how much the fold scores scatter, how well the scheme's score ranks configurations the way
the test set ranks them (Spearman), and what it costs.

Each model is trained as the methods train theirs: EarlyStopping and ModelCheckpoint watch a
validation part (the holdout itself for the holdout scheme, as in the grid loop; the last
`validation_size` of the fold's training rows for k-fold, as in GridSearchCV), and the best
epoch's weights are scored. The scheme's pick is its best mean score; its final model averages
the predicted probabilities of that configuration's fold models (no refit).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from course.config import Profile, Setting
from course.data import check_folds
from course.errors import CourseError
from course.records import FitKey
from course.selection import ACCURACY, LOSS, pick
from course.study import STUDY, Context, Method, Outcome, Variant

if TYPE_CHECKING:  # numpy loads with the fits, not when `course` lists its methods
    from collections.abc import Callable

    import numpy as np

    from course.data import Split
    from course.fitting import Fitter

HOLDOUT = 1  # a "one-fold" scheme: the grid loop's holdout split
MEANS = {ACCURACY: "cv_fold_score", LOSS: "cv_fold_loss"}  # a scheme's scores: fold means
MIN_FOLDS = 2


def _folds(raw: list[Any], where: str) -> list[int]:
    """Distinct fold counts, each at least MIN_FOLDS, in increasing order."""
    if any(isinstance(k, bool) or not isinstance(k, int) or k < MIN_FOLDS for k in raw):
        raise CourseError(f"{where}: {raw}; expected whole numbers of at least {MIN_FOLDS}")
    if len(set(raw)) != len(raw):
        raise CourseError(f"{where}: {raw} lists a fold count twice")
    return sorted(raw)


def folds(ctx: Context) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Row indices of the development set, per fold: (learn from, stop on, score on)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, train_test_split

    profile, y = ctx.profile, ctx.split.y_dev
    rows = np.arange(len(y))
    # --8<-- [start:folds]
    if ctx.settings["folds"] == HOLDOUT:  # the grid loop's own split: it stops and scores
        learn, held = train_test_split(
            rows, test_size=profile.validation_size, stratify=y, random_state=profile.split_seed
        )
        return [(learn, held, held)]
    k_fold = StratifiedKFold(ctx.settings["folds"], shuffle=True, random_state=profile.split_seed)
    schemes = []
    for train, held in k_fold.split(rows, y):
        cut = int(len(train) * (1 - profile.validation_size))  # Keras' validation_split: the end
        schemes.append((train[:cut], train[cut:], held))
    # --8<-- [end:folds]
    return schemes


def configurations(profile: Profile, n: int) -> list[dict[str, Any]]:
    """The grid, or `n` of its configurations drawn with the profile's search seed (in grid order),
    the same ones for every scheme."""
    import numpy as np

    grid = profile.space.grid()
    if not 0 < n < len(grid):
        return grid
    chosen = np.random.default_rng(profile.search_seed).choice(len(grid), n, replace=False)
    return [grid[i] for i in sorted(chosen)]


def _scorer(split: Split, x: np.ndarray, x_test: np.ndarray, learn: np.ndarray,
            held: np.ndarray) -> Callable[[Any], dict[str, Any]]:  # fmt: skip
    """What the study keeps of a fold model's best epoch: its held-out fold accuracy and loss,
    its accuracy on the untouched test rows and how many rows it learned from."""

    def score(model: Any) -> dict[str, Any]:
        import numpy as np

        y = split.y_dev[held]
        p = _probabilities(model, x[held])
        loss = -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean()  # as Keras computes it
        return {"cv_fold_score": float((p.argmax(axis=1) == y).mean()),
                "cv_fold_loss": float(loss),
                "test_accuracy": _accuracy(model, x_test, split.y_test),
                "train_rows": len(learn)}  # fmt: skip

    return score


def fit_fold(fitter: Fitter, split: Split, parts: list[tuple[np.ndarray, ...]],
             scaled: list[tuple[np.ndarray, np.ndarray]], trial: int, params: dict[str, Any],
             fold: int) -> None:  # fmt: skip
    """Train and score one configuration on one fold of its scheme."""
    learn, stop, held = parts[fold]
    (x, x_test), y = scaled[fold], split.y_dev
    fitter.fit(FitKey(trial, fold), params, (x[learn], y[learn]), validation=(x[stop], y[stop]),
               score=_scorer(split, x, x_test, learn, held))  # fmt: skip


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float((_probabilities(model, x).argmax(axis=1) == y).mean())


def _probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(model(x, training=False))  # one eager call: no program to compile


class CVStudy(Method):
    slug = "cv-study"
    title = "CV study"
    summary = "study, not a search: holdout vs k-fold CV scores against test scores, per config"
    kind = STUDY
    order = 90
    settings = (
        Setting("folds", list, [3, 5], "k of each k-fold scheme beside the holdout.",
                check=_folds, rule=f"distinct whole numbers ≥ {MIN_FOLDS}"),
        Setting("configurations", int, 0, "How many configurations of the grid every scheme "
                "scores, drawn at random with the profile's search seed (0: all of them).",
                minimum=0),
    )  # fmt: skip

    def variants(self, settings: dict[str, Any]) -> list[Variant]:
        """The holdout scheme, then one k-fold scheme per entry of `folds`."""
        n = {"configurations": settings["configurations"]}
        return [Variant("holdout", {"folds": HOLDOUT, **n})] + [
            Variant(f"cv{k}", {"folds": k, **n}) for k in settings["folds"]
        ]

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        profile.space.grid_values()  # a range without grid points cannot be gridded

    def check_data(self, profile: Profile, settings: dict[str, Any], split: Split) -> None:
        if settings["folds"] != HOLDOUT:
            check_folds(settings["folds"], split, f"methods.{self.slug}.folds")

    def run(self, ctx: Context) -> Outcome:
        import numpy as np

        profile, split = ctx.profile, ctx.split
        grid = configurations(profile, ctx.settings["configurations"])
        parts = folds(ctx)
        # each fold's preprocessing learns from its learned rows only; (development rows, test
        # rows) transformed for each fold, once
        fitted = [split.schema.preprocessor().fit(split.x_dev.iloc[learn]) for learn, _, _ in parts]
        scaled = [(s.transform(split.x_dev), s.transform(split.x_test)) for s in fitted]
        fitter = ctx.fitter(len(grid) * len(parts))
        todo = [(trial, params, fold) for (trial, params), fold
                in itertools.product(enumerate(grid), range(len(parts)))
                if FitKey(trial, fold) not in fitter.done]  # fmt: skip
        if ctx.cluster is not None:  # a Dask task per fit, the arrays sent once
            ctx.cluster.fit(fitter, fit_fold, todo, shared=(split, parts, scaled))
        else:
            for trial, params, fold in todo:
                fit_fold(fitter, split, parts, scaled, trial, params, fold)

        fits = ctx.fits()
        means = [{"trial": t, **{score: float(np.mean([f["extra"][key] for f in fits
                                                       if f["trial"] == t]))
                                 for score, key in MEANS.items()}}
                 for t in range(len(grid))]  # fmt: skip
        for fit in fits:
            ctx.ledger.add_extra(ctx.run_id, FitKey(fit["trial"], fit["fold"]),
                                 {"cv_score": means[fit["trial"]][ACCURACY]})  # fmt: skip
        chosen = pick(means, profile.selection)  # the scheme's score, the methods' tie rule
        best = chosen.trial
        probabilities = []
        for fold in range(len(parts)):  # the pick's fold models, averaged
            model = fitter.best(FitKey(best, fold), grid[best])
            probabilities.append(_probabilities(model, scaled[fold][1]))
        y_pred = np.mean(probabilities, axis=0).argmax(axis=1)
        return Outcome(grid[best], chosen.row[profile.selection], ctx.run_dir, y_pred,
                       chosen.tied)  # fmt: skip

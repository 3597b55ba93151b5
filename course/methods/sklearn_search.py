"""What GridSearchCV and RandomizedSearchCV share: the pipeline and a ledger-aware classifier.

The pipeline is `StandardScaler` + scikeras `KerasClassifier`, so scaling is fitted on each
fold's training rows only. EarlyStopping needs validation data inside every fold: the classifier
holds out `validation_split` (the profile's `validation_size`) of the fold's *training* part --
Keras takes the last rows, and the development set is already in random order. The held-out fold
stays untouched for the CV score. So with 5-fold CV on an 80 % development set, each model
learns from 0.8 x 0.8 x 0.8 = 51 % of all rows (64 % before the validation split).

Every fit is written to the ledger as it finishes, with its checkpoint on disk. A rerun after
an interruption does not train a finished fit again: the classifier reloads its best-epoch
weights, so scikit-learn sees the same model and computes the same CV score.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.pipeline import Pipeline

from course.fitting import keep_final
from course.model import build_model
from course.records import FitKey
from course.selection import ACCURACY, LOSS, Pick, pick
from course.space import BATCH_SIZE, EPOCHS, Params, from_sklearn
from course.speed import VALIDATION_BATCH_SIZE
from course.study import Context, Outcome

if TYPE_CHECKING:
    from sklearn.model_selection._search import BaseSearchCV

STEP = "clf"  # the classifier's step name in the pipeline: parameters are `clf__...`
REFIT = -1  # the fold number of the final refit on the whole development set
# --8<-- [start:selector]
# Both validation scores on every held-out fold, named as the selection names them (scikit-
# learn's loss is negated: higher is better).
SCORING = {ACCURACY: "accuracy", LOSS: "neg_log_loss"}


class Selector:
    """scikit-learn's `refit` callable: the index of the configuration the course's selection
    rule picks (`course.selection`) from `cv_results_`, so ties are broken as in every method."""

    def __init__(self, selection: str) -> None:
        self.selection = selection

    def __call__(self, results: dict[str, Any]) -> int:
        return pick(Scores(results, self.selection).candidates(), self.selection).trial


# --8<-- [end:selector]


def _fingerprint(y: np.ndarray) -> str:
    """Identifies a fold by its training labels, which the pipeline passes on unchanged."""
    return hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest()


class FitLocator:
    """Tells each fit which trial, fold and rung it is, and carries the run's fitter.

    scikit-learn clones the classifier (deep-copying its parameters) for every fit; all clones
    must share this one locator, so copying returns the locator itself. With `n_jobs > 1`
    it is pickled into worker processes (see `Recorder`). `rounds`: successive halving's
    schedule (`course.hyperband.halving`), which trains a candidate once per round it reaches:
    a fit's rung is its round, and candidates are given without epochs (the resource).
    """

    def __init__(self, ctx: Context, candidates: list[Params], folds: list[np.ndarray],
                 rounds: list[dict[str, int]] | None = None) -> None:  # fmt: skip
        scored = sum(r["candidates"] for r in rounds) if rounds else len(candidates)
        self.fitter = ctx.fitter(scored * len(folds) + 1)
        self.run_dir, self.candidates = ctx.run_dir, candidates
        self.budgets = [r["epochs"] for r in rounds] if rounds else None
        y_dev = ctx.split.y_dev
        self.fold_of = {_fingerprint(y_dev[train]): k for k, train in enumerate(folds)}
        self.fold_of[_fingerprint(y_dev)] = REFIT

    def __deepcopy__(self, memo: dict[int, Any]) -> FitLocator:
        return self

    def trial_and_rung(self, params: Params) -> tuple[int, int]:
        if self.budgets is None:
            return self.candidates.index(params), 0
        candidate = {k: v for k, v in params.items() if k != EPOCHS}
        return self.candidates.index(candidate), self.budgets.index(params[EPOCHS])

    def locate(self, params: Params, y: np.ndarray) -> FitKey:
        trial, rung = self.trial_and_rung(params)
        return FitKey(trial, self.fold_of[_fingerprint(y)], rung)


class LedgerClassifier(KerasClassifier):
    """scikeras' KerasClassifier, fitting through the run's `Fitter` (`course.fitting`): its
    seeded, pooled model, EarlyStopping and ModelCheckpoint, every fit recorded (or resumed),
    and the best epoch's weights restored before scikit-learn scores the fold."""

    _train_rows = 0  # rows Keras trains on in the current fit (before its validation split)

    def __init__(self, model: Any = None, locator: FitLocator | None = None, **kwargs: Any):
        super().__init__(model=model, **kwargs)
        self.locator = locator

    def _build_keras_model(self):  # scikeras' hook: `model=` built by the fitter
        assert self.locator is not None, "run_search() sets the locator"
        return self.locator.fitter.model(from_sklearn(self.get_params()), self._train_rows)

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None, **kwargs: Any):
        assert self.locator is not None, "run_search() sets the locator"
        params, fitter = from_sklearn(self.get_params()), self.locator.fitter
        fit = fitter.begin(self.locator.locate(params, y), params)
        # Keras trains on the rows before its validation split; the pool needs their count
        self._train_rows = int(len(X) * (1 - self.validation_split))
        if fit.key in fitter.done and fit.checkpoint.exists():
            self.initialize(X, y)  # resumed: the same model as before, without training again
            if not self.model_.optimizer.built:  # so its saved state loads without a warning
                self.model_.optimizer.build(self.model_.trainable_variables)
            self.model_.load_weights(fit.checkpoint)
            return self
        self.callbacks = fit.callbacks()
        super().fit(X, y, sample_weight=sample_weight, **kwargs)
        self.model_.load_weights(fit.checkpoint)  # score the best epoch, not the last one
        fit.end(dict(self.history_))
        return self


def pipeline(ctx: Context) -> Pipeline:
    """Scaling and the Keras MLP in one estimator, so each fold scales with its own statistics."""
    # --8<-- [start:pipeline]
    classifier = LedgerClassifier(
        model=build_model,  # the one builder, fed the `model__*` parameters (via the fitter)
        validation_split=ctx.profile.validation_size,  # EarlyStopping's data, inside the fold
        validation_batch_size=VALIDATION_BATCH_SIZE,  # see course/speed.py
        verbose=0,
    )
    return Pipeline([("preprocess", ctx.split.schema.preprocessor()), (STEP, classifier)])
    # --8<-- [end:pipeline]


def _end_joblib_workers() -> None:
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def run_search(ctx: Context, search: BaseSearchCV, candidates: list[Params],
               rounds: list[dict[str, int]] | None = None) -> Outcome:  # fmt: skip
    """Fit `search` on the development set, add CV scores to the ledger, return the refit
    model. `candidates`: the configurations the search fits, in its order (trial numbers);
    `rounds`: a successive-halving search's schedule (`FitLocator`)."""
    split = ctx.split
    folds = [train for train, _ in search.cv.split(split.x_dev, split.y_dev)]
    locator = FitLocator(ctx, candidates, folds, rounds)
    search.estimator.set_params(**{f"{STEP}__locator": locator})
    # n_jobs: `--workers` processes, or as many at once as the cluster has workers
    search.set_params(error_score="raise", n_jobs=-1 if ctx.cluster else ctx.workers)
    from joblib import parallel_config

    from course import workers  # each joblib worker runs its setup first

    with contextlib.ExitStack() as stack:
        if ctx.cluster is not None:  # every fit a task on the Dask workers, recorded here
            stack.enter_context(parallel_config("dask"))
            locator.fitter = stack.enter_context(ctx.cluster.receiving(locator.fitter))
        else:
            setup = (None, ("scikeras.wrappers",))  # no core to pin; scikeras loaded first
            stack.enter_context(parallel_config("loky", initializer=workers.setup,
                                                initargs=setup))  # fmt: skip
            if ctx.workers > 1:  # the workers' fits as the ledger has them
                stack.enter_context(locator.fitter.recorder.following())
                stack.callback(_end_joblib_workers)  # not idle for minutes beside the next one
        search.fit(split.x_dev, split.y_dev)

    results = search.cv_results_
    scores = Scores(results, ctx.profile.selection)
    for row, params in enumerate(results["params"]):  # a row: one candidate (in one round)
        trial, rung = locator.trial_and_rung(from_sklearn(params, STEP))
        for fold in range(len(folds)):
            ctx.ledger.add_extra(ctx.run_id, FitKey(trial, fold, rung),
                                 scores.fold(row, fold))  # fmt: skip
    chosen = scores.pick(search)
    best_params = from_sklearn(search.best_params_, STEP)
    trial, rung = locator.trial_and_rung(best_params)
    ctx.ledger.add_extra(ctx.run_id, FitKey(trial, REFIT, rung), scores.mean(chosen))

    best = search.best_estimator_  # refit on the whole development set (refit=True)
    # as the pipeline predicts: its preprocessing, then the model in batches of the chosen size
    path, y_pred = keep_final(best.named_steps[STEP].model_, best[:-1], split, ctx.run_dir,
                              best_params[BATCH_SIZE])  # fmt: skip
    return Outcome(best_params, chosen.row[ctx.profile.selection], path, y_pred, chosen.tied)


class Scores:
    """The held-out fold scores of `cv_results_`, as the ledger names them: both scores of
    a search scored by `SCORING`, or the one a successive-halving search is scored by (it
    takes a single metric: `SCORING[selection]`)."""

    def __init__(self, results: dict[str, Any], selection: str) -> None:
        self.results, self.selection = results, selection
        self.names = ({ACCURACY: ACCURACY, LOSS: LOSS} if f"mean_test_{ACCURACY}" in results
                      else {selection: "score"})  # fmt: skip

    def _value(self, name: str, key: str, row: int) -> float:
        value = float(self.results[f"{key}_test_{self.names[name]}"][row])
        return -value if name == LOSS else value  # scikit-learn's loss is negated

    def fold(self, row: int, fold: int) -> dict[str, float]:
        columns = {ACCURACY: "cv_fold_score", LOSS: "cv_fold_loss"}
        found = {columns[n]: self._value(n, f"split{fold}", row) for n in self.names}
        if ACCURACY in self.names:
            found["cv_score"] = self._value(ACCURACY, "mean", row)
        return found

    def mean(self, chosen: Pick) -> dict[str, float]:
        return {"cv_score": chosen.row[ACCURACY]} if ACCURACY in self.names else {}

    def candidates(self) -> list[dict[str, Any]]:
        """The rows a search chooses from (a halving search: its last round only), each with
        its row number as `trial` and its mean scores (NaN where not scored)."""
        rows = [{"trial": row, ACCURACY: math.nan, LOSS: math.nan,
                 **{n: self._value(n, "mean", row) for n in self.names}}
                for row in range(len(self.results["params"]))]  # fmt: skip
        if "iter" in self.results:
            last = max(self.results["iter"])
            rows = [r for r in rows if self.results["iter"][r["trial"]] == last]
        return rows

    def pick(self, search: BaseSearchCV) -> Pick:
        """The course's selection rule (`course.selection`), checked against the search's own
        choice: `Selector` made it, or (a halving search) it breaks ties as the library does."""
        chosen = pick(self.candidates(), self.selection)
        assert chosen.trial == search.best_index_, (chosen.trial, search.best_index_)
        return chosen

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
from typing import TYPE_CHECKING, Any

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.pipeline import Pipeline

from course.data import preprocessor
from course.fitting import keep_final
from course.model import build_model
from course.records import FitKey
from course.selection import ACCURACY, LOSS, Pick, pick
from course.space import BATCH_SIZE, Params, from_sklearn
from course.speed import VALIDATION_BATCH_SIZE
from course.study import Context, Outcome

if TYPE_CHECKING:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

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

    def pick(self, results: dict[str, Any]) -> Pick:
        rows = [{"trial": t, ACCURACY: float(accuracy), LOSS: -float(negated)}
                for t, (accuracy, negated) in enumerate(zip(results[f"mean_test_{ACCURACY}"],
                                                            results[f"mean_test_{LOSS}"],
                                                            strict=True))]  # fmt: skip
        return pick(rows, self.selection)

    def __call__(self, results: dict[str, Any]) -> int:
        return self.pick(results).trial


# --8<-- [end:selector]


def _fingerprint(y: np.ndarray) -> str:
    """Identifies a fold by its training labels, which the pipeline passes on unchanged."""
    return hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest()


class FitLocator:
    """Tells each fit which trial and fold it is, and carries the run's fitter.

    scikit-learn clones the classifier (deep-copying its parameters) for every fit; all clones
    must share this one locator, so copying returns the locator itself. With `n_jobs > 1`
    it is pickled into worker processes (see `Recorder`).
    """

    def __init__(self, ctx: Context, candidates: list[Params], folds: list[np.ndarray]) -> None:
        self.fitter = ctx.fitter(len(candidates) * len(folds) + 1)
        self.run_dir, self.candidates = ctx.run_dir, candidates
        y_dev = ctx.split.y_dev
        self.fold_of = {_fingerprint(y_dev[train]): k for k, train in enumerate(folds)}
        self.fold_of[_fingerprint(y_dev)] = REFIT

    def __deepcopy__(self, memo: dict[int, Any]) -> FitLocator:
        return self

    def locate(self, params: Params, y: np.ndarray) -> FitKey:
        return FitKey(self.candidates.index(params), self.fold_of[_fingerprint(y)])


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
    return Pipeline([("preprocess", preprocessor()), (STEP, classifier)])
    # --8<-- [end:pipeline]


def _end_joblib_workers() -> None:
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def run_search(
    ctx: Context, search: GridSearchCV | RandomizedSearchCV, candidates: list[Params]
) -> Outcome:
    """Fit `search` on the development set, add CV scores to the ledger, return the refit
    model. `candidates`: the configurations the search fits, in its order (trial numbers)."""
    split = ctx.split
    folds = [train for train, _ in search.cv.split(split.x_dev, split.y_dev)]
    locator = FitLocator(ctx, candidates, folds)
    search.estimator.set_params(**{f"{STEP}__locator": locator})
    search.set_params(error_score="raise", n_jobs=ctx.workers)  # n_jobs: `--workers` processes
    from joblib import parallel_config

    from course import workers  # each joblib worker runs its setup first (no core to pin)

    setup = {"initializer": workers.setup, "initargs": (None, ("scikeras.wrappers",))}
    with parallel_config("loky", **setup), contextlib.ExitStack() as stack:
        if ctx.workers > 1:  # show the workers' fits as the ledger receives them
            stack.enter_context(locator.fitter.recorder.following())
            stack.callback(_end_joblib_workers)  # not idle for minutes beside the next method
        search.fit(split.x_dev, split.y_dev)

    results = search.cv_results_
    for trial in range(len(candidates)):
        cv_score = float(results[f"mean_test_{ACCURACY}"][trial])
        for fold in range(len(folds)):
            fold_score = float(results[f"split{fold}_test_{ACCURACY}"][trial])
            fold_loss = -float(results[f"split{fold}_test_{LOSS}"][trial])
            ctx.ledger.add_extra(ctx.run_id, FitKey(trial, fold),
                                 {"cv_fold_score": fold_score, "cv_fold_loss": fold_loss,
                                  "cv_score": cv_score})  # fmt: skip
    chosen = search.refit.pick(results)
    assert chosen.trial == search.best_index_
    ctx.ledger.add_extra(ctx.run_id, FitKey(chosen.trial, REFIT),
                         {"cv_score": chosen.row[ACCURACY]})  # fmt: skip

    best = search.best_estimator_  # refit on the whole development set (refit=True)
    params = from_sklearn(search.best_params_, STEP)
    # as the pipeline predicts: its scaler, then the model in batches of the chosen size
    path, y_pred = keep_final(best.named_steps[STEP].model_, ctx.run_dir,
                              best[:-1].transform(split.x_test), params[BATCH_SIZE])  # fmt: skip
    return Outcome(params, chosen.row[ctx.profile.selection], path, y_pred, chosen.tied)

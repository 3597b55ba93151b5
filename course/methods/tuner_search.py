"""What the two KerasTuner methods share: a HyperModel made from the one space, and tuners that
record every trial in the ledger.

The HyperModel tunes `batch_size` and `epochs` in `HyperModel.fit`, so the tuner stores the
chosen values with the trial (passed to `search()` instead, they are fixed and never reported).
EarlyStopping goes through `search()`. KerasTuner checkpoints each trial's best epoch by itself
(its `SaveBestEpoch` callback, on the objective), so no second ModelCheckpoint is stacked on it:
`get_best_models()` reloads that checkpoint, and that model is the final model scored on test.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import keras_tuner
import numpy as np

from course.model import FitOutcome, ModelPool, build_model, early_stopping, seed_everything
from course.space import EPOCHS, FIT_NAMES, MODEL_NAMES, NAMES, Space

if TYPE_CHECKING:
    from course.runner import Context

FOLD = 0  # one fit per trial, on the holdout split


# --8<-- [start:hypermodel]
class MLPHyperModel(keras_tuner.HyperModel):
    """The course's MLP, its hyperparameters drawn from the one search space."""

    def __init__(self, space: Space, seed: int, tune_epochs: bool = True) -> None:
        super().__init__()
        self.space, self.seed = space, seed
        self.train_rows = 0  # set by run_tuner: the pool re-creates a fresh fit's shuffles
        self.pool = ModelPool()  # one compiled model per architecture, as fresh as a new one
        self.skip = () if tune_epochs else (EPOCHS,)  # Hyperband allots epochs itself

    def build(self, hp: keras_tuner.HyperParameters):
        params = self.space.declare(hp, skip=self.skip)
        seed_everything(self.seed)  # seeded per trial: a result never depends on trial order
        model_params = {name: params[name] for name in MODEL_NAMES}
        if "tuner/trial_id" in hp.values:
            # A Hyperband continuation loads its parent's checkpoint, optimizer state included
            # when the optimizer exists; a fresh model's does not yet, so keep it fresh.
            return build_model(**model_params)
        return self.pool.model(self.train_rows, **model_params)

    def fit(self, hp: keras_tuner.HyperParameters, model, *args: Any, **kwargs: Any):
        # batch size and epochs come from the trial (Hyperband passes its own epoch budget)
        tuned = {name: hp.get(name) for name in FIT_NAMES if name not in kwargs}
        return model.fit(*args, **tuned, **kwargs)


# --8<-- [end:hypermodel]


class LedgerTunerMixin:
    """Records each finished trial in the ledger (before KerasTuner marks it complete)."""

    ctx: Context

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any):
        ctx = self.ctx
        recorded = ctx.ledger.fit(ctx.run.run_id, int(trial.trial_id), FOLD)
        if recorded is not None:  # finished just before an interruption, before KerasTuner
            monitor = ctx.profile.training.monitor  # marked it complete: do not train it again
            return {monitor: recorded[monitor]}
        start = time.perf_counter()
        histories = super().run_trial(trial, *args, **kwargs)  # type: ignore[misc]
        values = trial.hyperparameters.values
        outcome = FitOutcome.from_history(
            histories[0].history, self.ctx.profile.training, time.perf_counter() - start
        )
        params = {name: values.get(name) for name in NAMES}
        extra: dict[str, Any] = {}
        if "tuner/epochs" in values:  # Hyperband: where in the schedule this trial sits
            initial = values["tuner/initial_epoch"]
            params[EPOCHS] = values["tuner/epochs"]
            outcome = dataclasses.replace(outcome, best_epoch=outcome.best_epoch + initial)
            extra = {
                "bracket": values["tuner/bracket"],
                "round": values["tuner/round"],
                "initial_epoch": initial,
                "resumed_from": values.get("tuner/trial_id", ""),
            }
        ctx.ledger.record_fit(
            ctx.run.run_id, int(trial.trial_id), FOLD, params, ctx.profile.seed, outcome, extra
        )
        self.task.advance(outcome.val_accuracy)
        return histories


class LedgerRandomSearch(LedgerTunerMixin, keras_tuner.RandomSearch):
    pass


class LedgerHyperband(LedgerTunerMixin, keras_tuner.Hyperband):
    pass


def run_tuner(ctx: Context, tuner: keras_tuner.Tuner, planned_trials: int) -> None:
    """Search on the holdout split, then score the best trial's best epoch once on test."""
    from course.data import holdout_scaled

    profile = ctx.profile
    x_train, y_train, x_val, y_val, x_test, _ = holdout_scaled(
        ctx.split, profile.seed, profile.validation_size
    )
    fits = ctx.ledger.fits(ctx.run.run_id)
    tuner.hypermodel.train_rows = len(x_train)
    tuner.ctx = ctx
    tuner.task = ctx.progress.task(
        ctx.label, max(planned_trials, len(fits)), [f["val_accuracy"] for f in fits]
    )
    # --8<-- [start:search]
    tuner.search(
        x_train, y_train,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping(profile.training)],  # copied into every trial
        verbose=0,
    )  # fmt: skip
    best_trial = tuner.oracle.get_best_trials(1)[0]
    final = tuner.get_best_models(1)[0]  # the best trial's best epoch, from its checkpoint
    # --8<-- [end:search]
    tuner.task.finish()
    best_path = ctx.run_dir / "best.keras"
    final.save(best_path)
    y_pred = np.asarray(final.predict(x_test, verbose=0)).argmax(axis=1)
    best_fit = ctx.ledger.fit(ctx.run.run_id, int(best_trial.trial_id), FOLD)
    assert best_fit is not None, "every finished trial is in the ledger"
    # selection score: the validation accuracy of the chosen trial, as for the other methods
    ctx.finish(best_fit["params"], best_fit["val_accuracy"], best_path, y_pred)


def objective(ctx: Context) -> keras_tuner.Objective:
    """The tuner optimises what EarlyStopping and the checkpoints monitor."""
    training = ctx.profile.training
    return keras_tuner.Objective(training.monitor, direction=training.mode)

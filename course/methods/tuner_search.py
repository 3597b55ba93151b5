"""What the KerasTuner methods share: a HyperModel made from the one space, and tuners that
record every trial in the ledger.

The HyperModel tunes `batch_size` and `epochs` in `HyperModel.fit`, so the tuner stores the
chosen values with the trial (passed to `search()` instead, they are fixed and never reported).
EarlyStopping goes through `search()`. KerasTuner checkpoints each trial's best epoch by itself
(its `SaveBestEpoch` callback, on the objective), so no second ModelCheckpoint is stacked on it:
it watches the objective, which is the monitor, so it holds the epoch the ledger records. The
trial the course's selection rule picks (`course.selection`, as in every method) is reloaded
from that checkpoint (`Tuner.load_model`): that model is the final model scored on test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.src import utils as kt_utils

from course.config import Profile, Training
from course.fitting import Fitter, keep_final
from course.model import early_stopping
from course.paths import write_atomic
from course.records import FitKey
from course.selection import pick
from course.space import EPOCHS, FIT_NAMES, NAMES, Space
from course.speed import VALIDATION_BATCH_SIZE
from course.study import Context, Outcome
from course.workers import failed, running

PROJECT = "tuner"  # the tuners' project_name: their state lives in <run>/tuner
# KerasTuner's documented switch into distributed mode (with _PORT and _TUNER_ID beside it)
ORACLE_IP = "KERASTUNER_ORACLE_IP"


def _save_json_atomically(path: str, obj: Any) -> str:
    """KerasTuner's `utils.save_json`, written beside the file and renamed: a run killed while
    KerasTuner saves its state leaves the previous oracle.json whole, so the rerun resumes
    (a truncated one stopped it with a JSONDecodeError)."""
    text = json.dumps(obj)
    write_atomic(Path(path), text)
    return text


# Private: KerasTuner saves every oracle.json and trial.json through `utils.save_json` and has
# no public hook for how; tests/test_private_apis.py fails loudly if that stops being so.
kt_utils.save_json = _save_json_atomically


# --8<-- [start:hypermodel]
class MLPHyperModel(keras_tuner.HyperModel):
    """The course's MLP, its hyperparameters drawn from the one search space, its models made
    by the run's fitter (seeded per trial, from its pool of compiled models)."""

    def __init__(self, space: Space, fitter: Fitter, tune_epochs: bool = True) -> None:
        super().__init__()
        self.space, self.fitter = space, fitter
        self.train_rows = 0  # set by TunerJob: the pool re-creates a fresh fit's shuffles
        self.skip = () if tune_epochs else (EPOCHS,)  # Hyperband allots epochs itself

    def build(self, hp: keras_tuner.HyperParameters):
        params = self.space.declare(hp, skip=self.skip)
        # A Hyperband continuation loads its parent's checkpoint, optimizer state included
        # when the optimizer exists; a fresh model's does not yet, so it is not pooled.
        pooled = "tuner/trial_id" not in hp.values
        return self.fitter.model(params, self.train_rows, pooled)

    def fit(self, hp: keras_tuner.HyperParameters, model, *args: Any, **kwargs: Any):
        # batch size and epochs come from the trial (Hyperband passes its own epoch budget)
        tuned = {name: hp.get(name) for name in FIT_NAMES if name not in kwargs}
        return model.fit(*args, **tuned, **kwargs)


# --8<-- [end:hypermodel]


class LedgerTunerMixin:
    """Records each finished trial through the run's fitter (before KerasTuner marks it
    complete)."""

    hypermodel: MLPHyperModel

    def pre_create_trial(self) -> None:
        if ORACLE_IP in os.environ:  # a worker whose chief answers IDLE asks again at
            time.sleep(0.05)  # once: pace it, so waiting does not take a core from the others
        super().pre_create_trial()  # type: ignore[misc]

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any):
        fitter, key = self.hypermodel.fitter, FitKey(int(trial.trial_id))
        recorded = fitter.recorder.recorded(key)
        if recorded is not None:  # finished just before an interruption, before KerasTuner
            monitor = fitter.recorder.training.monitor  # marked it complete: not again
            return {monitor: recorded[monitor]}
        values = trial.hyperparameters.values
        params = {name: values.get(name) for name in NAMES}
        extra: dict[str, Any] = {}
        if "tuner/epochs" in values:  # Hyperband: where in the schedule this trial sits
            params[EPOCHS] = values["tuner/epochs"]
            extra = {
                "bracket": values["tuner/bracket"],
                "round": values["tuner/round"],
                "initial_epoch": values["tuner/initial_epoch"],
                "resumed_from": values.get("tuner/trial_id", ""),
            }
        fit = fitter.begin(key, params)
        histories = super().run_trial(trial, *args, **kwargs)  # type: ignore[misc]
        fit.end(histories[0].history, extra, initial_epoch=extra.get("initial_epoch", 0))
        return histories


class LedgerRandomSearch(LedgerTunerMixin, keras_tuner.RandomSearch):
    pass


class LedgerHyperband(LedgerTunerMixin, keras_tuner.Hyperband):
    pass


class LedgerBayesianOptimization(LedgerTunerMixin, keras_tuner.BayesianOptimization):
    def search(self, *args: Any, **kwargs: Any) -> None:
        """The search, without scikit-learn's note that the Gaussian process's length scale
        reached its bound: on scores this noisy it often does, and the note (one per trial,
        amid the progress bars) leaves a student nothing to act on."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            super().search(*args, **kwargs)


# (profile, the method's settings, the run's fitter) -> a tuner; a module-level function of
# the method, so worker processes can build the same tuner
TunerFactory = Callable[[Profile, dict[str, Any], Fitter], keras_tuner.Tuner]


@dataclasses.dataclass(frozen=True)
class TunerJob:
    """What a worker process needs to build the tuner and search (picklable)."""

    factory: TunerFactory
    profile: Profile
    settings: dict[str, Any]
    fitter: Fitter
    arrays: tuple[np.ndarray, ...]  # x_train, y_train, x_val, y_val

    def tuner(self) -> keras_tuner.Tuner:
        tuner = self.factory(self.profile, self.settings, self.fitter)
        tuner.hypermodel.train_rows = len(self.arrays[0])
        return tuner

    def search(self, tuner: keras_tuner.Tuner) -> None:
        x_train, y_train, x_val, y_val = self.arrays
        # --8<-- [start:search]
        tuner.search(
            x_train, y_train,
            validation_data=(x_val, y_val),
            validation_batch_size=VALIDATION_BATCH_SIZE,  # see course/speed.py
            callbacks=[early_stopping(self.profile.training)],  # copied into every trial
            verbose=0,
        )  # fmt: skip
        # --8<-- [end:search]


def _start_over_without_lost_checkpoints(ctx: Context) -> None:
    """KerasTuner reloads a finished trial's checkpoint (the best trial's for the final model,
    a parent's for a Hyperband continuation) and cannot be told to train one trial again: if
    a recorded trial's checkpoint is gone, the run starts over, and says so once."""
    tuner_dir = ctx.run_dir / PROJECT
    kept = {int(d.name.split("_")[-1]) for d in tuner_dir.glob("trial_*")
            if any(d.glob("checkpoint*"))}  # fmt: skip
    lost = {fit["trial"] for fit in ctx.fits()} - kept
    if lost:
        print(f"course: {ctx.run_id}: KerasTuner's checkpoints of {len(lost)} finished trials "
              "are gone; training the run again", file=sys.stderr)  # fmt: skip
        shutil.rmtree(tuner_dir, ignore_errors=True)
        ctx.ledger.forget_fits(ctx.run_id)


def run_tuner(ctx: Context, factory: TunerFactory, planned_trials: int) -> Outcome:
    """Search on the holdout split (in worker processes with `--workers`), then score the best
    trial's best epoch once on test."""
    from course.data import holdout_preprocessing, holdout_scaled

    profile = ctx.profile
    x_train, y_train, x_val, y_val, _, _ = holdout_scaled(
        ctx.split, profile.split_seed, profile.validation_size
    )
    _start_over_without_lost_checkpoints(ctx)
    fitter = ctx.fitter(planned_trials, checkpoints=False)  # KerasTuner keeps its own
    job = TunerJob(factory, profile, ctx.settings, fitter, (x_train, y_train, x_val, y_val))
    tuner = job.tuner()
    if ctx.workers > 1:
        search_distributed(job, tuner, ctx.workers)
    else:
        job.search(tuner)
    # --8<-- [start:best]
    chosen = pick(ctx.fits(), profile.selection)  # the same rule as every method's
    trial = next(t for t in tuner.oracle.trials.values() if int(t.trial_id) == chosen.trial)
    final = tuner.load_model(trial)  # its best epoch, from KerasTuner's checkpoint
    # --8<-- [end:best]
    assert fitter.recorder.task is not None
    fitter.recorder.task.finish()
    preprocessing = holdout_preprocessing(ctx.split, profile.split_seed, profile.validation_size)
    path, y_pred = keep_final(final, preprocessing, ctx.split, ctx.run_dir)
    return Outcome(chosen.row["params"], chosen.row[profile.selection], path, y_pred,
                   chosen.tied)  # fmt: skip


def search_distributed(job: TunerJob, tuner: keras_tuner.Tuner, workers: int) -> None:
    """KerasTuner's distributed mode on this machine: this process is the chief (it serves
    the oracle on 127.0.0.1 and trains nothing), `workers` spawned processes run the trials."""
    import socket
    import types
    from unittest import mock

    # Private: KerasTuner has no public way to shorten the chief's 20 s wait between checks;
    # tests/test_private_apis.py fails loudly if this module or its `time` moves.
    from keras_tuner.src.distribute import oracle_chief

    with socket.socket() as probe:  # a free port for the oracle
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {ORACLE_IP: "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    args = [(job, env, i) for i in range(workers)]
    with running(_tuner_worker, args, "KerasTuner") as processes:
        gone_since: list[float] = []

        def sleep(seconds: float) -> None:
            """The chief's wait: every 0.2 s, not 20 s, and never for a worker that is gone
            (a trial it left unfinished would keep the chief waiting forever)."""
            time.sleep(min(seconds, 0.2))
            if failed(processes):
                raise RuntimeError("a KerasTuner worker failed; rerun to resume")
            if not any(p.is_alive() for p in processes):
                gone_since.append(time.monotonic())
                if gone_since[-1] - gone_since[0] > 5:
                    raise RuntimeError("KerasTuner's workers ended before the search did")

        with (
            mock.patch.dict(os.environ, {**env, "KERASTUNER_TUNER_ID": "chief"}),
            mock.patch.object(oracle_chief, "time", types.SimpleNamespace(sleep=sleep)),
            job.fitter.recorder.following(),  # the bar advances as workers' trials land
        ):
            job.search(tuner)  # the chief: blocks until every trial is done


def _tuner_worker(job: TunerJob, env: dict[str, str], index: int) -> None:
    """A worker process: one core, single-threaded XLA; asks the chief for trials."""
    from course import workers

    os.environ.update({**env, "KERASTUNER_TUNER_ID": f"worker{index}"})
    workers.setup(core=index)
    job.search(job.tuner())


def objective(training: Training) -> keras_tuner.Objective:
    """The tuner optimises what EarlyStopping and the checkpoints monitor."""
    return keras_tuner.Objective(training.monitor, direction=training.mode)

"""grid-loop: the hand-written grid search every course starts with.

Every configuration of the grid is trained once on the training part of the development set
and scored on a holdout validation part (never the test set). The fit with the best validation
accuracy wins; its checkpoint (the best epoch) is the final model, scored once on the test set.

`protocol="seed"` reproduces the seed notebook instead: it trains on the whole development set
and validates (and checkpoints) on the test split itself, so its "test accuracy" is optimistic.

With `workers > 1` the configurations are shared out to worker processes, each pinned to one
core with single-threaded XLA; every fit is seeded on its own, so the fits are the same ones a
single process trains (a test compares them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.config import Profile
from course.data import holdout_scaled
from course.ledger import Recorder
from course.model import ModelPool, build_model, callbacks, seed_everything
from course.records import FitKey, FitOutcome
from course.searchers import FixedSearcher, drain
from course.space import split_params
from course.speed import VALIDATION_BATCH_SIZE
from course.study import CLEAN, SEED, Context, Method, Outcome
from course.workers import running

if TYPE_CHECKING:  # numpy loads with the fits, not when `course` lists its methods
    import numpy as np

FOLD = 0  # a single holdout fit per trial


@dataclass(frozen=True)
class Job:
    """What a process needs to train trials of one run (picklable, for worker processes)."""

    profile: Profile
    run_dir: Path
    arrays: tuple[np.ndarray, ...]  # x_train, y_train, x_val, y_val

    def checkpoint(self, trial: int) -> Path:
        return FitKey(trial, FOLD).checkpoint(self.run_dir)


def fit_trials(job: Job, trials: list[tuple[int, dict[str, Any]]], recorder: Recorder) -> None:
    """Train `trials` (trial number, configuration) one after the other, recording each."""
    profile, (x_train, y_train, x_val, y_val) = job.profile, job.arrays
    pool = ModelPool()  # one compiled model per architecture: no recompiling on every fit
    # --8<-- [start:loop]
    for trial, params in trials:
        model_params, fit_params = split_params(params)  # epochs and batch size go to fit()
        seed_everything(profile.seed)  # seeded per fit: a result never depends on fit order
        model = pool.model(len(x_train), **model_params)  # as fresh as build_model(...)
        start = time.perf_counter()
        history = model.fit(
            x_train, y_train,
            validation_data=(x_val, y_val),
            validation_batch_size=VALIDATION_BATCH_SIZE,  # see course/speed.py
            callbacks=callbacks(profile.training, job.checkpoint(trial)),
            verbose=0,
            **fit_params,
        )  # fmt: skip
        outcome = FitOutcome.from_history(
            history.history, profile.training, time.perf_counter() - start
        )
        recorder.record(FitKey(trial, FOLD), params, outcome)  # committed before the next fit
    # --8<-- [end:loop]


def _worker(job: Job, trials: list[tuple[int, dict[str, Any]]], recorder: Recorder,
            core: int) -> None:  # fmt: skip
    """A worker process: one core, single-threaded XLA, so workers do not fight over cores."""
    from course import workers

    workers.setup(core)
    fit_trials(job, trials, recorder)  # its own copy: its own connection, no progress bar


def fit_in_workers(job: Job, trials: list, workers: int, recorder: Recorder) -> None:
    """Share `trials` out to `workers` processes; follow their fits through the ledger."""
    shares = [trials[i::workers] for i in range(workers)]
    args = [(job, share, recorder, core) for core, share in enumerate(shares) if share]
    with recorder.following(), running(_worker, args, "grid-loop"):
        pass  # leaving the block waits for the workers, then reads the ledger once more


class GridLoop(Method):
    slug = "grid-loop"
    title = "Grid loop"
    summary = "hand-written itertools.product loop over the grid, holdout validation"
    protocols = (CLEAN, SEED)
    order = 10

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        return FixedSearcher(profile.space.grid())  # every combination of the candidate values

    def run(self, ctx: Context) -> Outcome:
        profile = ctx.profile
        x_train, y_train, x_val, y_val, x_test, _ = holdout_scaled(
            ctx.split, profile.seed, profile.validation_size, ctx.protocol
        )
        candidates = drain(self.searcher(profile, ctx.settings))
        recorder = ctx.recorder(len(candidates))
        todo = [(c.trial, c.params) for c in candidates
                if FitKey(c.trial, FOLD) not in recorder.done]  # fmt: skip
        job = Job(profile, ctx.run_dir, (x_train, y_train, x_val, y_val))
        if ctx.workers > 1 and len(todo) > 1:
            fit_in_workers(job, todo, ctx.workers, recorder)
        else:
            fit_trials(job, todo, recorder)

        # --8<-- [start:final]
        fits = ctx.fits()
        best = max(fits, key=lambda f: (f["val_accuracy"], -f["val_loss"], -f["trial"]))
        final = build_model(**split_params(best["params"])[0])
        final.load_weights(job.checkpoint(best["trial"]))  # the best epoch of the best config
        best_path = ctx.run_dir / "best.keras"
        final.save(best_path)
        y_pred = final.predict(x_test, verbose=0).argmax(axis=1)
        # --8<-- [end:final]
        return Outcome(best["params"], best["val_accuracy"], best_path, y_pred)

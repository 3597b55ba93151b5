"""The one path of a fit, from seed to ledger row, and the one place a final model is kept.

Every fit of every method goes the same way: seeded on its own (its result never depends on
the fits before it), its model taken from the pool (as fresh as a new one, without compiling),
trained with EarlyStopping and ModelCheckpoint, turned into a `FitOutcome` and recorded (ledger
row and progress bar) before the next fit starts. The grid loop and the CV study call
`Fitter.fit`, which does all of it; scikeras and KerasTuner call `Model.fit` themselves, so
their adapters take the same steps from `Fitter.model` (where the library builds) and
`Fitter.begin` ... `Fit.end` (around the library's fit).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import CourseError
from course.ledger import Recorder
from course.model import ModelPool, build_model, callbacks, seed_everything
from course.records import FitKey, FitOutcome
from course.space import Params, split_params
from course.speed import VALIDATION_BATCH_SIZE

if TYPE_CHECKING:
    from collections.abc import Callable

    import keras
    import numpy as np

    from course.data import Schema, Split

    Arrays = tuple[np.ndarray, np.ndarray]  # features and labels
    Scorer = Callable[[keras.Model], dict[str, Any]]

MIN_FREE = 64 * 2**20  # bytes a fit needs free under runs/ before it starts


@dataclass
class Fit:
    """One fit under way: its key, configuration, checkpoint and clock."""

    fitter: Fitter
    key: FitKey
    params: Params
    started: float = field(default_factory=time.perf_counter)

    @property
    def checkpoint(self) -> Path:
        return self.key.checkpoint(self.fitter.run_dir)

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """EarlyStopping and ModelCheckpoint, onto this fit's checkpoint."""
        return callbacks(self.fitter.recorder.training, self.checkpoint)

    def end(self, history: dict[str, list[Any]], extra: dict[str, Any] | None = None,
            initial_epoch: int = 0, pruned: bool = False) -> FitOutcome:  # fmt: skip
        """Record the fit from its Keras history; `initial_epoch`: where a continuation of
        an earlier fit started (its best epoch counts from the start of training)."""
        recorder = self.fitter.recorder
        outcome = FitOutcome.from_history(
            history, recorder.training, time.perf_counter() - self.started, pruned, initial_epoch
        )
        recorder.record(self.key, self.params, outcome, extra)  # committed before the next fit
        return outcome


class Fitter:
    """How one process fits the models of one run: the run's recorder and folder, and a pool
    of compiled models, for rows of `schema`. Picklable into worker processes (the pool stays
    behind)."""

    def __init__(self, recorder: Recorder, run_dir: Path, schema: Schema,
                 checkpoints: bool = True) -> None:  # fmt: skip
        self.recorder, self.run_dir, self.schema = recorder, run_dir, schema
        self.pool = ModelPool()
        if checkpoints:  # a fit whose checkpoint is gone cannot be resumed: train it again
            lost = {k for k in recorder.done if not k.checkpoint(run_dir).exists()}
            if lost:
                print(f"course: {recorder.run_id}: {len(lost)} finished fits lost their "
                      "checkpoints; training them again", file=sys.stderr)  # fmt: skip
                recorder.done -= lost

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "pool": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, pool=ModelPool())

    @property
    def done(self) -> set[FitKey]:
        """The fits this run has recorded (a rerun skips them)."""
        return self.recorder.done

    def model(self, params: Params, train_rows: int, pooled: bool = True) -> keras.Model:
        """A seeded model of `params`, ready to fit on `train_rows` rows: from the pool, or
        (`pooled=False`) newly built, for a library that loads a checkpoint into it."""
        seed_everything(self.recorder.seed)  # per fit: a result never depends on fit order
        if pooled:
            return self.pool.model(train_rows, params, self.schema)
        return build_model(params, self.schema)

    def begin(self, key: FitKey, params: Params) -> Fit:
        """Start a fit, if the disk has room for its checkpoint: a checkpoint written to a full
        disk can crash the process in native code, where no error can be reported."""
        free = shutil.disk_usage(self.recorder.ledger_path.parent).free
        if free < MIN_FREE:
            raise CourseError(
                f"{self.recorder.ledger_path.parent}: {free / 2**20:.0f} MiB free, too little "
                "for a fit's checkpoint; free some space (old runs: `runs/`), then rerun to resume"
            )
        return Fit(self, key, params)

    # --8<-- [start:fit]
    def fit(
        self, key: FitKey, params: Params, train: Arrays, validation: Arrays,
        score: Scorer | None = None,
    ) -> FitOutcome:  # fmt: skip
        """Train and record one fit; `score(model)`, if given, adds columns computed from the
        best epoch (its checkpoint is loaded first)."""
        fit = self.begin(key, params)
        model = self.model(params, len(train[0]))  # seeded, as fresh as a new one
        history = model.fit(
            *train,
            validation_data=validation,
            validation_batch_size=VALIDATION_BATCH_SIZE,  # see course/speed.py
            callbacks=fit.callbacks(),
            verbose=0,
            **split_params(params)[1],  # epochs and batch size
        )  # fmt: skip
        extra = None
        if score is not None:
            model.load_weights(fit.checkpoint)  # the best epoch, as every method scores it
            extra = score(model)
        return fit.end(history.history, extra)

    # --8<-- [end:fit]

    def best(self, key: FitKey, params: Params) -> keras.Model:
        """The best epoch of a recorded fit, from its checkpoint."""
        model = build_model(params, self.schema)
        model.load_weights(key.checkpoint(self.run_dir))
        return model


def keep_final(model: keras.Model, preprocessing: Any, split: Split, run_dir: Path,
               batch_size: int | None = None) -> tuple[Path, np.ndarray]:  # fmt: skip
    """Save a run's final model with the preprocessing it was trained behind, as one file
    (course.artefact), and predict the class of every test row from its raw features as that
    file will: the one place both happen (the study scores the predictions, `course predict`
    reproduces them). `batch_size`: the rows per predict call."""
    from course import artefact

    path = artefact.save(run_dir / artefact.FINAL_MODEL, model, preprocessing, split.schema)
    return path, artefact.classify(model, preprocessing, split.x_test, batch_size)

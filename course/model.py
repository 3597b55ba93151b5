"""The one model builder and the one callbacks factory that every method uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from course import speed
from course.config import Training
from course.space import (
    DROPOUT,
    HIDDEN_ACTIVATION,
    INPUT_ACTIVATION,
    LAYERS,
    LEARNING_RATE,
    MODEL_NAMES,
    OPTIMIZER,
    RUNTIME_NAMES,
    UNITS,
    Params,
)

if TYPE_CHECKING:
    import keras

    from course.data import Schema


def seed_everything(seed: int) -> None:
    """`keras.utils.set_random_seed`, seeding each fit so its result does not depend on order
    (without importing TensorFlow on other backends: see `backend.hide_tensorflow`)."""
    import keras

    from course.backend import hide_tensorflow

    hide_tensorflow()
    keras.utils.set_random_seed(seed)


# --8<-- [start:build]
def build_model(params: Params, schema: Schema) -> keras.Model:
    """An MLP for rows of `schema` (its preprocessed width in, a class each out): an input
    Dense layer, `layers` hidden Dense layers of the same width (each
    followed by dropout, if its rate is above 0), softmax. `params` is a configuration of the
    space (its fit arguments, epochs and batch size, unused). The learning rate and the dropout
    rate are variables, so a compiled model can be re-used at other values (`ModelPool`)."""
    import keras

    from course.layers import RateDropout

    units = params[UNITS]
    model = keras.Sequential([keras.Input(shape=(schema.inputs,))])
    model.add(keras.layers.Dense(units, activation=params[INPUT_ACTIVATION]))
    for _ in range(params[LAYERS]):
        model.add(keras.layers.Dense(units, activation=params[HIDDEN_ACTIVATION]))
        if params[DROPOUT] > 0:
            model.add(RateDropout(params[DROPOUT]))
    model.add(keras.layers.Dense(len(schema.labels), activation="softmax"))
    optimizer = keras.optimizers.get(params[OPTIMIZER])
    optimizer.learning_rate = params[LEARNING_RATE]  # a variable of the optimizer's state
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",  # labels are class indices 0..k-1
        metrics=["accuracy"],
        steps_per_execution=speed.STEPS_PER_EXECUTION,  # see course/speed.py
    )
    return model


# --8<-- [end:build]


# --8<-- [start:callbacks]
def early_stopping(training: Training) -> keras.callbacks.EarlyStopping:
    """Ends a fit once the monitored score has not improved for `patience` epochs: it saves
    time and stops the model from learning the noise of its training rows."""
    import keras

    return keras.callbacks.EarlyStopping(
        monitor=training.monitor, mode=training.mode, patience=training.patience
    )


def checkpoint(training: Training, path: Path) -> keras.callbacks.ModelCheckpoint:
    """Keeps the best epoch on disk (the whole model, or only weights for `.weights.h5`), so
    the model we score is the best one seen, not the last one trained."""
    import keras

    path.parent.mkdir(parents=True, exist_ok=True)
    return keras.callbacks.ModelCheckpoint(
        path,
        monitor=training.monitor,
        mode=training.mode,
        save_best_only=True,
        save_weights_only=path.name.endswith(".weights.h5"),
    )


def callbacks(training: Training, path: Path) -> list[keras.callbacks.Callback]:
    """The two callbacks of every fit."""
    return [early_stopping(training), checkpoint(training, path)]


# --8<-- [end:callbacks]


# --8<-- [start:pool]
class ModelPool:
    """One compiled model per architecture, re-used by every later fit of that architecture
    (whatever its learning rate and dropout rate: they are variables, not part of the program).

    On JAX a short fit of a new model spends most of its time compiling (about 0.7 s of 1 s);
    a re-used model skips that. It is handed over in exactly the state a fresh model would
    have: the same seeded initial weights (drawn by building a fresh, uncompiled-yet model), a
    freshly built optimizer state, and the random draws of a fresh model's first fit, so the
    history it trains is identical (tests/test_model.py checks it). Other backends get fresh
    models.
    """

    def __init__(self) -> None:
        self._models: dict[tuple[Any, ...], keras.Model] = {}  # by architecture and shape

    def model(self, n_samples: int, params: Params, schema: Schema) -> keras.Model:
        """A model ready to fit on `n_samples` rows of `schema`; call it right after
        `seed_everything`."""
        import keras
        import numpy as np

        fresh = build_model(params, schema)  # draws the initial weights from the seeded generators
        if keras.backend.backend() != "jax" or not speed.REUSE_MODELS:
            return fresh
        key = (*((n, params[n]) for n in MODEL_NAMES if n not in RUNTIME_NAMES),
               params[DROPOUT] > 0, schema.inputs, len(schema.labels))  # fmt: skip
        pooled = self._models.get(key)
        if pooled is None or pooled.train_function is None:  # none yet, or never trained
            self._models[key] = fresh
            return fresh
        for target, source in zip(pooled.variables, fresh.variables, strict=True):
            target.assign(source)  # weights, dropout rates and seeds
        fresh.optimizer.build(fresh.trainable_variables)
        for target, source in zip(pooled.optimizer.variables, fresh.optimizer.variables,
                                  strict=True):  # fmt: skip
            target.assign(source)
        # A fresh model's first fit pulls one shuffled batch to build its metrics, which draws
        # one permutation of the rows; draw it too, so every epoch sees the same order.
        np.random.permutation(n_samples)
        return pooled


# --8<-- [end:pool]

"""Re-using a compiled model must be invisible in the results."""

from __future__ import annotations

import os

import pytest

from course import backend, data
from course.model import ModelPool, build_model, seed_everything
from course.registry import load_profile
from course.space import split_params
from tests.conftest import dataset_path

SCHEMA = data.load(dataset_path()).schema


@pytest.fixture(scope="module")
def arrays() -> tuple:
    backend.configure()
    profile = load_profile("quick")
    split = data.split(data.load(dataset_path()), profile.seed, profile.test_size)
    return data.holdout_scaled(split, profile.seed, profile.validation_size)[:4]


def _fit(model, arrays: tuple, batch_size: int) -> dict[str, list[float]]:
    x_train, y_train, x_val, y_val = arrays
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=6,
                        batch_size=batch_size, verbose=0)  # fmt: skip
    return history.history


def _params(index: int = -1, **changes: object) -> dict:
    """Builder arguments of a quick-profile grid configuration, with `changes`."""
    values = load_profile("quick").space.grid_values()
    params, _ = split_params({name: v[index] for name, v in values.items()})
    return {**params, **changes}


def _state(model) -> tuple[float, ...]:
    """The runtime values a compiled model reads: its learning rate, then its dropout rates."""

    from course.layers import RateDropout  # imports Keras: after backend.configure()

    rate = float(model.optimizer.learning_rate.numpy())
    dropout = [float(layer.rate.numpy()) for layer in model.layers
               if isinstance(layer, RateDropout)]  # fmt: skip
    return (rate, *dropout)


def _on_jax() -> bool:
    import keras

    # Keras must have loaded the course's backend (a test importing Keras first would not)
    assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
    return keras.backend.backend() == "jax"


@pytest.mark.slow
def test_a_reused_model_trains_exactly_like_a_fresh_one(arrays: tuple) -> None:
    params = _params()
    seed_everything(42)
    fresh = _fit(build_model(params, SCHEMA), arrays, batch_size=32)

    pool = ModelPool()
    seed_everything(7)  # the pool's first model trains something else first
    first = pool.model(len(arrays[0]), params, SCHEMA)
    _fit(first, arrays, batch_size=64)
    seed_everything(42)
    again = pool.model(len(arrays[0]), params, SCHEMA)
    assert (again is first) == _on_jax()  # re-used on JAX
    assert _fit(again, arrays, batch_size=32) == fresh  # every epoch, every metric


@pytest.mark.slow
def test_a_reused_model_takes_a_new_learning_rate_and_dropout_rate(arrays: tuple) -> None:
    """The learning rate and the dropout rate are runtime values: the pool hands the model it
    compiled at lr 1e-3 and dropout 0.2 to a fit at lr 1e-2 and dropout 0.4, and that fit
    trains exactly like a fresh model built at lr 1e-2 and dropout 0.4."""
    before = _params(layers=2, learning_rate=1e-3, dropout=0.2)
    after = {**before, "learning_rate": 1e-2, "dropout": 0.4}
    histories = {}
    for label, params in (("after", after), ("old rate", {**after, "learning_rate": 1e-3}),
                          ("old dropout", {**after, "dropout": 0.2})):  # fmt: skip
        seed_everything(42)
        model = build_model(params, SCHEMA)
        assert _state(model) == pytest.approx((params["learning_rate"], *[params["dropout"]] * 2))
        histories[label] = _fit(model, arrays, batch_size=32)
    # each value changes what a fit learns, so a pooled model that kept either would show
    assert histories["after"] != histories["old rate"]
    assert histories["after"] != histories["old dropout"]

    pool = ModelPool()
    seed_everything(7)
    first = pool.model(len(arrays[0]), before, SCHEMA)
    _fit(first, arrays, batch_size=64)  # trained (and compiled) at the old values
    seed_everything(42)
    again = pool.model(len(arrays[0]), after, SCHEMA)
    assert (again is first) == _on_jax()  # no new compilation for a new rate
    assert _state(again) == pytest.approx((1e-2, 0.4, 0.4))
    assert _fit(again, arrays, batch_size=32) == histories["after"]  # every epoch, every metric

    # no dropout is another architecture (no dropout layers): a model of its own
    seed_everything(42)
    plain = pool.model(len(arrays[0]), {**after, "dropout": 0.0}, SCHEMA)
    assert plain is not first and len(_state(plain)) == 1


@pytest.mark.slow
def test_validating_in_one_batch_keeps_every_decision(arrays: tuple) -> None:
    """speed.VALIDATION_BATCH_SIZE: one batch of validation rows instead of training-sized
    batches counts the same correct rows (what EarlyStopping and the checkpoint read), and
    averages the same losses up to float rounding."""
    from course.speed import VALIDATION_BATCH_SIZE

    params = _params(0)
    x_train, y_train, x_val, y_val = arrays
    histories = []
    for validation_batch_size in (None, VALIDATION_BATCH_SIZE or len(x_val)):
        seed_everything(42)
        history = build_model(params, SCHEMA).fit(
            x_train, y_train, validation_data=(x_val, y_val), epochs=6, batch_size=48,
            validation_batch_size=validation_batch_size, verbose=0,
        )  # fmt: skip
        histories.append(history.history)
    batched, whole = histories
    assert len(x_val) % 48 != 0  # batches of 48 leave a short last batch: a real difference
    assert whole["val_accuracy"] == batched["val_accuracy"]
    assert whole["loss"] == batched["loss"]  # training itself is untouched
    assert whole["val_loss"] == pytest.approx(batched["val_loss"], rel=1e-5)

"""Re-using a compiled model must be invisible in the results."""

from __future__ import annotations

import pytest

from course import backend, data
from course.model import ModelPool, build_model, seed_everything
from course.registry import load_profile
from course.space import split_params
from tests.conftest import dataset_path


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


@pytest.mark.slow
def test_a_reused_model_trains_exactly_like_a_fresh_one(arrays: tuple) -> None:
    space = load_profile("quick").space.values
    params, _ = split_params({name: values[-1] for name, values in space.items()})
    seed_everything(42)
    fresh = _fit(build_model(params), arrays, batch_size=32)

    pool = ModelPool()
    seed_everything(7)  # the pool's first model trains something else first
    first = pool.model(len(arrays[0]), params)
    _fit(first, arrays, batch_size=64)
    seed_everything(42)
    again = pool.model(len(arrays[0]), params)
    import keras

    assert (again is first) == (keras.backend.backend() == "jax")  # re-used on JAX
    assert _fit(again, arrays, batch_size=32) == fresh  # every epoch, every metric


@pytest.mark.slow
def test_validating_in_one_batch_keeps_every_decision(arrays: tuple) -> None:
    """speed.VALIDATION_BATCH_SIZE: one batch of validation rows instead of training-sized
    batches counts the same correct rows (what EarlyStopping and the checkpoint read), and
    averages the same losses up to float rounding."""
    from course.speed import VALIDATION_BATCH_SIZE

    space = load_profile("quick").space.values
    params, _ = split_params({name: values[0] for name, values in space.items()})
    x_train, y_train, x_val, y_val = arrays
    histories = []
    for validation_batch_size in (None, VALIDATION_BATCH_SIZE or len(x_val)):
        seed_everything(42)
        history = build_model(params).fit(
            x_train, y_train, validation_data=(x_val, y_val), epochs=6, batch_size=48,
            validation_batch_size=validation_batch_size, verbose=0,
        )  # fmt: skip
        histories.append(history.history)
    batched, whole = histories
    assert len(x_val) % 48 != 0  # batches of 48 leave a short last batch: a real difference
    assert whole["val_accuracy"] == batched["val_accuracy"]
    assert whole["loss"] == batched["loss"]  # training itself is untouched
    assert whole["val_loss"] == pytest.approx(batched["val_loss"], rel=1e-5)

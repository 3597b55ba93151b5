"""The model's one custom layer (imported with Keras, by the model builder only)."""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="course")
class RateDropout(keras.layers.Layer):
    """Dropout whose rate is a variable rather than a constant of the compiled program.

    Keras' `Dropout` bakes its rate into the traced training step, so a compiled model re-used
    at another rate would keep the old one (and a new rate per fit would compile every fit).
    Here the rate is a non-trainable weight: the pool assigns it, checkpoints keep it. In
    training each unit is kept with probability 1 - rate and scaled by 1 / (1 - rate), as
    `Dropout` does; at inference it passes its input through.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial_rate = float(rate)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.rate = self.add_weight(shape=(), initializer=keras.initializers.Constant(rate),
                                    trainable=False, name="rate")  # fmt: skip

    def call(self, inputs: Any, training: bool = False) -> Any:
        if not training:
            return inputs
        keep = 1.0 - self.rate
        kept = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator) < keep
        return keras.ops.where(kept, inputs / keep, keras.ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        rate = float(keras.ops.convert_to_numpy(self.rate))
        return {**super().get_config(), "rate": rate}

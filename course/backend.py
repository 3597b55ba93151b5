"""Which Keras backend runs the fits. `KERAS_BACKEND` wins; otherwise the default below.

JAX is the default because it trained this MLP 2-3x faster than TensorFlow on a 2-core machine
(see DESIGN.md); the speed issue's benchmark re-measures it. Changing the default is one line.
"""

from __future__ import annotations

import importlib.util
import os

DEFAULT_BACKEND = "jax"
FALLBACK_BACKEND = "tensorflow"


def configure() -> str:
    """Set `KERAS_BACKEND` before Keras is first imported, and return it.

    A machine with only TensorFlow still works: the default falls back when JAX is missing.
    """
    if "KERAS_BACKEND" not in os.environ:
        chosen = DEFAULT_BACKEND
        if importlib.util.find_spec(chosen) is None:
            chosen = FALLBACK_BACKEND
        os.environ["KERAS_BACKEND"] = chosen
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    return os.environ["KERAS_BACKEND"]

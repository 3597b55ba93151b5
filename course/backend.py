"""Which Keras backend runs the fits. `KERAS_BACKEND` wins; otherwise the default below.

JAX is the default because it trained this MLP 2-3x faster than TensorFlow on a 2-core machine
(`scripts/bench.py` measures it; the Performance page shows it). Changing the default is one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

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
    from course.speed import JAX_CACHE, XLA_EMITTERS

    if os.environ["KERAS_BACKEND"] == "jax" and JAX_CACHE:  # JAX reads these when it loads
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", JAX_CACHE)
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    if os.environ["KERAS_BACKEND"] == "jax" and XLA_EMITTERS == "legacy" and _knows_emitters():
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_use_fusion_emitters" not in flags:  # a flag the user set wins
            os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_use_fusion_emitters=false".strip()
    return os.environ["KERAS_BACKEND"]


def _knows_emitters() -> bool:
    """Whether the installed jaxlib has XLA's fusion-emitter flag: XLA stops the process on an
    unknown flag, so it is only set on the versions it was measured with (0.10 on)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(part) for part in version("jaxlib").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (0, 10)


def load(preload: Iterable[str] = ()) -> str:
    """Configure the backend, then import Keras (and `preload`) with TensorFlow's start-up
    lines hidden; return the backend. The study process and every worker start this way."""
    chosen = configure()
    with quiet_native_logs():  # TensorFlow, if anything loads it, loads here
        for name in ("keras", *preload):
            importlib.import_module(name)
    hide_tensorflow()
    # Checkpoints hold weights, not optimizer state; Keras warns about that on every reload.
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
    return chosen


def hide_tensorflow() -> None:
    """On a backend other than TensorFlow, tell Keras that TensorFlow is absent.

    Keras imports TensorFlow whenever it can, to seed it or to check for `tf.data` inputs; on
    another backend that costs about two seconds and a screen of log lines, and nothing here
    uses TensorFlow.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        from keras.src.utils import module_utils

        # Private: Keras has no public switch for its lazy TensorFlow import;
        # tests/test_private_apis.py fails loudly if this flag moves.
        module_utils.tensorflow._available = False


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hide what C++ libraries print to stderr while they load.

    TensorFlow's start-up lines (oneDNN, CUDA stubs) ignore `TF_CPP_MIN_LOG_LEVEL`; Python
    errors are still raised as usual and printed once stderr is back.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)

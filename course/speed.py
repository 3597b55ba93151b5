"""How fits run fast: settings chosen by measurement (`scripts/bench.py`, the Performance page).

Most of a short fit of this small MLP is framework overhead, not arithmetic. The defaults below
are the fastest setup that leaves every result unchanged; environment variables override them so
the benchmark can compare setups side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

from course.errors import CourseError


def _setting(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in allowed:
        raise CourseError(f"${name}: {value!r}; expected one of {', '.join(allowed)}")
    return value


# --8<-- [start:defaults]
# Re-use one compiled model per architecture (JAX only; see model.ModelPool).
REUSE_MODELS = _setting("COURSE_REUSE_MODELS", "1", ("0", "1")) == "1"
# Training steps per compiled call: fewer Python round trips per epoch (same arithmetic).
STEPS_PER_EXECUTION = int(_setting("COURSE_STEPS_PER_EXECUTION", "16", ("1", "4", "16", "64")))
# Validation rows per compiled call: all of them at once ("all"), so an architecture validates
# with one compiled program whatever its training batch size, in one call per epoch; "batch" is
# Keras' default, the training batch size. The sums behind val_accuracy are the same either way.
VALIDATION_BATCH_SIZE = {"all": 1 << 30, "batch": None}[
    _setting("COURSE_VALIDATION_BATCH", "all", ("all", "batch"))
]
# What ModelCheckpoint writes on every improvement: weights only, or the whole .keras model.
CHECKPOINT_SUFFIX = {"weights": ".weights.h5", "model": ".keras"}[
    _setting("COURSE_CHECKPOINT", "weights", ("weights", "model"))
]
# Keep JAX's compiled programs on disk, so a rerun (or another process) skips compiling
# shapes it has compiled before; results are the same programs, so they do not change.
# An empty value turns it off.
JAX_CACHE = os.environ.get("COURSE_JAX_CACHE", str(Path.home() / ".cache" / "hpo-course" / "jax"))
# Which XLA CPU code generator compiles the programs (JAX only): its older "legacy" emitters
# compiled every program of the reference grid faster than the newer "fusion" emitters and
# trained the same fits to the same bits (course/backend.py applies it; jaxlib >= 0.10 only).
XLA_EMITTERS = _setting("COURSE_XLA_EMITTERS", "legacy", ("legacy", "fusion"))
# Worker processes (`--workers`): the grid loop's, the scikit-learn searches' n_jobs and
# KerasTuner's distributed workers. Each runs XLA on one thread (course/workers.py).
WORKERS = int(_setting("COURSE_WORKERS", "1", tuple(str(n) for n in range(1, 65))))
# --8<-- [end:defaults]


def settings() -> dict[str, object]:
    """The settings in force, as provenance records them beside each run (the runner adds
    the study's `--workers`)."""
    return {"reuse_models": REUSE_MODELS, "steps_per_execution": STEPS_PER_EXECUTION,
            "checkpoint": CHECKPOINT_SUFFIX, "jax_cache": bool(JAX_CACHE),
            "validation_batch_size": VALIDATION_BATCH_SIZE,
            "xla_emitters": XLA_EMITTERS}  # fmt: skip

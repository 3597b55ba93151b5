"""The one search space: hyperparameter names, their domains, and each library's spelling of it.

Nothing else in the package spells a hyperparameter name. A profile lists candidate values for
each hyperparameter; this module validates them and translates them for the grid loop
(`values`), scikit-learn (`param_grid`) and KerasTuner (`declare`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course.errors import CourseError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "softplus", "linear")
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")

# The names, spelled once: the model builder, the libraries' adapters and the report use these.
LAYERS, UNITS = "layers", "units"  # hidden Dense layers after the input one, and their width
EPOCHS = "epochs"  # the epoch *budget* of a fit (EarlyStopping may end it sooner: `epochs_run`)
BATCH_SIZE = "batch_size"
INPUT_ACTIVATION, HIDDEN_ACTIVATION = "input_activation", "hidden_activation"
OPTIMIZER = "optimizer"

# name -> (type, allowed values or None for "any positive integer"), in the order of the
# trials.csv / results.csv columns.
HYPERPARAMETERS: dict[str, tuple[type, tuple[str, ...] | None]] = {
    LAYERS: (int, None),
    UNITS: (int, None),
    EPOCHS: (int, None),
    BATCH_SIZE: (int, None),
    INPUT_ACTIVATION: (str, ACTIVATIONS),
    HIDDEN_ACTIVATION: (str, ACTIVATIONS),
    OPTIMIZER: (str, OPTIMIZERS),
}
NAMES: tuple[str, ...] = tuple(HYPERPARAMETERS)
# Sane upper bounds: a wider or deeper MLP than this, on tables of this size, only runs out of
# memory or time (the batch size is checked against the data's rows instead).
LIMITS = {LAYERS: 64, UNITS: 4096, EPOCHS: 10_000}
# Arguments of `Model.fit` rather than of the model builder (Hyperband allots EPOCHS itself).
FIT_NAMES: tuple[str, ...] = (EPOCHS, BATCH_SIZE)
MODEL_NAMES: tuple[str, ...] = tuple(n for n in NAMES if n not in FIT_NAMES)

Params = dict[str, Any]


@dataclass(frozen=True)
class Space:
    """Candidate values per hyperparameter, in `NAMES` order; a single value means fixed."""

    values: dict[str, tuple[Any, ...]]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "space") -> Space:
        """Validate a profile's `[space]` table; every error names the offending key."""
        unknown = sorted(set(raw) - set(NAMES))
        if unknown:
            raise CourseError(
                f"{where}.{unknown[0]}: unknown hyperparameter; expected one of {', '.join(NAMES)}"
            )
        values: dict[str, tuple[Any, ...]] = {}
        for name, (kind, allowed) in HYPERPARAMETERS.items():
            key = f"{where}.{name}"
            if name not in raw:
                raise CourseError(f"{key}: missing; give a list of candidate values")
            candidates = raw[name]
            if not isinstance(candidates, list):
                raise CourseError(f"{key}: expected a list, got {type(candidates).__name__}")
            if not candidates:
                raise CourseError(f"{key}: empty list; give at least one value")
            for value in candidates:
                if isinstance(value, bool) or not isinstance(value, kind):
                    raise CourseError(f"{key}: {value!r} is not {kind.__name__}")
                if kind is int and value <= 0:
                    raise CourseError(f"{key}: {value} must be a positive integer")
                if name in LIMITS and value > LIMITS[name]:
                    raise CourseError(f"{key}: {value} is more than {LIMITS[name]}, the most "
                                      "this course trains")  # fmt: skip
                if allowed is not None and value not in allowed:
                    raise CourseError(
                        f"{key}: unknown value {value!r}; expected one of {', '.join(allowed)}"
                    )
            if len(set(candidates)) != len(candidates):
                raise CourseError(f"{key}: duplicate values in {candidates}")
            values[name] = tuple(candidates)
        return cls(values)

    @property
    def size(self) -> int:
        """Number of configurations in the full grid."""
        n = 1
        for candidates in self.values.values():
            n *= len(candidates)
        return n

    @property
    def tuned(self) -> tuple[str, ...]:
        """Hyperparameters with more than one candidate (the others are fixed)."""
        return tuple(name for name, c in self.values.items() if len(c) > 1)

    def grid(self) -> list[Params]:
        """Every configuration, in a fixed order: a configuration's trial number is its index."""
        values = self.values
        # --8<-- [start:grid]
        return [
            dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())
        ]
        # --8<-- [end:grid]

    def param_grid(self, step: str = "") -> dict[str, list[Any]]:
        """scikit-learn's `param_grid` / `param_distributions` (lists are sampled uniformly)."""
        return {sklearn_name(name, step): list(c) for name, c in self.values.items()}

    def declare(self, hp: Any, skip: tuple[str, ...] = ()) -> Params:
        """Register the hyperparameters on a `keras_tuner.HyperParameters`; return the draw.

        `skip` leaves some out: Hyperband allots epochs itself, so it must not tune them.
        """
        return {
            name: hp.Choice(name, list(c)) if len(c) > 1 else hp.Fixed(name, c[0])
            for name, c in self.values.items()
            if name not in skip
        }


def sklearn_name(name: str, step: str = "") -> str:
    """A hyperparameter's scikit-learn path: scikeras routes `model__x` to the builder's `x`,
    and takes `epochs` and `batch_size` itself; `step` is the pipeline step of the classifier."""
    inner = f"model__{name}" if name in MODEL_NAMES else name
    return f"{step}__{inner}" if step else inner


def from_sklearn(params: Params, step: str = "") -> Params:
    """Back from scikit-learn's parameter names to the space's."""
    return {name: params[sklearn_name(name, step)] for name in NAMES}


def split_params(params: Params) -> tuple[Params, Params]:
    """Separate builder arguments from `fit` arguments (epochs, batch size)."""
    return (
        {n: params[n] for n in MODEL_NAMES},
        {n: params[n] for n in FIT_NAMES},
    )

"""The one search space: hyperparameter names, their domains, and each library's spelling of it.

Nothing else in the package spells a hyperparameter name. A profile's `[space]` table gives each
hyperparameter a domain, and this module validates it and translates it for every searcher:

- a list: categorical (or discrete) values, `units = [16, 64]`;
- a range: `learning_rate = { low = 1e-4, high = 1e-1, log = true, grid_points = 4 }`, sampled
  continuously (on a log scale with `log`) by random and quasi-random searches, and seen by the
  grid methods through its `grid = [...]` values or `grid_points` evenly (log-)spaced points;
- a single value: fixed, `optimizer = "adam"`; a hyperparameter left out is fixed at its default.

Translations: the grid (`grid`, `param_grid`), scikit-learn's distributions (`distributions`),
KerasTuner (`declare`), Optuna (`suggest`) and the unit cube (`from_unit`, for quasi-random
points).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course.errors import CourseError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "softplus", "linear")
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")

# The names, spelled once: the model builder, the libraries' adapters and the report use these.
LAYERS, UNITS = "layers", "units"  # hidden Dense layers after the input one, and their width
LEARNING_RATE = "learning_rate"  # the optimiser's step size
DROPOUT = "dropout"  # the rate of the Dropout after each hidden layer (0: none)
EPOCHS = "epochs"  # the epoch *budget* of a fit (EarlyStopping may end it sooner: `epochs_run`)
BATCH_SIZE = "batch_size"
INPUT_ACTIVATION, HIDDEN_ACTIVATION = "input_activation", "hidden_activation"
OPTIMIZER = "optimizer"


@dataclass(frozen=True)
class Hyperparameter:
    """What a hyperparameter's values may be: a type, allowed words (for a `str`) or bounds
    (`low`..`high`, `high` excluded when `open_high`, `low` excluded when `open_low`), and the
    value it takes when a profile leaves it out."""

    kind: type
    default: Any
    meaning: str
    words: tuple[str, ...] = ()
    low: float = 1
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False

    def check(self, value: Any, key: str) -> Any:
        """The value, as its type (an int where a float is expected becomes a float)."""
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, self.kind):
            raise CourseError(f"{key}: {value!r} is not {self.kind.__name__}")
        if self.words and value not in self.words:
            raise CourseError(f"{key}: unknown value {value!r}; expected one of "
                              f"{', '.join(self.words)}")  # fmt: skip
        if not self.words and not self.allows(value):
            raise CourseError(f"{key}: {value} is outside {self.bounds}")
        return value

    def allows(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    @property
    def bounds(self) -> str:
        """The allowed interval, as the error messages and the reference page write it."""
        if self.words:
            return "one of " + ", ".join(f"`{w}`" for w in self.words)
        low = f"{'(' if self.open_low else '['}{self.low:g}"
        high = "∞)" if math.isinf(self.high) else f"{self.high:g}{')' if self.open_high else ']'}"
        return f"{low}, {high}"


# name -> what it may be, in the order of the trials.csv / results.csv columns. Sane upper
# bounds: a wider or deeper MLP than this, on tables of this size, only runs out of memory or
# time (the batch size is checked against the data's rows instead).
HYPERPARAMETERS: dict[str, Hyperparameter] = {
    LAYERS: Hyperparameter(int, 1, "hidden Dense layers after the input one", high=64),
    UNITS: Hyperparameter(int, 64, "units of every Dense layer but the output", high=4096),
    LEARNING_RATE: Hyperparameter(
        float,
        1e-3,
        "the optimiser's learning rate (Keras' default for Adam)",
        low=0,
        high=10,
        open_low=True,
    ),
    DROPOUT: Hyperparameter(
        float, 0.0, "Dropout rate after each hidden layer", low=0, high=1, open_high=True
    ),
    EPOCHS: Hyperparameter(
        int, None, "a fit's epoch budget (default: training.max_epochs)", high=10_000
    ),
    BATCH_SIZE: Hyperparameter(int, 32, "rows per gradient step (Keras' default)"),
    INPUT_ACTIVATION: Hyperparameter(
        str, "relu", "the input layer's activation", words=ACTIVATIONS
    ),
    HIDDEN_ACTIVATION: Hyperparameter(
        str, "relu", "the hidden layers' activation", words=ACTIVATIONS
    ),
    OPTIMIZER: Hyperparameter(str, "adam", "the Keras optimiser", words=OPTIMIZERS),
}
NAMES: tuple[str, ...] = tuple(HYPERPARAMETERS)
# Arguments of `Model.fit` rather than of the model builder (Hyperband allots EPOCHS itself).
FIT_NAMES: tuple[str, ...] = (EPOCHS, BATCH_SIZE)
MODEL_NAMES: tuple[str, ...] = tuple(n for n in NAMES if n not in FIT_NAMES)
# Builder arguments a compiled model reads at run time: re-used models differ in these freely.
RUNTIME_NAMES: tuple[str, ...] = (LEARNING_RATE, DROPOUT)

Params = dict[str, Any]
RANGE_KEYS = {"low", "high", "log", "grid", "grid_points"}


@dataclass(frozen=True)
class Choice:
    """Listed values (one value: fixed)."""

    values: tuple[Any, ...]

    @property
    def count(self) -> float:
        return len(self.values)

    @property
    def highest(self) -> Any:
        return max(self.values)

    def grid(self, key: str) -> tuple[Any, ...]:
        return self.values

    def at(self, u: float) -> Any:
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]

    def sklearn(self) -> list[Any]:
        return list(self.values)  # scikit-learn samples a list uniformly

    def declare(self, hp: Any, name: str) -> Any:
        if len(self.values) == 1:
            return hp.Fixed(name, self.values[0])
        return hp.Choice(name, list(self.values))

    def suggest(self, trial: Any, name: str) -> Any:
        if len(self.values) == 1:
            return self.values[0]
        return trial.suggest_categorical(name, list(self.values))

    def holds(self, value: Any) -> bool:
        return value in self.values

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(list(self.values))

    def as_data(self) -> Any:
        return list(self.values)


@dataclass(frozen=True)
class Range:
    """Every number from `low` to `high` (both included), uniform on a log scale with `log`;
    `points` are what the grid methods try of it (None: the range has no grid)."""

    kind: type
    low: float
    high: float
    log: bool
    points: tuple[Any, ...] | None

    @property
    def count(self) -> float:
        return self.high - self.low + 1 if self.kind is int else math.inf

    @property
    def highest(self) -> Any:
        return self.high

    def grid(self, key: str) -> tuple[Any, ...]:
        if self.points is None:
            raise CourseError(f"{key}: a range has no grid; add grid = [...] or grid_points = N "
                              "for the grid methods")  # fmt: skip
        return self.points

    def at(self, u: float) -> Any:
        """The point at `u` in [0, 1) of the range, evenly spread on its scale."""
        high = self.high + 1 if self.kind is int else self.high  # an int's last cell
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(high) - math.log(self.low)))
        else:
            value = self.low + u * (high - self.low)
        # exp(log(low)) may fall a hair below low (an int's 16 truncating to 15): clamp it
        if self.kind is int:
            return min(max(int(value), self.low), self.high)
        return min(max(value, self.low), self.high)

    def sklearn(self) -> Any:
        from scipy import stats

        if self.kind is float:
            if self.log:
                return stats.loguniform(self.low, self.high)
            return stats.uniform(self.low, self.high - self.low)
        return IntLogUniform(self.low, self.high) if self.log else stats.randint(
            self.low, self.high + 1)  # fmt: skip

    def declare(self, hp: Any, name: str) -> Any:
        sampling = "log" if self.log else "linear"
        if self.kind is int:
            return hp.Int(name, self.low, self.high, sampling=sampling)
        return hp.Float(name, self.low, self.high, sampling=sampling)

    def suggest(self, trial: Any, name: str) -> Any:
        if self.kind is int:
            return trial.suggest_int(name, self.low, self.high, log=self.log)
        return trial.suggest_float(name, self.low, self.high, log=self.log)

    def holds(self, value: Any) -> bool:
        return self.low <= value <= self.high

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution, IntDistribution

        kind = IntDistribution if self.kind is int else FloatDistribution
        return kind(self.low, self.high, log=self.log)

    def as_data(self) -> Any:
        grid = None if self.points is None else list(self.points)
        return {"low": self.low, "high": self.high, "log": self.log, "grid": grid}


class IntLogUniform:
    """Integers from `low` to `high`, uniform on a log scale: scikit-learn samples any object
    with `rvs`, and scipy has no integer log-uniform distribution."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def rvs(self, random_state: Any = None) -> int:
        from scipy import stats

        u = stats.uniform.rvs(random_state=random_state)
        return Range(int, self.low, self.high, True, None).at(u)


Domain = Choice | Range


def _round(value: float) -> float:
    """Six significant digits: grid points read as the profile's author would write them."""
    return float(f"{value:.6g}")


def _range(spec: Hyperparameter, raw: Mapping[str, Any], key: str) -> Range:
    """Validate a `{ low, high, log, grid | grid_points }` table."""
    if spec.words:
        raise CourseError(f"{key}: a range needs numbers; list the values instead")
    unknown = sorted(set(raw) - RANGE_KEYS)
    if unknown:
        raise CourseError(f"{key}.{unknown[0]}: unknown key; expected one of "
                          f"{', '.join(sorted(RANGE_KEYS))}")  # fmt: skip
    for end in ("low", "high"):
        if end not in raw:
            raise CourseError(f"{key}.{end}: missing")
    low, high = (spec.check(raw[end], f"{key}.{end}") for end in ("low", "high"))
    if low >= high:
        raise CourseError(f"{key}: low {low} must be less than high {high}")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise CourseError(f"{key}.log: expected true or false, got {log!r}")
    if log and low <= 0:
        raise CourseError(f"{key}: log = true needs low > 0, got {low}")
    if "grid" in raw and "grid_points" in raw:
        raise CourseError(f"{key}: give grid or grid_points, not both")
    points = None
    if "grid" in raw:
        points = _listed(spec, raw["grid"], f"{key}.grid")
        outside = [v for v in points if not low <= v <= high]
        if outside:
            raise CourseError(f"{key}.grid: {outside[0]} is outside the range [{low}, {high}]")
    elif "grid_points" in raw:
        n = raw["grid_points"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise CourseError(f"{key}.grid_points: {n!r} must be a whole number of at least 2")
        if log:
            values = [low * (high / low) ** (i / (n - 1)) for i in range(n)]
        else:
            values = [low + (high - low) * i / (n - 1) for i in range(n)]
        if spec.kind is int:
            points = tuple(round(v) for v in values)
            if len(set(points)) < n:
                raise CourseError(f"{key}.grid_points: {n} points on [{low}, {high}] repeat "
                                  "whole numbers; ask for fewer")  # fmt: skip
        else:
            points = tuple(_round(v) for v in values)
    return Range(spec.kind, low, high, log, points)


def _listed(spec: Hyperparameter, raw: Any, key: str) -> tuple[Any, ...]:
    """Validate a list of values (one, or several to choose from)."""
    if not isinstance(raw, list):
        raise CourseError(f"{key}: expected a list, got {type(raw).__name__}")
    if not raw:
        raise CourseError(f"{key}: empty list; give at least one value")
    values = tuple(spec.check(v, key) for v in raw)
    if len(set(values)) != len(values):
        raise CourseError(f"{key}: duplicate values in {raw}")
    return values


def domain(name: str, raw: Any, where: str = "space") -> Domain:
    """One hyperparameter's domain from its profile entry: a list, a range table or a value."""
    spec, key = HYPERPARAMETERS[name], f"{where}.{name}"
    if isinstance(raw, dict):
        return _range(spec, raw, key)
    if isinstance(raw, list):
        return Choice(_listed(spec, raw, key))
    return Choice((spec.check(raw, key),))


@dataclass(frozen=True)
class Space:
    """A domain per hyperparameter, in `NAMES` order."""

    domains: dict[str, Domain]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "space",
                     defaults: Mapping[str, Any] | None = None) -> Space:  # fmt: skip
        """Validate a profile's `[space]` table; every error names the offending key. A name
        left out is fixed at `defaults` (the profile's own, like the epoch budget) or at its
        hyperparameter's default."""
        unknown = sorted(set(raw) - set(NAMES))
        if unknown:
            raise CourseError(
                f"{where}.{unknown[0]}: unknown hyperparameter; expected one of {', '.join(NAMES)}"
            )
        fallback = {name: spec.default for name, spec in HYPERPARAMETERS.items()}
        fallback.update(defaults or {})
        return cls({name: domain(name, raw[name], where) if name in raw
                    else Choice((fallback[name],)) for name in NAMES})  # fmt: skip

    @property
    def tuned(self) -> tuple[str, ...]:
        """Hyperparameters with more than one value (the others are fixed)."""
        return tuple(name for name, d in self.domains.items() if d.count > 1)

    def count(self, skip: Sequence[str] = ()) -> float:
        """How many distinct configurations the space holds (`math.inf` with a float range);
        `skip` leaves some hyperparameters out."""
        return math.prod(d.count for name, d in self.domains.items() if name not in skip)

    def grid_values(self, where: str = "space") -> dict[str, tuple[Any, ...]]:
        """What the grid methods try of each hyperparameter (one line if a range has no grid)."""
        return {name: d.grid(f"{where}.{name}") for name, d in self.domains.items()}

    @property
    def size(self) -> int:
        """Number of configurations in the full grid."""
        return math.prod(len(values) for values in self.grid_values().values())

    def grid(self) -> list[Params]:
        """Every configuration, in a fixed order: a configuration's trial number is its index."""
        values = self.grid_values()
        # --8<-- [start:grid]
        return [
            dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())
        ]
        # --8<-- [end:grid]

    def param_grid(self, step: str = "") -> dict[str, list[Any]]:
        """scikit-learn's `param_grid`: the grid values, by scikit-learn's parameter names."""
        return {sklearn_name(name, step): list(v) for name, v in self.grid_values().items()}

    def distributions(self, step: str = "", skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """scikit-learn's `param_distributions`: lists, and scipy distributions for ranges;
        `skip` leaves some out (successive halving allots epochs as its resource)."""
        return {sklearn_name(name, step): d.sklearn() for name, d in self.domains.items()
                if name not in skip}  # fmt: skip

    def declare(self, hp: Any, skip: tuple[str, ...] = ()) -> Params:
        """Register the hyperparameters on a `keras_tuner.HyperParameters`; return the draw.

        `skip` leaves some out: Hyperband allots epochs itself, so it must not tune them.
        """
        return {name: d.declare(hp, name) for name, d in self.domains.items() if name not in skip}

    def suggest(self, trial: Any) -> Params:
        """A configuration drawn through an `optuna.Trial` (`suggest_*`, `log=True` for log
        ranges); fixed hyperparameters are not suggested."""
        return {name: d.suggest(trial, name) for name, d in self.domains.items()}

    def from_unit(self, point: Sequence[float]) -> Params:
        """The configuration at a point of the unit cube, one coordinate per tuned
        hyperparameter (in `tuned` order): how quasi-random points become configurations."""
        coordinates = dict(zip(self.tuned, point, strict=True))
        return {name: d.at(coordinates[name]) if name in coordinates else d.at(0.0)
                for name, d in self.domains.items()}  # fmt: skip

    def as_data(self) -> dict[str, Any]:
        """The space as plain data, for provenance and the run's digest."""
        return {name: d.as_data() for name, d in self.domains.items()}


def sklearn_name(name: str, step: str = "") -> str:
    """A hyperparameter's scikit-learn path: scikeras routes `model__x` to the builder's `x`,
    and takes `epochs` and `batch_size` itself; `step` is the pipeline step of the classifier."""
    inner = f"model__{name}" if name in MODEL_NAMES else name
    return f"{step}__{inner}" if step else inner


def from_sklearn(params: Params, step: str = "", skip: tuple[str, ...] = ()) -> Params:
    """Back from scikit-learn's parameter names to the space's (numpy numbers made plain);
    `skip`: names the parameters do not hold."""
    return {name: plain(params[sklearn_name(name, step)]) for name in NAMES if name not in skip}


def plain(value: Any) -> Any:
    """A numpy scalar (a scipy distribution's draw, a table's label) as the Python value it
    holds (JSON and CSV write those)."""
    return value.item() if hasattr(value, "item") else value


def split_params(params: Params) -> tuple[Params, Params]:
    """Separate builder arguments from `fit` arguments (epochs, batch size)."""
    return (
        {n: params[n] for n in MODEL_NAMES},
        {n: params[n] for n in FIT_NAMES},
    )

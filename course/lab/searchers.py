"""The lab's searchers: the libraries the telecust methods drive, asked for configurations of a
table instead of an MLP to train.

Each table hyperparameter is encoded for the searchers the way the course's space encodes its
own (`course.space`): a list of numbers is ordered, so it becomes the integer range of its
positions (KerasTuner's `hp.Int`, Optuna's `suggest_int`, a Sobol coordinate spread evenly over
the positions), a list of words stays a categorical choice. Grid and random search see the
positions as lists, as scikit-learn's `ParameterGrid` and `ParameterSampler` take them.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

from course.lab.tables import Params, Table
from course.searchers import FixedSearcher, kt_seed
from course.space import Choice, Range, Space
from course.study import Candidate, Searcher

GRID, RANDOM, SOBOL = "grid", "random", "quasi-random"
KT_RANDOM, TPE, KT_BAYESIAN = "kt-random-search", "optuna-tpe", "kt-bayesian"
SLOW = (KT_BAYESIAN,)  # opt-in: a Gaussian process refitted at every step (minutes per search)
# The module each searcher's library is (KerasTuner's brings TensorFlow: seconds to import).
IMPORTS = {GRID: "sklearn.model_selection", RANDOM: "sklearn.model_selection",
           SOBOL: "scipy.stats", KT_RANDOM: "keras_tuner", TPE: "optuna",
           KT_BAYESIAN: "keras_tuner"}  # fmt: skip


def positions(table: Table, listed: bool = False) -> Space:
    """The table's space for a searcher: positions of ordered values, words as they are;
    `listed` gives every hyperparameter as a list (what grid and random search take)."""
    domains = {}
    for name, values in table.space.items():
        if all(isinstance(v, str) for v in values):
            domains[name] = Choice(values)
        elif listed:
            domains[name] = Choice(tuple(range(len(values))))
        else:
            domains[name] = Range(int, 0, len(values) - 1, False, None)
    return Space(domains)


def decode(table: Table, encoded: Params) -> Params:
    """A searcher's configuration (positions) as the table's values."""
    return {name: values[encoded[name]] if not isinstance(encoded[name], str) else encoded[name]
            for name, values in table.space.items()}  # fmt: skip


def grid_levels(table: Table, budget: int) -> dict[str, int]:
    """How many values of each hyperparameter a coarse grid of at most `budget` points takes:
    one more value at a time to the hyperparameter with the fewest so far, while it fits."""
    counts = dict.fromkeys(table.space, 1)
    while True:
        size = math.prod(counts.values())
        grow = [n for n, k in counts.items() if k < len(table.space[n])
                and size // k * (k + 1) <= budget]  # fmt: skip
        if not grow:
            return counts
        counts[min(grow, key=lambda n: (counts[n], -len(table.space[n])))] += 1


def grid(table: Table, budget: int, seed: int) -> Searcher:
    """scikit-learn's `ParameterGrid` over evenly spaced positions of every list (the ends
    included), at most `budget` points, in `ParameterGrid`'s order (the seed changes nothing)."""
    from sklearn.model_selection import ParameterGrid

    levels = grid_levels(table, budget)
    lists = {}
    for name, values in table.space.items():
        k, n = len(values), levels[name]
        picked = [round(i * (k - 1) / (n - 1)) for i in range(n)] if n > 1 else [(k - 1) // 2]
        lists[name] = [values[i] if isinstance(values[i], str) else i for i in picked]
    # --8<-- [start:grid]
    return FixedSearcher(ParameterGrid(lists))  # GridSearchCV's enumeration
    # --8<-- [end:grid]


def random(table: Table, budget: int, seed: int) -> Searcher:
    """scikit-learn's `ParameterSampler` (RandomizedSearchCV's draws): with every
    hyperparameter a list, `budget` distinct configurations."""
    from sklearn.model_selection import ParameterSampler

    lists = {name: d.sklearn() for name, d in positions(table, listed=True).domains.items()}
    # --8<-- [start:random]
    return FixedSearcher(ParameterSampler(lists, budget, random_state=seed))
    # --8<-- [end:random]


def sobol(table: Table, budget: int, seed: int) -> Searcher:
    """The quasi-random method's scrambled Sobol points, mapped by `Space.from_unit`."""
    from scipy.stats import qmc

    space = positions(table)
    with warnings.catch_warnings():  # balance is best at 2**m points; any count is valid
        warnings.simplefilter("ignore", UserWarning)
        points = qmc.Sobol(d=len(space.tuned), scramble=True, seed=seed).random(budget)
    return FixedSearcher(space.from_unit(point) for point in points)


class OracleSearcher:
    """A KerasTuner oracle driven without a model: `create_trial`, `update_trial`, `end_trial`
    (what a tuner calls around each fit). Its project lives in a temporary folder."""

    def __init__(self, make: Callable[[Any, Any], Any], table: Table) -> None:
        from course import backend

        backend.configure()  # KerasTuner imports Keras: the course's backend, not Keras' default
        import keras_tuner

        hp = keras_tuner.HyperParameters()
        positions(table).declare(hp)  # the space's KerasTuner spelling (course/space.py)
        self._folder = tempfile.TemporaryDirectory(prefix="course-lab-")
        self.oracle = make(keras_tuner.Objective("score", "max"), hp)
        self.oracle._set_project_dir(self._folder.name, "lab")
        self.oracle.verbose = 0
        self._trials: dict[int, Any] = {}  # asked, not yet told
        self._asked = 0

    # --8<-- [start:oracle]
    def ask(self) -> Candidate | None:
        trial = self.oracle.create_trial("lab")
        if trial.status != "RUNNING":  # max_trials reached, or the space exhausted
            self._folder.cleanup()
            return None
        number = self._asked
        self._asked += 1
        self._trials[number] = trial
        return Candidate(number, dict(trial.hyperparameters.values))

    def tell(self, candidate: Candidate, score: float, pruned: bool = False) -> None:
        trial = self._trials.pop(candidate.trial)
        self.oracle.update_trial(trial.trial_id, {"score": score})
        trial.status = "COMPLETED"  # what a tuner sets after a fit; the oracle learns only then
        self.oracle.end_trial(trial)

    # --8<-- [end:oracle]


def kt_random(table: Table, budget: int, seed: int) -> Searcher:
    import keras_tuner

    return OracleSearcher(lambda objective, hp: keras_tuner.oracles.RandomSearchOracle(
        objective=objective, max_trials=budget, seed=kt_seed(seed), hyperparameters=hp),
        table)  # fmt: skip


def kt_bayesian(table: Table, budget: int, seed: int) -> Searcher:
    """KerasTuner's Gaussian-process oracle with the kt-bayesian method's default random start."""
    import keras_tuner

    from course.methods.kt_bayesian import KTBayesian

    start = next(s.default for s in KTBayesian.settings if s.key == "initial_points")
    return OracleSearcher(lambda objective, hp: keras_tuner.oracles.BayesianOptimizationOracle(
        objective=objective, max_trials=budget, num_initial_points=start, seed=kt_seed(seed),
        hyperparameters=hp), table)  # fmt: skip


class StudySearcher:
    """An in-memory Optuna study driven by `ask` and `tell`, configurations drawn through the
    space's `suggest` (what the optuna-tpe method's objective calls)."""

    def __init__(self, table: Table, sampler: Any, budget: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._space, self._budget, self._trials = positions(table), budget, {}

    # --8<-- [start:study]
    def ask(self) -> Candidate | None:
        if len(self.study.get_trials(deepcopy=False)) == self._budget:  # `.trials` copies all
            return None
        trial = self.study.ask()
        self._trials[trial.number] = trial
        return Candidate(trial.number, self._space.suggest(trial))

    def tell(self, candidate: Candidate, score: float, pruned: bool = False) -> None:
        self.study.tell(self._trials.pop(candidate.trial), score)

    # --8<-- [end:study]


def tpe(table: Table, budget: int, seed: int) -> Searcher:
    """The optuna-tpe method's sampler (multivariate TPE) with its default random start."""
    from course.methods.optuna_tpe import OptunaTPE, sampler

    defaults = {s.key: s.default for s in OptunaTPE.settings}
    return StudySearcher(table, sampler(defaults, seed), budget)


SEARCHERS: dict[str, Callable[[Table, int, int], Searcher]] = {
    GRID: grid, RANDOM: random, SOBOL: sobol, KT_RANDOM: kt_random, TPE: tpe,
    KT_BAYESIAN: kt_bayesian,
}  # fmt: skip

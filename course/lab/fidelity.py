"""Multi-fidelity searchers replayed on the curves: the libraries' own schedulers, each asked for
a configuration and a number of epochs, told the score a fit of that length would have had.

- `random`, `optuna-tpe`: the lab's full-fidelity searchers, every configuration trained for
  `max_epochs` (what the curves' epochs are measured against);
- `kt-hyperband`: KerasTuner's `HyperbandOracle`, its brackets and rounds; a trial of a later
  round continues its parent (the same training run: the same seed, its epochs counted from
  where the parent stopped);
- `asha`: Optuna's `SuccessiveHalvingPruner` (asynchronous successive halving) over random
  configurations, judging each trial at its rungs as it reports epoch by epoch;
- `optuna-tpe-asha`: the optuna-tpe method's TPE sampler with the same pruner.

A trial stopped early has cost only its epochs. The replay continues a configuration along its
one recorded curve, as if training went on from its last epoch (KerasTuner reloads the parent's
best checkpoint instead: the same weights whenever the best epoch was the last).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from course.lab import searchers
from course.lab.curves import Curves
from course.searchers import kt_seed
from course.study import Candidate

RANDOM, TPE, HYPERBAND, ASHA, TPE_ASHA = (
    "random", "optuna-tpe", "kt-hyperband", "asha", "optuna-tpe-asha")  # fmt: skip
IMPORTS = {RANDOM: "sklearn.model_selection", TPE: "optuna", HYPERBAND: "keras_tuner",
           ASHA: "optuna", TPE_ASHA: "optuna"}  # fmt: skip
TUNER_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round",
              "tuner/trial_id")  # what KerasTuner's Hyperband adds to a trial's values  # fmt: skip


class Rung(NamedTuple):
    """One evaluation a searcher asks for: a configuration trained from epoch `start` to `end`;
    `run` names the training run it belongs to (a continued trial shares its parent's)."""

    number: int
    params: dict[str, Any]
    start: int
    end: int
    run: str


class FullBudget:
    """A lab searcher (`course.lab.searchers`) whose every configuration trains `epochs`."""

    def __init__(self, inner: Any, epochs: int) -> None:
        self.inner, self.epochs = inner, epochs

    def ask(self) -> Rung | None:
        candidate = self.inner.ask()
        if candidate is None:
            return None
        return Rung(candidate.trial, candidate.params, 0, self.epochs, str(candidate.trial))

    def tell(self, rung: Rung, raw: np.ndarray, best: np.ndarray) -> tuple[int, bool]:
        self.inner.tell(Candidate(rung.number, rung.params), float(best[-1]))
        return rung.end, True


class Hyperband(searchers.OracleSearcher):
    """KerasTuner's Hyperband oracle without a model; its trials carry the epochs to train."""

    def __init__(self, make: Any, curves: Curves) -> None:
        super().__init__(make, curves.table)
        self._runs: dict[str, str] = {}  # KerasTuner's trial id -> its training run

    # --8<-- [start:hyperband]
    def ask(self) -> Rung | None:
        candidate = super().ask()
        if candidate is None:
            return None
        values = candidate.params
        parent = values.get("tuner/trial_id")  # a later round: continue the parent's run
        run = self._runs[parent] if parent else str(candidate.trial)
        self._runs[self._trials[candidate.trial].trial_id] = run
        params = {k: v for k, v in values.items() if k not in TUNER_KEYS}
        return Rung(candidate.trial, params, values["tuner/initial_epoch"],
                    values["tuner/epochs"], run)  # fmt: skip

    def tell(self, rung: Rung, raw: np.ndarray, best: np.ndarray) -> tuple[int, bool]:
        super().tell(Candidate(rung.number, rung.params), float(best[-1]))
        return rung.end, True  # every trial, of any round, may be the oracle's best

    # --8<-- [end:hyperband]


class Pruned(searchers.StudySearcher):
    """An Optuna study with a pruner: each trial reports every epoch and stops when pruned;
    only finished trials can be the study's best (`study.best_trial`)."""

    def __init__(self, curves: Curves, sampler: Any, pruner: Any) -> None:
        super().__init__(curves.table, sampler, budget=-1)  # the epochs end it
        self.study.pruner, self.epochs = pruner, curves.epochs

    def ask(self) -> Rung | None:
        candidate = super().ask()
        assert candidate is not None  # no trial limit
        return Rung(candidate.trial, candidate.params, 0, self.epochs, str(candidate.trial))

    # --8<-- [start:pruned]
    def tell(self, rung: Rung, raw: np.ndarray, best: np.ndarray) -> tuple[int, bool]:
        import optuna

        trial = self._trials.pop(rung.number)
        for epoch, value in enumerate(raw, 1):  # what the pruning callback reports
            trial.report(float(value), step=epoch)
            # the pruner knows no maximum: at max_epochs (a rung when it is a power of the
            # factor) it would prune a fit already trained in full; there ASHA completes it
            if epoch < self.epochs and trial.should_prune():
                self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                return epoch, False
        self.study.tell(trial, float(best[-1]))  # the checkpointed epoch's score
        return rung.end, True

    # --8<-- [end:pruned]


def _random(curves: Curves, budget: int, seed: int, factor: int) -> FullBudget:
    return FullBudget(searchers.random(curves.table, budget, seed), curves.epochs)


def _tpe(curves: Curves, budget: int, seed: int, factor: int) -> FullBudget:
    return FullBudget(searchers.tpe(curves.table, budget, seed), curves.epochs)


def _hyperband(curves: Curves, budget: int, seed: int, factor: int) -> Hyperband:
    import keras_tuner

    return Hyperband(lambda objective, hp: keras_tuner.oracles.HyperbandOracle(
        objective=objective, max_epochs=curves.epochs, factor=factor,
        hyperband_iterations=budget, seed=kt_seed(seed), hyperparameters=hp), curves)  # fmt: skip


def _pruner(curves: Curves, factor: int) -> Any:
    """The optuna-tpe method's successive-halving pruner, judging from the first epoch."""
    from course.methods.optuna_tpe import pruner

    settings = {"pruner": "successive-halving", "min_epochs": 1, "factor": factor}
    return pruner(settings, curves.epochs)


def _asha(curves: Curves, budget: int, seed: int, factor: int) -> Pruned:
    import optuna

    return Pruned(curves, optuna.samplers.RandomSampler(seed=seed), _pruner(curves, factor))


def _tpe_asha(curves: Curves, budget: int, seed: int, factor: int) -> Pruned:
    from course.methods.optuna_tpe import OptunaTPE, sampler

    defaults = {s.key: s.default for s in OptunaTPE.settings}
    return Pruned(curves, sampler(defaults, seed), _pruner(curves, factor))


REPLAYERS = {RANDOM: _random, TPE: _tpe, HYPERBAND: _hyperband, ASHA: _asha,
             TPE_ASHA: _tpe_asha}  # fmt: skip
PRUNING = (HYPERBAND, ASHA, TPE_ASHA)  # the multi-fidelity ones


@dataclass(frozen=True)
class Replay:
    """One replayed search: a searcher on the curves until it has spent `budget` full
    trainings' epochs; `seed` seeds the searcher and the seed each training run draws."""

    method: str
    budget: int
    repeat: int
    seed: int
    factor: int
    curves: Curves = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"curves-{self.curves.digest[:12]}|{self.method}|{self.budget}|{self.factor}|" \
               f"{self.seed}"  # fmt: skip

    @property
    def imports(self) -> str:
        return IMPORTS[self.method]

    @property
    def slow(self) -> bool:
        return self.method in PRUNING  # tenths of a second a search; the others, hundredths

    def run(self) -> dict[str, Any]:
        return replay(self)


def replay(job: Replay) -> dict[str, Any]:
    """Run one replayed search: each evaluation `[row, seed, start, end, observed, final]`
    (`observed`: the best score so far at `end`; `final`: whether it may be the incumbent)."""
    curves = job.curves
    rng = np.random.default_rng(job.seed)
    epochs = job.budget * curves.epochs
    runs: dict[str, int] = {}  # training run -> the seed it drew
    spent, used, evaluations = 0.0, 0, []
    start = time.perf_counter()
    searcher = REPLAYERS[job.method](curves, job.budget, job.seed, job.factor)
    # --8<-- [start:loop]
    while used < epochs and (rung := searcher.ask()) is not None:
        row = curves.table.row(searchers.decode(curves.table, rung.params))
        if rung.run not in runs:  # a new training run: its seed drawn (a continued one keeps it)
            runs[rung.run] = int(rng.integers(curves.raw.shape[1]))
        seed = runs[rung.run]
        raw = curves.raw[row, seed, rung.start : rung.end]  # the epochs this rung trains
        best = curves.best[row, seed, rung.start : rung.end]
        spent += time.perf_counter() - start
        end, final = searcher.tell(rung, *(curves.table.score(v) for v in (raw, best)))
        start = time.perf_counter()
        used += end - rung.start
        evaluations.append([row, seed, rung.start, end, float(curves.best[row, seed, end - 1]),
                            final])  # fmt: skip
    # --8<-- [end:loop]
    spent += time.perf_counter() - start
    return {"evaluations": evaluations, "extra": {}, "seconds": spent}

"""Run the lab: every planned search on every table and every replay on the curves, in worker
processes, each finished one committed to the ledger at once (an interrupted lab keeps it; a
rerun runs only the rest)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from course.errors import CourseError
from course.lab import fidelity, searchers, tables
from course.lab.curves import NAME, Curves
from course.lab.tables import Table
from course.ledger import Ledger

if TYPE_CHECKING:
    from course.cluster import Cluster

CHEAP = (searchers.GRID, searchers.RANDOM, searchers.SOBOL)  # milliseconds a search


@dataclass(frozen=True)
class Search:
    """One search: a searcher on a table with a budget; `seed` seeds the searcher and the
    table's seed draws alike; `importance` lists the trial counts fANOVA estimates from."""

    benchmark: str
    method: str
    budget: int
    repeat: int
    seed: int
    importance: tuple[int, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.benchmark}|{self.method}|{self.budget}|{self.seed}"

    @property
    def imports(self) -> str:
        return searchers.IMPORTS[self.method]

    @property
    def slow(self) -> bool:
        return self.method not in CHEAP or bool(self.importance)

    def run(self) -> dict[str, Any]:
        return search(self)


class Job(Protocol):
    """What the runner runs: a search on a table, or a replay on the curves."""

    @property
    def key(self) -> str: ...  # its row in the ledger's lab table

    @property
    def imports(self) -> str: ...  # the library its worker loads first

    @property
    def slow(self) -> bool: ...  # seconds, not milliseconds: started first

    def run(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Plan:
    """The lab's `[lab]` settings, checked against the tables and searchers that exist."""

    benchmarks: tuple[str, ...]
    methods: tuple[str, ...]
    replayers: tuple[str, ...]  # the searchers replayed on the curves
    settings: dict[str, Any]

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Plan:
        known = tables.names()
        benchmarks = tuple(settings["benchmarks"]) or tuple(known)
        for name in benchmarks:
            if name not in known:
                raise CourseError(f"lab.benchmarks: unknown benchmark {name!r}; expected one "
                                  f"of {', '.join(known)}")  # fmt: skip
        methods = tuple(settings["methods"]) or tuple(
            m for m in searchers.SEARCHERS if m not in searchers.SLOW
        )
        for name in methods:
            if name not in searchers.SEARCHERS:
                raise CourseError(f"lab.methods: unknown method {name!r}; expected one of "
                                  f"{', '.join(searchers.SEARCHERS)}")  # fmt: skip
        replayers = tuple(settings["curves"]["methods"]) or tuple(fidelity.REPLAYERS)
        for name in replayers:
            if name not in fidelity.REPLAYERS:
                raise CourseError(f"lab.curves.methods: unknown method {name!r}; expected one "
                                  f"of {', '.join(fidelity.REPLAYERS)}")  # fmt: skip
        if any(len(set(names)) < len(names) for names in (benchmarks, methods, replayers)):
            raise CourseError("lab: a benchmark or method is listed twice")
        budget = settings["budget"]
        smallest = min(benchmarks, key=tables.size)
        if budget > tables.size(smallest):
            raise CourseError(f"lab.budget: {budget} is more than the {tables.size(smallest)} "
                              f"configurations of {smallest}")  # fmt: skip
        for key in ("grid_budgets", "importance_trials"):
            for value in settings[key]:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not 1 <= value <= budget
                ):
                    raise CourseError(f"lab.{key}: {value!r} must be a whole number from 1 to "
                                      f"the budget, {budget}")  # fmt: skip
        return cls(benchmarks, methods, replayers, settings)

    def searches(self) -> list[Search]:
        """Every search, by table, method, budget and repeat."""
        s = self.settings
        found = []
        for benchmark in self.benchmarks:
            for method in self.methods:
                # a grid's repeats differ only in the noise it observes: the others' number
                many = method in (searchers.RANDOM, searchers.SOBOL)
                repeats = s["cheap_repeats"] if many else s["repeats"]
                budgets = [s["budget"]]
                if method == searchers.GRID:
                    budgets += sorted(set(s["grid_budgets"]) - {s["budget"]})
                for budget in budgets:
                    for r in range(repeats):
                        sizes = ()
                        if (method == searchers.RANDOM and budget == s["budget"]
                                and r < s["importance_repeats"]):  # fmt: skip
                            sizes = tuple(sorted(set(s["importance_trials"])))
                        seed = repeat_seed(s["seed"] + r, benchmark)
                        found.append(Search(benchmark, method, budget, r, seed, sizes))
        return found

    def replays(self, curves: Curves) -> list[fidelity.Replay]:
        """Every replayed search on the curves, by method and repeat."""
        s = self.settings["curves"]
        return [fidelity.Replay(method, s["budget"], r, repeat_seed(self.settings["seed"] + r,
                                NAME), s["factor"], curves)
                for method in self.replayers for r in range(s["repeats"])]  # fmt: skip


def repeat_seed(seed: int, benchmark: str) -> int:
    """A repeat's seed on one table: the repeat's seed mixed with the table's name, so that
    tables sharing a space (HPOBench's eight) are not searched through the same draws, and
    the tables stay independent blocks for the tests across them; every method of a repeat
    shares it."""
    return int(np.random.SeedSequence([seed, *benchmark.encode()]).generate_state(1)[0])


def search(job: Search) -> dict[str, Any]:
    """Run one search: ask, look the configuration up (one seed drawn), tell; the searcher's
    own time is what `seconds` measures (lookups are the table's, not the search's)."""
    table = tables.load(job.benchmark)
    rng = np.random.default_rng(job.seed)  # the package's draw: one of the seeds, uniformly
    spent, evaluations = 0.0, []
    start = time.perf_counter()
    searcher = searchers.SEARCHERS[job.method](table, job.budget, job.seed)
    # --8<-- [start:loop]
    while (candidate := searcher.ask()) is not None:
        row = table.row(searchers.decode(table, candidate.params))
        observed = float(table.values[row, rng.integers(table.values.shape[1])])
        spent += time.perf_counter() - start
        searcher.tell(candidate, table.score(observed))
        start = time.perf_counter()
        evaluations.append([row, observed])
    # --8<-- [end:loop]
    spent += time.perf_counter() - start
    extra = {"importance": {str(n): estimate(table, evaluations[:n]) for n in job.importance}}
    return {"evaluations": evaluations, "extra": extra, "seconds": spent}


def estimate(table: Table, evaluations: list[list[Any]]) -> dict[str, float]:
    """fANOVA's shares from a search's first evaluations (what a student would compute)."""
    import pandas as pd

    from course.report.importance import fanova

    space = searchers.positions(table)
    rows = pd.DataFrame([table.encoded(row) | {"score": observed} for row, observed in evaluations])
    varied = [n for n in space.domains if rows[n].nunique() > 1]
    shares = fanova(rows, varied, space, table.maximize)
    return {n: shares.get(n, 0.0) for n in space.domains}


def _worker(preload: tuple[str, ...]) -> None:
    from course import workers

    workers.setup(preload=preload)


def _run(job: Job) -> dict[str, Any]:
    return job.run()


def run(planned: Sequence[Job], ledger: Ledger, workers: int,
        progress: Callable[[int, int], None] | None = None, cluster: Cluster | None = None,
        ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Run what the ledger lacks (in `workers` processes, or a Dask task each on `cluster`),
    return every planned job's record by key; `progress(done, total)` after each. The records
    are written here, as each job finishes."""
    done = ledger.lab()
    # the slow jobs first, so that the workers finish together
    todo = sorted((s for s in planned if s.key not in done), key=lambda s: not s.slow)
    finished = len(planned) - len(todo)
    # what the searchers import, loaded first: no search's seconds count an import
    preload = tuple(sorted({s.imports for s in todo}))
    if progress:
        progress(finished, len(planned))

    def record(job: Job, result: dict[str, Any]) -> None:
        nonlocal finished
        ledger.record_lab(job.key, **result)
        finished += 1
        if progress:
            progress(finished, len(planned))

    if cluster is not None:
        for job, result in cluster.map(_run, todo):
            record(job, result)
    elif workers > 1 and len(todo) > 1:
        spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as every worker
        with ProcessPoolExecutor(workers, spawn, initializer=_worker, initargs=(preload,)) as pool:
            pending = {pool.submit(_run, s): s for s in todo}
            while pending:
                ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    record(pending.pop(future), future.result())
    elif todo:
        from course import backend

        backend.load(preload)
        for job in todo:
            record(job, job.run())
    done = ledger.lab()
    return {s.key: done[s.key] for s in planned}


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))

"""grid-loop: the hand-written grid search every course starts with.

Every configuration of the grid is trained once on the training part of the development set
and scored on a holdout validation part (never the test set). The fit with the best selection
score wins (`course.selection`); its checkpoint (the best epoch) is the final model, scored once
on the test set.

`protocol="seed"` reproduces the seed notebook instead: it trains on the whole development set
and validates (and checkpoints) on the test split itself, so its "test accuracy" is optimistic.

With `workers > 1` the configurations are shared out to worker processes, each pinned to one
core with single-threaded XLA; on a cluster (`--cluster`), each is a Dask task of its own. Every
fit is seeded on its own, so the fits are the same ones a single process trains (tests compare
them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course.config import Profile
from course.data import holdout_preprocessing, holdout_scaled
from course.fitting import Fitter, keep_final
from course.records import FitKey
from course.searchers import FixedSearcher, drain
from course.selection import pick
from course.study import CLEAN, SEED, Candidate, Context, Method, Outcome
from course.workers import running

if TYPE_CHECKING:  # numpy loads with the fits, not when `course` lists its methods
    import numpy as np

    from course.cluster import Cluster

Trials = list[tuple[int, dict[str, Any]]]  # (trial number, configuration)


def fit_trials(fitter: Fitter, arrays: tuple[np.ndarray, ...], trials: Trials) -> None:
    """Train `trials` one after the other on (x_train, y_train, x_val, y_val), recording each."""
    x_train, y_train, x_val, y_val = arrays
    # --8<-- [start:loop]
    for trial, params in trials:
        fitter.fit(FitKey(trial), params, (x_train, y_train), validation=(x_val, y_val))
    # --8<-- [end:loop]


def _worker(fitter: Fitter, arrays: tuple[np.ndarray, ...], trials: Trials, core: int) -> None:
    """A worker process: one core, single-threaded XLA, so workers do not fight over cores."""
    from course import workers

    workers.setup(core)
    fit_trials(fitter, arrays, trials)  # its own copy: its own connection, no progress bar


def fit_in_workers(fitter: Fitter, arrays: tuple[np.ndarray, ...], trials: Trials,
                   workers: int) -> None:  # fmt: skip
    """Share `trials` out to `workers` processes; follow their fits through the ledger."""
    shares = [trials[i::workers] for i in range(workers)]
    args = [(fitter, arrays, share, core) for core, share in enumerate(shares) if share]
    with fitter.recorder.following(), running(_worker, args, fitter.recorder.run_id):
        pass  # leaving the block waits for the workers, then reads the ledger once more


def fit_anywhere(fitter: Fitter, arrays: tuple[np.ndarray, ...], trials: Trials, workers: int,
                 cluster: Cluster | None) -> None:  # fmt: skip
    """Train `trials` on the cluster (a Dask task each), in `workers` processes, or here."""
    if cluster is not None:
        cluster.fit(fitter, fit_trials, [([t],) for t in trials], shared=(arrays,))
    elif workers > 1 and len(trials) > 1:
        fit_in_workers(fitter, arrays, trials, workers)
    else:
        fit_trials(fitter, arrays, trials)


class GridLoop(Method):
    slug = "grid-loop"
    title = "Grid loop"
    summary = "hand-written itertools.product loop over the grid, holdout validation"
    protocols = (CLEAN, SEED)
    order = 10

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        profile.space.grid_values()  # a range without grid points cannot be gridded

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> FixedSearcher:
        return FixedSearcher(profile.space.grid())  # every combination of the candidate values

    def run(self, ctx: Context) -> Outcome:
        return search_holdout(ctx, drain(self.searcher(ctx.profile, ctx.settings)))


def search_holdout(ctx: Context, candidates: list[Candidate]) -> Outcome:
    """Train every candidate on the holdout split (in worker processes with `--workers`), pick
    one by the selection rule, score its best epoch once on test: the grid loop's search, and
    any other whose candidates are fixed up front (quasi-random points, the baseline)."""
    profile = ctx.profile
    x_train, y_train, x_val, y_val, _, _ = holdout_scaled(
        ctx.split, profile.split_seed, profile.validation_size, ctx.protocol
    )
    preprocessing = holdout_preprocessing(ctx.split, profile.split_seed,
                                          profile.validation_size, ctx.protocol)  # fmt: skip
    fitter = ctx.fitter(len(candidates))
    todo = [(c.trial, c.params) for c in candidates if FitKey(c.trial) not in fitter.done]
    fit_anywhere(fitter, (x_train, y_train, x_val, y_val), todo, ctx.workers, ctx.cluster)

    # --8<-- [start:final]
    chosen = pick(ctx.fits(), profile.selection)  # the same rule as every method's
    best = chosen.row
    final = fitter.best(FitKey(best["trial"]), best["params"])  # its best epoch
    path, y_pred = keep_final(final, preprocessing, ctx.split, ctx.run_dir)
    # --8<-- [end:final]
    return Outcome(best["params"], best[profile.selection], path, y_pred, chosen.tied)

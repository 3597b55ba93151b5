"""`course variance`: how much of a difference between methods noise alone would make.

Two sources, measured apart with the seeds the profile keeps apart (`course.config`):

- **retraining variance**: the configuration each search chose, trained again on the same split
  under `inits` initialisation seeds (the first is the study's own, so it reproduces every pick
  the study trained in one holdout fit: the grid loop's, say, not a CV refit or Hyperband's).
  Each seed is one run in the ledger, `retrain[init<seed>]`, whose fits are the distinct
  picks, trained as the grid loop trains (the development rows less the holdout, stopped on
  the holdout) and scored once on the test rows.
- **search variance**: one random search (`SEARCH_METHOD`) run again under `searches` search seeds,
  split and initialisation unchanged; the first is the study's own run. Each is an ordinary
  run of that method, so it resumes, and the study's export never mistakes it for its own.

Every fit is recorded and resumed like any other; `rows` reads them back for export.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from course import backend, locks
from course.config import Profile
from course.data import holdout_scaled, load_dataset, split
from course.datasets import sha256_of
from course.errors import CourseError
from course.export import csv_text, latest_runs
from course.ledger import Ledger, Run, clock
from course.paths import LEDGER_FILE, RUNS_DIR, write_atomic
from course.plan import Unit, units_by_label
from course.progress import StudyProgress
from course.records import FitKey
from course.runner import Study, run_study
from course.study import CLEAN, SEARCH, Context

RETRAIN = "retrain"  # the slug of the retraining runs (not a method: nothing to choose)
VARIANCE = "variance"  # their kind of run
SEARCHED, EVALUATED = "search", "search-trial"  # variance.csv kinds: a search's result, its trials
SEARCH_METHOD = "kt-random-search"  # the random search rerun under other search seeds
COLUMNS = ["kind", "method", "seed", "trial", "selection_score", "test_accuracy", "epochs_run",
           "seconds"]  # fmt: skip


def chosen(ledger: Ledger, profile: Profile, data_sha256: str) -> dict[str, dict[str, Any]]:
    """The configuration each clean search of the study (its first seed) chose, by label."""
    runs = latest_runs(ledger, profile, data_sha256)
    picks = {run.method: ledger.result(run.run_id) for run in runs
             if run.kind == SEARCH and run.protocol == CLEAN}  # fmt: skip
    return {label: result["params"] for label, result in picks.items() if result}


def distinct(configurations: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The picks, each once, in the order first chosen: two searches that chose alike share
    one retrained fit per seed (it is one configuration's noise, not two)."""
    seen: dict[str, dict[str, Any]] = {}
    for params in configurations.values():
        seen.setdefault(json.dumps(params, sort_keys=True), params)
    return list(seen.values())


def retrain_unit(configurations: dict[str, dict[str, Any]], init_seed: int) -> Unit:
    """One retraining run: every distinct pick under one initialisation seed (its settings
    are the picks, so a study whose picks change retrains anew)."""
    return Unit(RETRAIN, CLEAN, f"init{init_seed}", {"configurations": distinct(configurations)})


def search_profiles(profile: Profile) -> Iterator[Profile]:
    """The profiles of the search-variance runs, search seed + 0, 1, ...: the first is the
    study's own, so its run counts without being trained again."""
    return (profile.seeded(profile.seed, search_seed=profile.search_seed + k)
            for k in itertools.count())  # fmt: skip


def init_profiles(profile: Profile, inits: int) -> list[Profile]:
    """The profiles of the retraining runs, init seed + 0, 1, ...: the first is the study's
    own, which reproduces every pick the study trained in one holdout fit (a check that the
    retraining is the same training)."""
    return [profile.seeded(profile.seed, init_seed=profile.init_seed + j) for j in range(inits)]


def measure(profile: Profile, inits: int, searches: int, workers: int = 1) -> None:
    """Run (or resume) both measurements for the study's first seed."""
    dataset = load_dataset(profile.data)
    sha256 = sha256_of(dataset.path)
    ledger = Ledger(LEDGER_FILE)
    try:
        configurations = chosen(ledger, profile, sha256)
    finally:
        ledger.close()
    if not configurations:
        raise CourseError(
            f"no finished searches of the {profile.name!r} study (seed {profile.seed}) on this "
            "dataset to retrain: run `course run-all` first"
        )
    if SEARCH_METHOD not in configurations:  # its first search seed is the study's own run
        raise CourseError(f"the study has no finished {SEARCH_METHOD} run to rerun under other "
                          f"search seeds: run `course run {SEARCH_METHOD}` first")  # fmt: skip
    one = profile.with_seed(None, 1)
    for seeded in itertools.islice(search_profiles(one), searches):  # the study's own first
        run_study([(SEARCH_METHOD, CLEAN)], seeded, workers=workers)
    study = Study(one, dataset.path, sha256, backend.load(), "course variance", workers)
    shared = split(dataset, one.split_seed, one.test_size)
    ledger = Ledger(LEDGER_FILE)
    try:
        with StudyProgress() as progress:
            for seeded in init_profiles(one, inits):
                unit = retrain_unit(configurations, seeded.init_seed)
                new = study.run(unit, seeded, kind=VARIANCE)
                with locks.held(RUNS_DIR / f"{new.run_id}.lock", f"run {new.run_id}"):
                    run = ledger.open_run(new)
                    if run.finished_at is None:
                        ctx = Context(seeded, shared, unit.settings, CLEAN, ledger, run,
                                      progress, workers)  # fmt: skip
                        _retrain(ctx, configurations)
    finally:
        ledger.close()


def _retrain(ctx: Context, configurations: dict[str, dict[str, Any]]) -> None:
    """Train each configuration once (resuming the fits recorded), scoring its best epoch on
    the test rows."""
    import numpy as np

    profile = ctx.profile
    x_train, y_train, x_val, y_val, x_test, y_test = holdout_scaled(
        ctx.split, profile.split_seed, profile.validation_size
    )
    fitter = ctx.fitter(len(configurations))

    def score(model: Any) -> dict[str, Any]:
        predicted = np.asarray(model(x_test, training=False)).argmax(axis=1)
        return {"test_accuracy": float((predicted == y_test).mean())}

    with clock(ctx.ledger.path, ctx.run_id):  # the run's seconds, as every run keeps them
        for trial, params in enumerate(distinct(configurations)):
            if FitKey(trial) not in fitter.done:
                fitter.fit(FitKey(trial), params, (x_train, y_train), (x_val, y_val), score)
    ctx.ledger.finish_run(ctx.run_id)


def write(ledger: Ledger, profile: Profile, data_sha256: str, generated: Path) -> bool:
    """Export `data/variance.csv` beside the study's files, or remove a stale one when the
    study as it is now has no variance runs; whether one was written."""
    found = rows(ledger, profile, data_sha256)
    path = generated / "data" / "variance.csv"
    if not found:
        path.unlink(missing_ok=True)
        return False
    write_atomic(path, csv_text(COLUMNS, found))
    return True


def _row(*values: Any) -> dict[str, Any]:
    """A variance.csv row from its values in `COLUMNS` order."""
    return dict(zip(COLUMNS, values, strict=True))


def _current(run: Run, unit: Unit, profile: Profile, data_sha256: str) -> bool:
    """Whether a finished run is `unit` under `profile` on this data, as the study is now (the
    run id's hash: a changed profile or pick leaves an old run out)."""
    return (run.finished_at is not None and run.data_sha256 == data_sha256
            and run.config_hash == unit.digest(profile, data_sha256, run.backend))  # fmt: skip


def rows(ledger: Ledger, profile: Profile, data_sha256: str) -> list[dict[str, Any]]:
    """What `data/variance.csv` holds, read from the ledger: every retrained fit (`retrain`),
    and each search-variance run's result (`search`) and evaluations (`search-trial`): a
    search's selection score is its pick's, a retrained fit's its own; a retrained fit's
    `trial` is its configuration (one row per search that chose it), -1 a whole run. Only
    runs of the study as it is now: a profile or pick that changed leaves old runs out."""
    one = profile.with_seed(None, 1)
    configurations = chosen(ledger, one, data_sha256)
    picks = list(configurations.items())
    found: list[dict[str, Any]] = []
    runs = [run for run in ledger.runs() if run.seed == one.seed]
    for run in runs:
        if run.slug == RETRAIN:
            init_seed = json.loads(run.config)["init_seed"]
            seeded = one.seeded(one.seed, init_seed=init_seed)
            if not _current(run, retrain_unit(configurations, init_seed), seeded, data_sha256):
                continue
            found += [_row(RETRAIN, label, init_seed, f["trial"], f[one.selection],
                           f["extra"]["test_accuracy"], f["epochs_run"], f["seconds"])
                      for f in ledger.fits(run.run_id)
                      for label, chose in picks if chose == f["params"]]  # fmt: skip
    unit = units_by_label(one)[SEARCH_METHOD]
    for seeded in search_profiles(one):
        match = [r for r in runs if r.slug == SEARCH_METHOD
                 and _current(r, unit, seeded, data_sha256)]  # fmt: skip
        if not match:
            break  # the search seeds run in order: the first missing one ends them
        run = max(match, key=lambda r: r.finished_at or 0)
        result = ledger.result(run.run_id)
        if result is None:
            break
        fits = ledger.fits(run.run_id)
        seed = seeded.search_seed
        found.append(_row(SEARCHED, run.method, seed, -1, result["selection_score"],
                          result["test_accuracy"], sum(f["epochs_run"] for f in fits),
                          run.seconds))  # fmt: skip
        found += [_row(EVALUATED, run.method, seed, f["trial"], f[one.selection], None,
                       f["epochs_run"], f["seconds"]) for f in fits]  # fmt: skip
    measured = any(row["kind"] == RETRAIN for row in found) or sum(
        row["kind"] == SEARCHED for row in found) > 1  # fmt: skip
    return found if measured else []  # the study's own search alone measures no variance

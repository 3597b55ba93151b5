"""Runs a study: loads and splits the data once, opens the ledger, resumes or starts each run,
lets the method drive its library, scores the final model once on the test set and records the
result. It only trains: the CLI exports and reports. A run that already finished is not entered
again.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shlex
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from course import backend, locks
from course.config import Profile
from course.data import Split, holdout, load_dataset, split
from course.datasets import sha256_of
from course.errors import CourseError
from course.ledger import Ledger, Run, clock
from course.paths import LEDGER_FILE, RUNS_DIR
from course.plan import Unit, expand
from course.progress import StudyProgress
from course.registry import method
from course.space import BATCH_SIZE
from course.speed import settings
from course.stats import accuracy_ci
from course.study import Context

if TYPE_CHECKING:
    from course.cluster import Cluster


def speed_settings(workers: int, cluster: str | None = None) -> dict[str, object]:
    """course/speed.py's settings this study runs with, `--workers` and `--cluster` included
    (recorded, not hashed: they do not change results)."""
    return {**settings(), "workers": workers, **({"cluster": cluster} if cluster else {})}


def _shown(path: Path) -> str:
    """A path as provenance shows it: relative to the project when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def train(ctx: Context, fresh: bool) -> None:
    """Let the method run (or resume) its search, then score its final model once on the test
    set and record the result."""
    if fresh:  # checkpoints and tuner state belong to the discarded fits
        shutil.rmtree(ctx.run_dir, ignore_errors=True)
    with clock(ctx.ledger.path, ctx.run_id):  # the run's seconds, recorded as they pass
        outcome = method(ctx.run.slug).run(ctx)
    score = accuracy_ci(ctx.split.y_test, outcome.predictions, seed=ctx.profile.seed)
    ctx.ledger.record_result(
        ctx.run_id,
        params=outcome.params,
        selection_score=float(outcome.selection_score),
        test_accuracy=score.accuracy,
        test_ci_low=score.ci_low,
        test_ci_high=score.ci_high,
        predictions=outcome.predictions,
        labels=ctx.split.y_test,
        model_path=str(outcome.model_path),
        tied=outcome.tied,
    )
    ctx.ledger.finish_run(ctx.run_id)


def _finished(ledger: Ledger, run: Run) -> bool:
    """Whether a run has its result and its final model; one whose model file is gone is
    entered again, which rebuilds the model from the recorded fits (none is retrained)."""
    result = ledger.result(run.run_id)
    if run.finished_at is None or result is None:
        return False
    if not Path(result["model_path"]).exists():
        print(f"course: {run.run_id}: its final model {result['model_path']} is gone; "
              "rebuilding it", file=sys.stderr)  # fmt: skip
        return False
    return True


def check_data(profile: Profile, shared: Split, units: list[Unit]) -> None:
    """The settings against the data: the holdout split, the batch size against the rows a
    holdout fit trains on (a larger one is silently one batch), then each method's own
    checks (its folds)."""
    x_train, *_ = holdout(shared, profile.split_seed, profile.validation_size)
    train_rows = len(x_train)
    largest = profile.space.domains[BATCH_SIZE].highest
    if largest > train_rows:
        raise CourseError(
            f"space.{BATCH_SIZE}: {largest} is more than the {train_rows} rows a holdout fit "
            "trains on"
        )
    for unit in units:
        method(unit.slug).check_data(profile, unit.settings, shared)


@dataclass(frozen=True)
class Study:
    """What a study trains on and with: the profile, the dataset (and its hash), the Keras
    backend, the command, the workers and the cluster. Export shows the runs of one such
    study."""

    profile: Profile
    data_path: Path
    data_sha256: str
    backend: str
    command: str
    workers: int
    cluster: str | None = None  # the Dask scheduler's address

    def run(self, unit: Unit, seeded: Profile, kind: str | None = None) -> Run:
        """The ledger row of one run of this study, as a new run starts it (`kind`: of a run
        that is no registered method's, as the variance command's retraining)."""
        digest = unit.digest(seeded, self.data_sha256, self.backend)
        return Run(
            run_id=f"{unit.slug}-{digest[:12]}",
            method=unit.label,
            slug=unit.slug,
            variant=unit.variant,
            kind=kind or method(unit.slug).kind,
            protocol=unit.protocol,
            profile=self.profile.name,
            seed=seeded.seed,
            config_hash=digest,
            config=json.dumps(
                {**seeded.as_dict(), "speed": speed_settings(self.workers, self.cluster)}
            ),
            data_path=_shown(self.data_path),
            data_sha256=self.data_sha256,
            backend=self.backend,
            command=self.command,
            started_at=time.time(),
            finished_at=None,
            seconds=0.0,
        )


def run_study(
    plan: list[tuple[str, str]],
    profile: Profile,
    fresh: bool = False,
    workers: int = 1,
    after_run: Callable[[Ledger, Study], None] | None = None,
    cluster: Cluster | None = None,
) -> list[Run]:
    """Run each (slug, protocol) of `plan` in order, once per seed of the profile's repeats
    (all of the first seed before the next); finished fits are never repeated, and a run
    another process holds is waited for. `after_run` is called after every run (the CLI
    exports there, so an interrupted study keeps it). `cluster`: the Dask workers the methods
    that share out their fits send them to (`course.cluster`)."""
    units = expand(plan, profile)
    dataset = load_dataset(profile.data)
    for seed in profile.seeds:  # refuse what this data cannot feed, before anything loads
        seeded = profile.seeded(seed)
        check_data(seeded, split(dataset, seeded.split_seed, profile.test_size), units)
    study = Study(
        profile, dataset.path, sha256_of(dataset.path),
        backend.load({name for u in units for name in method(u.slug).preload}),
        shlex.join(["course", *sys.argv[1:]]), workers, cluster.address if cluster else None,
    )  # fmt: skip
    ledger = Ledger(LEDGER_FILE)
    runs = []
    try:
        with StudyProgress() as progress:
            for seeded, unit in itertools.product(
                [profile.seeded(seed) for seed in profile.seeds], units
            ):
                new = study.run(unit, seeded)
                with locks.held(RUNS_DIR / f"{new.run_id}.lock", f"run {new.run_id}"):
                    run = ledger.open_run(new, fresh=fresh)  # or the finished one, resumed
                    if not _finished(ledger, run):
                        shared = split(dataset, seeded.split_seed, seeded.test_size)
                        ctx = Context(seeded, shared, unit.settings, unit.protocol, ledger, run,
                                      progress, workers, cluster)  # fmt: skip
                        try:
                            train(ctx, fresh)
                        except BaseException:
                            with contextlib.suppress(sqlite3.Error):  # keep the first error
                                ledger.drop_if_empty(run.run_id)  # no empty row left behind
                            raise
                if after_run is not None:
                    after_run(ledger, study)
                if seeded.seed == profile.seed:
                    runs.append(run)
    finally:
        ledger.close()
    return runs

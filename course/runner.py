"""Runs a study: loads and splits the data once, opens the ledger, resumes or starts each run,
lets the method drive its library, scores the final model once on the test set and records the
result. It only trains: the CLI exports and reports. A run that already finished is not entered
again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from course import backend
from course.config import Profile
from course.data import load_dataset, split
from course.ledger import Ledger, Run
from course.paths import LEDGER_FILE
from course.plan import expand
from course.progress import StudyProgress
from course.registry import method
from course.speed import settings
from course.stats import accuracy_ci
from course.study import Context


def speed_settings(workers: int) -> dict[str, object]:
    """course/speed.py's settings this study runs with, `--workers` included (recorded, not
    hashed: they do not change results)."""
    return {**settings(), "workers": workers}


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
    start = time.perf_counter()
    try:
        outcome = method(ctx.run.slug).run(ctx)
    finally:
        ctx.ledger.add_seconds(ctx.run_id, time.perf_counter() - start)
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
    )
    ctx.ledger.finish_run(ctx.run_id)


def run_study(
    plan: list[tuple[str, str]],
    profile: Profile,
    data: Path | None = None,
    fresh: bool = False,
    workers: int = 1,
    after_run: Callable[[Ledger], None] | None = None,
) -> list[Run]:
    """Run each (slug, protocol) of `plan` in order, once per seed of the profile's repeats
    (all of the first seed before the next); finished fits are never repeated. `after_run`
    is called after every run (the CLI exports there, so an interrupted study keeps it)."""
    units = expand(plan, profile)
    frame, data_path = load_dataset(data)
    data_sha256 = hashlib.sha256(data_path.read_bytes()).hexdigest()
    keras_backend = backend.load({name for u in units for name in method(u.slug).preload})
    command = shlex.join(["course", *sys.argv[1:]])
    ledger = Ledger(LEDGER_FILE)
    runs = []
    try:
        with StudyProgress() as progress:
            for seeded, unit in itertools.product(
                [replace(profile, seed=seed) for seed in profile.seeds], units
            ):
                shared = split(frame, seeded.seed, seeded.test_size)
                digest = unit.digest(seeded, data_sha256, keras_backend)
                run = ledger.open_run(
                    Run(
                        run_id=f"{unit.slug}-{digest[:12]}",
                        method=unit.label,
                        slug=unit.slug,
                        variant=unit.variant,
                        kind=method(unit.slug).kind,
                        protocol=unit.protocol,
                        profile=profile.name,
                        seed=seeded.seed,
                        config_hash=digest,
                        config=json.dumps({**seeded.as_dict(), "speed": speed_settings(workers)}),
                        data_path=_shown(data_path),
                        data_sha256=data_sha256,
                        backend=keras_backend,
                        command=command,
                        started_at=time.time(),
                        finished_at=None,
                        seconds=0.0,
                    ),
                    fresh=fresh,
                )
                if run.finished_at is None or ledger.result(run.run_id) is None:
                    ctx = Context(seeded, shared, unit.settings, unit.protocol, ledger, run,
                                  progress, workers)  # fmt: skip
                    train(ctx, fresh)
                if after_run is not None:
                    after_run(ledger)
                if seeded.seed == profile.seed:
                    runs.append(run)
    finally:
        ledger.close()
    return runs

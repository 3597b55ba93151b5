"""Runs a study: loads and splits the data once, opens the ledger, resumes or starts each run,
lets the method drive its library, scores the final model, exports after every method and
renders the report at the end. A run that already finished is not entered again."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from course import backend
from course.config import Profile
from course.data import Split, load_dataset, split
from course.export import export
from course.ledger import Ledger, Run
from course.methods import METHODS
from course.paths import LEDGER_FILE, RUNS_DIR, checkpoint
from course.plan import Unit, expand
from course.progress import StudyProgress
from course.speed import CHECKPOINT_SUFFIX, settings
from course.stats import accuracy_ci


@dataclass
class Context:
    """What a method needs: the profile, the shared split, the ledger and its own run."""

    profile: Profile
    split: Split
    ledger: Ledger
    run: Run
    progress: StudyProgress
    unit: Unit
    workers: int = 1  # processes for the methods that can share out their fits

    @property
    def label(self) -> str:
        """The run's name on the progress display: a repeat says which seed it is."""
        repeat = self.profile.repeats > 1
        return f"{self.run.method} seed {self.run.seed}" if repeat else self.run.method

    @property
    def protocol(self) -> str:
        return self.unit.protocol

    @property
    def settings(self) -> dict[str, Any]:
        """This method's `[methods.<slug>]` settings (one variant's, where it has several)."""
        return self.unit.settings

    @property
    def run_dir(self) -> Path:
        return RUNS_DIR / self.run.run_id

    def checkpoint(self, trial: int, fold: int = 0, suffix: str = CHECKPOINT_SUFFIX) -> Path:
        return checkpoint(self.run_dir, trial, fold, suffix)

    def finish(
        self, params: dict[str, Any], selection_score: float, model_path: Path, y_pred: np.ndarray
    ) -> None:
        """Score the final model once on the test set and record the run's result."""
        score = accuracy_ci(self.split.y_test, y_pred, seed=self.profile.seed)
        self.ledger.record_result(
            self.run.run_id,
            params=params,
            selection_score=selection_score,
            test_accuracy=score.accuracy,
            test_ci_low=score.ci_low,
            test_ci_high=score.ci_high,
            predictions=y_pred,
            labels=self.split.y_test,
            model_path=str(model_path),
        )


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
    """Let the method run (or resume) its search; a run that already finished is not entered."""
    if fresh:  # checkpoints and tuner state belong to the discarded fits
        shutil.rmtree(ctx.run_dir, ignore_errors=True)
    module = importlib.import_module(METHODS[ctx.unit.slug].module)
    start = time.perf_counter()
    try:
        module.run(ctx)
    finally:
        ctx.ledger.add_seconds(ctx.run.run_id, time.perf_counter() - start)
    ctx.ledger.finish_run(ctx.run.run_id)


def run_study(
    plan: list[tuple[str, str]],
    profile: Profile,
    data: Path | None = None,
    fresh: bool = False,
    workers: int = 1,
) -> list[Run]:
    """Run each (slug, protocol) of `plan` in order, once per seed of the profile's repeats
    (all of the first seed before the next); finished fits are never repeated."""
    units = expand(plan, profile)
    frame, data_path = load_dataset(data)
    data_sha256 = hashlib.sha256(data_path.read_bytes()).hexdigest()
    keras_backend = backend.load({name for u in units for name in METHODS[u.slug].preload})
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
                    ctx = Context(seeded, shared, ledger, run, progress, unit, workers)
                    train(ctx, fresh)
                export(ledger, profile)  # after every method: an interrupted study keeps it
                if seeded.seed == profile.seed:
                    runs.append(run)
    finally:
        ledger.close()
    from course.report.render import render

    render()
    return runs

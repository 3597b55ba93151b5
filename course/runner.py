"""Runs methods: loads and splits the data once, opens the ledger, resumes or starts each run,
lets the method drive its library, scores the final model, and exports after every method."""

from __future__ import annotations

import hashlib
import importlib
import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course import backend
from course.config import Profile
from course.data import Split, load_dataset, split
from course.errors import CourseError
from course.export import export
from course.ledger import Ledger, Run
from course.methods import METHODS
from course.paths import LEDGER_FILE, RUNS_DIR
from course.progress import StudyProgress
from course.stats import accuracy_ci

PROTOCOLS = ("clean", "seed")


def label(slug: str, protocol: str) -> str:
    """The name a run carries in tables: the slug, marked when it uses the seed protocol."""
    return slug if protocol == "clean" else f"{slug}[seed-protocol]"


@dataclass
class Context:
    """What a method needs: the profile, the shared split, the ledger and its own run."""

    profile: Profile
    split: Split
    ledger: Ledger
    run: Run
    progress: StudyProgress
    protocol: str

    @property
    def run_dir(self) -> Path:
        return RUNS_DIR / self.run.run_id

    def checkpoint(self, trial: int, fold: int = 0) -> Path:
        """Where ModelCheckpoint keeps the best epoch of one fit."""
        return self.run_dir / "checkpoints" / f"trial-{trial:04d}-fold-{fold}.keras"

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
            model_path=str(model_path),
        )


def run_study(
    plan: list[tuple[str, str]],
    profile: Profile,
    data: Path | None = None,
    fresh: bool = False,
    url: str | None = None,
) -> list[Run]:
    """Run each (slug, protocol) of `plan` in order; finished fits are never repeated."""
    for slug, protocol in plan:
        if slug not in METHODS:
            raise CourseError(f"unknown method {slug!r}; see `course methods`")
        if protocol not in PROTOCOLS:
            raise CourseError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    frame, data_path = load_dataset(data, url)
    data_sha256 = hashlib.sha256(data_path.read_bytes()).hexdigest()
    shared = split(frame, profile.seed, profile.test_size)
    keras_backend = backend.configure()
    command = shlex.join(["course", *sys.argv[1:]])
    config = json.dumps(
        {**asdict(profile), "space": {k: list(v) for k, v in profile.space.values.items()}}
    )
    ledger = Ledger(LEDGER_FILE)
    runs = []
    try:
        with StudyProgress() as progress:
            for slug, protocol in plan:
                digest = profile.digest(method=slug, protocol=protocol, data=data_sha256)
                run = ledger.open_run(
                    Run(
                        run_id=f"{slug}-{digest[:12]}",
                        method=label(slug, protocol),
                        slug=slug,
                        protocol=protocol,
                        profile=profile.name,
                        seed=profile.seed,
                        config_hash=digest,
                        config=config,
                        data_path=str(data_path),
                        data_sha256=data_sha256,
                        backend=keras_backend,
                        command=command,
                        started_at=time.time(),
                        finished_at=None,
                        seconds=0.0,
                    ),
                    fresh=fresh,
                )
                ctx = Context(profile, shared, ledger, run, progress, protocol)
                module = importlib.import_module(METHODS[slug].module)
                start = time.perf_counter()
                try:
                    module.run(ctx)
                finally:
                    ledger.add_seconds(run.run_id, time.perf_counter() - start)
                ledger.finish_run(run.run_id)
                export(ledger, profile.name, profile.seed)
                runs.append(run)
    finally:
        ledger.close()
    return runs

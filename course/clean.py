"""`course clean`: what a study no longer needs under runs/, so that runs/ does not grow without
bound.

A finished run of the study keeps its result and its final model; the checkpoints of its fits
and KerasTuner's state are only there to resume it, so they go. (The CV study's final model is
its fold checkpoints, so it keeps them.) Unfinished runs keep everything: they resume. With
`other_studies`, the runs of every other study (another profile, seed or dataset) go too,
folder and ledger rows; this study's variance runs (`course variance`) and the lab's curves on
this dataset (`course lab`) stay. A run another process holds is left alone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from course import locks
from course.config import Profile
from course.ledger import Ledger, Run
from course.paths import RUNS_DIR
from course.plan import in_study, units_by_label, varies
from course.study import CURVES

RESUME_STATE = ("checkpoints", "tuner")  # what a run keeps only to resume


@dataclass
class Plan:
    """What cleaning removes: folders of finished runs, and whole runs of other studies."""

    folders: list[Path] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes it frees."""
        paths = [*self.folders, *(RUNS_DIR / run.run_id for run in self.runs)]
        return sum(f.stat().st_size for p in paths if p.exists() for f in p.rglob("*")
                   if f.is_file())  # fmt: skip

    def describe(self) -> str:
        return (f"{self.size / 2**20:.1f} MB: the checkpoints of {len(self.folders)} finished "
                f"runs' fits, and {len(self.runs)} runs of other studies")  # fmt: skip


def plan(ledger: Ledger, profile: Profile, data_sha256: str, other_studies: bool) -> Plan:
    """What `clean` would remove for the study: the profile as it is now, with each seed of
    its repeats, on the dataset with this hash."""
    units = units_by_label(profile)
    cleaning = Plan()
    for run in ledger.runs():
        if not locks.free(RUNS_DIR / f"{run.run_id}.lock"):
            continue  # another process is training it
        curves = run.kind == CURVES and run.data_sha256 == data_sha256  # the lab's, any profile
        if not (in_study(run, units, profile, data_sha256) or varies(run, profile, data_sha256)
                or curves):  # fmt: skip
            if other_studies:
                cleaning.runs.append(run)
            continue
        result = ledger.result(run.run_id)
        finished = result is not None and Path(result["model_path"]).is_file()  # one file
        if finished or (run.finished_at is not None and result is None):  # or none: retraining
            cleaning.folders += [RUNS_DIR / run.run_id / name for name in RESUME_STATE
                                 if (RUNS_DIR / run.run_id / name).exists()]  # fmt: skip
    return cleaning


def clean(ledger: Ledger, cleaning: Plan) -> None:
    for folder in cleaning.folders:
        shutil.rmtree(folder, ignore_errors=True)
    for run in cleaning.runs:
        ledger.forget(run.run_id)  # its fits and result go with it
        shutil.rmtree(RUNS_DIR / run.run_id, ignore_errors=True)
        (RUNS_DIR / f"{run.run_id}.lock").unlink(missing_ok=True)

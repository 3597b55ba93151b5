"""The lab's curves: a grid of telecust configurations trained to the full epoch budget.

The lookup tables hold one value per configuration and seed, so the multi-fidelity methods
(Hyperband, successive halving, ASHA) cannot run on them: they judge a configuration after a
few epochs and train only the promising ones further. These curves are a small table of our
own that can feed them: every configuration of `[lab.curves].space`, trained under `seeds`
initialisation seeds for `max_epochs` epochs with EarlyStopping's patience as long as the
budget (so no fit stops early) and ModelCheckpoint as always. A replay reads a configuration's
score at any epoch: the best so far, which is what a checkpointed fit of that many epochs keeps.

Each seed is one run in the ledger (`curves[init<seed>]`), its fits recorded and resumed like
every fit (`course.fitting`); a rerun trains only what is missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from course import backend, locks
from course.config import Profile, Training
from course.data import holdout_scaled, load_dataset, split
from course.datasets import DataSpec, sha256_of
from course.lab.tables import Table
from course.ledger import Ledger, clock
from course.paths import LEDGER_FILE, RUNS_DIR
from course.plan import Unit
from course.progress import StudyProgress
from course.records import FitKey
from course.runner import Study
from course.space import EPOCHS, Space
from course.study import CLEAN, CURVES, Context

if TYPE_CHECKING:
    from course.cluster import Cluster

NAME = "telecust/curves"  # the curves as a table, beside the lookup tables' names


@dataclass(frozen=True, eq=False)
class Curves:
    """The trained curves as a table: `table` holds each configuration's value at the full
    budget (what a full-fidelity search observes); `raw` and `best` every epoch's monitored
    value and the best so far, (configurations, seeds, epochs); `params` each row's
    configuration; `seconds` each fit's training time, (configurations, seeds)."""

    table: Table
    raw: np.ndarray
    best: np.ndarray
    accuracy: np.ndarray  # val_accuracy at every epoch, (configurations, seeds, epochs)
    params: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    seconds: np.ndarray

    @property
    def epochs(self) -> int:
        return self.raw.shape[2]

    @property
    def digest(self) -> str:
        """Changes with any value the replays read: their ledger keys carry it."""
        return hashlib.sha256(self.raw.tobytes() + repr(self.params).encode()).hexdigest()


def curves_profile(profile: Profile, settings: dict[str, Any], init_seed: int) -> Profile:
    """The profile a curves run trains with: the curves' space, every fit `max_epochs` long
    (patience as long as the budget: EarlyStopping never ends a fit), one init seed."""
    epochs = settings["max_epochs"]
    return replace(
        profile.seeded(profile.seed, init_seed=init_seed),
        space=Space.from_mapping(settings["space"], "lab.curves.space", {EPOCHS: epochs}),
        training=Training(profile.training.monitor, patience=epochs, max_epochs=epochs),
    )


def _unit(settings: dict[str, Any], init_seed: int) -> Unit:
    return Unit(CURVES, CLEAN, f"init{init_seed}", {"max_epochs": settings["max_epochs"]})


def train(profile: Profile, settings: dict[str, Any], workers: int = 1,
          cluster: Cluster | None = None) -> Curves:  # fmt: skip
    """Train (or resume) the curves under each seed, always on telecust (the lab's pages
    discuss its curves), whatever the profile's `[data]`; return them as a table; on
    `cluster`'s workers if given."""
    from course.methods.grid_loop import fit_anywhere

    dataset = load_dataset()
    sha256 = sha256_of(dataset.path)
    profile = replace(profile, data=DataSpec())
    study = Study(profile, dataset.path, sha256, backend.load(), "course lab", workers,
                  cluster.address if cluster else None)  # fmt: skip
    shared = split(dataset, profile.split_seed, profile.test_size)
    ledger = Ledger(LEDGER_FILE)
    runs = []
    try:
        with StudyProgress() as progress:
            for j in range(settings["seeds"]):
                seeded = curves_profile(profile, settings, profile.init_seed + j)
                unit = _unit(settings, seeded.init_seed)
                new = study.run(unit, seeded, kind=CURVES)
                with locks.held(RUNS_DIR / f"{new.run_id}.lock", f"run {new.run_id}"):
                    run = ledger.open_run(new)
                    if run.finished_at is None:
                        ctx = Context(seeded, shared, unit.settings, CLEAN, ledger, run,
                                      progress, workers, cluster)  # fmt: skip
                        grid = seeded.space.grid()
                        fitter = ctx.fitter(len(grid))
                        arrays = holdout_scaled(shared, seeded.split_seed,
                                                seeded.validation_size)[:4]  # fmt: skip
                        todo = [(t, p) for t, p in enumerate(grid) if FitKey(t) not in fitter.done]
                        with clock(ledger.path, run.run_id):
                            fit_anywhere(fitter, arrays, todo, workers, cluster)
                        ledger.finish_run(run.run_id)
                runs.append((seeded, run.run_id))
        return _read(ledger, runs, profile.training.monitor)
    finally:
        ledger.close()


def _read(ledger: Ledger, runs: list[tuple[Profile, str]], monitor: str) -> Curves:
    """The curves from the ledger's fits: one run per seed, a fit per configuration."""
    space = runs[0][0].space
    grid = space.grid()
    varied = space.tuned
    values = {name: v for name, v in space.grid_values().items() if name in varied}
    shape = (len(grid), len(runs), space.domains[EPOCHS].highest)
    raw, accuracy, seconds = np.empty(shape), np.empty(shape), np.empty(shape[:2])
    for s, (_, run_id) in enumerate(runs):
        for fit in ledger.fits(run_id):
            raw[fit["trial"], s] = fit["history"][monitor]
            accuracy[fit["trial"], s] = fit["history"]["val_accuracy"]
            seconds[fit["trial"], s] = fit["seconds"]
    maximize = not monitor.endswith("loss")
    best = (np.fmax if maximize else np.fmin).accumulate(raw, axis=2)  # NaN: skipped
    keys = tuple("".join(str(values[n].index(p[n])) for n in varied) for p in grid)
    table = Table(NAME, monitor, maximize, values, best[:, :, -1], keys, None)
    return Curves(table, raw, best, accuracy, tuple(grid),
                  tuple(p.init_seed for p, _ in runs), seconds)  # fmt: skip

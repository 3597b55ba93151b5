"""The method interface: what a method declares, what it is given, and what its run returns.

A method is a subclass of `Method`, registered under the `course.methods` entry-point group
(see `course.registry`), so a method from another installed package joins `course methods`,
`course run`, export and the scoreboard without an edit here. A method drives its library and
returns an `Outcome`; the study (`course.runner`) scores that final model once on the test set
and records the result. A method imports nothing above `course.methods`: not the registry, the
runner, the CLI or the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from course.config import Profile, Setting
from course.fitting import Fitter
from course.ledger import Ledger, Recorder, Run, key_of
from course.paths import RUNS_DIR
from course.records import FitKey

if TYPE_CHECKING:
    import numpy as np

    from course.cluster import Cluster
    from course.data import Split
    from course.progress import StudyProgress

SEARCH, STUDY, BASELINE = "search", "study", "baseline"  # kinds of run
CURVES = "curves"  # a run of the lab's curves (course.lab.curves): nothing chosen, all kept
CLEAN, SEED = "clean", "seed"  # protocols: validate on development rows, or (the seed's) on test

Params = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """One run a method makes under a profile: a name (empty for the only one) and the
    settings it runs with (part of its run id)."""

    name: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What a run returns: the configuration it chose, the score it chose by, where its final
    model is (a file, or the run's folder when the final model is several, as the CV study's
    average of fold models), and its predicted class for every test row (`Split.y_test` order)."""

    params: Params
    selection_score: float
    model_path: Path
    predictions: np.ndarray
    tied: int = 1  # configurations that shared the best selection score (course.selection)


@dataclass(frozen=True)
class Candidate:
    """A configuration a searcher wants scored; `budget` is the epochs it allots, where it
    allots them (successive halving), else None (the configuration's own epochs)."""

    trial: int
    params: Params
    budget: int | None = None


class Searcher(Protocol):
    """A method's search, driven ask/tell: a run scores each candidate by fitting it, a caller
    without a model can score it from a lookup table instead."""

    def ask(self) -> Candidate | None:
        """The next candidate, or None when the search is over."""
        ...

    def tell(self, candidate: Candidate, score: float, pruned: bool = False) -> None:
        """The candidate's score (higher is better); `pruned`: stopped before its budget."""
        ...


@dataclass
class Context:
    """What a method is given for one run: the profile (with this run's seed), the split every
    method shares, its settings (one variant's), the protocol, the ledger and its own run."""

    profile: Profile
    split: Split
    settings: dict[str, Any]
    protocol: str
    ledger: Ledger
    run: Run
    progress: StudyProgress
    workers: int = 1  # processes for the methods that can share out their fits
    cluster: Cluster | None = None  # `--cluster`: the Dask workers those methods send them to

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def label(self) -> str:
        """The run's name on the progress display: a repeat says which seed it is."""
        repeat = self.profile.repeats > 1
        return f"{self.run.method} seed {self.run.seed}" if repeat else self.run.method

    @property
    def run_dir(self) -> Path:
        return RUNS_DIR / self.run_id

    def checkpoint(self, key: FitKey) -> Path:
        return key.checkpoint(self.run_dir)

    def fits(self) -> list[dict[str, Any]]:
        """The fits this run has recorded so far (a resumed run starts with some)."""
        return self.ledger.fits(self.run_id)

    def recorder(self, total: int) -> Recorder:
        """Where this run's fits go, with a progress bar of `total` fits that starts at the
        fits already recorded; picklable into worker processes."""
        fits = self.fits()
        task = self.progress.task(self.label, max(total, len(fits)),
                                  [f["val_accuracy"] for f in fits])  # fmt: skip
        profile = self.profile
        return Recorder(self.run_id, self.ledger.path, profile.init_seed, profile.training,
                        self.ledger, task, {key_of(f) for f in fits})  # fmt: skip

    def fitter(self, total: int, checkpoints: bool = True) -> Fitter:
        """How this run fits its models (`course.fitting`), recording into `recorder(total)`;
        `checkpoints=False` for a library that keeps the best epochs itself (KerasTuner)."""
        return Fitter(self.recorder(total), self.run_dir, self.split.schema, checkpoints)


class Method:
    """A way to tune the MLP (or, with `kind = STUDY`, evidence about a technique).

    Subclass it, set the class attributes, implement `run`; register the class under the
    `course.methods` entry-point group with its slug as the name. Importing the module must
    be cheap: import frameworks inside `run`.
    """

    slug: ClassVar[str]  # names its CLI argument, page, generated files and run ids
    title: ClassVar[str]  # its name in headings
    summary: ClassVar[str]  # one line for `course methods`
    kind: ClassVar[str] = SEARCH  # SEARCH competes on the scoreboard; STUDY and BASELINE do not
    settings: ClassVar[Sequence[Setting]] = ()  # its `[methods.<slug>]` keys
    protocols: ClassVar[tuple[str, ...]] = (CLEAN,)  # the grid loop also plays the seed's
    preload: ClassVar[tuple[str, ...]] = ()  # heavy modules to import quietly before it runs
    order: ClassVar[int] = 1000  # its place in `course methods` and `run-all`, then its slug

    def variants(self, settings: dict[str, Any]) -> list[Variant]:
        """The runs this method makes under a profile; one, by default."""
        return [Variant("", settings)]

    def check(self, profile: Profile, settings: dict[str, Any]) -> None:
        """Refuse (with a `CourseError`) settings that cannot run with this profile, before
        anything trains."""

    def check_data(self, profile: Profile, settings: dict[str, Any], split: Split) -> None:
        """Refuse settings this dataset cannot feed (more folds than its smallest class has
        rows), with a `CourseError`, before anything trains."""

    def plans(self, settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """Tables the method plans before it trains, by name (Hyperband's schedule): export
        writes each as `data/<name>.csv`, so the report can set the plan beside the run."""
        return {}

    def searcher(self, profile: Profile, settings: dict[str, Any]) -> Searcher:
        """This method's search, to drive ask/tell without training."""
        raise NotImplementedError(f"{self.slug} has no ask/tell searcher")

    def run(self, ctx: Context) -> Outcome:
        """Run (or resume) the search, recording every fit; return the final model."""
        raise NotImplementedError

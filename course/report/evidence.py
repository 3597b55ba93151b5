"""The exported data, each file loaded on first use, with a note of which files were used.

The note (`reads`) is what lets the report redraw only what changed: `course.report.render`
clears it before it draws a figure or a table, and afterwards knows exactly which files that
figure or table was drawn from.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import CourseError
from course.space import EPOCHS, HYPERPARAMETERS, NAMES

if TYPE_CHECKING:  # pandas loads with the first file read: render imports this module first
    import pandas as pd

SEARCH = "search"  # the kind of run the scoreboard ranks (results.csv `kind`)
BASELINE = "baseline"  # the kind of the untuned run every search is paired against
ACCURACY = "val_accuracy"  # the default selection score (a profile's `selection`)
# trials.csv `status` of a fit a pruner stopped (the data contract's word; the report may not
# import the ledger's modules, which say it too)
PRUNED = "pruned"
# Where `course export --to` puts the seed notebook's own study, beside the main one (relative
# to docs/generated): the seed-space include counts its duplicate fits.
NOTEBOOK_DIR = "notebook"
NOTEBOOK_PROFILE = "notebook"


class _File:
    """One exported file as an attribute of `Evidence`: loaded the first time it is used, and
    noted in `reads` every time. An optional file that does not exist reads as None."""

    def __init__(self, path: str, optional: bool = False, runs: bool = False) -> None:
        self.path, self.optional, self.runs = path, optional, runs  # runs: one column per
        # hyperparameter (trials.csv, results.csv)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, ev: Evidence | None, owner: type) -> Any:
        if ev is None:
            return self
        ev.reads.add(self.path)
        if self.name not in ev.loaded:
            ev.loaded[self.name] = ev.read(self)
        return ev.loaded[self.name]


class Evidence:
    """Everything under docs/generated/ that export wrote; frames given by name (tests) are
    used as they are."""

    results = _File("data/results.csv", runs=True)
    trials = _File("data/trials.csv", runs=True)
    curves = _File("data/curves.csv")
    classes = _File("data/classes.csv")
    features = _File("data/features.csv")
    predictions = _File("data/predictions.csv")  # each run's prediction for every test row
    repeats = _File("data/repeats.csv")  # each run's result under every seed of the repeats
    catalog = _File("data/methods.csv")  # every registered method, run or not
    provenance = _File("provenance.json")
    hyperband_plan = _File("data/hyperband_plan.csv", optional=True)  # the profile's schedule
    halving_plan = _File("data/halving_plan.csv", optional=True)  # HalvingRandomSearchCV's rounds
    benchmark = _File("data/benchmark.csv", optional=True)  # scripts/bench.py's table
    cluster = _File("data/cluster.csv", optional=True)  # scripts/cluster_bench.py's table
    variance = _File("data/variance.csv", optional=True)  # `course variance`'s measurements
    # the seed notebook's study, exported beside this one (`course export --to`), if it was
    notebook_trials = _File(f"{NOTEBOOK_DIR}/data/trials.csv", optional=True, runs=True)
    notebook_curves = _File(f"{NOTEBOOK_DIR}/data/curves.csv", optional=True)
    notebook_provenance = _File(f"{NOTEBOOK_DIR}/provenance.json", optional=True)

    def __init__(self, generated: Path | None = None, **given: Any) -> None:
        self.generated = generated
        self.loaded: dict[str, Any] = dict(given)
        self.reads: set[str] = set()
        self._memo: dict[tuple[Any, ...], tuple[Any, set[str]]] = {}

    def memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """`compute()` once per key (several figures read one search's evaluations), its
        files still noted in `reads` on every use: the report fingerprints each output by them."""
        if key not in self._memo:
            outer, self.reads = self.reads, set()
            try:
                value = compute()
            finally:
                used, self.reads = self.reads, outer | self.reads
            self._memo[key] = (value, used)
        value, used = self._memo[key]
        self.reads |= used
        return value

    @classmethod
    def files(cls) -> list[_File]:
        return [f for f in vars(cls).values() if isinstance(f, _File)]

    @classmethod
    def load(cls, generated: Path) -> Evidence:
        """The evidence under `generated`, refused in one line if export has not written it."""
        for file in cls.files():
            if not file.optional and not (generated / file.path).is_file():
                raise CourseError(
                    f"{generated / file.path}: missing; run `course run-all` (or `course "
                    "export`) first"
                )
        return cls(generated)

    def read(self, file: _File) -> Any:
        path = None if self.generated is None else self.generated / file.path
        if path is None or not path.is_file():
            if file.optional:
                return None
            raise CourseError(f"{file.path}: missing; run `course export` first")
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        import pandas as pd

        frame = pd.read_csv(path)
        if "variant" in frame:  # a method's only run has no variant name (not NaN)
            frame["variant"] = frame["variant"].fillna("")
        if file.runs:  # an export from before a hyperparameter existed ran at its default
            for name in NAMES:
                if name not in frame:
                    frame[name] = HYPERPARAMETERS[name].default
        return frame

    @property
    def searches(self) -> pd.DataFrame:
        """Results of the searches (a study's runs are evidence, not competitors)."""
        return self.results[self.results["kind"] == SEARCH]

    @property
    def clean_searches(self) -> list[str]:
        """The searches that chose on development rows, in results order: what every
        comparison compares (the seed protocol chose on the test rows)."""
        return list(self.searches.loc[self.searches["protocol"] == "clean", "method"])

    @property
    def baseline(self) -> pd.Series | None:
        """The results row of the untuned baseline (clean protocol), or None if not run."""
        rows = self.results[(self.results["kind"] == BASELINE)
                            & (self.results["protocol"] == "clean")]  # fmt: skip
        return None if rows.empty else rows.iloc[0]

    @property
    def selection(self) -> str:
        """The score every method ranked configurations by (the profile's `selection`)."""
        return (self.provenance.get("config") or {}).get("selection", ACCURACY)

    @property
    def higher_is_better(self) -> bool:
        return not self.selection.endswith("loss")

    @property
    def space(self) -> dict[str, Any]:
        """The profile's space as provenance keeps it: a list, or a range
        `{low, high, log, grid}`, per hyperparameter."""
        return self.provenance["config"]["space"]

    @property
    def tuned(self) -> list[str]:
        """The hyperparameters the profile's space tunes (a range, or more than one value)."""
        return [name for name in NAMES if name in self.space and is_tuned(self.space[name])]

    def result(self, method: str) -> pd.Series | None:
        """The results row of a method label, or None when the study did not run it."""
        rows = self.results[self.results["method"] == method]
        return None if rows.empty else rows.iloc[0]

    def methods(self, slug: str) -> list[str]:
        """Method labels of a slug (its variants), in results order; seed protocol excluded."""
        clean = self.results[(self.results["protocol"] == "clean")]
        return list(clean.loc[clean["slug"] == slug, "method"])

    @property
    def slugs(self) -> list[str]:
        """Every registered method's slug, in course order (run or not)."""
        return [] if self.catalog is None else list(self.catalog["slug"])

    def folds(self, method: str) -> int:
        """How many cross-validation folds a run scored each configuration on (1: holdout)."""
        fits = self.trials[(self.trials["method"] == method) & (self.trials["fold"] >= 0)]
        return int(fits["fold"].nunique())

    def selection_trials(self, method: str) -> pd.DataFrame:
        """One row per evaluation, in run order: a configuration scored once, all its CV folds
        together. A successive-halving candidate is scored again in every round it reaches, so
        an evaluation is a (trial, rung) pair, and rounds run one after the other; other
        methods have one rung. `score` is what the method selected on; `seconds`,
        `epochs_run` and `fits` add up the evaluation's fits (the final refit of a CV search
        comes after the search: not one). A pruned fit cost its epochs but is no candidate for
        the final pick, so its score is NaN (unless every fit was pruned: the pick is then
        among them)."""
        rows = self.trials[(self.trials["method"] == method) & (self.trials["fold"] >= 0)]
        rows = rows.assign(rung=rows["rung"].fillna(0).astype(int) if "rung" in rows else 0)
        accuracy = self.higher_is_better
        if "cv_score" in rows and rows["cv_score"].notna().any():  # CV: mean over folds
            score = ("cv_score", "first") if accuracy else ("cv_fold_loss", "mean")
        else:
            pruned = rows["status"].eq(PRUNED)
            candidate = rows[self.selection].where(~pruned | pruned.all())
            rows = rows.assign(candidate=candidate)
            score = ("candidate", "max" if accuracy else "min")
        scores = rows.groupby(["rung", "trial"], sort=True).agg(
            score=score,
            seconds=("seconds", "sum"),
            epochs_run=("epochs_run", "sum"),
            fits=("fold", "size"),
        )
        return scores.reset_index()[["trial", "rung", "score", "seconds", "epochs_run", "fits"]]

    def evaluations(self, method: str) -> pd.DataFrame:
        return self.memo(("evaluations", method), lambda: self._evaluations(method)).copy()

    def _evaluations(self, method: str) -> pd.DataFrame:
        """`selection_trials` with each evaluation's hyperparameters, whether a pruner stopped
        it (`pruned`) and whether it trained on the method's whole budget (`full_budget`):
        successive halving and Hyperband give early rounds fewer epochs (the `epochs` of the
        round), so only their longest rounds are scored like every other method's trials.
        Views that compare configurations (importance, study health) read these."""
        fits = self.trials[(self.trials["method"] == method) & (self.trials["fold"] >= 0)]
        fits = fits.assign(rung=fits["rung"].fillna(0).astype(int) if "rung" in fits else 0)
        first = (
            fits.groupby(["rung", "trial"], sort=True)
            .agg(
                **{name: (name, "first") for name in NAMES},
                pruned=("status", lambda s: bool(s.eq(PRUNED).all())),
            )
            .reset_index()
        )
        frame = self.selection_trials(method).merge(first, on=["trial", "rung"], how="left")
        rounds = fits["rung"].max() > 0 or ("bracket" in fits and fits["bracket"].notna().any())
        budget = frame[EPOCHS] == frame[EPOCHS].max() if rounds else True
        return frame.assign(full_budget=budget & ~frame["pruned"])


def is_tuned(domain: Any) -> bool:
    """Whether a space entry as provenance keeps it (a list, or a range table) tunes."""
    return isinstance(domain, dict) or (isinstance(domain, list) and len(domain) > 1)

"""The exported data, loaded once for every figure, table and verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from course.errors import CourseError

SEARCH = "search"  # the kind of run the scoreboard ranks (results.csv `kind`)


def variant_of(label: str) -> str:
    """`cv-study[cv5]` -> `cv5` (the bracketed variant of a run label)."""
    return label.split("[", 1)[1].rstrip("]")


@dataclass(frozen=True)
class Evidence:
    results: pd.DataFrame
    trials: pd.DataFrame
    curves: pd.DataFrame
    classes: pd.DataFrame
    features: pd.DataFrame
    predictions: pd.DataFrame  # each run's prediction for every test row
    repeats: pd.DataFrame  # each run's result under every seed of the profile's repeats
    provenance: dict[str, Any]
    catalog: pd.DataFrame | None = None  # methods.csv: every registered method, run or not
    hyperband_plan: pd.DataFrame | None = None  # the profile's Hyperband schedule, if it has one
    benchmark: pd.DataFrame | None = None  # scripts/bench.py's table, when it has been run

    @classmethod
    def load(cls, generated: Path) -> Evidence:
        data = generated / "data"
        try:
            frames = {
                name: pd.read_csv(data / f"{name}.csv")
                for name in (
                    "results",
                    "trials",
                    "curves",
                    "classes",
                    "features",
                    "predictions",
                    "repeats",
                )
            }
            frames["catalog"] = pd.read_csv(data / "methods.csv")
            provenance = json.loads((generated / "provenance.json").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CourseError(
                f"{exc.filename}: missing; run `course run-all` (or `course export`) first"
            ) from None
        optional = {
            name: pd.read_csv(data / f"{name}.csv") if (data / f"{name}.csv").is_file() else None
            for name in ("hyperband_plan", "benchmark")
        }
        return cls(provenance=provenance, **frames, **optional)

    @property
    def searches(self) -> pd.DataFrame:
        """Results of the searches (a study's runs are evidence, not competitors)."""
        return self.results[self.results["kind"] == SEARCH]

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

    def selection_trials(self, method: str) -> pd.DataFrame:
        """One row per configuration with the score the method selected on, in run order."""
        rows = self.trials[self.trials["method"] == method]
        if "cv_score" in rows and rows["cv_score"].notna().any():  # CV: mean over folds
            rows = rows[rows["fold"] >= 0]
            scores = rows.groupby("trial", sort=True).agg(
                score=("cv_score", "first"),
                seconds=("seconds", "sum"),
                epochs=("epochs_run", "sum"),
            )
        else:
            scores = rows.groupby("trial", sort=True).agg(
                score=("val_accuracy", "max"),
                seconds=("seconds", "sum"),
                epochs=("epochs_run", "sum"),
            )
        return scores.reset_index()

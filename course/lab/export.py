"""The lab's evidence as tidy CSV (the data contract, CONTRIBUTING.md): one row per evaluation
(`lab.csv.gz`: gzipped, a tenth of its size), per search (`lab-searches.csv`), per table
(`lab-tables.csv`), per importance share (`lab-importance.csv`) and per theory point
(`lab-theory.csv`, random search in closed form)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from course.export import csv_text
from course.lab import searchers, tables
from course.lab.run import Plan
from course.lab.theory import moments
from course.paths import write_atomic

COLUMNS = ["benchmark", "method", "budget", "repeat", "evaluation", "observed", "true_value",
           "best_observed", "incumbent_true", "regret"]  # fmt: skip
SEARCH_COLUMNS = ["benchmark", "method", "budget", "repeat", "seed", "evaluations", "seconds"]
TABLE_COLUMNS = ["benchmark", "metric", "maximize", "configurations", "seeds", "hyperparameters",
                 "best_true", "median_true", "worst_true", "noise_sd"]  # fmt: skip
IMPORTANCE_COLUMNS = ["benchmark", "hyperparameter", "source", "trials", "repeat", "share"]
THEORY_COLUMNS = ["benchmark", "evaluations", "expected_low", "expected_high", "sd"]
THEORY_POINTS = (1, 2, 5, 10, 20, 50, 100, 200, 500)  # evaluations where random search is solved


def _g(value: float) -> float:
    return float(f"{value:.6g}")


def evaluations(plan: Plan, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each search's evaluations with what the searcher saw (observed, best observed so far)
    and what it could not (the true values of what it evaluated and of its incumbent: the
    configuration it would return now, the best observed, the earlier on a tie)."""
    rows = []
    for search in plan.searches():
        table = tables.load(search.benchmark)
        truth = table.truth
        best, incumbent = -np.inf, -1
        for number, (row, observed) in enumerate(records[search.key]["evaluations"], 1):
            if table.score(observed) > best:
                best, incumbent = table.score(observed), row
            rows.append({"benchmark": search.benchmark, "method": search.method,
                         "budget": search.budget, "repeat": search.repeat, "evaluation": number,
                         "observed": _g(observed), "true_value": _g(truth[row]),
                         "best_observed": _g(table.score(best)),
                         "incumbent_true": _g(truth[incumbent]),
                         "regret": _g(table.regret(truth[incumbent]))})  # fmt: skip
    return rows


def table_rows(plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for name in plan.benchmarks:
        table = tables.load(name)
        truth = table.truth
        rows.append({"benchmark": name, "metric": table.metric, "maximize": table.maximize,
                     "configurations": table.size, "seeds": table.values.shape[1],
                     "hyperparameters": " ".join(table.space), "best_true": _g(table.best_truth),
                     "median_true": _g(float(np.median(truth))),
                     "worst_true": _g(float(truth.min() if table.maximize else truth.max())),
                     "noise_sd": _g(float(np.median(table.values.std(axis=1, ddof=1)))),
                     })  # fmt: skip
    return rows


def true_importance(table: tables.Table) -> dict[str, float]:
    """Each hyperparameter's main effect over the whole table (a balanced full factorial, so
    exact), as shares summing to one: what fANOVA's normalised shares estimate."""
    import pandas as pd

    from course.report.importance import main_effects

    codes = np.array([list(key) for key in table.keys])
    rows = pd.DataFrame(codes, columns=list(table.space)).assign(score=table.truth)
    effects = main_effects(rows, list(table.space))
    total = sum(effects.values())
    return {name: share / total for name, share in effects.items()}


def importance_rows(plan: Plan, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name in plan.benchmarks:
        table = tables.load(name)
        rows += [{"benchmark": name, "hyperparameter": hp, "source": "table",
                  "trials": table.size, "repeat": "", "share": _g(share)}
                 for hp, share in true_importance(table).items()]  # fmt: skip
    for search in plan.searches():
        for trials, shares in records[search.key]["extra"].get("importance", {}).items():
            rows += [{"benchmark": search.benchmark, "hyperparameter": hp, "source": "fanova",
                      "trials": int(trials), "repeat": search.repeat, "share": _g(share)}
                     for hp, share in shares.items()]  # fmt: skip
    return rows


def theory_rows(plan: Plan) -> list[dict[str, Any]]:
    """Random search's expected best observed value and its sd, from the table alone
    (course.lab.theory)."""
    if searchers.RANDOM not in plan.methods:
        return []
    rows = []
    points = [m for m in THEORY_POINTS if m <= plan.settings["budget"]]
    for name in plan.benchmarks:
        table = tables.load(name)
        found = moments(table.values, points, maximize=table.maximize)
        rows += [{"benchmark": name, "evaluations": m, "expected_low": _g(low),
                  "expected_high": _g(high), "sd": _g(sd)}
                 for m, (low, high, sd) in zip(points, found, strict=True)]  # fmt: skip
    return rows


def search_rows(plan: Plan, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"benchmark": s.benchmark, "method": s.method, "budget": s.budget,
             "repeat": s.repeat, "seed": s.seed,
             "evaluations": len(records[s.key]["evaluations"]),
             "seconds": _g(records[s.key]["seconds"])} for s in plan.searches()]  # fmt: skip


def _gzipped(text: str) -> bytes:
    """No timestamp in the header: the same evaluations give the same bytes."""
    return gzip.compress(text.encode(), mtime=0)


def write(plan: Plan, records: dict[str, dict[str, Any]], data_dir: Path) -> list[Path]:
    """Write the five files (each atomically, lab.csv.gz last: its presence means the rest)."""
    files = {
        "lab-tables.csv": csv_text(TABLE_COLUMNS, table_rows(plan)),
        "lab-searches.csv": csv_text(SEARCH_COLUMNS, search_rows(plan, records)),
        "lab-importance.csv": csv_text(IMPORTANCE_COLUMNS, importance_rows(plan, records)),
        "lab-theory.csv": csv_text(THEORY_COLUMNS, theory_rows(plan)),
        "lab.csv.gz": _gzipped(csv_text(COLUMNS, evaluations(plan, records))),
    }
    for name, text in files.items():
        write_atomic(data_dir / name, text)
    return [data_dir / name for name in files]

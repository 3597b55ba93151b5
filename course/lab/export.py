"""The lab's evidence as tidy CSV (the data contract, CONTRIBUTING.md): one row per evaluation
(`lab.csv.gz`: gzipped, a tenth of its size), per search (`lab-searches.csv`), per table
(`lab-tables.csv`), per importance share (`lab-importance.csv`) and per theory point
(`lab-theory.csv`, random search in closed form); for the curves, one row per configuration,
seed and epoch (`lab-curves.csv.gz`), per replayed evaluation (`lab-fidelity.csv.gz`) and per
replayed search (`lab-replays.csv`)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from course.export import csv_text
from course.lab import searchers, tables
from course.lab.curves import Curves
from course.lab.fidelity import Replay
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
# after "configuration", the configuration's hyperparameters
CURVE_COLUMNS = ["configuration", "init_seed", "epoch", "metric", "value", "best", "val_accuracy",
                 "fit_seconds"]  # fmt: skip
FIDELITY_COLUMNS = ["method", "repeat", "evaluation", "configuration", "init_seed", "start", "end",
                    "epochs", "observed", "final", "best_observed", "incumbent",
                    "incumbent_epochs", "incumbent_true", "regret"]  # fmt: skip
REPLAY_COLUMNS = ["method", "budget", "factor", "repeat", "seed", "evaluations", "trainings",
                  "epochs", "seconds"]  # fmt: skip
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


def curve_rows(curves: Curves) -> tuple[list[str], list[dict[str, Any]]]:
    """Every configuration's curve under every seed, epoch by epoch (the monitored value, its
    best so far, val_accuracy), with the configuration's hyperparameters and the fit's time."""
    from course.space import EPOCHS

    names = [n for n in curves.params[0] if n != EPOCHS]  # every fit trains max_epochs
    metric = curves.table.metric
    rows = []
    for c, params in enumerate(curves.params):
        for s, seed in enumerate(curves.seeds):
            for e in range(curves.epochs):
                rows.append({"configuration": c, **{n: params[n] for n in names},
                             "init_seed": seed, "epoch": e + 1, "metric": metric,
                             "value": _g(curves.raw[c, s, e]), "best": _g(curves.best[c, s, e]),
                             "val_accuracy": _g(curves.accuracy[c, s, e]),
                             "fit_seconds": _g(curves.seconds[c, s])})  # fmt: skip
    return ["configuration", *names, *CURVE_COLUMNS[1:]], rows


def fidelity_rows(replays: list[Replay], records: dict[str, dict[str, Any]],
                  curves: Curves) -> list[dict[str, Any]]:  # fmt: skip
    """Each replayed evaluation with what the searcher saw (the best score so far of a fit
    trained to `end`) and what it could not: its incumbent's truth, the mean over seeds of the
    incumbent's score at the epochs it was trained, and the regret of that to the best truth at
    the full budget. The incumbent is the best observed evaluation that may be returned (a
    pruned trial may not), the earlier on a tie; none before the first such evaluation."""
    table = curves.table
    truth = curves.best.mean(axis=1)  # (configurations, epochs)
    rows = []
    for job in replays:
        best, incumbent, epochs = -np.inf, None, 0
        for number, (row, seed, start, end, observed, final) in enumerate(
            records[job.key]["evaluations"], 1
        ):
            epochs += end - start
            if final and table.score(observed) > best:
                best, incumbent = table.score(observed), (row, end)
            true = float(truth[incumbent[0], incumbent[1] - 1]) if incumbent else None
            rows.append({"method": job.method, "repeat": job.repeat, "evaluation": number,
                         "configuration": row, "init_seed": curves.seeds[seed], "start": start,
                         "end": end, "epochs": epochs, "observed": _g(observed),
                         "final": int(final),
                         "best_observed": _g(table.score(best)) if incumbent else "",
                         "incumbent": incumbent[0] if incumbent else "",
                         "incumbent_epochs": incumbent[1] if incumbent else "",
                         "incumbent_true": _g(true) if incumbent else "",
                         "regret": _g(table.regret(true)) if incumbent else ""})  # fmt: skip
    return rows


def replay_rows(replays: list[Replay], records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for job in replays:
        found = records[job.key]["evaluations"]
        rows.append({"method": job.method, "budget": job.budget, "factor": job.factor,
                     "repeat": job.repeat, "seed": job.seed, "evaluations": len(found),
                     "trainings": sum(start == 0 for _, _, start, *_ in found),  # new fits
                     "epochs": sum(end - start for _, _, start, end, *_ in found),
                     "seconds": _g(records[job.key]["seconds"])})  # fmt: skip
    return rows


def _gzipped(text: str) -> bytes:
    """No timestamp in the header: the same evaluations give the same bytes."""
    return gzip.compress(text.encode(), mtime=0)


def write(plan: Plan, records: dict[str, dict[str, Any]], curves: Curves,
          data_dir: Path) -> list[Path]:  # fmt: skip
    """Write the eight files (each atomically, lab.csv.gz last: its presence means the rest)."""
    replays = plan.replays(curves)
    files = {
        "lab-curves.csv.gz": _gzipped(csv_text(*curve_rows(curves))),
        "lab-fidelity.csv.gz": _gzipped(
            csv_text(FIDELITY_COLUMNS, fidelity_rows(replays, records, curves))
        ),
        "lab-replays.csv": csv_text(REPLAY_COLUMNS, replay_rows(replays, records)),
        "lab-tables.csv": csv_text(TABLE_COLUMNS, table_rows(plan)),
        "lab-searches.csv": csv_text(SEARCH_COLUMNS, search_rows(plan, records)),
        "lab-importance.csv": csv_text(IMPORTANCE_COLUMNS, importance_rows(plan, records)),
        "lab-theory.csv": csv_text(THEORY_COLUMNS, theory_rows(plan)),
        "lab.csv.gz": _gzipped(csv_text(COLUMNS, evaluations(plan, records))),
    }
    for name, text in files.items():
        write_atomic(data_dir / name, text)
    return [data_dir / name for name in files]

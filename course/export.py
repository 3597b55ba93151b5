"""Export the ledger to the data contract (CONTRIBUTING.md): trials.csv, results.csv, curves.csv,
provenance.json and the files beside them under docs/generated/. The report reads only these
files, so it never imports a method, the model or the runner."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from course.config import Profile
from course.data import Dataset, load
from course.datasets import DataSpec, resolve, sha256_of
from course.errors import CourseError
from course.ledger import Ledger, Run
from course.paths import DATA_FILE, GENERATED_DIR, write_atomic
from course.plan import in_study, units_by_label
from course.registry import methods
from course.space import NAMES

FIT_COLUMNS = ["epochs_run", "best_epoch", "val_accuracy", "val_loss", "seconds", "status"]
RUN_COLUMNS = ["slug", "variant", "kind"]  # what a run is, in columns of their own
TRIAL_COLUMNS = ["method", "run_id", "trial", "fold", "seed", *NAMES, *FIT_COLUMNS, "protocol",
                 "rung", *RUN_COLUMNS]  # fmt: skip
RESULT_SCORES = ["selection_score", "test_accuracy", "test_ci_low", "test_ci_high"]
RESULT_COLUMNS = [
    "method",
    "run_id",
    "profile",
    "seed",
    *NAMES,
    *RESULT_SCORES,
    "tied",  # configurations that shared the best selection score (course.selection)
    "n_trials",
    "n_fits",
    "epochs_run",  # over all its fits (the hyperparameter `epochs` is a fit's budget)
    "wall_seconds",
    "protocol",
    "backend",
    *RUN_COLUMNS,
]
METHOD_COLUMNS = ["slug", "title", "summary", "kind"]
CURVE_COLUMNS = ["method", "run_id", "trial", "fold", "epoch", "metric", "value"]
PREDICTION_COLUMNS = ["method", "run_id", "row", "label", "predicted"]
CLASS_COLUMNS = ["label", "name", "rows"]
FEATURE_COLUMNS = ["feature", "bin_low", "bin_high", "rows", "category"]
# what a run cost, beside its scores: the cost verdicts average it over the seeds as well
REPEAT_COLUMNS = ["method", "run_id", "seed", *RESULT_SCORES, "wall_seconds", "n_trials",
                  "n_fits", "epochs_run", "fit_seconds"]  # fmt: skip
PACKAGES = (
    "hpo-course",
    "keras",
    "tensorflow",
    "jax",
    "jaxlib",
    "keras-tuner",
    "scikit-learn",
    "scikeras",
    "numpy",
    "pandas",
    "matplotlib",
    "mkdocs",
    "mkdocs-material",
    "mkdocs-jupyter",
)


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Scores rounded to 6 decimals (stable files, no false precision); hyperparameter values
    exact, as the trial used them (a sampled learning rate of 3e-4 keeps its digits)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: round(v, 6) if isinstance(v, float) and k not in NAMES else v
                         for k, v in row.items()})  # fmt: skip
    return buffer.getvalue()


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def latest_runs(ledger: Ledger, profile: Profile, data_sha256: str) -> list[Run]:
    """The finished run of each method label of one study: the profile (and its seed) as it is
    now, on the dataset with this hash. A run of an earlier version of the profile, of a variant
    it dropped or on other data is not shown; of runs on several Keras backends, the newest."""
    units = units_by_label(profile)
    chosen: dict[str, Run] = {}
    for run in ledger.runs():
        if run.seed != profile.seed or not in_study(run, units, profile, data_sha256):
            continue
        if run.finished_at is None or ledger.result(run.run_id) is None:
            continue
        current = chosen.get(run.method)
        if current is None or run.finished_at >= (current.finished_at or 0):
            chosen[run.method] = run
    return [chosen[label] for label in units if label in chosen]  # in course order


def export(ledger: Ledger, profile: Profile, data_sha256: str,
           generated: Path = GENERATED_DIR) -> list[Run]:  # fmt: skip
    """Write the contract files of one study (the profile, its seed, the dataset with this
    hash) atomically, results.csv last, under `generated` (its data/ and provenance.json;
    another folder keeps a second study apart from the site's own); returns the runs."""
    data_dir = generated / "data"
    runs = latest_runs(ledger, profile, data_sha256)
    if not runs:
        raise CourseError(
            f"no finished runs for profile {profile.name!r} with seed {profile.seed} on the "
            f"dataset {data_sha256[:12]}; run `course run-all --profile {profile.name}` first"
        )
    latest = max(runs, key=lambda r: r.finished_at or 0)
    dataset = load(Path(latest.data_path), data_spec(latest))
    schema = dataset.schema
    trials, results, curves, predictions = [], [], [], []
    labels: dict[int, list[int]] = {}  # per seed, for ledgers from before results kept labels
    extra_columns: list[str] = []
    for run in runs:
        fits = ledger.fits(run.run_id)
        result = ledger.result(run.run_id)
        assert result is not None
        kinds = {"slug": run.slug, "variant": run.variant, "kind": run.kind}
        for fit in fits:
            row = {
                "method": run.method,
                "run_id": run.run_id,
                "trial": fit["trial"],
                "fold": fit["fold"],
                "seed": fit["seed"],
                **fit["params"],
                **{k: fit[k] for k in FIT_COLUMNS},
                "protocol": run.protocol,
                "rung": fit["rung"],
                **kinds,
                **fit["extra"],
            }
            extra_columns += [k for k in fit["extra"] if k not in extra_columns]
            trials.append(row)
            if "cv_fold_score" in fit["extra"]:
                continue  # curves of CV folds would multiply the file for little to see
            for metric, values in fit["history"].items():
                curves += [
                    {"method": run.method, "run_id": run.run_id, "trial": fit["trial"],
                     "fold": fit["fold"], "epoch": epoch, "metric": metric, "value": value}
                    for epoch, value in enumerate(values, start=1)
                ]  # fmt: skip
        if result["labels"] is None and run.seed not in labels:
            labels[run.seed] = _test_labels(run, profile, dataset)
        y_test = result["labels"] or labels[run.seed]
        predictions += [  # as the user's labels
            {"method": run.method, "run_id": run.run_id, "row": row, "label": label,
             "predicted": predicted}
            for row, (label, predicted) in enumerate(zip(schema.label_of(y_test),
                                                         schema.label_of(result["predictions"]),
                                                         strict=True))
        ]  # fmt: skip
        results.append(
            {
                "method": run.method,
                "run_id": run.run_id,
                "profile": run.profile,
                "seed": run.seed,
                **result["params"],
                **{k: result[k] for k in RESULT_SCORES},
                "tied": result["tied"],
                **_cost(fits),
                "wall_seconds": run.seconds,
                "protocol": run.protocol,
                "backend": run.backend,
                **kinds,
            }
        )

    write_atomic(data_dir / "trials.csv", csv_text(TRIAL_COLUMNS + extra_columns, trials))
    write_atomic(data_dir / "curves.csv", csv_text(CURVE_COLUMNS, curves))
    write_atomic(data_dir / "predictions.csv", csv_text(PREDICTION_COLUMNS, predictions))
    # every seed's runs of the study, read once: its repeats, and when its last run finished
    seed_runs = {seed: latest_runs(ledger, profile.seeded(seed), data_sha256)
                 for seed in profile.seeds}  # fmt: skip
    repeat_rows = repeats(ledger, seed_runs)
    write_atomic(data_dir / "repeats.csv", csv_text(REPEAT_COLUMNS, repeat_rows))
    dataset_summary(dataset, data_dir)
    registered = [{"slug": m.slug, "title": m.title, "summary": m.summary, "kind": m.kind}
                  for m in methods().values()]  # fmt: skip
    write_atomic(data_dir / "methods.csv", csv_text(METHOD_COLUMNS, registered))
    for m in methods().values():  # what each method plans, e.g. Hyperband's schedule
        for name, rows in m.plans(profile.methods.get(m.slug, {})).items():
            write_atomic(data_dir / f"{name}.csv", csv_text(list(rows[0]), rows))
    seeds = sorted({row["seed"] for row in repeat_rows})
    record = provenance(runs, seeds, dataset)
    # the study finished with its last seed's last run, not with the first seed's it lists
    everyone = [run for runs_of_seed in seed_runs.values() for run in runs_of_seed]
    record["finished_at"] = _iso(max(r.finished_at or 0 for r in everyone))
    write_atomic(generated / "provenance.json", json.dumps(record, indent=2) + "\n")
    write_atomic(data_dir / "results.csv", csv_text(RESULT_COLUMNS, results))
    return runs


def data_spec(run: Run) -> DataSpec:
    """How a run read its table (`[data]`, as it ran; telecust's shape before runs kept it)."""
    raw = json.loads(run.config).get("data") or {}
    return DataSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


def _test_labels(run: Run, profile: Profile, dataset: Dataset) -> list[int]:
    """The test rows' labels of a run's split, in the order its predictions were stored, for
    a ledger from before results kept them (this path imports scikit-learn)."""
    from course.data import split

    seeded = profile.seeded(run.seed)
    return split(dataset, seeded.split_seed, profile.test_size).y_test.tolist()


def _cost(fits: list[dict[str, Any]]) -> dict[str, int]:
    """What a run's fits cost, counted as results.csv and repeats.csv count it."""
    return {"n_trials": len({f["trial"] for f in fits}), "n_fits": len(fits),
            "epochs_run": sum(f["epochs_run"] for f in fits)}  # fmt: skip


def repeats(ledger: Ledger, seed_runs: dict[int, list[Run]]) -> list[dict[str, Any]]:
    """Each method's result under every seed of the profile's repeats (the first is the
    profile's own seed): what mean and standard deviation across seeds are computed from."""
    rows = []
    for seed, runs in seed_runs.items():
        for run in runs:
            result, fits = ledger.result(run.run_id), ledger.fits(run.run_id)
            assert result is not None
            rows.append({"method": run.method, "run_id": run.run_id, "seed": seed,
                         **{k: result[k] for k in RESULT_SCORES},
                         "wall_seconds": run.seconds, **_cost(fits),
                         "fit_seconds": sum(f["seconds"] for f in fits)})  # fmt: skip
    return rows


def dataset_summary(dataset: Dataset, data_dir: Path = GENERATED_DIR / "data",
                    bins: int = 20) -> None:  # fmt: skip
    """Class counts and a histogram per feature (rows per category, for a categorical one):
    what the Dataset page shows, without the rows themselves (never redistributed)."""
    import numpy as np

    frame, schema = dataset.frame, dataset.schema
    counts = frame[schema.target].value_counts()
    classes = [{"label": label, "name": name, "rows": int(counts.get(label, 0))}
               for label, name in zip(schema.labels, schema.names, strict=True)]  # fmt: skip
    features = []
    for feature in schema.features:
        if feature in schema.categories:
            per = frame[feature].value_counts()
            features += [{"feature": feature, "bin_low": i, "bin_high": i + 1,
                          "rows": int(per.get(value, 0)), "category": value}
                         for i, value in enumerate(schema.categories[feature])]  # fmt: skip
            continue
        rows, edges = np.histogram(frame[feature], bins=bins)
        features += [
            {"feature": feature, "bin_low": float(lo), "bin_high": float(hi), "rows": int(n),
             "category": ""}
            for n, lo, hi in zip(rows, edges[:-1], edges[1:], strict=True)
        ]  # fmt: skip
    write_atomic(data_dir / "classes.csv", csv_text(CLASS_COLUMNS, classes))
    write_atomic(data_dir / "features.csv", csv_text(FEATURE_COLUMNS, features))


def dataset_record(run: Run, dataset: Dataset) -> dict[str, Any]:
    """What provenance.json says of a run's dataset: where it is, its hash, and what the pages
    say of it (its name, what it holds, its shape, its target and labels)."""
    spec, schema = data_spec(run), dataset.schema
    return {"path": run.data_path, "sha256": run.data_sha256, "title": spec.title,
            "name": spec.name if spec.file is None else None, "about": spec.shape().about,
            "rows": len(dataset.frame), "target": schema.target,
            "features": list(schema.features), "categorical": list(schema.categories),
            "inputs": schema.inputs, "labels": list(schema.labels),
            "names": list(schema.names)}  # fmt: skip


def provenance(runs: list[Run], seeds: list[int], dataset: Dataset) -> dict[str, Any]:
    """Where the exported evidence came from, enough to rerun it. `seeds`: every seed whose
    runs the evidence holds (the first is the one the per-run tables show); `dataset`: the
    latest run's table."""
    latest = max(runs, key=lambda r: r.finished_at or 0)
    config = json.loads(latest.config)
    return {
        "_generated": "Written by `course` (run, run-all or export); do not edit by hand.",
        "profile": latest.profile,
        "config": {k: v for k, v in config.items() if k != "speed"},
        "seeds": seeds,
        "command": latest.command,
        "started_at": _iso(min(r.started_at for r in runs)),
        "finished_at": _iso(max(r.finished_at or 0 for r in runs)),
        "keras_backend": latest.backend,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD") or None,
        # code or profiles changed since that commit (the evidence itself is excluded)
        "git_dirty": bool(
            _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/generated")
        ),
        "dataset": dataset_record(latest, dataset),
        "packages": {name: _version(name) for name in PACKAGES},
        "runs": [
            {
                "method": r.method,
                "run_id": r.run_id,
                "config_hash": r.config_hash,
                "command": r.command,
                "backend": r.backend,
                "speed": json.loads(r.config).get("speed"),  # course/speed.py, as it ran
                "started_at": _iso(r.started_at),
                "finished_at": _iso(r.finished_at),
                "wall_seconds": round(r.seconds, 3),
            }
            for r in runs
        ],
    }


def study_dataset(profile: Profile) -> tuple[str, str]:
    """The dataset (path, SHA-256) of the study `course export` shows: the profile's `[data]`
    (with `--data`); for telecust by default, the one docs/generated was last exported from
    (every run exports its own study), else the downloaded dataset."""
    if profile.data != DataSpec():
        data = resolve(profile.data)
    else:
        try:
            exported = json.loads((GENERATED_DIR / "provenance.json").read_text(encoding="utf-8"))
            return exported["dataset"]["path"], exported["dataset"]["sha256"]
        except (FileNotFoundError, KeyError, TypeError, json.JSONDecodeError):
            data = DATA_FILE
    if not data.is_file():
        raise CourseError(f"{data}: no such file; pass the study's dataset with --data")
    return str(data), sha256_of(data)

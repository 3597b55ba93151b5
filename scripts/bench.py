"""Speed benchmark: the reference workload in several setups, side by side, in one invocation.

The workload is `course run grid-loop --profile reference`: 16 configurations, up to 100 epochs,
EarlyStopping with patience 10. Each setup runs it from scratch in its own folder and process,
with the environment variables of `course/speed.py` (and `KERAS_BACKEND`) set for that setup,
so the measurement is the product's own code path. Every setup runs twice: a first run with an
empty JAX compilation cache (a new machine), then a rerun with what the first left in it (every
run after that; TensorFlow keeps nothing between processes). All setups run in rounds
(`--repeats`), and the table shows the median of each measurement. It prints the table and
writes docs/generated/data/benchmark.csv, which `course report` turns into the Performance page.

    python scripts/bench.py                 # every setup, 3 rounds (about 25 minutes, 2 cores)
    python scripts/bench.py --setups seed-style,defaults
    python scripts/bench.py --setups seed-style,defaults --workers 4,8,16   # more cores
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "generated" / "data" / "benchmark.csv"
RUNS = ("first", "rerun")


def _env(backend: str, reuse: str, checkpoint: str, validation: str, steps: str,
         emitters: str, workers: str = "1") -> dict[str, str]:  # fmt: skip
    """The environment of one setup: the backend and the settings of course/speed.py."""
    return {"KERAS_BACKEND": backend, "COURSE_REUSE_MODELS": reuse,
            "COURSE_CHECKPOINT": checkpoint, "COURSE_VALIDATION_BATCH": validation,
            "COURSE_STEPS_PER_EXECUTION": steps, "COURSE_XLA_EMITTERS": emitters,
            "COURSE_WORKERS": workers}  # fmt: skip


# name -> (what it is, environment); from the seed notebook's setup, one option at a time
SETUPS: dict[str, tuple[str, dict[str, str]]] = {
    "seed-style": ("TensorFlow backend, a new model per fit, the whole model checkpointed on "
                   "every improvement (as the seed notebook ran)",
                   _env("tensorflow", "0", "model", "batch", "1", "fusion")),
    "tensorflow-tuned": ("TensorFlow backend with the options below that it can use: "
                         "weights-only checkpoints, validation in one batch, 16 steps per call",
                         _env("tensorflow", "0", "weights", "all", "16", "fusion")),
    "jax-fresh": ("JAX backend, a new model per fit, whole-model checkpoints",
                  _env("jax", "0", "model", "batch", "1", "fusion")),
    "jax-reuse": ("JAX, one compiled model per architecture re-used",
                  _env("jax", "1", "model", "batch", "1", "fusion")),
    "jax-reuse-weights": ("JAX, re-used models, weights-only checkpoints",
                          _env("jax", "1", "weights", "batch", "1", "fusion")),
    "jax-one-validation-batch": ("jax-reuse-weights, plus validation in one batch",
                                 _env("jax", "1", "weights", "all", "1", "fusion")),
    "jax-16-steps": ("jax-one-validation-batch, plus 16 training steps per call",
                     _env("jax", "1", "weights", "all", "16", "fusion")),
    "defaults": ("jax-16-steps, plus XLA's legacy emitters: the package's defaults, one process",
                 _env("jax", "1", "weights", "all", "16", "legacy")),
    "workers-2": ("The defaults, with two worker processes of one core each",
                  _env("jax", "1", "weights", "all", "16", "legacy", "2")),
}  # fmt: skip
COLUMNS = ["repeat", "setup", "run", "description", "backend", "reuse_models", "checkpoint",
           "validation_batch", "steps_per_execution", "xla_emitters", "workers", "wall_seconds",
           "search_seconds", "fit_seconds", "fits_per_minute", "ms_per_epoch", "epochs_run",
           "best_val_accuracy", "test_accuracy", "cpus"]  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def measure(name: str, run: str, cache: Path) -> dict[str, object]:
    """Run the reference workload once in `name`'s setup, with JAX's compilation cache in
    `cache`; return its row of the table."""
    description, env = SETUPS[name]
    env = {**env, "COURSE_JAX_CACHE": str(cache)}
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "course", "run", "grid-loop", "--profile", "reference"],
            cwd=folder, env={**os.environ, **env}, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"setup {name} failed:\n{proc.stderr[-2000:]}")
        data = Path(folder) / "docs" / "generated" / "data"
        trials = read_csv(data / "trials.csv")
        (result,) = read_csv(data / "results.csv")
    fit_seconds = sum(float(t["seconds"]) for t in trials)
    epochs = sum(int(t["epochs_run"]) for t in trials)
    return {
        "setup": name,
        "run": run,
        "description": description,
        "backend": env["KERAS_BACKEND"],
        "reuse_models": env["COURSE_REUSE_MODELS"],
        "checkpoint": env["COURSE_CHECKPOINT"],
        "validation_batch": env["COURSE_VALIDATION_BATCH"],
        "steps_per_execution": env["COURSE_STEPS_PER_EXECUTION"],
        "xla_emitters": env["COURSE_XLA_EMITTERS"],
        "workers": int(env["COURSE_WORKERS"]),
        "wall_seconds": round(wall, 1),  # the whole command: start-up, search, report
        "search_seconds": round(float(result["wall_seconds"]), 1),  # the run itself
        "fit_seconds": round(fit_seconds, 1),
        "fits_per_minute": round(len(trials) / wall * 60, 1),
        "ms_per_epoch": round(fit_seconds / epochs * 1000, 1),
        "epochs_run": epochs,
        "best_val_accuracy": float(result["selection_score"]),
        "test_accuracy": float(result["test_accuracy"]),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated setups")
    parser.add_argument("--workers", default="", help="more worker counts, e.g. 4,8,16")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the table shows medians")
    parser.add_argument("--out", type=Path, default=OUT, help="CSV to write")
    args = parser.parse_args()
    names = args.setups.split(",")
    for count in filter(None, args.workers.split(",")):  # the defaults with `count` workers
        SETUPS[f"workers-{count}"] = (
            f"The defaults, with {count} worker processes of one core each",
            {**SETUPS["defaults"][1], "COURSE_WORKERS": count},
        )
        names.append(f"workers-{count}")
    unknown = [n for n in names if n not in SETUPS]
    if unknown:
        parser.error(f"unknown setup {unknown[0]!r}; choose from {', '.join(SETUPS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as caches:
        # round after round of every setup, so a slow spell of the machine hits all setups
        for repeat in range(1, args.repeats + 1):
            for name in names:
                for run in RUNS:  # the rerun finds the compiled programs the first run left
                    print(f"round {repeat}: {name} ({run}) ...", file=sys.stderr, flush=True)
                    cache = Path(caches) / f"{name}-{repeat}"
                    rows.append({"repeat": repeat, **measure(name, run, cache)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    import pandas as pd

    from course.report.tables import benchmark

    print(benchmark(pd.read_csv(args.out)))  # the table the Performance page shows
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

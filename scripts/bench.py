"""Speed benchmark: the reference workload in several setups, side by side, in one invocation.

The workload is `course run grid-loop --profile reference`: 16 configurations, up to 100 epochs,
EarlyStopping with patience 10. Each setup runs it from scratch in its own folder and process,
with the environment variables of `course/speed.py` (and `KERAS_BACKEND`) set for that setup,
so the measurement is the product's own code path. It prints a table and writes
docs/generated/data/benchmark.csv, which `course report` turns into the Performance page.

    python scripts/bench.py                 # every setup (about 10 minutes on two cores)
    python scripts/bench.py --setups jax-reuse,seed-style
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


def _env(backend: str, reuse: str, checkpoint: str, steps: str, workers: str = "1") -> dict:
    """The environment of one setup: the backend and the settings of course/speed.py."""
    return {"KERAS_BACKEND": backend, "COURSE_REUSE_MODELS": reuse,
            "COURSE_CHECKPOINT": checkpoint, "COURSE_STEPS_PER_EXECUTION": steps,
            "COURSE_WORKERS": workers}  # fmt: skip


# name -> (what it is, environment)
SETUPS: dict[str, tuple[str, dict[str, str]]] = {
    "seed-style": ("TensorFlow backend, a new model per fit, the whole model checkpointed on "
                   "every improvement (as the seed notebook ran)",
                   _env("tensorflow", "0", "model", "1")),
    "tensorflow-tuned": ("TensorFlow backend, weights-only checkpoints, 16 steps per execution",
                         _env("tensorflow", "0", "weights", "16")),
    "jax-fresh": ("JAX backend, a new model per fit, whole-model checkpoints",
                  _env("jax", "0", "model", "1")),
    "jax-reuse": ("JAX, one compiled model per architecture re-used, whole-model checkpoints",
                  _env("jax", "1", "model", "1")),
    "jax-reuse-weights": ("JAX, re-used models, weights-only checkpoints",
                          _env("jax", "1", "weights", "1")),
    "workers-2": ("The defaults, with two worker processes of one core each",
                  _env("jax", "1", "weights", "16", "2")),
    "defaults": ("JAX, re-used models, weights-only checkpoints, 16 steps per execution, "
                 "one process: the package's defaults", _env("jax", "1", "weights", "16")),
    "defaults-rerun": ("The defaults again, with the compiled programs the previous run left in "
                       "JAX's cache on disk (a rerun)", _env("jax", "1", "weights", "16")),
}  # fmt: skip
COLUMNS = ["setup", "description", "backend", "reuse_models", "checkpoint",
           "steps_per_execution", "workers", "wall_seconds", "fit_seconds", "fits_per_minute",
           "ms_per_epoch", "epochs", "best_val_accuracy", "test_accuracy", "cpus"]  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def measure(name: str, cache: Path) -> dict[str, object]:
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
        "description": description,
        "backend": env["KERAS_BACKEND"],
        "reuse_models": env["COURSE_REUSE_MODELS"],
        "checkpoint": env["COURSE_CHECKPOINT"],
        "steps_per_execution": env["COURSE_STEPS_PER_EXECUTION"],
        "workers": int(env["COURSE_WORKERS"]),
        "wall_seconds": round(wall, 1),
        "fit_seconds": round(fit_seconds, 1),
        "fits_per_minute": round(len(trials) / wall * 60, 1),
        "ms_per_epoch": round(fit_seconds / epochs * 1000, 1),
        "epochs": epochs,
        "best_val_accuracy": float(result["selection_score"]),
        "test_accuracy": float(result["test_accuracy"]),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated setups")
    parser.add_argument("--out", type=Path, default=OUT, help="CSV to write")
    args = parser.parse_args()
    names = args.setups.split(",")
    unknown = [n for n in names if n not in SETUPS]
    if unknown:
        parser.error(f"unknown setup {unknown[0]!r}; choose from {', '.join(SETUPS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as caches:
        cache = Path(caches) / "none"
        for name in names:
            # each setup compiles from scratch, except the rerun: it gets the cache of the
            # setup before it (the defaults)
            if name != "defaults-rerun":
                cache = Path(caches) / name
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            rows.append(measure(name, cache))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    baseline = rows[0]["wall_seconds"]
    print(f"{'setup':26} {'wall s':>7} {'fit s':>7} {'fits/min':>9} {'ms/epoch':>9} "
          f"{'best val':>9} {'speed-up':>9}")  # fmt: skip
    for row in rows:
        speedup = baseline / row["wall_seconds"]
        print(f"{row['setup']:26} {row['wall_seconds']:7.1f} {row['fit_seconds']:7.1f} "
              f"{row['fits_per_minute']:9.1f} {row['ms_per_epoch']:9.1f} "
              f"{row['best_val_accuracy']:9.3f} {speedup:8.1f}x")  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

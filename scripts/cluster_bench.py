"""Cluster benchmark: one quick study in one process, then through a local Dask scheduler with
N single-threaded workers, for each N asked; wall seconds and whether the fits are the same.

The workload is `course run-all --profile quick --only grid-search-cv --only cv-study`: the
scikit-learn search under joblib's Dask backend and the CV study's fits as Dask tasks. Each
setup runs from scratch in its own folder, after an untimed warm-up run that fills JAX's
compilation cache (so no setup pays for compiling what another left there); the scheduler and
workers listen on 127.0.0.1 with no dashboard, and are stopped after each setup. Offline, set
COURSE_DATA_URL to a local copy of the dataset. It writes docs/generated/data/cluster.csv,
which `course report` turns into the table of the "Beyond one machine" page.

    python scripts/cluster_bench.py                    # one process, then 1 and 2 workers
    python scripts/cluster_bench.py --workers 1,4,8,16  # on a machine with more cores
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "generated" / "data" / "cluster.csv"
WORKLOAD = ["run-all", "--profile", "quick", "--only", "grid-search-cv", "--only", "cv-study"]
FIT_COLUMNS = ("method", "trial", "fold", "rung", "epochs_run", "best_epoch", "val_accuracy",
               "val_loss")  # fmt: skip


def _fits(folder: Path) -> list[tuple[str, ...]]:
    with (folder / "docs" / "generated" / "data" / "trials.csv").open(encoding="utf-8") as f:
        return sorted(tuple(r[c] for c in FIT_COLUMNS) for r in csv.DictReader(f))


def _study(folder: Path, *extra: str) -> float:
    """Seconds of one `course` run of the workload in `folder`."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "course", *WORKLOAD, *extra], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def _on_cluster(folder: Path, workers: int) -> float:
    """The workload through a fresh scheduler and `workers` workers on this machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    started = [subprocess.Popen([*dask, "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                 "--port", str(port), "--no-dashboard"], **quiet)]  # fmt: skip
    try:
        time.sleep(1)
        started += [subprocess.Popen([*dask, "distributed.cli.dask_worker", address, "--nthreads",
                                      "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet)
                    for _ in range(workers)]  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)
        return _study(folder, "--cluster", address)
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    counts = [int(n) for n in parser.parse_args().workers.split(",")]
    cpus = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        _study(Path(tmp) / "warm-up")  # fills JAX's compilation cache, which every setup reads
        base = Path(tmp) / "one-process"
        seconds = _study(base)
        rows.append({"setup": "one process", "workers": 0, "cpus": cpus,
                     "wall_seconds": f"{seconds:.1f}", "fits": len(_fits(base)),
                     "same_fits": "yes"})  # fmt: skip
        for n in counts:
            folder = Path(tmp) / f"cluster-{n}"
            seconds = _on_cluster(folder, n)
            rows.append({"setup": f"{n} Dask worker{'s' if n > 1 else ''}", "workers": n,
                         "cpus": cpus, "wall_seconds": f"{seconds:.1f}",
                         "fits": len(_fits(folder)),
                         "same_fits": "yes" if _fits(folder) == _fits(base) else "no"})  # fmt: skip
            print(rows[-1], flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

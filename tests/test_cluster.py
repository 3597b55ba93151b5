"""`--cluster`: a real `dask scheduler` and two `dask worker` processes on 127.0.0.1
(dashboards off), a quick study and a lab through them equal to one machine's fit for fit, a
worker SIGKILLed mid-run changing nothing, and a scheduler that is not there refused in one
line. Every process a test starts is stopped by it."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import (
    LAB_PROFILE,
    dataset_source,
    error_line,
    kill_and_resume,
    ledger_fits,
    read_csv,
    run_course,
)

# the methods whose fits go out as Dask work: the grid loop's and the CV study's as futures,
# GridSearchCV's (and so every scikit-learn search's) under joblib's Dask backend
SENT = ["grid-search-cv", "cv-study"]  # and the grid loop: the test that kills a worker
COLUMNS = ("trial", "fold", "rung", "epochs_run", "best_epoch", "val_accuracy", "val_loss",
           "cv_fold_score", "test_accuracy", "learning_rate", "units",
           "input_activation")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dask(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0],
                                 *args[1:]], stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


@contextmanager
def cluster(folder: Path, workers: int = 2,
            threads: int = 1) -> Iterator[tuple[str, list[subprocess.Popen]]]:  # fmt: skip
    """A scheduler and `workers` workers of `threads` threads without nannies (a SIGKILL ends
    a worker for good), all on the loopback, with no dashboard; yields the address and the
    worker processes, and stops everything on the way out."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    folder.mkdir(parents=True, exist_ok=True)
    started = [_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                     "--no-dashboard", log=folder / "scheduler.log")]  # fmt: skip
    try:
        time.sleep(1)
        started += [_dask("worker", address, "--nthreads", str(threads), "--no-nanny",
                          "--no-dashboard",
                          "--host", "127.0.0.1", "--name", f"w{n}",
                          log=folder / f"worker-{n}.log") for n in range(workers)]  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address, started[1:]
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _fits(folder: Path, method: str, variants: bool = True) -> list[tuple[str, ...]]:
    """The fits of a method (and of its variants, `method[...]`), timing aside, in order."""
    rows = read_csv(folder / "docs" / "generated" / "data" / "trials.csv")
    named = (lambda r: r["method"].split("[")[0]) if variants else (lambda r: r["method"])
    return sorted(tuple(r.get(c, "") for c in COLUMNS) for r in rows if named(r) == method)


@pytest.fixture(scope="module")
def dask_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One cluster for the tests that leave its workers alive."""
    with cluster(tmp_path_factory.mktemp("dask")) as (address, _):
        yield address


def test_a_study_on_two_workers_trains_the_one_process_fits(
    workdir: Path, quick_study: Path, dask_address: str
) -> None:
    only = [arg for slug in SENT for arg in ("--only", slug)]
    proc = run_course("run-all", "--profile", "quick", *only, "--cluster", dask_address,
                      cwd=workdir)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for method in SENT:
        ours = _fits(workdir, method)
        assert ours and ours == _fits(quick_study, method), method
    results = {r["method"]: r for r in read_csv(workdir / "docs/generated/data/results.csv")}
    for r in read_csv(quick_study / "docs/generated/data/results.csv"):
        if r["method"] in results:
            for column in ("selection_score", "test_accuracy", "learning_rate", "units"):
                assert results[r["method"]][column] == r[column], (r["method"], column)


def test_optuna_asks_and_tells_here_and_prunes_on_the_workers(
    workdir: Path, dask_address: str
) -> None:
    """The study process asks and tells, a worker trains, and every epoch's score crosses over
    to the trial and the pruner's answer back. As with --workers, TPE's proposals depend on
    which trials finished first, so what holds is the bookkeeping: every finished Optuna trial
    is one ledger fit, pruned where Optuna says, with the scores the fit reported."""
    import optuna

    from tests.test_library_methods import PROFILE, _optuna_trials

    proc = run_course("run", "optuna-tpe", "--profile", "quick", "--cluster", dask_address,
                      cwd=workdir)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = read_csv(workdir / "docs/generated/data/results.csv")
    study = {t.number: t for t in _optuna_trials(workdir, result["run_id"])}
    wanted = PROFILE.methods["optuna-tpe"]["trials"]
    assert wanted <= len(study) <= wanted + 1  # a trial already running when the study filled
    db = sqlite3.connect(workdir / "runs" / "ledger.sqlite")
    try:
        fits = {n: (status, json.loads(h)) for n, status, h in
                db.execute("SELECT trial, status, history FROM fits")}  # fmt: skip
    finally:
        db.close()
    assert sorted(fits) == sorted(study)
    monitor = PROFILE.training.monitor
    for number, (status, history) in fits.items():
        trial = study[number]
        assert (status == "pruned") == (trial.state == optuna.trial.TrialState.PRUNED)
        reported = [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]
        assert reported == history[monitor], number  # every epoch's, in order
    assert any(status == "pruned" for status, _ in fits.values()), "the pruner was asked"


def test_a_study_killed_mid_run_resumes_on_the_cluster(workdir: Path, dask_address: str) -> None:
    """SIGKILL the study process (its ledger and Optuna's journal are here), rerun: no
    finished fit is trained again or lost, and the study fills up."""
    from tests.test_library_methods import PROFILE, _optuna_trials

    args = ("run", "optuna-tpe", "--profile", "quick", "--cluster", dask_address)
    fits = kill_and_resume(workdir, *args, after_fits=2)
    before, after = fits["before"], fits["after"]
    assert 2 <= len(before) < len(after), "the kill must land mid-run"
    assert all(after[key] == stamp for key, stamp in before.items())  # none repeated or lost
    (result,) = read_csv(workdir / "docs/generated/data/results.csv")
    finished = _optuna_trials(workdir, result["run_id"])
    assert len(finished) >= PROFILE.methods["optuna-tpe"]["trials"]
    assert {t.number for t in finished} == {key[1] for key in after}


def _lab(folder: Path) -> tuple[dict[str, tuple[str, str]], list[tuple]]:
    """The lab's searches (evaluations and importance estimates, timing aside) and its
    curves' fits, from the ledger."""
    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    try:
        searches = {k: (e, x) for k, e, x in db.execute("SELECT key, evaluations, extra FROM lab")}
        fits = db.execute("SELECT run_id, trial, fold, rung, epochs_run, best_epoch, "
                          "val_accuracy, val_loss FROM fits").fetchall()  # fmt: skip
    finally:
        db.close()
    return searches, sorted(fits)


def test_the_lab_on_two_workers_is_the_lab_in_processes(
    workdir: Path, lab_folder: Path, dask_address: str
) -> None:
    """Its curves as grid-loop fits, its searches and replays as a task each."""
    proc = run_course("lab", "--config", str(LAB_PROFILE), "--cluster", dask_address,
                      cwd=workdir)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = _lab(workdir), _lab(lab_folder)
    assert ours[0] and ours[1], "searches and curves"
    assert ours == theirs


def test_a_worker_killed_mid_run_changes_nothing(
    workdir: Path, quick_study: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The cluster's address from $COURSE_DASK_SCHEDULER; one of the two workers SIGKILLed
    once two fits are in: Dask gives its fit to the other, and the ledger has every fit once,
    the same fits as one process."""
    with cluster(tmp_path_factory.mktemp("dask")) as (address, workers):
        env = {**os.environ, "COURSE_DATA_URL": dataset_source(), "COURSE_DASK_SCHEDULER": address}
        study = subprocess.Popen([sys.executable, "-m", "course", "run", "grid-loop", "--profile",
                                  "quick"], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            ledger = workdir / "runs" / "ledger.sqlite"
            while study.poll() is None and time.monotonic() < deadline:
                if ledger.exists() and len(ledger_fits(workdir)) >= 2:
                    break
                time.sleep(0.05)
            before = len(ledger_fits(workdir))
            workers[0].send_signal(signal.SIGKILL)
            _, stderr = study.communicate(timeout=300)
        finally:
            if study.poll() is None:
                study.kill()
    assert 2 <= before < 8, "the kill must land mid-run"
    assert workers[0].returncode == -signal.SIGKILL
    assert study.returncode == 0, stderr[-3000:]
    fits = ledger_fits(workdir)
    assert len(fits) == 8 and {key[1] for key in fits} == set(range(8))  # every trial once
    assert _fits(workdir, "grid-loop") == _fits(quick_study, "grid-loop", variants=False)
    (run,) = read_csv(workdir / "docs/generated/data/results.csv")  # its model: a checkpoint
    assert (workdir / "runs" / run["run_id"] / "final-model.zip").is_file()  # sent back


def test_a_scheduler_that_is_not_there_is_one_line_and_nothing_written(workdir: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    proc = run_course("run", "grid-loop", "--profile", "quick", "--cluster", address,
                      cwd=workdir, timeout=120)  # fmt: skip
    line = error_line(proc)
    assert f"--cluster {address}: no Dask scheduler answers there" in line
    assert not (workdir / "runs" / "ledger.sqlite").exists()
    assert not (workdir / "docs").exists()


def test_the_pages_table_reads_the_cluster_benchmark() -> None:
    """The "Beyond one machine" page's measurements: each setup's seconds against one
    process's, or a line saying how to measure them."""
    import pandas as pd

    from course.report.tables import cluster_bench

    assert "scripts/cluster_bench.py" in cluster_bench(None)
    bench = pd.DataFrame({"setup": ["one process", "2 Dask workers"], "workers": [0, 2],
                          "cpus": [16, 16], "wall_seconds": [60.0, 40.0], "fits": [57, 57],
                          "same_fits": ["yes", "yes"]})  # fmt: skip
    text = cluster_bench(bench)
    assert "| 2 Dask workers | 40.0 | 1.50x | 57 | yes |" in text
    assert "Measured on 16 CPUs" in text


def test_a_worker_of_two_threads_is_refused_in_one_line(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with cluster(tmp_path_factory.mktemp("dask"), workers=1, threads=2) as (address, _):
        proc = run_course("run", "grid-loop", "--profile", "quick", "--cluster", address,
                          cwd=workdir)  # fmt: skip
    line = error_line(proc)
    assert "a worker runs 2 threads" in line and "--nthreads 1" in line
    assert not (workdir / "runs" / "ledger.sqlite").exists()

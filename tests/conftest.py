"""Shared fixtures: the dataset comes from the shared offline copy; tests run in own folders."""

from __future__ import annotations

import csv
import functools
import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from course import backend

# Keras reads its backend once, when it is first imported: whichever test imports it first in
# this process gets the course's (as every command does), not Keras' TensorFlow default
backend.configure()

ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = ROOT.parent / "shared" / "data" / "telecust.csv"


def dataset_source() -> str:
    """Where tests fetch the dataset from: `$COURSE_DATA_URL`, else the shared copy."""
    source = os.environ.get("COURSE_DATA_URL")
    if source:
        return source
    if SHARED_CSV.is_file():
        return str(SHARED_CSV)
    pytest.exit("set COURSE_DATA_URL to a local copy of telecust.csv (the tests run offline)", 2)


def dataset_path() -> Path:
    source = dataset_source()
    return Path(source.removeprefix("file://"))


@pytest.fixture(autouse=True)
def _offline_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_DATA_URL", dataset_source())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory: data/, runs/ and docs/generated/ are written under it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_course(
    *args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    env = {**os.environ, "COURSE_DATA_URL": dataset_source(), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "course", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single line a bad input must produce (asserts exit code 2 and one line)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("course: error: ")
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture(scope="session")
def quick_grid_loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `course run grid-loop --profile quick` in its own folder, shared by tests."""
    folder = tmp_path_factory.mktemp("quick")
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `course run-all --profile quick` (all five methods), shared by tests."""
    folder = tmp_path_factory.mktemp("study")
    proc = run_course("run-all", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


LAB_PROFILE = ROOT / "tests" / "data" / "lab-profile.toml"
SUB_PATH = "hpo-course"  # where the browser tests find the site, as on GitHub Pages


@pytest.fixture(scope="session")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `course lab` on the test setting (two tables, budget 30), shared by tests."""
    folder = tmp_path_factory.mktemp("lab")
    proc = run_course("lab", "--config", str(LAB_PROFILE), "--workers", "2", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return folder


@pytest.fixture(scope="session")
def lab_generated(lab_folder: Path) -> Path:
    """The docs/generated folder that lab wrote (its data/lab*.csv and the page's evidence)."""
    return lab_folder / "docs" / "generated"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ledger_fits(folder: Path) -> dict[tuple[str, int, int, int], float]:
    """(run id, trial, fold, rung) -> the time the fit was committed."""
    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    try:
        rows = db.execute("SELECT run_id, trial, fold, rung, finished_at FROM fits").fetchall()
    except sqlite3.OperationalError:  # the file exists, its schema not yet
        rows = []
    finally:
        db.close()
    return {tuple(row[:4]): row[4] for row in rows}


def kill_and_resume(folder: Path, *args: str, after_fits: int = 2) -> dict:
    """Start `course ARGS`, SIGKILL it once `after_fits` fits are committed, then rerun it.

    Returns the fits committed before the kill and after the rerun, for the caller to check
    that none was repeated or lost.
    """
    env = {**os.environ, "COURSE_DATA_URL": dataset_source()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "course", *args],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ledger = folder / "runs" / "ledger.sqlite"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger.exists() and len(ledger_fits(folder)) >= after_fits:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before, seconds = ledger_fits(folder), run_seconds(folder)
    rerun = run_course(*args, cwd=folder)
    assert rerun.returncode == 0, rerun.stderr
    return {"before": before, "after": ledger_fits(folder), "seconds": seconds}


def run_seconds(folder: Path) -> dict[str, tuple[float, float]]:
    """run id -> (the run's recorded wall seconds, the seconds of its recorded fits)."""
    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    try:
        rows = db.execute("SELECT run_id, seconds, (SELECT COALESCE(SUM(seconds), 0) FROM fits "
                          "WHERE fits.run_id = runs.run_id) FROM runs").fetchall()  # fmt: skip
    finally:
        db.close()
    return {run_id: (wall, fits) for run_id, wall, fits in rows}


# --- the site, built once for every test that reads it ----------------------------------------


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_DATA_URL": dataset_source()}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as a fresh clone builds it, from the committed evidence, without running."""
    site = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(ROOT, site)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return site


@pytest.fixture(scope="session")
def served_site(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output readable
            pass

    # served under a sub-path, as GitHub Pages serves a project's site: a link that starts at
    # the server's root would leave it
    root = tmp_path_factory.mktemp("served")
    (root / SUB_PATH).symlink_to(built_site, target_is_directory=True)
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{SUB_PATH}"
    server.shutdown()
    server.server_close()

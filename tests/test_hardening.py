"""Faults a careful user hits on purpose: two studies at once, another dataset, killed runs."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import dataset_path, dataset_source, ledger_fits, read_csv, run_course

pytestmark = pytest.mark.slow

GENERATED = Path("docs") / "generated"


@pytest.fixture
def copy(quick_grid_loop: Path, tmp_path: Path) -> Path:
    """A copy of the shared quick grid-loop study's folder, for a test to damage."""
    folder = tmp_path / "copy"
    shutil.copytree(quick_grid_loop, folder)
    return folder


def _start(folder: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COURSE_DATA_URL": dataset_source(), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "course", *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_two_studies_at_once_in_one_folder_train_every_fit_once(
    workdir: Path, quick_study: Path
) -> None:
    """Both exit 0: a run held by the other process is waited for, then found finished; the
    evidence is whole whichever process wrote it last."""
    args = ("run-all", "--profile", "quick", "--only", "grid-loop", "--only", "kt-random-search")
    first, second = _start(workdir, *args), _start(workdir, *args)
    (_, err_a), (_, err_b) = first.communicate(timeout=600), second.communicate(timeout=600)
    assert (first.returncode, second.returncode) == (0, 0), err_a + err_b
    waited = re.findall(r"course: run (\S+) is held by pid (\d+); waiting for it", err_a + err_b)
    assert waited and {int(pid) for _, pid in waited} <= {first.pid, second.pid}

    mine = {r["method"]: r for r in read_csv(workdir / GENERATED / "data" / "results.csv")}
    alone = {r["method"]: r for r in read_csv(quick_study / GENERATED / "data" / "results.csv")}
    assert set(mine) == {"grid-loop", "grid-loop[seed-protocol]", "kt-random-search"}
    for label, row in mine.items():  # a fit trained twice at once once corrupted a result
        assert row["test_accuracy"] == alone[label]["test_accuracy"], label
    assert len(ledger_fits(workdir)) == sum(int(r["n_fits"]) for r in mine.values())
    for include in (workdir / GENERATED).glob("figure-*.md"):  # no link to a deleted figure
        for png in re.findall(r"generated/figures/([\w-]+\.png)", include.read_text()):
            assert (workdir / GENERATED / "figures" / png).is_file(), include.name


def test_two_methods_at_once_leave_whole_evidence(workdir: Path) -> None:
    """`course run grid-loop & course run kt-random-search` once left an include linking a
    figure the other render had deleted as stale."""
    runs = [_start(workdir, "run", slug, "--profile", "quick")
            for slug in ("grid-loop", "kt-random-search")]  # fmt: skip
    for proc in runs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    results = read_csv(workdir / GENERATED / "data" / "results.csv")
    assert {r["method"] for r in results} == {"grid-loop", "kt-random-search"}  # the last
    for include in (workdir / GENERATED).glob("figure-*.md"):  # export saw both finished
        for png in re.findall(r"generated/figures/([\w-]+\.png)", include.read_text()):
            assert (workdir / GENERATED / "figures" / png).is_file(), include.name
    assert (workdir / GENERATED / "figures" / "paired.png").is_file()  # drawn from both


def test_export_shows_the_study_asked_for_not_the_newest_run(copy: Path) -> None:
    folder = copy
    canonical = read_csv(folder / GENERATED / "data" / "results.csv")[0]["run_id"]
    other = folder / "other.csv"
    other.write_text("\n".join(dataset_path().read_text().splitlines()[:-1]) + "\n")  # a row less

    proc = run_course("run", "grid-loop", "--profile", "quick", "--data", "other.csv", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    (on_other,) = read_csv(folder / GENERATED / "data" / "results.csv")
    assert on_other["run_id"] != canonical

    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)  # trains nothing
    assert proc.returncode == 0, proc.stderr
    (shown,) = read_csv(folder / GENERATED / "data" / "results.csv")
    assert shown["run_id"] == canonical  # the newer run on other.csv is not this study's

    proc = run_course("export", "--profile", "quick", "--data", "other.csv", cwd=folder)
    assert proc.returncode == 0 and "data other.csv" in proc.stdout, proc.stderr
    assert read_csv(folder / GENERATED / "data" / "results.csv")[0]["run_id"] == on_other["run_id"]
    proc = run_course("export", "--profile", "quick", cwd=folder)  # the study last exported
    assert proc.returncode == 0 and "data other.csv" in proc.stdout, proc.stderr


def test_a_fit_whose_checkpoint_is_gone_is_trained_again(copy: Path) -> None:
    """An unfinished run whose checkpoints were deleted once failed on every rerun."""
    folder = copy
    (before,) = read_csv(folder / GENERATED / "data" / "results.csv")
    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    with db:  # unfinished, as if killed before its final model
        db.execute("UPDATE runs SET finished_at = NULL WHERE run_id = ?", (before["run_id"],))
        db.execute("DELETE FROM results WHERE run_id = ?", (before["run_id"],))
    db.close()
    shutil.rmtree(folder / "runs" / before["run_id"] / "checkpoints")

    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("lost their checkpoints; training them again") == 1
    (after,) = read_csv(folder / GENERATED / "data" / "results.csv")
    assert (after["run_id"], after["test_accuracy"]) == (before["run_id"], before["test_accuracy"])


@pytest.fixture
def mount():
    """Mount a filesystem for the test (a real tmpfs, or a read-only bind), unmounted after."""
    mounted: list[Path] = []

    def mount(where: Path, *options: str) -> None:
        where.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", *options, str(where)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount here ({proc.stderr.strip()})")
        mounted.append(where)

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_under_runs_is_one_line_and_the_ledger_still_opens(
    workdir: Path, mount
) -> None:
    assert run_course("data", "fetch", cwd=workdir).returncode == 0
    mount(workdir / "runs", "-t", "tmpfs", "-o", "size=8m", "tmpfs")  # a real, small disk
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()[-1:]
    assert line.startswith("course: error: runs: ") and "MiB free" in line
    db = sqlite3.connect(workdir / "runs" / "ledger.sqlite")  # intact, and no empty run row
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    db.close()


def test_read_only_evidence_is_one_line(copy: Path, mount) -> None:
    folder = copy
    (folder / GENERATED / "figures" / "scoreboard.png").unlink()  # something to write
    generated = folder / GENERATED
    mount(generated, "--bind", str(generated))
    mount(generated, "-o", "remount,ro,bind")
    proc = run_course("report", cwd=folder)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Read-only file system" in proc.stderr


@pytest.mark.parametrize("damage", ["truncated", "garbage", "emptied"])
def test_a_damaged_ledger_is_one_line(damage: str, copy: Path) -> None:
    folder = copy
    ledger = folder / "runs" / "ledger.sqlite"
    for side in ("-wal", "-shm"):
        Path(f"{ledger}{side}").unlink(missing_ok=True)
    data = ledger.read_bytes()
    ledger.write_bytes({"truncated": data[: len(data) // 3], "garbage": os.urandom(len(data)),
                        "emptied": b""}[damage])  # fmt: skip
    proc = run_course("export", "--profile", "quick", cwd=folder)  # `run` opens it the same way
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "runs/ledger.sqlite" in proc.stderr and "runs" in proc.stderr


def test_a_tuner_whose_trial_checkpoint_is_gone_starts_over(
    quick_study: Path, tmp_path: Path
) -> None:
    """KerasTuner reloads finished trials' checkpoints: one gone once failed every rerun."""
    folder = tmp_path / "copy"
    shutil.copytree(quick_study / "runs", folder / "runs")
    shutil.copytree(quick_study / "data", folder / "data")
    before = {r["method"]: r for r in read_csv(quick_study / GENERATED / "data" / "results.csv")}
    run_id = before["kt-random-search"]["run_id"]
    db = sqlite3.connect(folder / "runs" / "ledger.sqlite")
    with db:  # unfinished, as if killed before its final model
        db.execute("UPDATE runs SET finished_at = NULL WHERE run_id = ?", (run_id,))
        db.execute("DELETE FROM results WHERE run_id = ?", (run_id,))
    db.close()
    (lost,) = list((folder / "runs" / run_id / "tuner").glob("trial_*/checkpoint*"))[:1]
    lost.unlink()

    proc = run_course("run", "kt-random-search", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("checkpoints of 1 finished trials are gone") == 1
    (after,) = [r for r in read_csv(folder / GENERATED / "data" / "results.csv")
                if r["method"] == "kt-random-search"]  # fmt: skip
    assert after["test_accuracy"] == before["kt-random-search"]["test_accuracy"]
    assert after["n_fits"] == before["kt-random-search"]["n_fits"]


def test_a_holdout_too_small_to_split_is_refused_before_any_run(workdir: Path) -> None:
    """`validation_size = 0.999` was refused inside the run, which left an empty run row."""
    text = (resources.files("course") / "profiles" / "quick.toml").read_text()
    bad = workdir / "mine.toml"
    bad.write_text(text.replace("validation_size = 0.2", "validation_size = 0.999"))
    proc = run_course("run", "grid-loop", "--config", str(bad), cwd=workdir)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "validation_size: 0.999 cannot split" in proc.stderr
    assert not (workdir / "runs").exists()


def test_a_deleted_final_model_is_rebuilt_without_training(copy: Path) -> None:
    folder = copy
    (result,) = read_csv(folder / GENERATED / "data" / "results.csv")
    model = folder / "runs" / result["run_id"] / "final-model.zip"
    model.unlink()
    fits = ledger_fits(folder)
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "final-model.zip is gone; rebuilding it" in proc.stderr and model.is_file()
    assert ledger_fits(folder) == fits  # nothing trained again
    (again,) = read_csv(folder / GENERATED / "data" / "results.csv")
    assert again["test_accuracy"] == result["test_accuracy"]


def test_a_full_disk_under_the_evidence_is_one_line(copy: Path, mount) -> None:
    folder = copy
    mount(folder / GENERATED, "-t", "tmpfs", "-o", "size=48k", "tmpfs")  # curves.csv needs more
    proc = run_course("export", "--profile", "quick", "--data", "data/telecust.csv", cwd=folder)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "No space left on device" in proc.stderr
    assert not list((folder / GENERATED).rglob("*.tmp"))  # nothing half-written left


def test_clean_frees_what_the_study_no_longer_needs(copy: Path) -> None:
    folder = copy
    (mine,) = read_csv(folder / GENERATED / "data" / "results.csv")
    proc = run_course("run", "grid-loop", "--profile", "quick", "--seed", "7", cwd=folder)
    assert proc.returncode == 0, proc.stderr  # a run of another study
    (other,) = read_csv(folder / GENERATED / "data" / "results.csv")
    runs = folder / "runs"

    proc = run_course("clean", "--profile", "quick", "--other-studies", "--dry-run", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"would free \d+\.\d MB: the checkpoints of 1 finished runs' fits, and 1 "
                     r"runs of other studies", proc.stdout), proc.stdout  # fmt: skip
    assert (runs / mine["run_id"] / "checkpoints").is_dir() and (runs / other["run_id"]).is_dir()

    proc = run_course("clean", "--profile", "quick", "--other-studies", cwd=folder)
    assert proc.returncode == 0 and proc.stdout.startswith("frees "), proc.stderr
    assert not (runs / mine["run_id"] / "checkpoints").exists()
    assert (runs / mine["run_id"] / "final-model.zip").is_file()  # the final model stays
    assert not (runs / other["run_id"]).exists()
    assert {key[0] for key in ledger_fits(folder)} == {mine["run_id"]}

    fits = ledger_fits(folder)
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert ledger_fits(folder) == fits  # nothing trained again
    (again,) = read_csv(folder / GENERATED / "data" / "results.csv")
    assert again["test_accuracy"] == mine["test_accuracy"]

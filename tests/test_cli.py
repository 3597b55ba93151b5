"""The CLI stays light: commands that train nothing must not import a deep-learning framework."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import error_line, run_course

HEAVY = (
    "tensorflow",
    "jax",
    "keras",
    "keras_tuner",
    "scikeras",
    "torch",
    "sklearn",
    "dask",
    "distributed",
)

PROBE = """
import sys
sys.argv = ["course", *{args!r}]
from course.cli import main
try:
    main()
except SystemExit:
    pass
print("HEAVY:", sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r})))
"""


def _heavy_modules(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True, text=True, cwd=cwd, timeout=60,
    )  # fmt: skip
    return proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["methods"],
        ["run", "--help"],
        ["data", "fetch"],
        ["hyperband-plan"],
        ["constraints"],
    ],
)
def test_commands_that_train_nothing_import_no_framework(args: list[str], workdir: Path) -> None:
    assert "HEAVY: []" in _heavy_modules(args, workdir)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["export", "--profile", "quick"], ["report"]])
def test_export_and_report_import_no_framework(
    args: list[str], quick_grid_loop: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(quick_grid_loop, folder)
    output = _heavy_modules(args, folder)
    assert "HEAVY: []" in output and "error" not in output, output


def test_methods_lists_the_baseline_then_the_grid_loop(workdir: Path) -> None:
    proc = run_course("methods", cwd=workdir)
    assert proc.returncode == 0
    assert [line.split()[0] for line in proc.stdout.splitlines()[:2]] == ["baseline", "grid-loop"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "no-such-method"], "no-such-method"),
        (["run", "grid-loop", "--bogus"], "--bogus"),
        (["run", "grid-loop", "--seed", "x"], "--seed"),
        (["run", "grid-loop", "--profile", "huge"], "huge"),
        (["run", "grid-loop", "--protocol", "sloppy"], "protocol"),
        (["run", "grid-loop", "--profile", "quick", "--config", "x.toml"], "not both"),
        (["export", "--profile", "quick"], "no ledger"),
        (["hyperband-plan", "--factor", "1"], "--factor"),
    ],
)
def test_bad_options_are_one_line_exit_2(args: list[str], needle: str, workdir: Path) -> None:
    line = error_line(run_course(*args, cwd=workdir))
    assert needle in line
    assert not (workdir / "docs").exists()


def test_a_bad_speed_setting_is_one_line(workdir: Path) -> None:
    proc = run_course("run", "grid-loop", "--profile", "quick", cwd=workdir,
                      env={"COURSE_CHECKPOINT": "sometimes"})  # fmt: skip
    assert "$COURSE_CHECKPOINT" in error_line(proc)
    assert not (workdir / "runs").exists()

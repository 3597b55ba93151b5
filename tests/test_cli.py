"""The CLI stays light: commands that train nothing must not import a deep-learning framework."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import error_line, run_course

HEAVY = ("tensorflow", "jax", "keras", "keras_tuner", "scikeras", "torch")

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


@pytest.mark.parametrize(
    "args",
    [["--help"], ["methods"], ["run", "--help"], ["data", "fetch"], ["export"], ["report"]],
)
def test_commands_that_train_nothing_import_no_framework(args: list[str], workdir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=60,
    )
    assert "HEAVY: []" in proc.stdout, proc.stdout + proc.stderr


def test_methods_lists_grid_loop(workdir: Path) -> None:
    proc = run_course("methods", cwd=workdir)
    assert proc.returncode == 0
    assert proc.stdout.split()[0] == "grid-loop"


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
    ],
)
def test_bad_options_are_one_line_exit_2(args: list[str], needle: str, workdir: Path) -> None:
    line = error_line(run_course(*args, cwd=workdir))
    assert needle in line
    assert not (workdir / "docs").exists()

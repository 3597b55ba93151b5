"""A method from another installed package joins the course through its entry point alone:
`course methods`, `course run`, its settings, results.csv, the scoreboard and the reference."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from course.registry import load_profile
from tests.conftest import ROOT, error_line, read_csv, run_course

pytestmark = pytest.mark.slow

TOY = Path(__file__).parent / "toy_method"


@pytest.fixture(scope="module")
def toy_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy package, pip-installed into a folder of its own: only a subprocess that puts
    it on PYTHONPATH sees it, so the rest of the suite and the committed evidence never do."""
    site = tmp_path_factory.mktemp("toy-site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site), str(TOY)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(site.glob("course_toy_method-*.dist-info/entry_points.txt"))
    return site


def _digest(folder: Path) -> str:
    """Every source file of the package, so the test can tell that none was touched."""
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            sha.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return sha.hexdigest()


def test_a_method_from_another_package_runs_and_reaches_the_scoreboard(
    toy_site: Path, tmp_path: Path
) -> None:
    before = _digest(ROOT / "course")
    env = {"PYTHONPATH": str(toy_site)}
    listed = run_course("methods", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "toy-first" in listed.stdout.split()
    assert "toy-first" not in run_course("methods", cwd=tmp_path).stdout  # isolated

    quick = (resources.files("course") / "profiles" / "quick.toml").read_text("utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(quick + "\n[methods.toy-first]\nbogus = 1\n", encoding="utf-8")
    line = error_line(run_course("run", "toy-first", "--config", str(bad), cwd=tmp_path, env=env))
    assert "methods.toy-first.bogus" in line  # the method's own schema names method and key

    mine = tmp_path / "mine.toml"
    mine.write_text(quick + "\n[methods.toy-first]\ntrial = 1\n", encoding="utf-8")
    proc = run_course("run", "toy-first", "--config", str(mine), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    generated = tmp_path / "docs" / "generated"
    (result,) = read_csv(generated / "data" / "results.csv")
    chosen = load_profile("quick").space.grid()[1]  # the configuration its setting asked for
    assert (result["method"], result["kind"], result["n_fits"]) == ("toy-first", "search", "1")
    assert {name: result[name] for name in chosen} == {k: str(v) for k, v in chosen.items()}
    assert 0 < float(result["test_accuracy"]) < 1
    (fit,) = read_csv(generated / "data" / "trials.csv")
    assert fit["trial"] == "1" and fit["val_accuracy"] == result["selection_score"]
    assert "`toy-first`" in (generated / "scoreboard.md").read_text(encoding="utf-8")
    assert "methods.toy-first.trial" in (generated / "reference-profile.md").read_text("utf-8")
    assert _digest(ROOT / "course") == before

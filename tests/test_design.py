"""The project's own design stays true: the layers hold (import-linter), no module imports in a
circle, and CONTRIBUTING.md's data contract and layers are the code's."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from course import export, hyperband, variance
from course.lab import export as lab
from tests.conftest import ROOT

CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table under `## heading`, as lists of cells."""
    section = CONTRIBUTING.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]
    return [[c.strip() for c in row.split("|")[1:-1]] for row in rows]


def test_lint_imports_keeps_every_contract() -> None:
    # `lint-imports` under this interpreter (its console script may belong to another one)
    run = "from importlinter.cli import lint_imports_command; lint_imports_command(['--no-cache'])"
    proc = subprocess.run([sys.executable, "-c", run], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", proc.stdout), proc.stdout[-3000:]


def test_no_module_of_the_package_imports_in_a_circle() -> None:
    """Every import counts, lazy ones inside functions too (grimp reads them all)."""
    import grimp

    graph = grimp.build_graph("course")
    modules = sorted(graph.modules)
    cycles = [
        (a, b)
        for a in modules
        for b in graph.find_modules_directly_imported_by(a)
        if graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []


def test_contributing_lists_the_layers_the_contract_enforces() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c["layers"] for c in config["tool"]["importlinter"]["contracts"]
                  if c["type"] == "layers")  # fmt: skip
    separator = {"independent of each other": " | ", "may import each other": " : ", "": ""}
    documented = [separator[how].join(re.findall(r"`([a-z_.]+)`", modules))
                  for _, modules, how in _table("Layers")]  # fmt: skip
    assert documented == layers


def test_contributing_lists_the_columns_export_writes() -> None:
    columns = {row[0].strip("`"): re.findall(r"`([a-z_]+)`", row[2]) for row in
               _table("Data contract")}  # fmt: skip
    assert columns == {
        "data/trials.csv": export.TRIAL_COLUMNS,
        "data/results.csv": export.RESULT_COLUMNS,
        "data/curves.csv": export.CURVE_COLUMNS,
        "data/predictions.csv": export.PREDICTION_COLUMNS,
        "data/repeats.csv": export.REPEAT_COLUMNS,
        "data/methods.csv": export.METHOD_COLUMNS,
        "data/hyperband_plan.csv": list(hyperband.PLAN_COLUMNS),
        "data/variance.csv": variance.COLUMNS,
        "data/lab.csv.gz": lab.COLUMNS,
        "data/lab-searches.csv": lab.SEARCH_COLUMNS,
        "data/lab-tables.csv": lab.TABLE_COLUMNS,
        "data/lab-importance.csv": lab.IMPORTANCE_COLUMNS,
        "data/lab-theory.csv": lab.THEORY_COLUMNS,
        "data/lab-curves.csv.gz": lab.CURVE_COLUMNS,
        "data/lab-fidelity.csv.gz": lab.FIDELITY_COLUMNS,
        "data/lab-replays.csv": lab.REPLAY_COLUMNS,
    }


def test_no_module_cites_a_file_outside_the_repository() -> None:
    cited = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "course").rglob("*.py"))
             if "DESIGN.md" in p.read_text(encoding="utf-8")]  # fmt: skip
    assert cited == []

"""The exercises as a student gets them: both downloads on every exercise page, each downloaded
notebook run to its last cell in an empty folder against the served site, solutions folded by
default and absent from a graded build, and a missing dataset stopping the build in one line.
And as an instructor writes them: the template's rules, each broken one a one-line build
error."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from course import lessons
from course.errors import CourseError
from tests.conftest import ROOT, dataset_source

EXERCISES = sorted(p.stem for p in (ROOT / "docs" / "exercises").glob("*.py"))
READS_EVIDENCE = {"three-vs-five-folds", "hyperband-schedule", "is-it-real", "template"}


def _hook() -> ModuleType:
    """docs/hooks/exercises.py, imported as mkdocs imports it: by path."""
    spec = importlib.util.spec_from_file_location(
        "exercises_hook", ROOT / "docs/hooks/exercises.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _solutions(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if "solution" in c["metadata"].get("tags", [])]


def _downloads(html: str) -> set[str]:
    """The hrefs of the page's links that carry the `download` attribute."""
    anchors = re.findall(r"<a\s[^>]*>", html)
    return {re.search(r'href="([^"]*)"', a).group(1) for a in anchors
            if re.search(r"\sdownload[\s>=]", a) and 'href="' in a}  # fmt: skip


def _code_cells(html: str, marked: str = "") -> list[str]:
    """The page's code cells (with the class `marked`): nbconvert's divs with a cell id."""
    return [c for c in re.findall(r'<div class="(jp-Cell jp-CodeCell[^"]*)" id="cell-id=', html)
            if not marked or marked in c.split()]  # fmt: skip


def _build(site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_DATA_URL": dataset_source(), **env},
    )  # fmt: skip


def test_the_four_exercises_and_the_template_keep_the_rules() -> None:
    import jupytext

    assert EXERCISES == ["change-the-grid", "hyperband-schedule", "is-it-real", "template",
                         "three-vs-five-folds"]  # fmt: skip
    hook = _hook()
    for name in EXERCISES:
        notebook = jupytext.read(ROOT / "docs" / "exercises" / f"{name}.py")
        assert _solutions(notebook), f"{name}: no cell tagged solution"
        hook.check(notebook, f"exercises/{name}.py")  # raises at a broken rule


def _broken(how: str) -> Any:
    """The template with one rule broken."""
    import jupytext

    notebook = jupytext.read(ROOT / "docs" / "exercises" / "template.py")
    cells = notebook.cells
    solution = next(n for n, c in enumerate(cells) if "solution" in c.metadata.get("tags", []))
    if how == "title":
        cells[0].source = cells[0].source.lstrip("# ")
    elif how == "untagged":
        cells[solution].metadata["tags"] = []
    elif how == "no stub":
        del cells[solution - 1]
    elif how == "no check":
        for cell in cells[solution + 1 :]:
            cell.source = cell.source.replace("assert", "print(")
    elif how == "no site":
        for cell in cells:
            cell.source = cell.source.replace("SITE_URL = None", "SITE_URL = 'x'")
    return notebook


@pytest.mark.parametrize(
    ("how", "says"),
    [("title", r"cell 1: an exercise opens with a Markdown cell whose first line is its title"),
     ("untagged", r"no task: no code cell is tagged 'solution'"),
     ("no stub", r"cell \d+: a 'solution' cell follows the task's stub"),
     ("no check", r"cell \d+: no check after this solution"),
     ("no site", r"reads evidence but sets no `SITE_URL = None` line")],
)  # fmt: skip
def test_a_broken_rule_is_one_line_naming_the_file_and_cell(how: str, says: str) -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match=says) as caught:
        _hook().check(_broken(how), "exercises/mine.py")
    assert str(caught.value).startswith("docs/exercises/mine.py, cell ")
    assert "\n" not in str(caught.value)


def test_the_build_stops_at_an_exercise_that_breaks_a_rule(tmp_path: Path) -> None:
    """An exercise outside the nav, then one that breaks a rule, then one the overview does not
    link, in a graded build (which executes nothing, so the rules hold there too): one line
    each, exit 1."""
    import jupytext

    project = tmp_path / "clone"
    shutil.copytree(ROOT / "docs", project / "docs", ignore=shutil.ignore_patterns("generated"))
    (project / "docs" / "generated").symlink_to(ROOT / "docs" / "generated")
    for name in ("mkdocs.yml", "course", "pyproject.toml"):
        (project / name).symlink_to(ROOT / name)
    mine = project / "docs" / "exercises" / "mine.py"
    jupytext.write(_broken("no check"), mine, fmt="py:percent")

    def errors() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
            cwd=project, capture_output=True, text=True, timeout=300,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_HIDE_SOLUTIONS": "1"},
        )  # fmt: skip
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        return [line for line in proc.stderr.splitlines() if "ERROR" in line]

    [line] = errors()
    assert "docs/exercises/mine.py: an exercise must be in mkdocs.yml's nav" in line
    (project / "mkdocs.yml").unlink()
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    exercises = "      - Overview: exercises.md\n"
    (project / "mkdocs.yml").write_text(
        config.replace(exercises, exercises + "      - Mine: exercises/mine.py\n"),
        encoding="utf-8")  # fmt: skip
    [line] = errors()
    assert "docs/exercises/mine.py, cell " in line and "no check after this solution" in line
    shutil.copy(ROOT / "docs" / "exercises" / "template.py", mine)  # keeps every rule
    [line] = errors()
    assert "docs/exercises.md: the overview has no link to exercises/mine.py" in line


@pytest.mark.parametrize("name", EXERCISES)
def test_each_exercise_page_offers_its_notebook_and_script(built_site: Path, name: str) -> None:
    folder = built_site / "exercises" / name
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert {f"{name}.ipynb", f"{name}.py"} <= _downloads(html)
    notebook = json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    assert all(not c.get("outputs") for c in notebook["cells"]), "downloads are unexecuted"
    solutions = _solutions(notebook)
    assert solutions and all(c["metadata"]["jupyter"]["source_hidden"] for c in solutions)
    assert len(_code_cells(html, "celltag_solution")) == len(solutions), "each one is marked"
    assert "# %%" in (folder / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", EXERCISES)
def test_a_downloaded_notebook_runs_in_an_empty_folder(
    served_site: str,
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The acceptance test: only the package installed, no checkout around, the evidence from
    the site the notebook came from, the dataset from $COURSE_DATA_URL."""
    import nbformat
    from nbclient import NotebookClient

    folder = tmp_path / "empty"
    folder.mkdir()
    assert lessons.checkout(folder) is None
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_SITE_URL", served_site)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    with urllib.request.urlopen(f"{served_site}/exercises/{name}/{name}.ipynb") as response:
        notebook = nbformat.reads(response.read().decode("utf-8"), as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})  # fmt: skip
    client.execute()  # raises CellExecutionError at the first failing cell
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "every code cell ran"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    if name in READS_EVIDENCE:  # fetched from the site, not skipped
        assert list(cache.rglob("provenance.json")), "the evidence came from the site"
    else:
        assert (folder / "data" / "telecust.csv").is_file(), "the dataset came to the folder"


def test_downloads_carry_the_site_address_and_graded_ones_no_solution() -> None:
    import jupytext

    hook = _hook()
    source = jupytext.read(ROOT / "docs" / "exercises" / "is-it-real.py")
    folded = hook.downloadable(source, "https://course.example/", without_solutions=False)
    text = jupytext.writes(folded, fmt="py:percent")
    assert 'SITE_URL = "https://course.example/"' in text and "SITE_URL = None" not in text
    assert _solutions(folded) and _solutions(source), "the source is left as it was"
    graded = hook.downloadable(source, None, without_solutions=True)
    assert not _solutions(graded)
    assert len(graded.cells) == len(source.cells) - len(_solutions(source))
    assert "SITE_URL = None" in jupytext.writes(graded, fmt="py:percent")


def test_a_graded_build_has_no_solution_on_its_pages_or_in_its_downloads(tmp_path: Path) -> None:
    import jupytext

    proc = _build(tmp_path / "site", COURSE_HIDE_SOLUTIONS="1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    for name in EXERCISES:
        folder = tmp_path / "site" / "exercises" / name
        html = (folder / "index.html").read_text(encoding="utf-8")
        source = jupytext.read(ROOT / "docs" / "exercises" / f"{name}.py")
        tasks = [c for c in source.cells if c.cell_type == "code" and c not in _solutions(source)]
        assert "celltag_solution" not in html
        assert len(_code_cells(html)) == len(tasks), name
        assert {f"{name}.ipynb", f"{name}.py"} <= _downloads(html)
        notebook = json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))
        script = jupytext.read(folder / f"{name}.py")
        assert not _solutions(notebook) and not _solutions(script)
        solution_sources = [c.source for c in _solutions(source)]
        assert not [c for c in notebook["cells"] if "".join(c["source"]) in solution_sources]


def test_a_build_without_the_dataset_stops_with_one_clear_line(tmp_path: Path) -> None:
    """A fresh clone, offline, with $COURSE_DATA_URL pointing nowhere: the hook fetches the
    dataset before any notebook runs, and says what is missing and what to set."""
    project = tmp_path / "clone"
    shutil.copytree(ROOT / "docs" / "hooks", project / "docs" / "hooks")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    missing = tmp_path / "nowhere" / "telecust.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=project, capture_output=True,
        text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_DATA_URL": str(missing)},
    )  # fmt: skip
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, proc.stderr
    assert f"{missing}: no such file" in errors[0] and "COURSE_DATA_URL" in errors[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (project / "data" / "telecust.csv").exists()


def test_evidence_outside_a_checkout_needs_a_site(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    built_site: Path,
    served_site: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COURSE_SITE_URL", raising=False)
    with pytest.raises(CourseError, match=r"\$COURSE_SITE_URL is not set"):
        lessons.evidence("data/trials.csv")
    assert lessons.evidence("data/trials.csv", str(built_site)).is_file()  # a built site folder
    with pytest.raises(CourseError, match="HTTP 404"):
        lessons.evidence("data/no-such.csv", served_site)
    monkeypatch.chdir(ROOT)  # in the checkout, its own evidence
    assert lessons.evidence("provenance.json") == ROOT / "docs" / "generated" / "provenance.json"

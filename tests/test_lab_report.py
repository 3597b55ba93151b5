"""The Lab page's evidence, from a real `course lab` run: each statistic against an independent
computation, and `render_lab` complete, deterministic and safe before the lab has run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from course.report import lab, lab_text
from course.report.lab_views import FIGURES, INCLUDES, MANIFEST, NOT_RUN, outputs, render_lab
from tests.conftest import ROOT

KEYS = ["benchmark", "method", "budget", "repeat"]


@pytest.fixture(scope="module")
def data(lab_generated: Path) -> lab.Lab:
    found = lab.load(lab_generated)
    assert found is not None
    return found


@pytest.fixture
def copy(lab_generated: Path, tmp_path: Path) -> Path:
    """The lab's data alone, in a folder of the test's own (the shared run stays as it is)."""
    shutil.copytree(lab_generated / "data", tmp_path / "data")
    return tmp_path


def _last(data: lab.Lab) -> pd.DataFrame:
    """Each search's last evaluation, straight from lab.csv.gz."""
    ev = data.evaluations
    return ev.loc[ev.groupby(KEYS)["evaluation"].idxmax()]


def test_best_observed_never_worsens_but_the_incumbents_regret_may_rise(data: lab.Lab) -> None:
    ev = data.evaluations
    oriented = ev["best_observed"] * ev["benchmark"].map(data.sign)
    assert (oriented.groupby([ev[k] for k in KEYS]).diff().dropna() >= 0).all()
    assert (ev["regret"] >= 0).all()
    rose = ev.groupby(KEYS)["regret"].diff().gt(0).groupby([ev[k] for k in KEYS]).any()
    finals = lab.finals(data).set_index(KEYS)
    assert finals["rose"].to_dict() == rose.to_dict()
    at_budget = rose[rose.index.get_level_values("budget") == data.budget]
    assert f"in {int(at_budget.sum())} of the {len(at_budget)} searches" in lab_text.regret_text(
        data
    )


def test_regret_curves_are_the_means_over_repeats_within_their_bands(data: lab.Lab) -> None:
    curves = lab.regret_curves(data).set_index(["benchmark", "method", "evaluation"])
    direct = data.at_budget().groupby(["benchmark", "method", "evaluation"])["regret"].mean()
    ended = curves.index.difference(direct.index)  # a search that stopped keeps its value
    assert np.allclose(curves.loc[direct.index, "mean"], direct)
    assert len(ended) == 0 or (curves.loc[ended, "mean"] >= 0).all()
    assert (curves["low"] <= curves["mean"] + 1e-12).all()
    assert (curves["mean"] <= curves["high"] + 1e-12).all()


def test_average_ranks_sum_to_k_k_plus_1_over_2(data: lab.Lab) -> None:
    curves = lab.rank_curves(data)
    k = len(curves.columns)
    assert k == len(data.methods)
    assert np.allclose(curves.sum(axis=1), k * (k + 1) / 2)
    assert np.isclose(lab.friedman(data).ranks.sum(), k * (k + 1) / 2)


def test_friedman_and_the_critical_difference_match_scipy_on_the_same_matrix(
    data: lab.Lab,
) -> None:
    last = _last(data)
    last = last[last["budget"] == data.budget]
    matrix = last.pivot_table(index="benchmark", columns="method", values="regret")
    fr = lab.friedman(data)
    n, k = matrix.shape
    statistic, p = stats.friedmanchisquare(*(matrix[m] for m in matrix.columns))
    assert (fr.statistic, fr.p) == pytest.approx((statistic, p))
    q = stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2)
    assert fr.cd == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n)))
    assert fr.ranks.to_dict() == pytest.approx(matrix.rank(axis=1).mean().to_dict())
    for group in fr.cliques:  # every bar of the diagram spans less than one CD
        assert fr.ranks[group[-1]] - fr.ranks[group[0]] <= fr.cd
    text = lab_text.friedman_text(data)
    assert f"χ² = {statistic:.2f}" in text and f"{fr.cd:.2f} ranks" in text


def test_friedman_says_why_it_cannot_test_two_methods(data: lab.Lab) -> None:
    two = data.methods[:2]
    few = lab.Lab(data.evaluations[data.evaluations["method"].isin(two)],
                  data.searches[data.searches["method"].isin(two)], data.tables,
                  data.importance, data.theory)  # fmt: skip
    fr = lab.friedman(few)
    assert "three methods" in fr.reason and np.isnan(fr.p)
    assert "No test: it needs three methods or more, and the lab ran 2." in lab_text.friedman_text(
        few
    )


def test_the_grid_meets_random_search_at_its_own_size_and_wilcoxon_matches(
    data: lab.Lab,
) -> None:
    pairs = lab.grid_vs_random(data)
    searches = data.searches
    ev = data.at_budget()
    for r in pairs.itertuples():
        grid = searches[(searches["benchmark"] == r.benchmark) & (searches["method"] == "grid")
                        & (searches["budget"] == r.budget)]  # fmt: skip
        assert set(grid["evaluations"]) == {r.evaluations} and r.evaluations <= r.budget
        random = ev[(ev["benchmark"] == r.benchmark) & (ev["method"] == "random")
                    & (ev["evaluation"] == r.evaluations)]  # fmt: skip
        assert r.random == pytest.approx(random["regret"].mean() / data.gap[r.benchmark])
    for t in lab.grid_tests(data).itertuples():
        part = pairs[pairs["budget"] == t.budget]
        assert t.random_wins == int((part["random"] < part["grid"]).sum())
        if not np.isnan(t.p):
            assert t.p == pytest.approx(stats.wilcoxon(part["random"], part["grid"]).pvalue)


def test_selection_loss_and_search_loss_make_up_the_regret(data: lab.Lab) -> None:
    f = lab.finals(data)
    assert (f["selection_loss"] >= 0).all() and (f["search_loss"] >= 0).all()
    assert np.allclose(f["selection_loss"] + f["search_loss"], f["regret"], atol=1e-5)
    last = _last(data).set_index(KEYS)
    ev = data.evaluations
    sign = ev["benchmark"].map(data.sign)
    best = (sign * ev["true_value"]).groupby([ev[k] for k in KEYS]).max()
    s = last.index.get_level_values("benchmark").map(data.sign).to_numpy()
    expected = np.clip(best.loc[last.index].to_numpy() - s * last["incumbent_true"], 0, None)
    assert np.allclose(f.set_index(KEYS).loc[last.index, "selection_loss"], expected)
    optimism = s * (last["best_observed"] - last["incumbent_true"])
    assert np.allclose(f.set_index(KEYS).loc[last.index, "optimism"], optimism)


def test_importance_agreement_is_spearman_on_the_shares(data: lab.Lab) -> None:
    agree = lab.importance_agreement(data)
    assert not agree.empty
    imp = data.importance
    true = imp[imp["source"] == "table"].set_index(["benchmark", "hyperparameter"])["share"]
    for r in agree.itertuples():
        est = imp[(imp["source"] == "fanova") & (imp["benchmark"] == r.benchmark)
                  & (imp["trials"] == r.trials) & (imp["repeat"] == r.repeat)]  # fmt: skip
        est = est.set_index("hyperparameter")["share"]
        exact = true.loc[r.benchmark].reindex(est.index)
        if not np.isnan(r.spearman):
            assert r.spearman == pytest.approx(stats.spearmanr(exact, est).statistic)
        assert r.hit == (est.idxmax() == exact.idxmax())
    summary = lab.importance_summary(data)
    assert summary["estimates"].sum() == len(agree)


def test_the_theory_check_counts_the_points_whose_interval_holds_the_closed_form(
    data: lab.Lab,
) -> None:
    check = lab.theory_check(data)
    assert set(check["evaluations"]) <= set(data.theory["evaluations"])
    r = check.iloc[0]
    ev = data.at_budget()
    values = ev.loc[(ev["benchmark"] == r["benchmark"]) & (ev["method"] == "random")
                    & (ev["evaluation"] == r["evaluations"]), "best_observed"]  # fmt: skip
    assert r["mean"] == pytest.approx(values.mean())
    # the interval's width is the closed form's: its sd of the best, over the square root of n
    assert r["half"] == pytest.approx(stats.norm.ppf(0.975) * r["sd"] / np.sqrt(len(values)))
    assert f"For {int(check['within'].sum())} of the {len(check)} points" in lab_text.theory_text(
        data
    )


def test_render_lab_writes_every_include_and_figure_byte_for_byte_as_course_lab_did(
    lab_generated: Path, copy: Path
) -> None:
    written = render_lab(copy)
    names = {p.relative_to(copy).as_posix() for p in written}
    assert set(outputs()) <= names
    figures = {f"figures/{name}.png" for name in FIGURES}
    assert figures <= names  # this lab has every method the figures need
    for name in sorted(names):  # the CLI's render of the same data: the same bytes
        assert (copy / name).read_bytes() == (lab_generated / name).read_bytes(), name
    for name in INCLUDES:
        assert NOT_RUN not in (copy / f"{name}.md").read_text(encoding="utf-8")
    assert render_lab(copy) == []  # nothing changed: nothing drawn or written
    (copy / MANIFEST).unlink()
    assert render_lab(copy) == []  # drawn again, every byte the same: nothing rewritten


def test_without_lab_csv_every_include_says_the_lab_has_not_run(copy: Path) -> None:
    (copy / "figures").mkdir()
    (copy / "figures" / "lab-regret.png").write_bytes(b"an earlier lab's figure")
    (copy / "data" / "lab.csv.gz").unlink()
    written = render_lab(copy)
    assert {p.relative_to(copy).as_posix() for p in written} == set(outputs())
    for name in outputs():
        assert NOT_RUN in (copy / name).read_text(encoding="utf-8")
    assert list((copy / "figures").glob("lab-*.png")) == []  # the old lab's, swept


def test_the_lab_page_pulls_in_only_includes_render_lab_writes() -> None:
    page = (ROOT / "docs" / "lab.md").read_text(encoding="utf-8")
    pulled = re.findall(r'--8<-- "docs/generated/([^"]+)"', page)
    assert sorted(pulled) == sorted(outputs())

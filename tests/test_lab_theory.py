"""Random search's closed form (course.lab.theory) against enumeration, sampling and its bounds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.model_selection import ParameterSampler

from course.lab.theory import _cdf, expected_best, moments


def _enumerated(values: np.ndarray, m: int, maximize: bool) -> float:
    """The mean best over every m-subset of configurations and every seed each could show."""
    n_configs, n_seeds = values.shape
    best = [
        (max if maximize else min)(values[list(rows), list(seeds)])
        for rows in itertools.combinations(range(n_configs), m)
        for seeds in itertools.product(range(n_seeds), repeat=m)
    ]
    return float(np.mean(best))


TINY = {
    "distinct": np.random.default_rng(1).normal(size=(6, 2)),
    "ties": np.array([[1.0, 2.0], [2.0, 2.0], [0.0, 3.0], [1.0, 1.0], [3.0, 0.0], [2.0, 1.0]]),
    "three seeds": np.random.default_rng(2).integers(0, 4, size=(5, 3)).astype(float),
}


@pytest.mark.parametrize("maximize", [True, False])
@pytest.mark.parametrize("name", list(TINY))
def test_closed_form_equals_enumeration(name: str, maximize: bool) -> None:
    values = TINY[name]
    budgets = range(1, len(values) + 1)
    for m, (low, high) in zip(budgets, expected_best(values, budgets, maximize), strict=True):
        exact = _enumerated(values, m, maximize)
        assert low == pytest.approx(exact, abs=1e-12)
        assert high == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("maximize", [True, False])
def test_capped_thresholds_bracket_the_exact_value_and_tighten(maximize: bool) -> None:
    values = np.random.default_rng(3).lognormal(size=(300, 3))  # 900 distinct values
    budgets = [1, 3, 10, 40]
    exact = [low for low, _ in expected_best(values, budgets, maximize, max_thresholds=10**6)]
    assert exact[0] == pytest.approx(values.mean(), rel=1e-12)
    widths = []
    for cap in (8, 32, 128, 512):
        bounds = expected_best(values, budgets, maximize, max_thresholds=cap)
        for (low, high), truth in zip(bounds, exact, strict=True):
            assert low - 1e-12 <= truth <= high + 1e-12
        widths.append([high - low for low, high in bounds])
    widths_by_cap = np.array(widths)
    assert (widths_by_cap[1:] < widths_by_cap[:-1]).all()  # every budget, every step up in cap
    assert (widths_by_cap[-1] < 0.05 * widths_by_cap[0]).all()


def test_many_tied_values_come_out_exact() -> None:
    values = np.round(np.random.default_rng(4).random((3000, 5)) * 300) / 300  # 301 values
    budgets = [1, 2, 10, 100]
    bounds = expected_best(values, budgets)
    assert all(high - low <= 1e-12 for low, high in bounds)
    assert bounds[0][0] == pytest.approx(values.mean(), rel=1e-12)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(bounds))  # more evaluations find more


def test_monte_carlo_with_parameter_sampler() -> None:
    """scikit-learn's sampler over lists draws distinct configurations, as the closed form says."""
    grid = {"a": list(range(10)), "b": list(range(10)), "c": list(range(5))}
    values = np.random.default_rng(5).normal(size=(500, 3))  # row = a * 50 + b * 5 + c
    draw = np.random.default_rng(6)
    for m, (low, high) in zip((1, 5, 20), expected_best(values, (1, 5, 20)), strict=True):
        best = []
        for r in range(2000):
            rows = [
                p["a"] * 50 + p["b"] * 5 + p["c"] for p in ParameterSampler(grid, m, random_state=r)
            ]
            assert len(set(rows)) == m  # without replacement
            best.append(values[rows, draw.integers(0, 3, size=m)].max())
        error = np.std(best) / np.sqrt(len(best))
        assert low - 4 * error <= np.mean(best) <= high + 4 * error


def test_log_space_product_agrees_with_linear_space() -> None:
    values = np.random.default_rng(7).normal(size=(40, 3))
    columns = np.sort(np.sort(values, axis=1), axis=0)
    thresholds = np.unique(values)
    for m in (1, 7, 40):
        linear = _cdf(columns, thresholds, m, log_space=False)
        logged = _cdf(columns, thresholds, m, log_space=True)
        np.testing.assert_allclose(logged, linear, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("m", [0, 7, -1])
def test_budget_outside_the_table_is_refused(m: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.6"):
        expected_best(TINY["distinct"], [1, m])


def test_the_sd_of_the_best_is_the_enumerated_one() -> None:
    """`moments`' third number, on a table small enough to enumerate every search."""
    values = np.array([[0.1, 0.5], [0.3, 0.3], [0.9, 0.2], [0.4, 0.8]])
    for m in range(1, 5):
        bests = [max(values[i, s] for i, s in zip(subset, seeds, strict=True))
                 for subset in itertools.combinations(range(4), m)
                 for seeds in itertools.product(range(2), repeat=m)]  # fmt: skip
        ((_, _, sd),) = moments(values, [m])
        assert sd == pytest.approx(np.std(bests), abs=1e-12)

"""Uncertainty of test accuracies, and tests that say whether two of them differ beyond it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Score:
    """Test accuracy with its percentile-bootstrap interval."""

    accuracy: float
    ci_low: float
    ci_high: float


def accuracy_ci(
    y_true: np.ndarray, y_pred: np.ndarray, seed: int, n_boot: int = 2000, level: float = 0.95
) -> Score:
    """Accuracy and a 95 % percentile bootstrap interval over test rows (seeded: reproducible)."""
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(float)
    rng = np.random.default_rng(seed)
    means = correct[rng.integers(0, len(correct), size=(n_boot, len(correct)))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Score(float(correct.mean()), float(low), float(high))


@dataclass(frozen=True)
class Paired:
    """Two models on the same test rows: the accuracy difference and McNemar's exact test."""

    difference: float  # accuracy of a minus accuracy of b
    a_only: int  # rows a gets right and b wrong
    b_only: int
    p_value: float  # two-sided exact McNemar (binomial test on the disagreeing rows)


def mcnemar(y_true: np.ndarray, a: np.ndarray, b: np.ndarray) -> Paired:
    """Compare two classifiers row by row: only rows where exactly one is right carry evidence,
    so the test is far sharper than comparing two separate intervals."""
    from scipy.stats import binomtest

    # --8<-- [start:mcnemar]
    right_a, right_b = np.asarray(a) == y_true, np.asarray(b) == y_true
    a_only, b_only = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    p = 1.0 if a_only + b_only == 0 else binomtest(a_only, a_only + b_only, 0.5).pvalue
    # --8<-- [end:mcnemar]
    return Paired(float(right_a.mean() - right_b.mean()), a_only, b_only, float(p))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: many pairwise tests would otherwise find 'differences' by
    chance (45 pairs at 5 % give about two)."""
    order = np.argsort(p_values)
    adjusted, running = np.empty(len(p_values)), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return [float(p) for p in adjusted]


def corrected_t(a: np.ndarray, b: np.ndarray, test_fraction: float) -> float:
    """Two-sided p-value of Nadeau and Bengio's corrected resampled t-test across seeds.

    Each seed draws its own split of the same rows, so the seeds' training sets overlap and
    their differences are correlated: a plain paired t-test then understates the variance and
    finds differences that are not there. The correction inflates the variance of the mean
    difference from var/J to (1/J + n_test/n_train) var (Nadeau & Bengio 2003, Machine Learning
    52). `test_fraction`: the share of rows each seed holds out for testing.
    """
    from scipy.stats import t

    # --8<-- [start:corrected-t]
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2 or np.allclose(d, 0):
        return 1.0
    variance = (1 / len(d) + test_fraction / (1 - test_fraction)) * d.var(ddof=1)
    if variance < 1e-12:  # the same difference under every seed: nothing to measure noise by
        return 1.0
    statistic = d.mean() / np.sqrt(variance)
    return float(2 * t.sf(abs(statistic), df=len(d) - 1))
    # --8<-- [end:corrected-t]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation: does one score order configurations the way the other does?"""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def expected_max(values: np.ndarray, m: int) -> tuple[float, float]:
    """The expected best of `m` draws, and the spread of that best, from `n >= m` i.i.d. draws
    (`values`): the best of a random subset of `m` of them is the k-th smallest with
    probability C(k-1, m-1) / C(n, m). The mean is an unbiased L-estimator, as bayesmark's
    `expected_max` computes it (Dodge et al.'s "expected validation performance", 2019, draws
    with replacement instead); the standard deviation is the plug-in spread over the subsets.
    A random search's scores in, what m trials of that search would find on average out."""
    from scipy.special import gammaln

    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if not 1 <= m <= n:
        raise ValueError(f"the best of {m} draws needs 1 to {n} of them")
    # --8<-- [start:expected-max]
    k = np.arange(m, n + 1)  # the best of m is at least the m-th smallest
    # C(k-1, m-1) on a log scale (gammaln): no overflow for a long search
    log_weights = gammaln(k) - gammaln(k - m + 1) - gammaln(m)
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    x = x[m - 1 :]
    mean = float(weights @ x)
    return mean, float(np.sqrt(weights @ (x - mean) ** 2))
    # --8<-- [end:expected-max]

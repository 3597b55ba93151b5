"""Uncertainty of a test accuracy: 200 test rows give a standard error of about 3.3 points."""

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


def paired_seeds(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of a paired t-test across seeds (each seed: same split for both)."""
    from scipy.stats import ttest_rel

    if len(a) < 2 or np.allclose(np.asarray(a) - np.asarray(b), 0):
        return 1.0
    return float(ttest_rel(a, b).pvalue)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation: does one score order configurations the way the other does?"""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)

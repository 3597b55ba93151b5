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

"""Random search's expected best observed value on a table, in closed form rather than by sampling.

A table holds N configurations, each with S recorded values (one per training seed). Random search
over lists is scikit-learn's `ParameterSampler`, which samples *without replacement* when every
hyperparameter is given as a list ("If all parameters are presented as a list, sampling without
replacement is performed", its docstring; it draws `sample_without_replacement` positions in the
`ParameterGrid`). So m evaluations are m distinct configurations drawn uniformly, and each observes
one of its S values, uniformly and independently. The best observed value M after m evaluations has

    P(M <= t) = e_m(p_1(t), ..., p_N(t)) / C(N, m),    p_i(t) = #{values of config i <= t} / S,

with e_m the elementary symmetric polynomial: a chosen m-subset stays below t with probability the
product of its p_i, and every m-subset is equally likely. Configurations with the same count j of
values <= t share p = j / S, so e_m is the x^m coefficient of prod_j (1 + (j / S) x)^(n_j(t)): S
short polynomials per threshold, convolved in a batch over thousands of thresholds at once.

E[M] = sum_k (P(t_k) - P(t_k-1)) t_k is exact when t runs over every distinct value. HPOLib's
tables hold about 230,000 distinct values, too many to evaluate for every budget, so a cap keeps
a subset of thresholds (always the largest value) and the answer becomes two *rigorous* bounds:
the mass in (t_k-1, t_k] lies between the smallest value above t_k-1 and t_k. Thresholds go where
the maximum's mass and the gaps between values are (the low region of a large budget gets none:
its whole mass then sits in the first interval, bounded below by the table's minimum), so the
bounds are tight where it matters; with every distinct value kept they coincide with the exact
value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import gammaln

# The linear-space product scales degree k by a^k so that every coefficient stays within
# [e^_LOW, e^_HIGH] (float64 overflows past e^709); past that (m beyond ~2000 on a large
# table) the product is done in log space, exact but far slower.
_HIGH = 600.0
_LOW = -500.0
_CHUNK = 4096  # thresholds per batch: memory stays at _CHUNK x (m + 1) floats per array


def expected_best(
    values: np.ndarray, ms: Sequence[int], maximize: bool = True, max_thresholds: int = 4000
) -> list[tuple[float, float]]:
    """(lower, upper) bounds on E[best observed after m random evaluations] (see `moments`)."""
    return [(low, high) for low, high, _ in moments(values, ms, maximize, max_thresholds)]


def moments(
    values: np.ndarray, ms: Sequence[int], maximize: bool = True, max_thresholds: int = 4000
) -> list[tuple[float, float, float]]:
    """(lower, upper) bounds on E[best observed after m random evaluations] for each m in `ms`.

    `values` is the table, shape (configurations, seeds). Each evaluation is a distinct uniformly
    drawn configuration observed under one uniformly drawn seed, as random search over lists is;
    "best" is the maximum, or the minimum when `maximize` is False (a loss). When the table has
    at most `max_thresholds` distinct values the two bounds are the same number, the exact
    expectation; otherwise that many thresholds are kept and the bounds bracket it (they tighten
    as the cap grows). The cost is about S * m^2 / 2 multiply-adds per threshold and budget.
    The third number is the best's standard deviation (exact with the expectation; with bounds,
    each interval's mass put at its upper end): what a mean of n searches varies by, / sqrt(n).
    """
    table = np.asarray(values, dtype=float)
    if table.ndim != 2 or table.size == 0:
        raise ValueError(
            f"values must be a non-empty (configurations, seeds) array, not {table.shape}"
        )
    if not np.isfinite(table).all():
        raise ValueError("values must be finite: a missing run has no place in a closed form")
    if max_thresholds < 1:
        raise ValueError(f"max_thresholds must be at least 1, not {max_thresholds}")
    n_configs = table.shape[0]
    budgets = [operator.index(m) for m in ms]
    bad = [m for m in budgets if not 1 <= m <= n_configs]
    if bad:
        raise ValueError(f"every m must lie in 1..{n_configs} (the table's size), not {bad}")

    if not maximize:  # the minimum of the values is minus the maximum of their negatives
        table = -table
    # Column j, sorted: each configuration's (j+1)-th smallest value. Counting the entries <= t
    # in each column gives how many configurations have at least j+1 of their values <= t.
    columns = np.sort(np.sort(table, axis=1), axis=0)
    distinct, counts = np.unique(table, return_counts=True)
    pooled_cdf = np.cumsum(counts) / table.size  # ends at exactly 1.0

    bounds = []
    for m in budgets:
        kept = _thresholds(distinct, pooled_cdf, m, max_thresholds)
        probs = _cdf(columns, distinct[kept], m)
        probs[-1] = 1.0  # the largest value: nothing lies above it
        probs = np.maximum.accumulate(np.clip(probs, 0.0, 1.0))  # rounding aside, a CDF
        mass = np.diff(probs, prepend=0.0)
        upper = float(mass @ distinct[kept])
        # Mass in (t_k-1, t_k] sits at or above the smallest value above t_k-1 (the minimum first).
        lower = float(mass @ distinct[np.concatenate(([0], kept[:-1] + 1))])
        spread = float(np.sqrt(max(0.0, mass @ (distinct[kept] - upper) ** 2)))
        bounds.append((lower, upper, spread) if maximize else (-upper, -lower, spread))
    return bounds


def _thresholds(distinct: np.ndarray, pooled_cdf: np.ndarray, m: int, budget: int) -> np.ndarray:
    """Positions in `distinct` to evaluate P at: all of them if they fit, else `budget` of them.

    The bounds' gap is the sum over intervals of (mass of the maximum inside) x (its width);
    for a smooth density f of the maximum, thresholds spaced in proportion to f^(-1/2) minimise
    it. f comes from the with-replacement approximation P(M <= t) ~ F(t)^m (F: the pooled CDF),
    close for m << N and only a guide: the bounds are rigorous whatever the choice.
    """
    size = len(distinct)
    if size <= budget:
        return np.arange(size)
    approx = pooled_cdf**m
    weight = np.sqrt(np.diff(approx, prepend=0.0) * np.diff(distinct, prepend=distinct[0]))[:-1]
    wanted = budget - 1  # the largest value is always kept
    candidates = np.flatnonzero(weight > 0)
    if len(candidates) <= wanted:
        return np.append(candidates, size - 1)
    cumulative = np.cumsum(weight)

    def spread(levels: int) -> np.ndarray:
        """The values at `levels` evenly spaced levels of the cumulative weight (a heavy value
        can take several levels: there are at most `levels` positions)."""
        marks = (np.arange(levels) + 0.5) * (cumulative[-1] / levels)
        return np.unique(np.searchsorted(cumulative, marks))

    fits, over = wanted, wanted  # find the most levels whose positions still fit the budget
    while over < 64 * size and len(spread(over)) <= wanted:
        fits, over = over, 2 * over
    if len(spread(over)) <= wanted:
        fits = over
    else:
        while over - fits > 1:
            middle = (fits + over) // 2
            fits, over = (middle, over) if len(spread(middle)) <= wanted else (fits, middle)
    return np.append(spread(fits), size - 1)


def _cdf(
    columns: np.ndarray, thresholds: np.ndarray, m: int, log_space: bool | None = None
) -> np.ndarray:
    """P(best of m <= t) for each threshold t: e_m(p(t)) / C(N, m), by grouped polynomials.

    `columns` is the table with each row sorted and then each column sorted. The linear-space
    product is used when its scaling keeps every coefficient in range, log space otherwise
    (`log_space` forces one or the other, for tests).
    """
    n_configs = columns.shape[0]
    log_scale = _log_scale(n_configs, m)
    if log_space is None:
        log_space = log_scale is None
    product = _log_product if log_space else _product
    out = np.empty(len(thresholds))
    for start in range(0, len(thresholds), _CHUNK):
        t = thresholds[start : start + _CHUNK]
        at_least = np.stack([np.searchsorted(col, t, side="right") for col in columns.T], axis=1)
        exactly = at_least - np.pad(at_least[:, 1:], ((0, 0), (0, 1)))  # column j: j+1 values <= t
        out[start : start + _CHUNK] = product(exactly, n_configs, m, log_scale or 0.0)
    return out


def _log_scale(n_configs: int, m: int) -> float | None:
    """log a such that C(N, k) a^k <= e^_HIGH for k <= m and C(N, m) a^m >= e^_LOW (None: none).

    Every coefficient of the grouped product at degree k is at most C(N, k) a^k (all p <= 1),
    so the first condition rules out overflow; the second keeps the coefficient read at m, which
    is P(M <= t) C(N, m) a^m, clear of underflow. a = C(N, m)^(-1/m) (the read coefficient ~ P)
    when it fits, else the largest a the envelope allows.
    """
    k = np.arange(1, m + 1)
    log_binom = gammaln(n_configs + 1) - gammaln(k + 1) - gammaln(n_configs - k + 1)
    scale = min(-log_binom[-1] / m, float(np.min((_HIGH - log_binom) / k)))
    return scale if log_binom[-1] + m * scale >= _LOW else None


def _product(exactly: np.ndarray, n_configs: int, m: int, log_scale: float) -> np.ndarray:
    """e_m / C(N, m) per row of group counts, in linear space: prod_j sum_k C(n_j, k) (p_j a)^k."""
    a = float(np.exp(log_scale))
    degree = np.arange(1, m + 1)

    def poly(count: np.ndarray, p: float) -> np.ndarray:
        """C(count, k) (p a)^k for k = 0..m by a running product of term ratios: no factorials,
        so nothing overflows, and zero past k = count."""
        ratio = (count[:, None] - (degree - 1)) * (p * a) / degree
        np.maximum(ratio, 0.0, out=ratio)
        coefficients = np.ones((len(count), m + 1))
        np.cumprod(ratio, axis=1, out=coefficients[:, 1:])
        return coefficients

    # C(N, m) a^m by the same arithmetic as the all-below group's coefficient, so P = 1 exactly
    # at the largest value.
    norm = poly(np.array([n_configs]), 1.0)[0, m]
    return _combine(exactly, m, poly, _times) / norm


def _log_product(exactly: np.ndarray, n_configs: int, m: int, log_scale: float) -> np.ndarray:
    """As `_product`, with every coefficient held as its logarithm (any m, at a far higher cost)."""
    degree = np.arange(1, m + 1)

    def poly(count: np.ndarray, p: float) -> np.ndarray:
        with np.errstate(divide="ignore"):  # log 0 = -inf: no terms past k = count
            steps = np.log(np.maximum(count[:, None] - (degree - 1), 0)) + (
                np.log(p) - np.log(degree)
            )
        coefficients = np.zeros((len(count), m + 1))
        np.cumsum(steps, axis=1, out=coefficients[:, 1:])
        return coefficients

    norm = poly(np.array([n_configs]), 1.0)[0, m]
    return np.exp(_combine(exactly, m, poly, _log_times, log=True) - norm)


def _combine(
    exactly: np.ndarray,
    m: int,
    poly: Callable[[np.ndarray, float], np.ndarray],
    times: Callable[[np.ndarray, np.ndarray, int, int], np.ndarray],
    log: bool = False,
) -> np.ndarray:
    """The x^m coefficient of the product of the S groups' polynomials, per row: the first S-1
    are convolved (truncated at degree m), the last only meets them in one dot product."""
    n_seeds = exactly.shape[1]
    acc = None
    for j in range(n_seeds - 1):
        b = poly(exactly[:, j], (j + 1) / n_seeds)
        acc = b if acc is None else times(acc, b, m, int(exactly[:, j].max()))
    last = poly(exactly[:, -1], 1.0)[:, ::-1]  # reversed: entry k is degree m - k
    if acc is None:
        return last[:, 0]
    if log:
        return np.logaddexp.reduce(acc + last, axis=1)
    return np.einsum("tk,tk->t", acc, last)


def _times(acc: np.ndarray, b: np.ndarray, m: int, top: int) -> np.ndarray:
    """Row-wise product of two polynomials truncated at degree m (b has no terms past `top`)."""
    out = acc * b[:, :1]
    for k in range(1, min(m, top) + 1):
        out[:, k:] += acc[:, : m + 1 - k] * b[:, k : k + 1]
    return out


def _log_times(acc: np.ndarray, b: np.ndarray, m: int, top: int) -> np.ndarray:
    """`_times` on logarithms of coefficients."""
    out = acc + b[:, :1]
    for k in range(1, min(m, top) + 1):
        out[:, k:] = np.logaddexp(out[:, k:], acc[:, : m + 1 - k] + b[:, k : k + 1])
    return out

"""The lab's evidence (`course lab`): searchers run on lookup tables whose every answer is known,
so that a search's pick is scored by its true value, not by one noisy test set.

Pure: the lab*.csv files in, frames, small records and generated sentences out (the figures are
`lab_figures`', the files `lab_views`'). Each search observes one seed's value of what it
evaluates (`observed`); the mean over the seeds is the truth (`true_value`), and the regret is
how far the truth of the search's incumbent (its best observed configuration) falls short of the
table's best truth. Every interval is seeded, so the same data gives the same page.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

GRID, RANDOM = "grid", "random"
# The lab's searchers in the order its figures and tables list them (course/lab/searchers.py's
# registry order: the report may not import the lab); one it does not know comes after.
ORDER = (GRID, RANDOM, "quasi-random", "kt-random-search", "optuna-tpe", "kt-bayesian")
FILES = {"evaluations": "lab.csv.gz", "searches": "lab-searches.csv", "tables": "lab-tables.csv",
         "importance": "lab-importance.csv", "theory": "lab-theory.csv"}  # fmt: skip
LEVEL, ALPHA = 0.95, 0.05  # every interval's coverage, and every test's threshold
RESAMPLES = 2000  # percentile-bootstrap resamples of the repeats (as course.stats takes)
SEED = 0  # the bootstrap's: the same data gives the same intervals, so the same bytes
# Regret is 0 where a search found the table's best: a log axis shows it at this share of the
# table's gap (best to median truth), and says so.
FLOOR = 1e-3
# Friedman's statistic is compared with a chi-squared distribution, an approximation Demšar
# (2006) takes as good beyond ten data sets: with this many tables or fewer, the page says so.
FEW_TABLES = 10
ROUNDING = 1e-5  # lab*.csv holds six significant digits: values this close (relatively) tie


@dataclass(frozen=True, eq=False)
class Lab:
    """The five lab files (lab.csv.gz sorted by search, then evaluation; `tables` by benchmark),
    and what has been computed from them (`_cached`: each view reads a few shared frames)."""

    evaluations: pd.DataFrame
    searches: pd.DataFrame
    tables: pd.DataFrame
    importance: pd.DataFrame
    theory: pd.DataFrame
    computed: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def budget(self) -> int:
        """The lab budget, the one every method ran at (the grid also ran at smaller ones)."""
        return int(self.searches["budget"].max())

    @property
    def benchmarks(self) -> list[str]:
        return list(self.tables.index)

    @property
    def methods(self) -> list[str]:
        found = list(dict.fromkeys(self.searches["method"]))
        return [m for m in ORDER if m in found] + [m for m in found if m not in ORDER]

    @property
    def grid_budgets(self) -> list[int]:
        return sorted(self.searches.loc[self.searches["method"] == GRID, "budget"].unique())

    @property
    def sign(self) -> pd.Series:
        """+1 where the metric is maximised, -1 where minimised: sign x value is 'higher is
        better' on every table."""
        return self.tables["maximize"].map({True: 1.0, False: -1.0})

    @property
    def gap(self) -> pd.Series:
        """How far the median configuration's truth is from the best: the regret of picking a
        typical configuration, which normalises regrets so that tables compare."""
        return (self.tables["best_true"] - self.tables["median_true"]).abs()

    def at_budget(self) -> pd.DataFrame:
        """The evaluations of the searches at the lab budget."""
        return self.evaluations[self.evaluations["budget"] == self.budget]


T = TypeVar("T")


def _cached(compute: Callable[[Lab], T]) -> Callable[[Lab], T]:
    """Compute once per `Lab` (the figures and the sentences read the same frames; a caller
    must not change what it gets)."""

    @functools.wraps(compute)
    def cached(lab: Lab) -> T:
        if compute.__name__ not in lab.computed:
            lab.computed[compute.__name__] = compute(lab)
        return lab.computed[compute.__name__]

    return cached


def load(generated: Path) -> Lab | None:
    """The lab's files under `generated`/data, or None where `course lab` has not written them."""
    data = generated / "data"
    if not (data / FILES["evaluations"]).is_file():
        return None
    frames = {key: pd.read_csv(data / name) for key, name in FILES.items()}
    keys = ["benchmark", "method", "budget", "repeat", "evaluation"]
    frames["evaluations"] = frames["evaluations"].sort_values(keys, kind="stable")
    frames["tables"] = frames["tables"].set_index("benchmark")
    frames["tables"]["maximize"] = frames["tables"]["maximize"].astype(str).eq("True")
    return Lab(**frames)


def _bootstrap(matrix: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A 95 % percentile-bootstrap interval of each column's mean over the rows (the repeats),
    the rows resampled with replacement (NaN with fewer than two rows). The resamples are
    multinomial counts and the means an einsum, not a BLAS product: the same numbers whatever
    the machine's thread count."""
    n = matrix.shape[0]
    if n < 2:
        nan = np.full(matrix.shape[1], np.nan)
        return nan, nan
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=RESAMPLES)
    means = np.einsum("bn,ne->be", counts.astype(float), matrix, optimize=False) / n
    low, high = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
    return low, high


def _matrix(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """One search per row, one evaluation per column; a search that ended early keeps its last
    value (a finished search keeps its incumbent)."""
    return rows.pivot(index="repeat", columns="evaluation", values=column).ffill(axis=1)


@_cached
def regret_curves(lab: Lab) -> pd.DataFrame:
    """Mean regret over the repeats after each evaluation, with its bootstrap interval, per
    table and method at the lab budget."""
    groups = dict(tuple(lab.at_budget().groupby(["benchmark", "method"], sort=False)))
    parts = []
    for benchmark in lab.benchmarks:
        for method in lab.methods:
            if (benchmark, method) not in groups:
                continue
            matrix = _matrix(groups[benchmark, method], "regret")
            values = matrix.to_numpy(float)
            low, high = _bootstrap(values)
            parts.append(pd.DataFrame({"benchmark": benchmark, "method": method,
                                       "evaluation": matrix.columns.to_numpy(int),
                                       "mean": values.mean(axis=0), "low": low, "high": high,
                                       "repeats": len(values)}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@_cached
def finals(lab: Lab) -> pd.DataFrame:
    """Each search's result: its last evaluation's regret and incumbent, the best truth among
    what it evaluated, and two ways noise cost it. `selection_loss`: the best evaluated truth
    minus the incumbent's (it evaluated a better configuration than the one its noisy values
    made it pick); `search_loss`: the rest of the regret (the table's best minus the best it
    evaluated); `optimism`: its best observed value minus its incumbent's truth (the winner's
    curse); `rose`: whether its regret ever rose (a lucky observation made a worse
    configuration its incumbent). All in the metric's units, oriented so that a loss is >= 0."""
    keys = ["benchmark", "method", "budget", "repeat"]
    ev = lab.evaluations
    sign = ev["benchmark"].map(lab.sign)
    rose = ev.groupby(keys, sort=False)["regret"].diff() > 0
    grouped = ev.assign(oriented=sign * ev["true_value"], rose=rose).groupby(keys, sort=False)
    last = grouped.last()
    out = last[["evaluation", "regret", "best_observed", "incumbent_true"]].rename(
        columns={"evaluation": "evaluations"}
    )
    s = out.index.get_level_values("benchmark").map(lab.sign).to_numpy(float)
    out["best_evaluated"] = grouped["oriented"].max().to_numpy() * s
    out["selection_loss"] = np.clip(s * (out["best_evaluated"] - out["incumbent_true"]), 0, None)
    out["search_loss"] = np.clip(out["regret"] - out["selection_loss"], 0, None)
    out["optimism"] = s * (out["best_observed"] - out["incumbent_true"])
    out["rose"] = grouped["rose"].any().to_numpy()
    out = out.reset_index()
    out["normalised"] = out["regret"] / out["benchmark"].map(lab.gap)
    return out


@_cached
def final_means(lab: Lab) -> pd.DataFrame:
    """Mean final regret over the repeats at the lab budget: one row per table, one column per
    method, tables lacking a method dropped (a block must hold every method)."""
    f = finals(lab)
    f = f[f["budget"] == lab.budget]
    table = f.pivot_table(index="benchmark", columns="method", values="regret", aggfunc="mean")
    return table.reindex(index=lab.benchmarks, columns=lab.methods).dropna()


def ranks(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rank of each method within each row (1: the lowest regret; ties share the average)."""
    return matrix.rank(axis=1, method="average")


@_cached
def rank_curves(lab: Lab) -> pd.DataFrame:
    """Average rank over the tables of each method after each number of evaluations, by mean
    regret within a table; a search that has ended (the grid, at its grid's size) keeps its
    final incumbent. One row per evaluation count, one column per method."""
    curves = regret_curves(lab)
    mean = curves.pivot_table(index=["benchmark", "evaluation"], columns="method", values="mean")
    mean = mean.reindex(columns=lab.methods)
    top = int(curves["evaluation"].max())
    full = pd.MultiIndex.from_product([lab.benchmarks, range(1, top + 1)],
                                      names=["benchmark", "evaluation"])  # fmt: skip
    mean = mean.reindex(full).groupby(level="benchmark").ffill()
    complete = mean.groupby(level="benchmark").transform(lambda c: c.notna().all()).all(axis=1)
    return ranks(mean[complete]).groupby(level="evaluation").mean()


@dataclass(frozen=True)
class Friedman:
    """Friedman's test over the tables (blocks) of the methods' mean final regrets, with
    Nemenyi's critical difference. `reason` says why there is no test (then the numbers are
    NaN); `pairs` differ by more than `cd`; `cliques` are the maximal runs of methods (by
    average rank) within `cd` of each other, the bars of a critical-difference diagram."""

    matrix: pd.DataFrame
    ranks: pd.Series
    statistic: float
    p: float
    q: float
    cd: float
    pairs: list[tuple[str, str]]
    cliques: list[list[str]]
    reason: str = ""


@_cached
def friedman(lab: Lab) -> Friedman:
    """Friedman's test of the mean final regrets (`final_means`: a table is a block, a
    method's repeats averaged within it, so it compares procedures over their seeds), and
    Nemenyi's critical difference for the pairs (Demšar, 2006)."""
    from scipy.stats import friedmanchisquare, studentized_range

    matrix = final_means(lab)
    n, k = matrix.shape
    average = ranks(matrix).mean().sort_values(kind="stable")
    nan = float("nan")
    if k < 3 or n < 2:
        why = (f"it needs three methods or more, and the lab ran {k}" if k < 3 else
               f"it needs two tables or more that every method ran on, and the lab has "
               f"{n}")  # fmt: skip
        return Friedman(matrix, average, nan, nan, nan, nan, [], [], why)  # fmt: skip
    if (ranks(matrix).nunique(axis=1) == 1).all():
        return Friedman(matrix, average, nan, nan, nan, nan, [], [],
                        "every method ties every other on every table")  # fmt: skip
    # --8<-- [start:friedman]
    statistic, p = friedmanchisquare(*(matrix[m].to_numpy() for m in matrix.columns))
    q = studentized_range.ppf(1 - ALPHA, k, np.inf) / np.sqrt(2)  # Nemenyi's q_alpha
    cd = q * np.sqrt(k * (k + 1) / (6 * n))  # Demšar (2006): the critical difference of ranks
    # --8<-- [end:friedman]
    names, r = list(average.index), average.to_numpy()
    pairs = [(names[i], names[j]) for i in range(k) for j in range(i + 1, k)
             if r[j] - r[i] > cd] if p < ALPHA else []  # fmt: skip
    cliques: list[list[str]] = []
    for i in range(k):
        j = max(j for j in range(i, k) if r[j] - r[i] <= cd)
        if j > i and not (cliques and names.index(cliques[-1][-1]) >= j):
            cliques.append(names[i : j + 1])
    return Friedman(matrix, average, float(statistic), float(p), float(q), float(cd), pairs,
                    cliques)  # fmt: skip


@_cached
def grid_vs_random(lab: Lab) -> pd.DataFrame:
    """For each grid budget and table: the grid's final regret (mean over its repeats) beside
    random search's after as many evaluations as that grid made (the first n evaluations of a
    random search are a random search of n), both normalised by the table's gap, each with its
    bootstrap interval, and random's minus the grid's (`difference`). Empty where the lab ran
    no grid or no random search."""
    f = finals(lab)
    grid = f[f["method"] == GRID]
    random = lab.at_budget()
    random = random[random["method"] == RANDOM]
    if grid.empty or random.empty:
        return pd.DataFrame()
    rows = []
    for (benchmark, budget), g in grid.groupby(["benchmark", "budget"], sort=False):
        n = int(g["evaluations"].max())
        r = random.loc[(random["benchmark"] == benchmark) & (random["evaluation"] == n), "regret"]
        gap = lab.gap[benchmark]
        gv, rv = g["regret"].to_numpy(float) / gap, r.to_numpy(float) / gap
        # the two resampled independently (seeds 0 and 1): separate searches, not pairs
        (g_low, g_high), (r_low, r_high) = (_bootstrap(v[:, None], seed)
                                            for seed, v in enumerate((gv, rv)))  # fmt: skip
        rows.append({"benchmark": benchmark, "budget": int(budget), "evaluations": n,
                     "grid": gv.mean(), "grid_low": g_low[0], "grid_high": g_high[0],
                     "random": rv.mean(), "random_low": r_low[0], "random_high": r_high[0],
                     "grid_repeats": len(gv), "random_repeats": len(rv)})  # fmt: skip
    out = pd.DataFrame(rows)
    out["difference"] = out["random"] - out["grid"]
    return out


@_cached
def grid_tests(lab: Lab) -> pd.DataFrame:
    """Per grid budget, across tables: how often random search's mean regret is below the
    grid's, and Wilcoxon's signed-rank test on the paired per-table means (normalised: the
    test ranks differences across tables, so they must share a scale)."""
    from scipy.stats import PermutationMethod, wilcoxon

    pairs = grid_vs_random(lab)
    rows = []
    for budget, part in pairs.groupby("budget") if not pairs.empty else ():
        d = part["difference"].to_numpy(float)
        statistic = p = float("nan")
        if np.count_nonzero(d) >= 1:
            # exact without ties; with them, a permutation test (seeded: it may sample)
            tied = len(np.unique(np.abs(d[d != 0]))) < np.count_nonzero(d)
            method = PermutationMethod(rng=SEED) if tied else "auto"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                test = wilcoxon(part["random"], part["grid"], method=method)
            statistic, p = float(test.statistic), float(test.pvalue)
        rows.append({"budget": int(budget), "tables": len(part),
                     "evaluations_low": int(part["evaluations"].min()),
                     "evaluations_high": int(part["evaluations"].max()),
                     "random_wins": int((d < 0).sum()), "ties": int((d == 0).sum()),
                     "grid": part["grid"].mean(), "random": part["random"].mean(),
                     "median_difference": float(np.median(d)), "statistic": statistic,
                     "p": p})  # fmt: skip
    return pd.DataFrame(rows)


@_cached
def importance_agreement(lab: Lab) -> pd.DataFrame:
    """Per table, trial count and repeat: Spearman's correlation between the table's exact
    main-effect shares and fANOVA's estimate (NaN where either is constant), each one's top
    hyperparameter, and whether they agree."""
    from scipy.stats import spearmanr

    imp = lab.importance
    true = imp[imp["source"] == "table"].set_index(["benchmark", "hyperparameter"])["share"]
    estimated = imp[imp["source"] == "fanova"]
    rows = []
    for (benchmark, trials, repeat), part in estimated.groupby(["benchmark", "trials", "repeat"]):
        est = part.set_index("hyperparameter")["share"]
        exact = true.loc[benchmark].reindex(est.index)
        constant = est.nunique() < 2 or exact.nunique() < 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rho = float("nan") if constant else float(spearmanr(exact, est).statistic)
        top = str(exact.idxmax())
        guess = str(est.idxmax()) if est.max() > 0 else ""
        rows.append({"benchmark": benchmark, "trials": int(trials), "repeat": int(repeat),
                     "hyperparameters": len(est), "spearman": rho, "true_top": top,
                     "estimated_top": guess, "hit": guess == top})  # fmt: skip
    return pd.DataFrame(rows)


@_cached
def importance_summary(lab: Lab) -> pd.DataFrame:
    """Per trial count: how many estimates, Spearman's rho over them (mean, lowest, highest,
    how many defined), how many found the true top hyperparameter, and chance's count (one
    in as many as the table has)."""
    agree = importance_agreement(lab)
    if agree.empty:
        return agree
    return agree.groupby("trials").agg(
        estimates=("spearman", "size"), defined=("spearman", "count"),
        rho=("spearman", "mean"), rho_low=("spearman", "min"), rho_high=("spearman", "max"),
        hits=("hit", "sum"), chance=("hyperparameters", lambda h: float((1 / h).sum())),
    ).reset_index()  # fmt: skip


@_cached
def shares(lab: Lab) -> pd.DataFrame:
    """Each table's true share of every hyperparameter beside fANOVA's at the largest trial
    count (mean, lowest and highest over its repeats), in the table's order."""
    imp = lab.importance
    est = imp[imp["source"] == "fanova"]
    if est.empty:
        return pd.DataFrame()
    est = est[est["trials"] == est["trials"].max()]
    stats = est.groupby(["benchmark", "hyperparameter"])["share"].agg(["mean", "min", "max"])
    true = imp[imp["source"] == "table"].set_index(["benchmark", "hyperparameter"])["share"]
    out = stats.join(true.rename("true"), how="inner").reset_index()
    out["trials"] = int(est["trials"].iloc[0])
    order = {b: i for i, b in enumerate(lab.benchmarks)}
    return out.sort_values("benchmark", key=lambda b: b.map(order), kind="stable")


@_cached
def selection(lab: Lab) -> pd.DataFrame:
    """Per table and method at the lab budget, means over the repeats: regret, selection loss
    and search loss as shares of the table's gap, the share of searches whose pick was not the
    best configuration they evaluated, and the optimism in the table's noise sds (the median
    seed-to-seed sd)."""
    f = finals(lab)
    f = f[f["budget"] == lab.budget]
    gap = f["benchmark"].map(lab.gap)
    noise = f["benchmark"].map(lab.tables["noise_sd"].replace(0, np.nan))  # a noiseless table
    f = f.assign(regret=f["regret"] / gap, selection_loss=f["selection_loss"] / gap,
                 search_loss=f["search_loss"] / gap, missed=f["selection_loss"] > 0,
                 optimism=f["optimism"] / noise)  # fmt: skip
    columns = ["regret", "selection_loss", "search_loss", "missed", "optimism"]
    out = f.groupby(["benchmark", "method"], sort=False)[columns].mean().reset_index()
    out["repeats"] = f.groupby(["benchmark", "method"], sort=False).size().to_numpy()
    return out


@_cached
def theory_check(lab: Lab) -> pd.DataFrame:
    """Random search's best observed value after m evaluations, mean over its repeats, beside
    the closed form's bounds on its expectation, with the 95 % interval a mean of that many
    repeats falls in (normal, from the closed form's sd; a Student-t interval of the repeats
    where the theory file has no sd): `within` where they meet; `standardised` is how far
    outside the bounds the mean sits in half-widths of that interval (0 between them; beyond
    +-1, the interval misses them)."""
    from scipy.stats import norm, t

    random = lab.at_budget()
    random = random[random["method"] == RANDOM]
    if lab.theory.empty or random.empty:
        return pd.DataFrame()
    points = random[random["evaluation"].isin(lab.theory["evaluations"])]
    stats = points.groupby(["benchmark", "evaluation"])["best_observed"].agg(
        ["mean", "std", "size"]
    )
    stats = stats[stats["size"] >= 2].reset_index().rename(columns={"evaluation": "evaluations"})
    out = stats.merge(lab.theory, on=["benchmark", "evaluations"])
    if "sd" in out:  # the closed form's own spread: no estimate from a few skewed repeats
        out["half"] = norm.ppf((1 + LEVEL) / 2) * out["sd"] / np.sqrt(out["size"])
    else:
        spread = t.ppf((1 + LEVEL) / 2, out["size"] - 1) * out["std"]
        out["half"] = spread / np.sqrt(out["size"])
    nearest = out["mean"].clip(out["expected_low"], out["expected_high"])
    out["outside"] = out["mean"] - nearest
    # the CSV's six significant digits: a mean of identical values (every repeat found the
    # table's best) has no interval, and sits within rounding of the closed form's bound
    out["within"] = out["outside"].abs() <= out["half"] + ROUNDING * out["mean"].abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["outside"] / out["half"]
    out["standardised"] = ratio.where(~out["within"] | (out["half"] > 0), 0.0)
    return out


@_cached
def cost(lab: Lab) -> pd.DataFrame:
    """Per method at the lab budget: searches, the median evaluations and searcher seconds of
    one search (lookups excluded), and the median milliseconds per evaluation."""
    s = lab.searches[lab.searches["budget"] == lab.budget]
    s = s.assign(per=1000 * s["seconds"] / s["evaluations"])
    out = s.groupby("method").agg(searches=("seconds", "size"),
                                  evaluations=("evaluations", "median"),
                                  seconds=("seconds", "median"),
                                  low=("seconds", lambda x: x.quantile(0.25)),
                                  high=("seconds", lambda x: x.quantile(0.75)),
                                  per=("per", "median"))  # fmt: skip
    return out.reindex([m for m in lab.methods if m in out.index])

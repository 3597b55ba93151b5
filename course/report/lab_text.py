"""The Lab page's generated sentences and tables, from the evidence `course.report.lab`
computes: each states what it compares and holds whatever the numbers are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from course.report.lab import (
    ALPHA,
    FEW_TABLES,
    FILES,
    FLOOR,
    RESAMPLES,
    Friedman,
    Lab,
    cost,
    final_means,
    finals,
    friedman,
    grid_tests,
    importance_summary,
    rank_curves,
    selection,
    theory_check,
)
from course.report.markdown import table

DATA_LINKS = ", ".join(f"[{name}](generated/data/{name})" for name in FILES.values())


def number(x: float) -> str:
    """Three significant digits, short exponents (1e-05 -> 1e-5)."""
    text = f"{x:.3g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _percent(x: float) -> str:
    return f"{100 * x:.0f} %"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _code(names: list[str]) -> list[str]:
    return [f"`{n}`" for n in names]


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _tables(n: int) -> str:
    return f"{n} table" + ("" if n == 1 else "s")


def summary(lab: Lab) -> str:
    """What the lab ran, and where its data is."""
    s = lab.searches
    main = s[s["budget"] == lab.budget]
    repeats = main.groupby("method")["repeat"].nunique()
    counts = [f"`{m}` {_times(int(repeats[m]))}" for m in lab.methods]
    suites = pd.Series(lab.benchmarks).str.split("/").str[0].value_counts(sort=False)
    suites_text = _and([f"{n} from {suite}" for suite, n in suites.items()])
    smaller = [b for b in lab.grid_budgets if b < lab.budget]
    grid = (f" The grid also ran at the smaller budgets {_and([str(b) for b in smaller])}, each "
            "the largest coarse grid of at most that many points." if smaller else "")  # fmt: skip
    return (f"The lab ran {len(lab.methods)} searchers on {_tables(len(lab.benchmarks))} "
            f"({suites_text}): {len(s)} searches, {len(lab.evaluations)} evaluations in all. "
            f"Each method searched each table at the lab budget of {lab.budget} evaluations, "
            f"each repeat under its own seed: {_and(counts)} per table.{grid} "
            f"The data: {DATA_LINKS}.\n")  # fmt: skip


def tables_text(lab: Lab) -> str:
    """The benchmarks, what they measure and how noisy one observation is."""
    t = lab.tables
    rows = [(f"`{b}`", f"{r['metric']} ({'max' if r['maximize'] else 'min'}imised)",
             r["configurations"], r["seeds"], len(str(r["hyperparameters"]).split()),
             number(r["best_true"]), number(r["median_true"]), number(r["worst_true"]),
             number(r["noise_sd"])) for b, r in t.iterrows()]  # fmt: skip
    head = ["table", "metric", "configurations", "seeds", "hyperparameters", "best truth",
            "median truth", "worst truth", "noise sd"]  # fmt: skip
    return table(head, rows) + (
        "\nA configuration's *truth* is its mean over the table's seeds; one evaluation "
        "observes a single seed's value. *noise sd*: the median over the configurations of "
        "the standard deviation over the seeds, what one observation's noise is on that table.\n"
    )


def _winners(means: pd.DataFrame) -> str:
    """Which method has the lowest value per row, counted over the rows (ties shared)."""
    best = means.eq(means.min(axis=1), axis=0)
    counts = best.sum()
    tied = int((best.sum(axis=1) > 1).sum())
    parts = [f"`{m}` on {_tables(int(counts[m]))}" for m in means.columns if counts[m]]
    ties = f" ({_tables(tied)} shared between tied methods)" if tied else ""
    return _and(parts) + ties


def regret_text(lab: Lab) -> str:
    means = final_means(lab)
    floor = f"{FLOOR:g}"
    lines = [
        f"Each panel is one table; each line a method's mean regret over its repeats after "
        "each evaluation, at the lab budget, its band a 95 % percentile-bootstrap interval of "
        f"that mean ({RESAMPLES} resamples of the repeats, seeded). The axis is logarithmic: a "
        f"mean regret below {floor} of the table's gap (its best truth minus its median "
        f"configuration's) is drawn at {floor} of it, the floor. The grid is drawn in "
        "`ParameterGrid` order, so only its last point is a grid search's result; a point "
        "before it is part of a grid, not a smaller grid.",
    ]
    f = finals(lab)
    f = f[f["budget"] == lab.budget]
    lines.append(f"\nThe regret of a search's incumbent can rise: a lucky observation can make "
                 f"a truly worse configuration the best observed. It rose at least once in "
                 f"{int(f['rose'].sum())} of the {len(f)} searches at the lab budget.")  # fmt: skip
    if not means.empty:
        lines.append(f"At the end of its search, the lowest mean regret: {_winners(means)}.")
    return "\n".join(lines) + "\n"


def _checkpoints(lab: Lab) -> list[int]:
    return [e for e in (10, 20, 50) if e < lab.budget] + [lab.budget]


def ranks_text(lab: Lab) -> str:
    curves = rank_curves(lab)
    if curves.empty:
        return "*No table holds every method: there is nothing to rank.*\n"
    n = int(final_means(lab).shape[0])
    points = [e for e in _checkpoints(lab) if e in curves.index]
    rows = [(f"`{m}`", *(f"{curves.loc[e, m]:.2f}" for e in points)) for m in curves.columns]
    end = curves.loc[points[-1]]
    leaders = _code(list(end.index[end == end.min()]))
    k = len(curves.columns)
    return (f"A method's rank within a table is its place by mean regret after that many "
            f"evaluations (1: the lowest; ties share the average rank), averaged here over the "
            f"{_tables(n)} that every method ran on; the ranks of {k} methods average "
            f"{(k + 1) / 2:g}. The grid keeps its final incumbent once its grid is done.\n\n"
            + table(["method", *(f"after {e}" for e in points)], rows)
            + f"\nLowest average rank after {points[-1]} evaluations: {_and(leaders)} "
            f"({end.min():.2f}).\n")  # fmt: skip


def final_text(lab: Lab) -> str:
    f = finals(lab)
    f = f[f["budget"] == lab.budget]
    means = final_means(lab)
    best = means.eq(means.min(axis=1), axis=0).sum() if not means.empty else pd.Series()
    rows = []
    for m in lab.methods:
        r = f.loc[f["method"] == m, "normalised"]
        q1, q2, q3 = r.quantile([0.25, 0.5, 0.75])
        rows.append((f"`{m}`", len(r), f"{number(q2)} ({number(q1)}–{number(q3)})",
                     _percent((r == 0).mean()),
                     f"{int(best.get(m, 0))} of {len(means)}"))  # fmt: skip
    return ("Normalised regret is a search's final regret divided by its table's gap (the "
            "best truth minus the median configuration's): 0 is the table's best configuration, "
            "1 no better than its median one, so that tables on different metrics compare. "
            "Every search at the lab budget, every table pooled:\n\n"
            + table(["method", "searches", "median normalised regret (quartiles)",
                     "found the best", "lowest mean regret on"], rows))  # fmt: skip


def friedman_text(lab: Lab, fr: Friedman | None = None) -> str:
    fr = fr or friedman(lab)
    n, k = fr.matrix.shape
    what = (f"Friedman's test compares the {k} search procedures over their seeds, on these "
            f"{_tables(n)}: each table is a block, each method's value in it the mean of its "
            f"final regrets over its repeats at the lab budget, ranked within the table (1: the "
            "lowest). It asks whether the average ranks differ more than they would if no "
            "method were better than another on any table; it speaks of tables like these, not "
            "of every problem.")  # fmt: skip
    rows = [(f"`{m}`", f"{r:.2f}") for m, r in fr.ranks.items()]
    ranking = "\n" + table(["method", "average rank"], rows)
    if fr.reason:
        return f"{what}\n\nNo test: {fr.reason}.\n{ranking}"
    rough = (f" With {_tables(n)}, not more than {FEW_TABLES}, the chi-squared approximation "
             "is rough and the test has little power." if n <= FEW_TABLES else "")  # fmt: skip
    verdict = ("rejects" if fr.p < ALPHA else "does not reject") + " equal performance at 5 %"
    nemenyi = (f"Nemenyi's critical difference at 5 % is CD = q·√(k(k+1)/(6N)) = "
               f"{fr.q:.3f}·√({k}·{k + 1}/(6·{n})) = {fr.cd:.2f} ranks: two methods differ "
               "significantly when their average ranks are further apart than that.")  # fmt: skip
    if fr.p >= ALPHA:
        pairs = "As the test does not reject, no pair is declared different."
    elif fr.pairs:
        listed = [f"`{a}` and `{b}` ({fr.ranks[b] - fr.ranks[a]:.2f} apart)" for a, b in fr.pairs]
        pairs = f"Pairs further apart than CD: {_and(listed)}."
    else:
        pairs = "No pair is further apart than CD, although the test rejects: it cannot say which."
    return (f"{what}\n\nFriedman's χ² = {fr.statistic:.2f} ({k - 1} degrees of freedom), "
            f"{_p(fr.p)}: the test {verdict}.{rough} {nemenyi} {pairs}\n{ranking}")  # fmt: skip


def grid_text(lab: Lab) -> str:
    tests = grid_tests(lab)
    if tests.empty:
        return "*The lab ran no grid or no random search: there is nothing to compare.*\n"
    rows = []
    for _, r in tests.iterrows():
        low, high = int(r["evaluations_low"]), int(r["evaluations_high"])
        n = str(low) if low == high else f"{low}–{high}"
        p = ("no test (no difference)" if np.isnan(r["p"])
             else f"W = {r['statistic']:g}, {_p(r['p'])}")  # fmt: skip
        rows.append((int(r["budget"]), n, f"{int(r['random_wins'])} of {int(r['tables'])}",
                     number(r["grid"]), number(r["random"]), p))  # fmt: skip
    lines = [
        "For each grid budget, the grid search's final regret (its whole coarse grid) beside "
        "random search's after as many evaluations as that grid made (the first n "
        "evaluations of a random search are a random search of n), each the mean over its "
        "repeats, normalised by the table's gap. Wilcoxon's signed-rank test pairs the two by "
        "table: it asks whether random search's mean regret and the grid's differ consistently "
        "across these tables (the procedures over their seeds, not one run of each).",
        table(["grid budget", "grid evaluations", "random lower on", "grid, mean normalised",
               "random, mean normalised", "Wilcoxon, two-sided"], rows).rstrip("\n"),
    ]  # fmt: skip
    n = int(tests["tables"].max())
    smallest = 2 / 2**n  # every difference of one sign, no ties: the exact test's floor
    floor = (f"With {_tables(n)}, the smallest two-sided p-value the exact test can give is "
             f"{smallest:.3g}" + (", above 5 %: no difference can be significant with so few "
                                  "tables." if smallest > ALPHA else ".")
             + " A p-value above 5 % does not show the two alike; it says these tables cannot "
             "tell them apart.")  # fmt: skip
    lines.append(floor)
    wins, pairs = int(tests["random_wins"].sum()), int(tests["tables"].sum())
    lines.append(f"Over every budget, random search's mean regret is the lower in {wins} of "
                 f"{pairs} table-and-budget pairs.")  # fmt: skip
    return "\n\n".join(lines) + "\n"


def importance_text(lab: Lab) -> str:
    s = importance_summary(lab)
    if s.empty:
        return "*The lab estimated no importance (`lab.importance_trials`).*\n"
    rows = []
    for _, r in s.iterrows():
        rho = "undefined" if not r["defined"] else (
            f"{r['rho']:+.2f} ({r['rho_low']:+.2f} to {r['rho_high']:+.2f})")  # fmt: skip
        estimates, undefined = int(r["estimates"]), int(r["estimates"] - r["defined"])
        note = f", {undefined} undefined" if undefined else ""
        rows.append((int(r["trials"]), estimates, rho + note,
                     f"{int(r['hits'])} of {estimates}", f"{r['chance']:.1f}"))  # fmt: skip
    return ("The table's shares are the exact main effects of its whole grid of truths, "
            "normalised to sum to one; fANOVA's are Optuna's estimate, normalised the same way, "
            "from the first evaluations (noisy observations) of a random search. Spearman's ρ "
            "compares the order of the two sets of shares on one table (1: the same order; it "
            "is undefined where every estimated share is equal); each estimate is one table and "
            "one random-search repeat.\n\n"
            + table(["trials", "estimates", "Spearman ρ: mean (lowest to highest)",
                     "top hyperparameter right", "expected by chance"], rows))  # fmt: skip


def selection_text(lab: Lab) -> str:
    sel = selection(lab)
    by = sel.groupby("method")[["regret", "selection_loss", "missed", "optimism"]].mean()
    rows = [(f"`{m}`", number(by.loc[m, "regret"]), number(by.loc[m, "selection_loss"]),
             _percent(by.loc[m, "missed"]), f"{by.loc[m, 'optimism']:+.2f}")
            for m in lab.methods if m in by.index]  # fmt: skip
    total = sel["regret"].sum()
    share = sel["selection_loss"].sum() / total if total > 0 else float("nan")
    share_text = ("no search has any regret" if np.isnan(share) else
                  f"selection loss is {_percent(share)} of the summed normalised "
                  "regret")  # fmt: skip
    return ("A search returns the configuration with the best *observed* value, which need not "
            "be the best it evaluated: its *selection loss* is the best truth among what it "
            "evaluated minus its pick's truth (the rest of its regret is what it never "
            "evaluated). Its *optimism* is its best observed value minus its pick's truth: "
            "the winner's curse of taking the best of many noisy values, in the table's noise "
            "sds. Means over each table's repeats at the lab budget, then over the tables, "
            "losses normalised by the table's gap:\n\n"
            + table(["method", "normalised regret", "of which selection loss",
                     "searches whose pick is not their best", "optimism (noise sds)"], rows)
            + f"\nOver every table and method, {share_text}.\n")  # fmt: skip


def theory_text(lab: Lab) -> str:
    check = theory_check(lab)
    if check.empty:
        return "*The lab has no closed-form points to check (it ran no random search).*\n"
    within = int(check["within"].sum())
    outside = check.loc[~check["within"], ["benchmark", "evaluations"]]
    listed = [f"`{b}` after {m}" for b, m in outside.itertuples(index=False)]
    off = f" Outside: {_and(listed)}." if listed else ""
    where = ("its expectation ± 1.96 × the closed form's own standard deviation of the best "
             "/ √(repeats)" if "sd" in lab.theory else
             "a 95 % Student-t interval of the repeats around it")  # fmt: skip
    return (f"For {within} of the {len(check)} points (table, m), the mean over its repeats of "
            "random search's best observed value after m evaluations lies where the closed "
            f"form puts it, {where} (bounds rather than one number count as within when the "
            f"interval meets them).{off} If the searcher samples as the closed form assumes "
            "(distinct configurations, uniformly, and one uniformly drawn seed each), about one "
            "point in twenty falls outside by chance, and more where a mean of so few repeats "
            "is far from normal (a loss table's rare divergent configurations); the points of "
            "one table share its repeats, so they are not independent checks. The test suite "
            "checks the same with 300 searches per table.\n")  # fmt: skip


def cost_text(lab: Lab) -> str:
    c = cost(lab)
    rows = [(f"`{m}`", int(r["searches"]), f"{r['evaluations']:g}",
             f"{number(r['seconds'])} ({number(r['low'])}–{number(r['high'])})",
             number(r["per"])) for m, r in c.iterrows()]  # fmt: skip
    head = ["method", "searches", "evaluations", "median seconds (quartiles)",
            "ms per evaluation"]  # fmt: skip
    return ("The searcher's own seconds per search at the lab budget (asking for and being told "
            "about configurations; the table lookups are not counted), on the machine the lab "
            "ran on:\n\n" + table(head, rows))  # fmt: skip

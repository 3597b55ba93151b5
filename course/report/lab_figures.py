"""The lab's figures, one function each: a `lab.Lab` in, a matplotlib Figure out, in the house
style of `figures` (its width, palette and legibility check). The data of each comes from `lab`,
so a figure and the sentences beside it say the same thing.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course.report import figures, lab
from course.report.figures import BLUE, METHOD_COLOURS, ORANGE, SEED_GREY, STYLE, WIDTH, _styled
from course.report.lab import Lab

COLS = 3  # small multiples: three panels to the page's width, their tick labels apart
STANDARDISED = 4.0  # the theory check's axis: a point further out is drawn at its edge
Line = matplotlib.lines.Line2D


def colours(lab_: Lab) -> dict[str, str]:
    """One colour per lab method, in the lab's order (the same on every lab figure)."""
    return {m: METHOD_COLOURS[i % len(METHOD_COLOURS)] for i, m in enumerate(lab_.methods)}


def _panels(n: int, height: float, extra: float, cols: int = COLS, **kwargs) -> tuple[Figure, list]:
    """`n` panels, `cols` to a row; the spare ones are switched off."""
    cols = min(cols, n)
    rows = -(-n // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, height * rows + extra),
                                 layout="constrained", squeeze=False, **kwargs)  # fmt: skip
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _xlabel(axes: list, text: str, cols: int = COLS) -> None:
    """`text` under each panel with none below it (a figure-wide label would sit under the
    legend)."""
    for i, ax in enumerate(axes):
        if i + cols >= len(axes):
            ax.set_xlabel(text)


def _name(benchmark: str) -> str:
    """A panel's title: the dataset (its suite is in the page's table)."""
    return benchmark.rsplit("/", 1)[-1]


def _log(ax: object, axis: str, floor: float) -> None:
    """A log axis that starts at `floor` (where a zero is drawn)."""
    if axis == "y":
        ax.set_yscale("log")  # type: ignore[attr-defined]
        ax.set_ylim(bottom=floor)  # type: ignore[attr-defined]
    else:
        ax.set_xscale("log")  # type: ignore[attr-defined]
        ax.set_xlim(left=floor)  # type: ignore[attr-defined]
    # decades only, no minor ticks: a dozen log panels lay out in a fraction of the time
    scale = getattr(ax, f"{axis}axis")
    scale.set_major_locator(matplotlib.ticker.LogLocator(numticks=5))
    scale.set_minor_locator(matplotlib.ticker.NullLocator())


def _method_handles(lab_: Lab) -> list[Line]:
    colour = colours(lab_)
    return [Line([], [], color=colour[m], lw=1.8, label=m) for m in lab_.methods]


@_styled
def regret(lab_: Lab) -> Figure:
    """Mean regret against evaluations, one panel per table, each method's band its bootstrap
    interval; the grid's end point marked (the only point that is a grid search's result)."""
    curves = lab.regret_curves(lab_)
    colour = colours(lab_)
    fig, axes = _panels(len(lab_.benchmarks), 2.0, 1.2, sharex=True)
    for ax, benchmark in zip(axes, lab_.benchmarks, strict=True):
        floor = lab.FLOOR * lab_.gap[benchmark]
        for method in lab_.methods:
            c = curves[(curves["benchmark"] == benchmark) & (curves["method"] == method)]
            if c.empty:
                continue
            x = c["evaluation"].to_numpy()
            ax.fill_between(x, c["low"].clip(lower=floor), c["high"].clip(lower=floor),
                            color=colour[method], alpha=0.15, lw=0, step="post")  # fmt: skip
            ax.plot(x, c["mean"].clip(lower=floor), color=colour[method], lw=1.4,
                    ls=":" if method == lab.GRID else "-", drawstyle="steps-post")  # fmt: skip
            if method == lab.GRID:
                ax.plot(x[-1], max(c["mean"].iloc[-1], floor), "o", color=colour[method], ms=5)
        _log(ax, "y", floor)
        ax.set_title(_name(benchmark), fontsize=10)
    _xlabel(axes, "evaluations")
    fig.supylabel("mean regret (log scale, floored)", fontsize=10)
    handles = _method_handles(lab_)
    if lab.GRID in lab_.methods:
        handles[lab_.methods.index(lab.GRID)] = Line(
            [], [], color=colour[lab.GRID], ls=":", marker="o", ms=5, markevery=[1],
            label="grid, in its order (●: its result)")  # fmt: skip
    figures._legend_below(fig, handles, ncol=3)
    figures._title(fig, f"Regret of the incumbent against evaluations, at the lab budget of "
                        f"{lab_.budget} (mean over the repeats, 95 % bootstrap band)")  # fmt: skip
    return fig


@_styled
def ranks(lab_: Lab) -> Figure:
    """Each method's average rank over the tables against evaluations (1: the lowest mean
    regret on a table)."""
    curves = lab.rank_curves(lab_)
    colour = colours(lab_)
    fig, ax = figures._figure(height=3.8)
    for method in curves.columns:
        ax.plot(curves.index, curves[method], color=colour[method], lw=1.8, label=method,
                ls=":" if method == lab.GRID else "-", drawstyle="steps-post")  # fmt: skip
    k = len(curves.columns)
    ax.set_ylim(k + 0.2, 0.8)  # rank 1, the best, at the top
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("evaluations")
    ax.set_ylabel("average rank (1: lowest regret)")
    figures._legend_below(fig, ax.get_legend_handles_labels()[0], ncol=3)
    n = lab.final_means(lab_).shape[0]
    figures._title(fig, f"Average rank over the {n} tables every method ran on, by mean regret "
                        "after each number of evaluations")  # fmt: skip
    return fig


def _boxes(ax: object, groups: list[np.ndarray], colours_: list[str], rng: np.random.Generator,
           ) -> None:  # fmt: skip
    """Horizontal boxes (median, quartiles, whiskers to 1.5 IQR) with every value a dot."""
    ax.boxplot(groups, orientation="horizontal", widths=0.6, showfliers=False,  # type: ignore[attr-defined]
               medianprops={"color": "black"}, positions=range(len(groups)))  # fmt: skip
    for y, (values, colour) in enumerate(zip(groups, colours_, strict=True)):
        ax.scatter(values, y + rng.uniform(-0.22, 0.22, len(values)), s=7, color=colour,  # type: ignore[attr-defined]
                   alpha=0.6, lw=0, zorder=3)  # fmt: skip


@_styled
def final_regret(lab_: Lab) -> Figure:
    """Each search's final regret at the lab budget, one panel per table, a box per method."""
    f = lab.finals(lab_)
    f = f[f["budget"] == lab_.budget]
    colour = colours(lab_)
    fig, axes = _panels(len(lab_.benchmarks), 0.28 * len(lab_.methods) + 0.8, 0.9, sharey=True)
    rng = np.random.default_rng(lab.SEED)  # the jitter only
    for ax, benchmark in zip(axes, lab_.benchmarks, strict=True):
        floor = lab.FLOOR * lab_.gap[benchmark]
        rows = f[f["benchmark"] == benchmark]
        groups = [rows.loc[rows["method"] == m, "regret"].clip(lower=floor).to_numpy()
                  for m in lab_.methods]  # fmt: skip
        _boxes(ax, groups, [colour[m] for m in lab_.methods], rng)
        _log(ax, "x", floor / 2)
        ax.set_title(_name(benchmark), fontsize=10)
    axes[0].set_yticks(range(len(lab_.methods)), lab_.methods)
    axes[0].set_ylim(len(lab_.methods) - 0.5, -0.5)
    for ax in axes:
        ax.grid(False, axis="y")
    fig.supxlabel(f"final regret (log scale; below {lab.FLOOR:g} of the table's gap: drawn "
                  "there)", fontsize=10)  # fmt: skip
    figures._title(fig, f"Final regret of every search at the lab budget of {lab_.budget} "
                        "(dots: searches; boxes: quartiles)")  # fmt: skip
    return fig


@_styled
def normalised(lab_: Lab) -> Figure:
    """Every search's final regret over its table's gap, every table pooled, a box per method;
    the per-table means over the repeats as black diamonds."""
    f = lab.finals(lab_)
    f = f[f["budget"] == lab_.budget]
    colour = colours(lab_)
    fig, ax = figures._figure(height=0.45 * len(lab_.methods) + 1.6)
    groups = [f.loc[f["method"] == m, "normalised"].clip(lower=lab.FLOOR).to_numpy()
              for m in lab_.methods]  # fmt: skip
    _boxes(ax, groups, [colour[m] for m in lab_.methods], np.random.default_rng(lab.SEED))
    means = f.groupby(["method", "benchmark"])["normalised"].mean().clip(lower=lab.FLOOR)
    for y, m in enumerate(lab_.methods):
        ax.plot(means.loc[m], np.full(len(means.loc[m]), y), "D", color="black", ms=4,
                mfc="none", zorder=4)  # fmt: skip
    ax.set_yticks(range(len(lab_.methods)), lab_.methods)
    ax.set_ylim(len(lab_.methods) - 0.5, -0.5)
    ax.grid(False, axis="y")
    _log(ax, "x", lab.FLOOR / 2)
    ax.axvline(1, color="grey", ls="--", lw=0.9)
    ax.set_xlabel(figures._wrap(f"final regret / the table's gap (0: its best, 1: its median "
                                f"configuration; log scale, below {lab.FLOOR:g} drawn there)",
                                0.85 * WIDTH, 10))  # fmt: skip
    handles = [Line([], [], marker="o", ls="", color=SEED_GREY, ms=4, label="one search"),
               Line([], [], marker="D", ls="", color="black", mfc="none", ms=4,
                    label="a table's mean over its repeats"),
               Line([], [], color="grey", ls="--", label="the median configuration")]  # fmt: skip
    figures._legend_below(fig, handles, ncol=3)
    figures._title(fig, f"Normalised final regret, all {len(lab_.benchmarks)} tables pooled")
    return fig


@_styled
def critical_difference(lab_: Lab) -> Figure:
    """Demšar's critical-difference diagram: the methods at their average ranks on one axis,
    a bar joining each group whose ranks lie within Nemenyi's critical difference."""
    fr = lab.friedman(lab_)
    names, r = list(fr.ranks.index), fr.ranks.to_numpy()
    k = len(names)
    left = math.ceil(k / 2)  # the better half labelled on the left, the rest on the right
    levels = len(fr.cliques)
    fig, ax = figures._figure(height=1.3 + 0.32 * (left + levels))
    span = max(k - 1, 1)
    margin = 2.0 * span / max(WIDTH - 4.2, 1)  # ~2 inches of labels each side
    ax.set_xlim(1 - margin, k + margin)
    top, step = 0.0, 0.55
    first = -0.45 - 0.3 * levels  # the first label's row, below the cliques' bars
    ax.set_ylim(first - step * (left - 1) - 0.4, 1.0)
    ax.axis("off")
    ax.plot([1, k], [top, top], color="black", lw=1)
    for tick in range(1, k + 1):
        ax.plot([tick, tick], [top, top + 0.1], color="black", lw=1)
        ax.text(tick, top + 0.16, str(tick), ha="center", va="bottom", fontsize=9)
    colour = colours(lab_)
    for i, (name, rank) in enumerate(zip(names, r, strict=True)):
        on_left = i < left
        y = first - step * (i if on_left else k - 1 - i)
        end = 1 - 0.08 * margin if on_left else k + 0.08 * margin
        ax.plot([rank, rank, end], [top, y, y], color=colour.get(name, "black"), lw=1.4)
        ax.text(end + (-0.03 if on_left else 0.03) * margin, y, f"{name} ({rank:.2f})",
                ha="right" if on_left else "left", va="center", fontsize=10)  # fmt: skip
    for j, clique in enumerate(fr.cliques):
        y = -0.3 - 0.3 * j
        ax.plot([fr.ranks[clique[0]] - 0.03, fr.ranks[clique[-1]] + 0.03], [y, y],
                color="black", lw=4, solid_capstyle="round")  # fmt: skip
    if not np.isnan(fr.cd):
        ax.plot([1, 1 + fr.cd], [0.75, 0.75], color=figures.VERMILION, lw=2)
        ax.text(1 + fr.cd / 2, 0.82, f"CD = {fr.cd:.2f}", ha="center", va="bottom", fontsize=9,
                color=figures.VERMILION)  # fmt: skip
        test = f"Friedman p = {fr.p:.3g}; bars: no significant difference (Nemenyi, 5 %)"
    else:
        test = f"no test: {fr.reason}"
    figures._title(fig, f"Average rank over {fr.matrix.shape[0]} tables (1: the lowest final "
                        f"regret); {test}")  # fmt: skip
    return fig


@_styled
def grid_random(lab_: Lab) -> Figure:
    """Random search's mean normalised regret against evaluations, one panel per table, and
    the grid's final one at each grid budget, at its number of evaluations."""
    pairs = lab.grid_vs_random(lab_)
    curves = lab.regret_curves(lab_)
    colour = colours(lab_)
    fig, axes = _panels(len(lab_.benchmarks), 1.9, 1.2, sharex=True)
    for ax, benchmark in zip(axes, lab_.benchmarks, strict=True):
        gap = lab_.gap[benchmark]
        c = curves[(curves["benchmark"] == benchmark) & (curves["method"] == lab.RANDOM)]
        ax.fill_between(c["evaluation"], (c["low"] / gap).clip(lower=lab.FLOOR),
                        (c["high"] / gap).clip(lower=lab.FLOOR), color=colour[lab.RANDOM],
                        alpha=0.18, lw=0, step="post")  # fmt: skip
        ax.plot(c["evaluation"], (c["mean"] / gap).clip(lower=lab.FLOOR),
                color=colour[lab.RANDOM], lw=1.4, drawstyle="steps-post")  # fmt: skip
        g = pairs[pairs["benchmark"] == benchmark]
        mean = g["grid"].clip(lower=lab.FLOOR)
        error = [(mean - g["grid_low"].clip(lower=lab.FLOOR)).clip(lower=0),
                 (g["grid_high"].clip(lower=lab.FLOOR) - mean).clip(lower=0)]  # fmt: skip
        ax.errorbar(g["evaluations"], mean, yerr=error, fmt="s", ms=5, capsize=2,
                    color=colour[lab.GRID])  # fmt: skip
        _log(ax, "x", 1)
        _log(ax, "y", lab.FLOOR / 2)
        ax.set_title(_name(benchmark), fontsize=10)
    _xlabel(axes, "evaluations (log)")
    fig.supylabel("mean regret / the table's gap (log)", fontsize=10)
    handles = [Line([], [], color=colour[lab.RANDOM], lw=1.4,
                    label="random search after n evaluations (95 % band)"),
               Line([], [], color=colour[lab.GRID], marker="s", ls="", ms=5,
                    label="a whole grid of n points (95 % interval)")]  # fmt: skip
    figures._legend_below(fig, handles, ncol=2)
    figures._title(fig, "Random search against a grid of the same number of evaluations "
                        f"(below {lab.FLOOR:g} of the gap: drawn there)")  # fmt: skip
    return fig


def _trials_axis(ax: object, trials: list[int]) -> None:
    ax.set_xscale("log")  # type: ignore[attr-defined]
    ax.set_xticks(trials, [str(t) for t in trials])  # type: ignore[attr-defined]
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # type: ignore[attr-defined]
    ax.set_xlim(trials[0] / 1.4, trials[-1] * 1.4)  # type: ignore[attr-defined]
    ax.set_xlabel("trials fANOVA saw")  # type: ignore[attr-defined]


@_styled
def importance(lab_: Lab) -> Figure:
    """How well fANOVA's shares from a random search's first trials order the table's true
    shares (Spearman's rho, one dot per table and repeat), and how often its top is the true
    top (against chance), by trial count."""
    agree = lab.importance_agreement(lab_)
    summary = lab.importance_summary(lab_)
    trials = [int(t) for t in summary["trials"]]
    with plt.rc_context(STYLE):
        fig, (rho, top) = plt.subplots(1, 2, figsize=(WIDTH, 3.4), layout="constrained")
    rng = np.random.default_rng(lab.SEED)
    x = agree["trials"] * np.exp(rng.uniform(-0.08, 0.08, len(agree)))
    rho.scatter(x, agree["spearman"], s=12, color=BLUE, alpha=0.6, lw=0)
    rho.plot(summary["trials"], summary["rho"], color="black", lw=1.6, marker="D", ms=5)
    rho.axhline(0, color="grey", lw=0.8)
    rho.set_ylim(-1.05, 1.05)
    rho.set_ylabel("Spearman ρ, true vs estimated")
    top.plot(summary["trials"], summary["hits"] / summary["estimates"], color=BLUE, lw=1.6,
             marker="o", label="fANOVA's top is the true top")  # fmt: skip
    top.plot(summary["trials"], summary["chance"] / summary["estimates"], color=ORANGE, ls="--",
             lw=1.4, label="chance (one in the table's count)")  # fmt: skip
    top.set_ylim(-0.03, 1.03)
    top.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    top.set_ylabel("share of the estimates")
    for ax in (rho, top):
        _trials_axis(ax, trials)
    handles = [Line([], [], marker="o", ls="", color=BLUE, ms=4, label="one table and repeat"),
               Line([], [], marker="D", color="black", ms=5, label="mean ρ"),
               *top.get_legend_handles_labels()[0]]  # fmt: skip
    figures._legend_below(fig, handles, ncol=2)
    figures._title(fig, "fANOVA's importance from a random search's first trials, against the "
                        "table's exact main effects")  # fmt: skip
    return fig


@_styled
def importance_shares(lab_: Lab) -> Figure:
    """Each table's true shares beside fANOVA's at the largest trial count (mean over the
    repeats; whiskers from the lowest to the highest)."""
    s = lab.shares(lab_)
    benchmarks = [b for b in lab_.benchmarks if b in set(s["benchmark"])]
    most = int(s.groupby("benchmark").size().max())
    fig, axes = _panels(len(benchmarks), 0.24 * most + 0.7, 0.9, cols=2)
    for ax, benchmark in zip(axes, benchmarks, strict=True):
        rows = s[s["benchmark"] == benchmark]
        y = np.arange(len(rows))
        ax.barh(y - 0.2, rows["true"], height=0.4, color=BLUE)
        ax.barh(y + 0.2, rows["mean"], height=0.4, color=ORANGE,
                xerr=[rows["mean"] - rows["min"], rows["max"] - rows["mean"]],
                error_kw={"ecolor": "#555555", "capsize": 2, "lw": 0.8})  # fmt: skip
        ax.set_yticks(y, rows["hyperparameter"])
        ax.set_ylim(len(rows) - 0.4, -0.6)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(False, axis="y")
        ax.set_title(_name(benchmark), fontsize=10)
    trials = int(s["trials"].iloc[0])
    handles = [matplotlib.patches.Patch(color=BLUE, label="true share (the whole table)"),
               matplotlib.patches.Patch(color=ORANGE, label=f"fANOVA after {trials} trials "
                                        "(mean; lowest to highest)")]  # fmt: skip
    figures._legend_below(fig, handles, ncol=2)
    figures._title(fig, "Each hyperparameter's share of the variance: the truth against "
                        "fANOVA's estimate")  # fmt: skip
    return fig


@_styled
def selection(lab_: Lab) -> Figure:
    """Per method: each table's mean selection loss (normalised) and optimism (in noise sds),
    a dot per table and a diamond for their mean."""
    sel = lab.selection(lab_)
    colour = colours(lab_)
    methods = lab_.methods
    with plt.rc_context(STYLE):
        fig, (loss, opt) = plt.subplots(1, 2, figsize=(WIDTH, 0.4 * len(methods) + 2.0),
                                        layout="constrained", sharey=True)  # fmt: skip
    for y, m in enumerate(methods):
        rows = sel[sel["method"] == m]
        jitter = np.linspace(-0.2, 0.2, len(rows)) if len(rows) > 1 else np.zeros(len(rows))
        for ax, column, low in ((loss, "selection_loss", lab.FLOOR), (opt, "optimism", None)):
            values = rows[column].clip(lower=low) if low else rows[column]
            ax.scatter(values, y + jitter, s=14, color=colour[m], alpha=0.8, lw=0)
            mean = max(rows[column].mean(), low) if low else rows[column].mean()
            ax.plot(mean, y, "D", color="black", mfc="none", ms=7)
    loss.set_yticks(range(len(methods)), methods)
    loss.set_ylim(len(methods) - 0.5, -0.5)
    _log(loss, "x", lab.FLOOR / 2)
    loss.set_xlabel(figures._wrap(f"selection loss / the table's gap (log; below {lab.FLOOR:g} "
                                  "drawn there)", 0.45 * WIDTH, 10))  # fmt: skip
    opt.set_xscale("symlog", linthresh=1)
    opt.set_xlim(left=min(-1.5, 1.5 * float(sel["optimism"].min())))
    opt.axvline(0, color="grey", lw=0.8)
    opt.set_xlabel(figures._wrap("optimism, noise sds (linear within ±1, log beyond)",
                                 0.45 * WIDTH, 10))  # fmt: skip
    for ax in (loss, opt):
        ax.grid(False, axis="y")
    handles = [Line([], [], marker="o", ls="", color=SEED_GREY, ms=4,
                    label="a table's mean over its repeats"),
               Line([], [], marker="D", ls="", color="black", mfc="none", ms=7,
                    label="the mean over the tables")]  # fmt: skip
    figures._legend_below(fig, handles, ncol=2)
    figures._title(fig, f"Picked on a noisy value: what the pick lost against the best it had "
                        f"evaluated, and how much its best observed value flattered it "
                        f"({lab_.budget} evaluations)")  # fmt: skip
    return fig


@_styled
def theory(lab_: Lab) -> Figure:
    """Random search's measured mean best observed value against the closed form, per table:
    how far outside the closed form's bounds the mean sits, in half-widths of its 95 %
    interval (inside the grey band: the interval holds the closed form)."""
    check = lab.theory_check(lab_)
    benchmarks = [b for b in lab_.benchmarks if b in set(check["benchmark"])]
    fig, ax = figures._figure(height=4.0)
    ax.axhspan(-1, 1, color="grey", alpha=0.15, lw=0)
    ax.axhline(0, color="grey", lw=0.8)
    markers = ("o", "s", "^", "v", "D", "P")
    handles = []
    for i, benchmark in enumerate(benchmarks):
        rows = check[check["benchmark"] == benchmark]
        y = rows["standardised"].clip(-STANDARDISED, STANDARDISED)
        style = {"color": METHOD_COLOURS[i % len(METHOD_COLOURS)],
                 "marker": markers[i // len(METHOD_COLOURS) % len(markers)]}  # fmt: skip
        ax.plot(rows["evaluations"], y, lw=1, ms=5, **style)
        handles.append(Line([], [], lw=1, ms=5, label=_name(benchmark), **style))
    points = sorted(check["evaluations"].unique())
    ax.set_xscale("log")
    ax.set_xticks(points, [str(p) for p in points])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylim(-STANDARDISED - 0.3, STANDARDISED + 0.3)
    ax.set_xlabel("m: evaluations of random search")
    ax.set_ylabel(f"(measured − closed form)\n/ its 95 % half-width (cut at ±{STANDARDISED:g})")
    figures._legend_below(fig, handles, ncol=4)
    figures._title(fig, "Random search's mean best observed value against its closed-form "
                        "expectation (grey band: within the 95 % interval)")  # fmt: skip
    return fig

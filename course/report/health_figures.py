"""Study-health figures, one function per figure: evidence and a search's label in, a matplotlib
Figure out, in the house style of `figures` (its size, palette and legibility check). The data
of each comes from `health`, so a figure and the sentences beside it say the same thing.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.patheffects
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from course.report import figures, health
from course.report.evidence import Evidence
from course.report.figures import BLUE, ORANGE, SEED_TEXT, STYLE, VERMILION, WIDTH

EARLY = "#8C8C8C"  # evaluations on fewer epochs (an early round), pruned trials' values
# configurations behind the best quarter: solid and aliased, background lines that keep the PNG
# a third smaller (anti-aliased, two dozen of them take ~90 kB)
FAINT = "#D9D9D9"
BAND_ALPHA, WARN_ALPHA = 0.08, 0.18  # a range's outer bands, and the one that warns
# the best line of the parallel coordinates, outlined in black over the rest
OUTLINE = [matplotlib.patheffects.Stroke(linewidth=4.4, foreground="black"),
           matplotlib.patheffects.Normal()]  # fmt: skip


def _score_label(ev: Evidence, label: str) -> str:
    """What a search's evaluations were scored by: its selection score, over folds for CV."""
    folds = ev.folds(label)
    return f"mean {folds}-fold CV {ev.selection}" if folds > 1 else ev.selection


def _panels(n: int, height: float, extra: float) -> tuple[Figure, np.ndarray]:
    """`n` panels, two to the page's width (their tick labels stay apart), one row for one."""
    cols = min(2, n)
    rows = -(-n // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, height * rows + extra),
                                 layout="constrained", sharey=True, squeeze=False)  # fmt: skip
    return fig, axes


def _band(domain: dict, side: str, share: float) -> tuple[float, float]:
    """The outer `share` of a range on `side`, on its own scale, in its own units."""
    low, high = float(domain["low"]), float(domain["high"])
    if domain["log"]:
        cut = low * (high / low) ** (share if side == "low" else 1 - share)
    else:
        cut = low + (high - low) * (share if side == "low" else 1 - share)
    return (low, cut) if side == "low" else (cut, high)


def _around(domain: object, value: float) -> tuple[float, float]:
    """A narrow span around one value of a panel's x axis: a list's position, or a range's
    value on its own scale (what highlights an end grid value or list value)."""
    if isinstance(domain, list):
        return value - 0.35, value + 0.35
    low, high = float(domain["low"]), float(domain["high"])  # type: ignore[index]
    if domain["log"]:  # type: ignore[index]
        step = (high / low) ** 0.04
        return value / step, value * step
    step = 0.04 * (high - low)
    return value - step, value + step


@figures._styled
def axis_plots(ev: Evidence, label: str) -> Figure:
    """The selection score of every evaluation against each tuned hyperparameter, one panel
    each on the hyperparameter's own scale (log where its range is), the Tuning Playbook's axis
    plots: full-budget evaluations as points, the best quarter and the best marked, early rounds
    of Hyperband or halving hollow and grey (fewer epochs: their scores are lower for it), pruned
    trials left out (they have no score). A range's outer bands are shaded, red where the best
    value sits there with room beyond (an edge warning, `health.edges`)."""
    frame, names = ev.evaluations(label), ev.tuned
    top = health.best_quarter(ev, label)
    scored = frame["score"].notna()
    full, early = frame[frame["full_budget"] & scored], frame[~frame["full_budget"] & scored]
    pruned = frame[frame["pruned"] & ~scored]
    edges = health.edges(ev, label)
    kinds = health.checked(ev, label)
    fig, axes = _panels(len(names), 2.0, 1.3)
    rng = np.random.default_rng(0)  # the jitter of list values only: the same data, one picture
    panels, spare = figures._each_panel(axes, names)
    for ax, name in panels:
        domain = ev.space[name]
        listed = isinstance(domain, list)

        def x(rows: object, name: str = name, domain: object = domain) -> np.ndarray:
            spread = 0.0
            if isinstance(domain, list):  # side by side: jittered, to show how many
                spread = rng.uniform(-0.12, 0.12, len(rows))  # type: ignore[arg-type]
            return figures._positions(rows[name], domain) + spread  # type: ignore[index]

        if kinds[name] == "range":
            for side in ("low", "high"):
                ax.axvspan(*_band(domain, side, health.BAND), color="grey", alpha=BAND_ALPHA,
                           lw=0)  # fmt: skip
        elif kinds[name] == "grid":
            for point in domain["grid"]:
                ax.axvline(point, color="grey", ls=":", lw=0.8)
        foot = ax.get_xaxis_transform()  # a pruned trial's value, at the panel's foot: no score
        ax.plot(x(pruned), np.full(len(pruned), 0.03), "|", color=EARLY, ms=8, transform=foot)
        ax.scatter(x(early), early["score"], s=16, facecolors="none", edgecolors=EARLY,
                   linewidths=0.8, zorder=2)  # fmt: skip
        rest = full[~full.index.isin(top.index)]
        ax.scatter(x(rest), rest["score"], s=20, color=BLUE, alpha=0.7, lw=0, zorder=3)
        ax.scatter(x(top.iloc[1:]), top["score"].iloc[1:], s=30, color=ORANGE,
                   edgecolors="black", linewidths=0.5, zorder=4)  # fmt: skip
        ax.scatter(x(top.iloc[:1]), top["score"].iloc[:1], s=170, marker="*", color=VERMILION,
                   edgecolors="black", linewidths=0.6, zorder=5)  # fmt: skip
        figures._value_axis(ax, domain, "x")
        if listed:
            ax.grid(False, axis="x")
        scale = " (log scale)" if not listed and domain["log"] else ""
        title, colour = f"{name}{scale}", "black"
        for edge in (e for e in edges if e.name == name):
            low = edge.side == "low"
            where = (f"in the {'bottom' if low else 'top'} {100 * health.BAND:g} %"
                     if edge.kind == "range" else
                     f"at the {'lowest' if low else 'highest'} {'grid ' * (edge.kind == 'grid')}"
                     "value")  # fmt: skip
            if edge.room:
                span = (_band(domain, edge.side, health.BAND) if edge.kind == "range"
                        else _around(domain, figures._positions(  # a list's by position
                            top[name].iloc[:1], domain)[0]))  # fmt: skip
                ax.axvspan(*span, color=VERMILION, alpha=WARN_ALPHA, lw=0)
                title, colour = f"{title}\nbest {where}: search beyond it", VERMILION
            else:
                title, colour = f"{title}\nbest {where}, nothing beyond", SEED_TEXT
        ax.set_title(title, fontsize=10, color=colour)
    shown = pd.concat([full["score"], early["score"]])
    if len(pruned) and len(shown):  # room at the foot for the pruned trials' ticks
        low, high = float(shown.min()), float(shown.max())
        span = max(high - low, 0.01)
        axes.flat[0].set_ylim(low - 0.15 * span, high + 0.08 * span)
    fig.supylabel(_score_label(ev, label), fontsize=10)
    best = int(top["trial"].iloc[0]) if len(top) else None
    Line, Patch = matplotlib.lines.Line2D, matplotlib.patches.Patch
    handles = []
    if best is not None:
        handles.append(Line([], [], ls="", marker="*", ms=12, color=VERMILION, mec="black",
                            mew=0.6, label=f"the best (trial {best})"))  # fmt: skip
    if len(top) > 1:
        handles.append(Line([], [], ls="", marker="o", color=ORANGE, mec="black", mew=0.5,
                            label=f"the rest of the best quarter ({len(top) - 1})"))  # fmt: skip
    if len(full) > len(top):
        rest = f"other full-budget evaluation ({len(full) - len(top)})"
        handles.append(Line([], [], ls="", marker="o", color=BLUE, alpha=0.7, label=rest))
    if len(early):
        handles.append(Line([], [], ls="", marker="o", mfc="none", mec=EARLY,
                            label=f"early round, fewer epochs ({len(early)})"))  # fmt: skip
    if len(pruned):
        handles.append(Line([], [], ls="", marker="|", ms=8, color=EARLY,
                            label=f"pruned, no score: its value ({len(pruned)})"))  # fmt: skip
    if "range" in kinds.values():
        handles.append(Patch(color="grey", alpha=2 * BAND_ALPHA,
                             label=f"a range's outer {100 * health.BAND:g} %"))  # fmt: skip
    if any(e.room for e in edges):
        handles.append(Patch(color=VERMILION, alpha=WARN_ALPHA,
                             label="edge warning: the best sits there"))  # fmt: skip
    if spare:
        spare[0].legend(handles=handles, loc="center", frameon=False)
    else:
        figures._legend_below(fig, handles)
    warned = sum(e.room for e in edges)
    news = f"{warned} edge warning{'s' if warned != 1 else ''}" if warned else "no edge warning"
    figures._title(fig, f"{label}: the score of every evaluation against each tuned "
                        f"hyperparameter ({news})")  # fmt: skip
    return fig


@figures._styled
def best_epoch_histogram(ev: Evidence, label: str) -> Figure:
    """The best epochs of a search's full-budget fits against their budget (a line at its end),
    the last `patience` epochs before it shaded: a best epoch there means the budget, not
    EarlyStopping, ended the fit (`health.best_epochs`)."""
    budget = health.best_epochs(ev, label)
    fits, p = budget.fits, budget.patience
    fig, ax = figures._figure(height=3.3)
    if fits.empty:
        ax.text(0.5, 0.5, "no full-budget fit finished", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        figures._title(fig, f"{label}: no best epochs to show")
        return fig
    most = int(fits["epochs"].max())
    step = max(1, math.ceil(most / 50))  # an epoch a bar, up to 50 bars
    bins = np.arange(0.5, most + step + 0.5, step)
    cut = fits["cut"].to_numpy()
    ax.hist([fits["best_epoch"][~cut], fits["best_epoch"][cut]], bins=bins, stacked=True,
            color=[BLUE, VERMILION], rwidth=0.9)  # fmt: skip
    for end in sorted(set(fits["epochs"])):
        ax.axvspan(end - p + 0.5, end + 0.5, color=VERMILION, alpha=0.1, lw=0)
        ax.axvline(end + 0.5, color="black", ls="--", lw=1.2)
    ax.set_xlim(0, most + step + 0.5)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(10, integer=True))
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("best epoch (the one ModelCheckpoint kept)")
    ax.set_ylabel("full-budget fits")
    Line, Patch = matplotlib.lines.Line2D, matplotlib.patches.Patch
    k = int(cut.sum())
    handles = [
        Patch(color=BLUE, label=f"EarlyStopping ended it ({len(fits) - k})"),
        Patch(color=VERMILION, label=f"the budget ended it ({k})"),
        Line([], [], color="black", ls="--", lw=1.2, label=f"the {budget.budget} budget"),
        Patch(color=VERMILION, alpha=0.1, label=f"its last {p} epochs (patience)"),
    ]
    figures._legend_below(fig, handles)
    words = {"too small": "the budget looks too small", "generous": "a generous budget",
             "enough": "the budget was enough"}  # fmt: skip
    figures._title(fig, f"{label}: best epochs of its {len(fits)} full-budget fits: "
                        f"{words[budget.verdict]}")  # fmt: skip
    return fig


def _ticks(domain: object) -> list[tuple[float, str]]:
    """A parallel axis's labels, at their height from 0 to 1: a list's values, a range's ends
    and grid values (its middle where it has no grid)."""
    if isinstance(domain, list):
        return [(float(h), str(v)) for h, v in zip(health.unit(pd.Series(domain), domain), domain,
                                                    strict=True)]  # fmt: skip
    low, high = float(domain["low"]), float(domain["high"])  # type: ignore[index]
    grid = domain["grid"] or []  # type: ignore[index]
    if not grid:
        grid = [math.sqrt(low * high) if domain["log"] else (low + high) / 2]  # type: ignore[index]
    marks = sorted({low, high, *grid})
    heights = health.unit(pd.Series(marks), domain)
    return [(float(h), health.number(v)) for h, v in zip(heights, marks, strict=True)]


@figures._styled
def parallel(ev: Evidence, label: str) -> Figure:
    """Parallel coordinates of a search's best quarter of full-budget evaluations: one axis per
    tuned hyperparameter on its own scale (log where its range is, a list's values evenly), the
    score last, better up; each of the best quarter a line coloured by its score, every other
    configuration it tried a faint grey line behind (ending before the score axis where its
    score is not comparable: an early round, or pruned)."""
    frame, names = ev.evaluations(label), ev.tuned
    top = health.best_quarter(ev, label)
    comparable = frame["full_budget"] & frame["score"].notna()
    others = frame[~frame.index.isin(top.index) & ~frame["trial"].isin(top["trial"])]
    others = others.assign(comparable=comparable[others.index])
    others = others.drop_duplicates("trial", keep="last")  # a halving candidate's last round
    scores = frame.loc[comparable, "score"]
    fig, ax = figures._figure(height=3.6)
    if top.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no full-budget evaluation has a score", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        figures._title(fig, f"{label}: no best quarter to show")
        return fig
    low, high = float(scores.min()), float(scores.max())
    if math.isclose(low, high):
        low, high = low - 0.005, high + 0.005
    up = ev.higher_is_better

    def height(rows: object) -> np.ndarray:  # the score axis: better up
        s = (rows["score"].to_numpy(float) - low) / (high - low)  # type: ignore[index]
        return s if up else 1 - s

    rng = np.random.default_rng(0)  # the jitter of list values only: the same data, one picture

    def heights(rows: object) -> np.ndarray:  # one row per line, one column per axis
        columns = [health.unit(rows[name], ev.space[name])  # type: ignore[index]
                   + (rng.uniform(-0.025, 0.025, len(rows)) if isinstance(ev.space[name], list)
                      else 0.0)  # type: ignore[arg-type]
                   for name in names]  # fmt: skip
        return np.column_stack([*columns, height(rows)])

    xs = np.arange(len(names) + 1)
    grey = heights(others)
    for row, ok in zip(grey, others["comparable"], strict=True):
        ax.plot(xs if ok else xs[:-1], row if ok else row[:-1], color=FAINT, lw=0.8, zorder=1,
                antialiased=False)  # fmt: skip
    cmap = matplotlib.colormaps["viridis" if up else "viridis_r"]  # yellow: the better scores
    norm = matplotlib.colors.Normalize(low, high)  # the score axis's: a colour is a height
    lines = heights(top)
    for rank in range(len(top) - 1, -1, -1):  # the best drawn last, on top
        score = float(top["score"].iloc[rank])
        ax.plot(xs, lines[rank], color=cmap(norm(score)), lw=2.6 if rank == 0 else 1.8,
                zorder=4 if rank == 0 else 2, marker="o", ms=4,
                path_effects=OUTLINE if rank == 0 else None)  # fmt: skip
    for i, name in enumerate(names):
        ax.axvline(i, color="black", lw=0.8, zorder=0)
        for h, text in _ticks(ev.space[name]):
            ax.text(i - 0.08, h, text, ha="right", va="center", fontsize=9, zorder=5,
                    bbox={"fc": "white", "ec": "none", "pad": 0.5})  # fmt: skip
    ax.axvline(len(names), color="black", lw=0.8, zorder=0)
    for h in (0.0, 0.5, 1.0):
        value = low + (h if up else 1 - h) * (high - low)
        ax.text(len(names) + 0.05, h, f"{value:.3f}", ha="left", va="center", fontsize=9)
    heads = []
    for n in names:  # a long name on two lines (`learning_` over `rate`): the axes stay apart
        head = n.replace("_", "_\n", 1) if len(n) > 10 else n
        log = isinstance(ev.space[n], dict) and ev.space[n]["log"]
        heads.append(f"{head} (log)" if log else head)
    ax.set_xticks(xs, [*heads, "score\n(better up)"])
    ax.set_xlim(-0.45, len(names) + 0.45)
    ax.set_ylim(-0.06, 1.06)
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(axis="x", length=0)
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8,
                       label=_score_label(ev, label), pad=0.06)  # fmt: skip
    if not up:  # better up, as on the score axis
        bar.ax.invert_yaxis()
    colour = cmap(norm(float(top["score"].iloc[0]))) if len(top) else FAINT
    Line = matplotlib.lines.Line2D
    cut = int((~others["comparable"] & others["pruned"]).sum())
    early = int((~others["comparable"] & ~others["pruned"]).sum())
    short = " and ".join([f"{early} early-round"] * bool(early) + [f"{cut} pruned"] * bool(cut))
    handles = [
        Line([], [], color=colour, lw=1.8, marker="o", ms=4,
             label=f"the best quarter ({len(top)} of {int(comparable.sum())} full-budget)"),
        Line([], [], color=colour, lw=2.6, path_effects=OUTLINE,
             label=f"the best (trial {int(top['trial'].iloc[0])})" if len(top) else "the best"),
        Line([], [], color=FAINT, lw=0.8,
             label=f"every other configuration tried ({len(others)})"),
    ]  # fmt: skip
    if short:
        handles.append(Line([], [], ls="", label=f"short of the score axis: {short}"))
    figures._legend_below(fig, handles)
    figures._title(fig, f"{label}: its best quarter of full-budget evaluations across the tuned "
                        "hyperparameters")  # fmt: skip
    return fig

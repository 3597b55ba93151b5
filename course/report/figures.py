"""Figures, one function each: evidence in, matplotlib Figure out (Agg, one house style)."""

from __future__ import annotations

import io
import itertools

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.lines
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course.report import analysis
from course.report.evidence import Evidence
from course.report.tables import span
from course.space import EPOCHS, NAMES

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "hpo-course",
}
PALETTE = plt.get_cmap("tab10").colors
# One colour per search on the figures that overlay them all: tab10, then four of Dark2's, so
# eleven or more searches need not share a colour.
SERIES = (*PALETTE, "#1b9e77", "#e7298a", "#a6761d", "#66a61e")


def series(i: int) -> object:
    """The colour of the i-th search on an overlay figure."""
    return SERIES[i % len(SERIES)]


def colours(ev: Evidence) -> dict[str, object]:
    """Each clean-protocol search's colour, the same on every figure that tells them apart."""
    clean = ev.searches[ev.searches["protocol"] == "clean"]
    return {method: series(i) for i, method in enumerate(clean["method"])}


def _figure(width: float = 8, height: float = 4.2, **kwargs) -> tuple[Figure, object]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained", **kwargs)
    return fig, ax


def png(fig: Figure) -> bytes:
    """PNG without a timestamp or software tag: the same data gives the same bytes."""
    buffer = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def dataset_classes(ev: Evidence) -> Figure:
    fig, ax = _figure(6, 3)
    classes = ev.classes
    ax.bar(classes["name"], classes["rows"], color=PALETTE[: len(classes)])
    chance = classes["rows"].max() / classes["rows"].sum()
    ax.set_ylabel("customers")
    ax.set_title(
        f"{len(classes)} classes of {classes['rows'].min()} to {classes['rows'].max()} customers:"
        f" always guessing the largest is right {chance:.1%}"
    )
    return fig


def dataset_features(ev: Evidence) -> Figure:
    features = list(dict.fromkeys(ev.features["feature"]))
    cols = 4
    rows = -(-len(features) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(10, 2.2 * rows), layout="constrained")
    for ax, name in itertools.zip_longest(axes.flat, features):
        if name is None:
            ax.set_visible(False)
            continue
        hist = ev.features[ev.features["feature"] == name]
        ax.bar(
            hist["bin_low"],
            hist["rows"],
            width=hist["bin_high"] - hist["bin_low"],
            align="edge",
            color=PALETTE[0],
        )
        ax.set_title(name)
        ax.tick_params(labelsize=8)
    fig.suptitle("Feature distributions (income has a long right tail: scaling matters)")
    return fig


def grid_heatmap(ev: Evidence, method: str = "grid-loop") -> Figure:
    """Best validation accuracy over the two most-valued hyperparameters (others maximised)."""
    trials = ev.trials[ev.trials["method"] == method]
    # the two hyperparameters with the most values (fixed ones too, if fewer are tuned)
    x, y = sorted(NAMES, key=lambda n: -trials[n].nunique())[:2]
    table = trials.pivot_table(index=y, columns=x, values="val_accuracy", aggfunc="max")
    fig, ax = _figure(6.5, 3.6)
    image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for (i, j), value in np.ndenumerate(table.to_numpy()):
        bright = image.norm(value) > 0.6  # dark text on the yellow end of viridis
        ax.text(
            j,
            i,
            f"{value:.3f}",
            ha="center",
            va="center",
            fontsize=10,
            color="black" if bright else "white",
        )
    fig.colorbar(image, ax=ax, label="best validation accuracy")
    ax.set_title(
        f"{method}: best validation accuracy per {y} and {x}\n"
        "(each cell: the best over the other hyperparameters)",
        fontsize=10,
    )
    return fig


def fold_spread(ev: Evidence, slug: str) -> Figure:
    """Each configuration's held-out fold scores, configurations sorted by their mean."""
    methods = ev.methods(slug)
    fig, axes = _figure(9, 2.6 * len(methods), nrows=len(methods), squeeze=False)
    for ax, method in zip(axes[:, 0], methods, strict=True):
        folds = ev.trials[(ev.trials["method"] == method) & (ev.trials["fold"] >= 0)]
        means = folds.groupby("trial")["cv_fold_score"].mean().sort_values()
        for rank, trial in enumerate(means.index):
            scores = folds.loc[folds["trial"] == trial, "cv_fold_score"]
            ax.plot([rank] * len(scores), scores, "o", color=PALETTE[0], alpha=0.35, ms=4)
            ax.plot(rank, means[trial], "_", color="black", ms=12, mew=2)
        best = ev.result(method)
        ax.set_title(
            f"{method}: held-out fold scores; bar = their mean, the CV score "
            f"(chosen: {best['selection_score']:.3f})",
            fontsize=10,
        )
        ax.set_xlabel("configurations, sorted by CV score")
        ax.set_ylabel("held-out fold accuracy")
    return fig


def projections(ev: Evidence) -> Figure:
    """Per tuned hyperparameter, the values each sampling search tried: a grid repeats its few
    grid values, random and quasi-random searches spread over the whole range (log ranges on a
    log axis). One dot per configuration, jittered up and down to show how many."""
    methods, names = analysis.samplers(ev), ev.tuned
    cols = 2 if len(names) > 1 else 1
    rows = -(-len(names) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, (0.32 * len(methods) + 1.2)
                                                      * rows), layout="constrained",
                                 squeeze=False)  # fmt: skip
    rng = np.random.default_rng(0)  # the jitter only: the same data, the same picture
    tried = {m: analysis.configurations(ev, m) for m in methods}
    colour = colours(ev)
    for ax, name in itertools.zip_longest(axes.flat, names):
        if name is None:
            ax.set_visible(False)
            continue
        domain = ev.space[name]
        listed = isinstance(domain, list)  # its values side by side, else the range's scale
        for row, method in enumerate(methods):
            values = tried[method][name]
            if listed:
                x = values.map({v: i for i, v in enumerate(domain)}).to_numpy(float)
                x = x + rng.uniform(-0.15, 0.15, len(x))
            else:
                x = values.to_numpy(float)
            y = row + rng.uniform(-0.25, 0.25, len(values))
            ax.plot(x, y, "o", ms=3.5, alpha=0.6, color=colour.get(method, "grey"))
        if listed:
            ax.set_xticks(range(len(domain)), [str(v) for v in domain])
            ax.set_xlim(-0.5, len(domain) - 0.5)
        else:
            ax.axvspan(domain["low"], domain["high"], color="grey", alpha=0.08, lw=0)
            for point in domain["grid"] or []:
                ax.axvline(point, color="grey", ls=":", lw=0.8)
            if domain["log"]:  # labelled at its ends and grid values, not in powers of ten
                ax.set_xscale("log")
                ticks = sorted({domain["low"], domain["high"], *(domain["grid"] or [])})
                ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks(range(len(methods)), methods, fontsize=8)
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.grid(False, axis="y")
        scale = " (log scale)" if isinstance(domain, dict) and domain["log"] else ""
        ax.set_title(f"{name}{scale}", fontsize=10)
    fig.suptitle("What each search tried of every tuned hyperparameter (one dot per "
                 "configuration; shaded: the range, dotted: its grid values)",
                 fontsize=10)  # fmt: skip
    return fig


def best_so_far(ev: Evidence) -> Figure:
    """Best-so-far selection score against the number of evaluations (`analysis.anytime`),
    every search on the same axes, with the untuned baseline's score on its holdout for
    reference."""
    fig, ax = _figure(9, 4.4)
    for method, colour in colours(ev).items():
        curve = analysis.anytime(ev, method)
        ax.step(curve["evaluation"], curve["best"], where="post", color=colour, label=method)
    base = ev.baseline
    if base is not None:
        ax.axhline(base["selection_score"], color="black", ls="--", lw=1,
                   label="baseline (untuned), its holdout score")  # fmt: skip
    ax.set_xlabel("configurations evaluated (all folds of a CV score count once; a halving "
                  "candidate once per round)")  # fmt: skip
    ax.set_ylabel(f"best {ev.selection} so far")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)  # beside
    ax.set_title("Best-so-far selection score against evaluations (CV searches: mean over folds)")
    return fig


def hyperband_schedule(ev: Evidence, method: str = "kt-hyperband") -> Figure:
    """Each trial's epochs: a later round continues a parent's training where it stopped."""
    trials = ev.trials[ev.trials["method"] == method]
    trials = trials.sort_values(["bracket", "round", "trial"], ascending=[False, True, True])
    fig, ax = _figure(9, max(3.0, 0.16 * len(trials) + 1.2))
    for y, (_, t) in enumerate(trials.iterrows()):
        color = PALETTE[int(t["bracket"]) % 10]  # one colour per bracket
        ax.barh(
            y,
            t[EPOCHS] - t["initial_epoch"],
            left=t["initial_epoch"],
            color=color,
            alpha=0.25,
            height=0.8,
        )
        ax.barh(y, t["epochs_run"], left=t["initial_epoch"], color=color, height=0.8)
    for bracket in sorted(trials["bracket"].unique(), reverse=True):
        ax.barh(-10, 0, color=PALETTE[int(bracket) % 10], label=f"bracket {int(bracket)}")
    ax.set_ylim(-1, len(trials))
    ax.invert_yaxis()
    ax.set_yticks([])
    ax.set_xlabel("epoch (dark: trained before EarlyStopping; light: budget left unused)")
    ax.set_ylabel(f"{len(trials)} trials, by bracket and round")
    ax.legend(loc="lower right")
    ax.set_title(f"{method}: epochs given to each trial")
    return fig


def callback_curves(ev: Evidence, method: str = "grid-loop") -> Figure:
    """The best fit's learning curves, with the checkpointed epoch and the early stop marked."""
    result = ev.result(method)
    trials = ev.trials[ev.trials["method"] == method]
    chosen = (trials[list(NAMES)].astype(str) == result[list(NAMES)].astype(str)).all(axis=1)
    best = trials[chosen].iloc[0]  # the fit of the configuration the method selected
    curves = ev.curves[
        (ev.curves["method"] == method)
        & (ev.curves["trial"] == best["trial"])
        & (ev.curves["fold"] == best["fold"])
    ]
    fig, (acc, loss) = _figure(10, 3.8, ncols=2)
    for ax, metric in ((acc, "accuracy"), (loss, "loss")):
        for name, style in ((metric, "--"), (f"val_{metric}", "-")):
            curve = curves[curves["metric"] == name]
            ax.plot(curve["epoch"], curve["value"], style, label=name)
        ax.axvline(
            best["best_epoch"],
            color="green",
            lw=1.5,
            label=f"ModelCheckpoint keeps epoch {best['best_epoch']}",
        )
        ax.axvline(
            best["epochs_run"],
            color="red",
            lw=1.5,
            ls=":",
            label=f"EarlyStopping stops at {best['epochs_run']}",
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{method}: the best fit (trial {best['trial']}, budget {best[EPOCHS]} epochs)"
        f", test accuracy of its checkpoint {result['test_accuracy']:.3f}"
    )
    return fig


def anytime(ev: Evidence) -> Figure:
    """Best-so-far selection score against seconds and against epochs trained, every search on
    the same axes; a diamond marks where its final model landed on the untouched test set."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained", sharey=True)
    for method, colour in colours(ev).items():
        curve, result = analysis.anytime(ev, method), ev.result(method)
        for ax, x in zip(axes, ("seconds", "epochs_run"), strict=True):
            ax.step(curve[x], curve["best"], where="post", color=colour, label=method)
            ax.plot(curve[x].iloc[-1], result["test_accuracy"], "D", color=colour,
                    markersize=6, markeredgecolor="black", markeredgewidth=0.5)  # fmt: skip
    for ax, x in zip(axes, ("seconds of training so far", "epochs trained so far"), strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(f"{x} (log scale)")
    axes[0].set_ylabel("best selection score so far (line); test accuracy (◆)")
    fig.legend(
        *axes[1].get_legend_handles_labels(),
        loc="outside lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )  # below the panels: no curve or diamond under it
    fig.suptitle("Any-time performance: how fast each search finds its best, and where it ends "
                 "on the test set")  # fmt: skip
    return fig


def paired(ev: Evidence) -> Figure:
    """The difference of every two searches on the same test rows, with its p-value."""
    pairs = analysis.paired(ev)
    labels = list(ev.searches["method"])
    n = len(labels)
    diff, text = np.full((n, n), np.nan), np.full((n, n), "", dtype=object)
    for _, r in pairs.iterrows():
        i, j = labels.index(r["a"]), labels.index(r["b"])
        star = "*" if r["p_holm"] < analysis.ALPHA else ""
        diff[i, j], diff[j, i] = 100 * r["difference"] + 0.0, -100 * r["difference"] + 0.0
        text[i, j] = text[j, i] = f"p={r['p_value']:.2f}{star}"
    fig, ax = _figure(1.0 * n + 3, 0.75 * n + 1.6)
    limit = 1.6 * max(3.0, float(np.nanmax(np.abs(diff))))  # pale enough to read the text
    image = ax.imshow(diff, cmap="RdBu", vmin=-limit, vmax=limit)
    for i, j in itertools.product(range(n), range(n)):
        if i != j:
            ax.text(j, i, f"{diff[i, j]:+.1f}\n{text[i, j]}", ha="center", va="center",
                    fontsize=7)  # fmt: skip
    ax.set_xticks(range(n), labels, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="row minus column, accuracy points", shrink=0.8)
    ax.set_title("Same test rows, row minus column: McNemar p (* significant after Holm)",
                 fontsize=10)  # fmt: skip
    return fig


def optimism(ev: Evidence) -> Figure:
    """The optimism gap of every search: selection score minus untouched test accuracy."""
    frame = analysis.optimism(ev).iloc[::-1]
    fig, ax = _figure(8, 0.42 * len(frame) + 1.5)
    y = np.arange(len(frame))
    gap = 100 * frame["gap"]
    colors = [PALETTE[3] if p == "seed" else PALETTE[0] for p in frame["protocol"]]
    ax.barh(y, gap, color=colors)
    half = 50 * (frame["test_ci_high"] - frame["test_ci_low"])  # the test score's own noise
    half[frame["protocol"] == "seed"] = np.nan
    ax.errorbar(gap, y, xerr=half, fmt="none", ecolor="grey", capsize=3)
    for yi, (g, protocol) in enumerate(zip(gap, frame["protocol"], strict=True)):
        if protocol == "seed":
            ax.annotate("chosen on the test rows: no untouched data left to show its gap",
                        (max(g, 0), yi), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=8, color=PALETTE[3])  # fmt: skip
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, frame["method"])
    ax.set_xlabel("selection score minus test accuracy, points (grey: the test score's 95 % "
                  "half-width)")  # fmt: skip
    ax.set_title("Optimism gap: how much the selection score flattered each pick")
    return fig


def cv_study(ev: Evidence) -> Figure:
    """Per scheme: each configuration's score against its models' mean test accuracy."""
    summary, configs = analysis.cv_study(ev)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(summary),
            figsize=(3.4 * len(summary) + 1, 3.6),
            layout="constrained",
            sharex=True,
            sharey=True,
            squeeze=False,
        )
    for ax, (i, row) in zip(axes[0], summary.iterrows(), strict=True):
        points = configs[configs["scheme"] == row["scheme"]]
        ax.scatter(points["score"], points["test"], s=16, color=series(i), alpha=0.8)
        ax.set_title(f"{row['variant']}: Spearman {row['spearman']:+.2f}")
        ax.set_xlabel("scheme's score of the configuration")
    axes[0][0].set_ylabel("mean test accuracy of its models")
    fig.suptitle("Does the validation scheme rank configurations the way the test set does?")
    return fig


def scoreboard(ev: Evidence) -> Figure:
    """Test accuracy with its 95 % interval, beside the score each method selected on; the
    untuned baseline at the bottom, apart, with a line through its test accuracy."""
    base = ev.baseline
    results = ev.searches.iloc[::-1]
    offset = 0 if base is None else 1.5  # the baseline's row, set apart below the searches
    fig, ax = _figure(8, 0.45 * len(results) + 1.4 + 0.45 * bool(offset))
    y = np.arange(len(results)) + offset
    err = [
        results["test_accuracy"] - results["test_ci_low"],
        results["test_ci_high"] - results["test_accuracy"],
    ]
    ax.errorbar(
        results["test_accuracy"],
        y,
        xerr=err,
        fmt="o",
        color=PALETTE[0],
        capsize=3,
        label="test accuracy, 95 % interval",
    )
    ticks, labels = list(y), list(results["method"])
    if ev.higher_is_better:  # an accuracy: on the same axis
        ax.plot(results["selection_score"], y, "x", color=PALETTE[3], label="selection score")
    if base is not None:
        ax.errorbar(base["test_accuracy"], 0, xerr=[[base["test_accuracy"] - base["test_ci_low"]],
                    [base["test_ci_high"] - base["test_accuracy"]]], fmt="s", color="grey",
                    capsize=3, label="untuned baseline (not a search)")  # fmt: skip
        ax.axvline(base["test_accuracy"], color="grey", ls="--", lw=0.8)
        ticks, labels = [0, *ticks], ["baseline (untuned)", *labels]
    chance = ev.classes["rows"].max() / ev.classes["rows"].sum()
    ax.axvline(chance, color="grey", ls=":", label=f"majority class {chance:.3f}")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("accuracy")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    ax.set_title("Untouched test set: every search's final model, with its 95 % interval")
    return fig


def _value_axis(ax: object, domain: object, axis: str = "y") -> None:
    """An axis for one hyperparameter's values: a list's values side by side (plotted at their
    positions), a range on its own scale, log where the range is."""
    ticks = getattr(ax, f"set_{axis}ticks")
    if isinstance(domain, list):
        ticks(range(len(domain)), [str(v) for v in domain])
        getattr(ax, f"set_{axis}lim")(-0.5, len(domain) - 0.5)
        return
    low, high = domain["low"], domain["high"]
    if domain["log"]:  # labelled at its ends and grid values, not in powers of ten
        getattr(ax, f"set_{axis}scale")("log")
        marks = sorted({low, high, *(domain["grid"] or [])})
        ticks(marks, [f"{t:g}" for t in marks])
        getattr(ax, f"{axis}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())
        margin = (high / low) ** 0.05
        getattr(ax, f"set_{axis}lim")(low / margin, high * margin)  # a point at an end shows
    else:
        margin = 0.05 * (high - low)
        getattr(ax, f"set_{axis}lim")(low - margin, high + margin)


def _positions(values: object, domain: object) -> np.ndarray:
    """Where values go on `_value_axis`: a list's by their position in it."""
    if isinstance(domain, list):
        return values.map({v: i for i, v in enumerate(domain)}).to_numpy(float)  # type: ignore
    return values.to_numpy(float)  # type: ignore[attr-defined]


def bayesian_proposals(ev: Evidence, method: str = analysis.BAYESIAN) -> Figure:
    """Every trial's value of each tuned hyperparameter against its trial number, coloured by
    its score: the random initial points first, then the Gaussian process's proposals, which
    move from exploring the space to exploiting where it predicts good scores."""
    frame, names = analysis.proposals(ev, method), ev.tuned
    cols = 2 if len(names) in (2, 4) else min(3, len(names))  # no more than a page's width
    rows = -(-len(names) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols + 1.0, 2.0 * rows + 1.0),
                                 layout="constrained", squeeze=False)  # fmt: skip
    cmap = "viridis" if ev.higher_is_better else "viridis_r"  # yellow: the better scores
    norm = matplotlib.colors.Normalize(frame["score"].min(), frame["score"].max())
    initial = int(frame["initial"].sum())
    for ax, name in itertools.zip_longest(axes.flat, names):
        if name is None:
            ax.set_visible(False)
            continue
        domain = ev.space[name]
        y = _positions(frame[name], domain)
        for first, marker in ((True, "s"), (False, "o")):
            part = frame["initial"].to_numpy() == first
            ax.scatter(frame["trial"][part], y[part], c=frame["score"][part], cmap=cmap,
                       norm=norm, marker=marker, s=38, edgecolors="black", linewidths=0.6,
                       zorder=3)  # fmt: skip
        if 0 < initial < len(frame):
            ax.axvline(initial - 0.5, color="grey", ls="--", lw=1)
        _value_axis(ax, domain)
        if isinstance(domain, list):
            ax.grid(False, axis="y")
        ax.set_xlim(-0.7, len(frame) - 0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        scale = " (log scale)" if isinstance(domain, dict) and domain["log"] else ""
        ax.set_title(f"{name}{scale}", fontsize=10)
        ax.set_xlabel("trial", fontsize=9)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes,
                 label=f"the trial's {ev.selection}", shrink=0.9)  # fmt: skip
    handles = [
        matplotlib.lines.Line2D([], [], ls="", marker="s", mfc="white", mec="black",
                                label=f"random initial point ({initial})"),
        matplotlib.lines.Line2D([], [], ls="", marker="o", mfc="white", mec="black",
                                label=f"Gaussian-process proposal ({len(frame) - initial})"),
        matplotlib.lines.Line2D([], [], color="grey", ls="--", lw=1,
                                label="where the Gaussian process takes over"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=2 if cols < 3 else 3,
               fontsize=8, frameon=False)  # fmt: skip
    fig.suptitle(f"{method}: what each trial tried, in trial order, coloured by its score",
                 fontsize=10)  # fmt: skip
    return fig


def halving_rounds(ev: Evidence, method: str = analysis.HALVING) -> Figure:
    """Each candidate's mean CV score in every round it reached, a line to the next round for
    those that went on; the winner is the best of the last round, whatever earlier rounds
    scored."""
    scores = ev.selection_trials(method)
    rounds = analysis.halving_rounds(ev, method).dropna(subset=["candidates"])
    winner, last = analysis.halving_winner(ev, method), int(scores["rung"].max())
    fig, ax = _figure(8, 4.4)
    for trial, path in scores.groupby("trial"):
        path = path.sort_values("rung")
        won = trial == winner
        color = PALETTE[3] if won else PALETTE[0]
        ax.plot(path["rung"], path["score"], "-", color=color, lw=2.2 if won else 1,
                alpha=1 if won else 0.5, zorder=3 if won else 2)  # fmt: skip
        went_on = path["rung"] < path["rung"].max()  # filled: it went on; hollow: it stopped
        ax.plot(path["rung"][went_on], path["score"][went_on], "o", color=color, ms=6,
                zorder=3)  # fmt: skip
        if not won:
            ax.plot(path["rung"][~went_on], path["score"][~went_on], "o", mfc="white",
                    mec=color, ms=6, zorder=3)  # fmt: skip
    top = scores[(scores["trial"] == winner) & (scores["rung"] == last)]
    ax.plot(top["rung"], top["score"], "*", color=PALETTE[3], ms=16, mec="black", zorder=4)
    ticks = [f"round {int(r['round'])}\n{int(r['candidates'])} × "
             f"{span(r['epochs_low'], r['epochs_high'])} epochs"
             for _, r in rounds.iterrows()]  # fmt: skip
    ax.set_xticks(list(rounds["round"].astype(int)), ticks)
    ax.set_xlim(-0.3, last + 0.3)
    ax.set_xlabel("round (candidates × the epochs each got)")
    ax.set_ylabel(f"mean CV {ev.selection}")
    handles = [
        matplotlib.lines.Line2D([], [], color=PALETTE[0], marker="o", label="went on"),
        matplotlib.lines.Line2D([], [], color=PALETTE[0], marker="o", mfc="white", ls="",
                                label="stopped after this round"),
        matplotlib.lines.Line2D([], [], color=PALETTE[3], marker="*", ms=12, mec="black",
                                lw=2.2, label=f"winner: trial {winner}"),
    ]  # fmt: skip
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28),
              ncol=3, frameon=False)  # fmt: skip
    ax.set_title(f"{method}: each candidate's mean CV score per round;\nthe winner is the "
                 f"best of the last round (round {last}) only", fontsize=10)  # fmt: skip
    return fig


def optuna_pruning(ev: Evidence, method: str = analysis.PRUNING) -> Figure:
    """Every trial's monitored validation score by epoch, as the pruner judged it: pruned
    trials end where they were stopped, finished ones where EarlyStopping or the budget
    ended them."""
    curves = analysis.pruning_curves(ev, method)
    monitor = ev.provenance["config"]["training"]["monitor"]
    trials = analysis.pruned(ev, method)
    chosen = analysis.chosen_trials(ev, method)  # never a pruned trial
    fig, ax = _figure(8, 4.4)
    for _, curve in curves.groupby("trial"):
        cut = bool(curve["pruned"].iloc[0])
        color = PALETTE[3] if cut else PALETTE[0]
        ax.plot(curve["epoch"], curve["value"], "-", color=color, lw=1, alpha=0.6,
                marker="." if len(curve) == 1 else None)  # fmt: skip
        if cut:
            ax.plot(curve["epoch"].iloc[-1], curve["value"].iloc[-1], "x", color=color, ms=7,
                    mew=1.5)  # fmt: skip
    for trial in chosen[:1]:
        curve = curves[curves["trial"] == trial]
        ax.plot(curve["epoch"], curve["value"], "-", color="black", lw=2.2, zorder=3)
    n_cut = int(trials["pruned"].sum())
    handles = [
        matplotlib.lines.Line2D([], [], color=PALETTE[0],
                                label=f"finished ({len(trials) - n_cut})"),
        matplotlib.lines.Line2D([], [], color=PALETTE[3], marker="x",
                                label=f"pruned ({n_cut}), × where stopped"),
    ]  # fmt: skip
    if chosen:
        label = f"chosen: trial {chosen[0]}"
        handles.append(matplotlib.lines.Line2D([], [], color="black", lw=2.2, label=label))
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=3, frameon=False)  # fmt: skip
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{monitor} (what the pruner judged)")
    ax.set_title(f"{method}: each trial's {monitor} by epoch; {n_cut} of {len(trials)} "
                 "trials pruned", fontsize=10)  # fmt: skip
    return fig

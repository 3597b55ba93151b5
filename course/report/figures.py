"""Figures, one function each: evidence in, matplotlib Figure out (Agg, one house style).

Every figure is drawn at the size the site shows it and saved through `png`, which refuses a
figure whose text the page would show smaller than `MIN_PT`: the site's content column is
`DISPLAY_PX` wide, and a wider PNG is shrunk to it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import struct
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font

from course.report import analysis
from course.report.conclusions import value
from course.report.evidence import Evidence
from course.report.tables import span
from course.space import EPOCHS, NAMES

# The width of the site's content column, where every figure is shown (an <img> at Material's
# `max-width: 100%`): measured in Chromium on the built site at a 1280 x 900 viewport, both
# sidebars shown, as the width of `.md-content__inner` (`.md-typeset`), in CSS px: 688 on
# every page with a figure. Measure again when the theme or docs/assets/extra.css changes it.
DISPLAY_PX = 688
CSS_PX_PER_INCH = 96  # CSS's fixed ratio: a figure `DISPLAY_PX / 96` inches wide is shown 1:1
MIN_PT = 9.0  # no text smaller than this, in CSS points, at the size the page shows it
# inches: every figure is drawn at its displayed width, less a few pixels for `png`'s padding
WIDTH = (DISPLAY_PX - 8) / CSS_PX_PER_INCH
# PNG pixels per inch: a figure of WIDTH inches is ~1.7x its displayed width (sharp on a 2x
# screen and in the lightbox), within the 2x that keeps it shown at half its pixels or more.
DPI = 160
MAX_PNG_PX = 2 * DISPLAY_PX
PAD = 0.02  # inches of white around what `png` crops to

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",  # opaque: black text stays readable on the site's dark scheme
    "savefig.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "figure.titlesize": 11,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,  # grid lines behind bars and markers
    "grid.alpha": 0.3,
    "svg.hashsalt": "hpo-course",
}

# Okabe & Ito's colour-blind-safe palette (black apart), for everything that is not a method:
# classes, schemes, brackets, train/validation, kept/pruned.
BLUE, ORANGE, GREEN, VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW = "#56B4E9", "#CC79A7", "#F0E442"
PALETTE = (BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW)
# One colour per search slug (Paul Tol's "muted" scheme: nine colour-blind-safe colours, one
# for each registered search), in course order, dark and light alternating so that neighbours
# in that order differ most; a slug's variants share its colour and differ by line style.
METHOD_COLOURS = ("#332288", "#CC6677", "#44AA99", "#DDCC77", "#88CCEE", "#882255", "#117733",
                  "#AA4499", "#999933")  # fmt: skip
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("D", "s", "^", "v")  # a variant's marker where a point stands for it
SEED_GREY = "#999999"  # the seed-protocol run: selected on the test rows, not a search
SEED_TEXT = "#595959"  # grey words about it, dark enough to read
SEED_NOTE = "not a search (selected on the test rows)"
BASELINE = "black"  # the untuned baseline: black, dashed where it is a line


class IllegibleFigure(ValueError):
    """A figure the page would show with text too small to read, or shrunk below half its
    pixels: a drawing defect (or a study too large for the figure), not bad input."""


def series(i: int) -> str:
    """The i-th colour of a figure's own categories (not methods: `colours` has those)."""
    return PALETTE[i % len(PALETTE)]


def styles(ev: Evidence) -> dict[str, dict[str, str]]:
    """Each search's colour, line style and marker, the same on every figure: one colour per
    slug (in course order), a variant's line style and marker by its place among the slug's
    variants, and the seed-protocol run grey."""
    searches = ev.searches
    order = [] if ev.catalog is None else list(ev.catalog.loc[ev.catalog["kind"] == "search",
                                                               "slug"])  # fmt: skip
    order += [s for s in dict.fromkeys(searches["slug"]) if s not in order]
    found: dict[str, dict[str, str]] = {}
    for slug, rows in searches.groupby("slug", sort=False):
        colour = METHOD_COLOURS[order.index(slug) % len(METHOD_COLOURS)]
        clean = rows[rows["protocol"] == "clean"]
        for k, method in enumerate(clean["method"]):
            found[method] = {"color": colour, "ls": LINESTYLES[k % len(LINESTYLES)],
                             "marker": MARKERS[k % len(MARKERS)]}  # fmt: skip
        for method in rows.loc[rows["protocol"] != "clean", "method"]:
            found[method] = {"color": SEED_GREY, "ls": "-", "marker": "o"}
    return {method: found[method] for method in searches["method"]}


def colours(ev: Evidence) -> dict[str, str]:
    """Each search's colour (`styles`): the one method-to-colour map of every figure."""
    return {method: style["color"] for method, style in styles(ev).items()}


def _text_width(text: str, size: float) -> float:
    """The width of one line of `text` in the house font at `size` points, in points."""
    font = get_font(findfont(FontProperties(size=size)))
    font.set_size(size, 72)  # at 72 dpi a pixel is a point
    font.set_text(text, 0.0)
    return font.get_width_height()[0] / 64  # in 26.6 fixed point


def _wrap(text: str, width: float = 0.96 * WIDTH, size: float = 11) -> str:
    """`text` in lines that fit `width` inches at `size` points, measured in the font that
    draws them (a title is never clipped, nor widens the PNG); its own line breaks kept."""
    lines = []
    for part in text.split("\n"):
        line = ""
        for word in part.split(" "):
            longer = f"{line} {word}" if line else word
            if line and _text_width(longer, size) > width * 72:
                lines.append(line)
                longer = word
            line = longer
        lines.append(line)
    return "\n".join(lines)


def _title(fig: Figure, text: str) -> None:
    """The figure's title, centred on the whole figure (an axes title is centred on its axes,
    and spills past the figure's edge when the axes sits right of wide tick labels)."""
    fig.suptitle(_wrap(text))


def _styled(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under the house style: matplotlib reads rcParams when each artist is made (a
    title, a legend), not when the figure is."""

    @functools.wraps(draw)
    def styled(*args: Any, **kwargs: Any) -> Figure:
        with plt.rc_context(STYLE):
            return draw(*args, **kwargs)

    return styled


def _figure(width: float = WIDTH, height: float = 4.2, **kwargs) -> tuple[Figure, object]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained", **kwargs)
    return fig, ax


def _legend_below(fig: Figure, handles: list, ncol: int = 2) -> None:
    """A legend under the panels, off every curve and bar."""
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, frameon=False)


@contextlib.contextmanager
def _texts_drawn() -> Iterator[list[tuple[str, float]]]:
    """Every text Agg draws meanwhile, with its size in points: exactly what a PNG shows
    (tick labels out of view, empty titles and hidden artists are never drawn)."""
    drawn: list[tuple[str, float]] = []
    original = RendererAgg.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        drawn.append((s, prop.get_size_in_points()))
        return original(self, gc, x, y, s, prop, angle, ismath, mtext)

    RendererAgg.draw_text = draw_text  # type: ignore[method-assign]
    try:
        yield drawn
    finally:
        RendererAgg.draw_text = original  # type: ignore[method-assign]


def png_width(data: bytes) -> int:
    """A PNG's width in pixels (its IHDR chunk)."""
    return struct.unpack(">I", data[16:20])[0]


def shown_pt(size: float, width_px: int, dpi: float = DPI) -> float:
    """How big a text of `size` points in a PNG `width_px` wide saved at `dpi` looks on the
    page, in CSS points: `size * dpi / 72` pixels, shrunk with the image to the column (an
    image narrower than it is shown pixel for pixel), at 96 CSS px to the inch."""
    return size * dpi / CSS_PX_PER_INCH * min(1.0, DISPLAY_PX / width_px)


def check_legible(data: bytes, texts: list[tuple[str, float]], dpi: float = DPI) -> None:
    """Refuse a PNG the page would show with a text under `MIN_PT`, or shrunk below half its
    pixel width; the message names every text too small."""
    width = png_width(data)
    small = sorted({(round(shown_pt(pt, width, dpi), 1), s) for s, pt in texts
                    if s.strip() and shown_pt(pt, width, dpi) < MIN_PT})  # fmt: skip
    problems = [f"{width} px wide: over {MAX_PNG_PX} px, it is shown at under half its "
                "pixels"] if width > MAX_PNG_PX else []  # fmt: skip
    problems += [f"{s.strip()[:60]!r} is shown at {pt:g} pt" for pt, s in small[:8]]
    if len(small) > 8:
        problems.append(f"and {len(small) - 8} more texts")
    if problems:
        raise IllegibleFigure(f"figure unreadable at the page's {DISPLAY_PX} px (text under "
                              f"{MIN_PT:g} pt): " + "; ".join(problems))  # fmt: skip


def png(fig: Figure) -> bytes:
    """PNG without a timestamp or software tag: the same data gives the same bytes. Cropped to
    what is drawn (nothing clipped), on white, and refused if the page would show it
    unreadable (`check_legible`)."""
    buffer = io.BytesIO()
    with plt.rc_context(STYLE), _texts_drawn() as texts:
        fig.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight",
                    pad_inches=PAD, facecolor="white")  # fmt: skip
    plt.close(fig)
    data = buffer.getvalue()
    check_legible(data, texts)
    return data


@_styled
def dataset_classes(ev: Evidence) -> Figure:
    fig, ax = _figure(height=3.0)
    classes = ev.classes
    ax.bar(classes["name"].astype(str), classes["rows"], color=BLUE)
    chance = classes["rows"].max() / classes["rows"].sum()
    ax.set_ylabel("rows")
    if len(classes) > 6 or classes["name"].astype(str).str.len().max() > 12:
        ax.tick_params(axis="x", labelrotation=30)
    _title(fig, f"{len(classes)} classes of {classes['rows'].min()} to {classes['rows'].max()} "
                f"rows: always guessing the largest is right {chance:.1%}")  # fmt: skip
    return fig


MAX_FEATURE_PANELS = 24  # a wider table (digits' 64 pixels) shows its first ones


@_styled
def dataset_features(ev: Evidence) -> Figure:
    every = list(dict.fromkeys(ev.features["feature"]))
    features = every[:MAX_FEATURE_PANELS]
    cols = 3  # three to the page's width: their tick labels stay apart
    rows = -(-len(features) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 1.75 * rows + 0.5),
                                 layout="constrained", squeeze=False)  # fmt: skip
    for ax, name in itertools.zip_longest(axes.flat, features):
        if name is None:
            ax.set_visible(False)
            continue
        hist = ev.features[ev.features["feature"] == name]
        categories = hist["category"].fillna("").astype(str)
        numeric = (categories == "").all()
        ax.bar(hist["bin_low"], hist["rows"],
               width=(hist["bin_high"] - hist["bin_low"]) * (1 if numeric else 0.8),
               align="edge" if numeric else "center", color=BLUE)  # fmt: skip
        ax.set_title(name, fontsize=10)
        if not numeric:  # a categorical feature: a bar per category, named
            ax.set_xticks(hist["bin_low"], [c[:8] for c in categories],
                          rotation=0 if len(categories) <= 3 else 45)  # fmt: skip
        else:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3, integer=True))
    shown = "" if len(every) == len(features) else f", the first {len(features)} of {len(every)}"
    _title(fig, f"Feature distributions (rows per bin, or per category{shown}): their scales "
                "differ, which is why every method standardises the numeric ones")  # fmt: skip
    return fig


@_styled
def grid_heatmap(ev: Evidence, method: str = "grid-loop") -> Figure:
    """Best validation accuracy over the two most-valued hyperparameters (others maximised)."""
    trials = ev.trials[ev.trials["method"] == method]
    # the two hyperparameters with the most values (fixed ones too, if fewer are tuned)
    x, y = sorted(NAMES, key=lambda n: -trials[n].nunique())[:2]
    table = trials.pivot_table(index=y, columns=x, values="val_accuracy", aggfunc="max")
    fig, ax = _figure(height=3.4)
    image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(len(table.columns)), [f"{x} = {value(c)}" for c in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{y} = {value(i)}" for i in table.index])
    for (i, j), score in np.ndenumerate(table.to_numpy()):
        bright = image.norm(score) > 0.6  # dark text on the yellow end of viridis
        ax.text(j, i, f"{score:.3f}", ha="center", va="center", fontsize=10,
                color="black" if bright else "white")  # fmt: skip
    fig.colorbar(image, ax=ax, label="best validation accuracy")
    _title(fig, f"{method}: best validation accuracy per {y} and {x} (each cell: the best "
                "over the other hyperparameters)")  # fmt: skip
    return fig


def _configurations(rows: object, names: list[str]) -> tuple[str, dict[int, str]]:
    """A header naming `names` and, per trial, a row of its values beneath it, in aligned
    columns (for a monospace font): configurations read by their hyperparameters, not by an
    index. A long name takes two lines (`learning_` over `rate`)."""
    first = rows.groupby("trial")[names].first()  # type: ignore[attr-defined]
    cells = {n: [value(v) for v in first[n]] for n in names}
    heads = [(n[: n.index("_") + 1], n[n.index("_") + 1 :]) if "_" in n else ("", n)
             for n in names]  # fmt: skip
    widths = [max(len(h[0]), len(h[1]), *(len(c) for c in cells[n]))
              for n, h in zip(names, heads, strict=True)]  # fmt: skip
    header = "\n".join(" ".join(h[k].rjust(w) for h, w in zip(heads, widths, strict=True))
                       for k in (0, 1))  # fmt: skip
    labels = {int(t): " ".join(cells[n][i].rjust(w) for n, w in zip(names, widths, strict=True))
              for i, t in enumerate(first.index)}  # fmt: skip
    return header, labels


@_styled
def fold_spread(ev: Evidence, slug: str) -> Figure:
    """Each configuration's held-out fold scores (one row each, named by its hyperparameters),
    configurations sorted by their mean, the best at the top."""
    methods = ev.methods(slug)
    runs = [ev.trials[(ev.trials["method"] == m) & (ev.trials["fold"] >= 0)] for m in methods]
    sizes = [folds["trial"].nunique() for folds in runs]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(methods), 1, sharex=True, squeeze=False,
                                 figsize=(WIDTH, 0.19 * sum(sizes) + 0.85 * len(methods) + 0.9),
                                 height_ratios=[n + 4.5 for n in sizes],
                                 layout="constrained")  # fmt: skip
    names = ev.tuned or list(NAMES[:2])
    for ax, method, folds in zip(axes[:, 0], methods, runs, strict=True):
        means = folds.groupby("trial")["cv_fold_score"].mean().sort_values()
        header, labels = _configurations(folds, names)
        for rank, trial in enumerate(means.index):
            scores = folds.loc[folds["trial"] == trial, "cv_fold_score"]
            ax.plot(scores, [rank] * len(scores), "o", color=BLUE, alpha=0.45, ms=4)
            ax.plot(means[trial], rank, "|", color="black", ms=11, mew=2)
        ax.set_yticks(range(len(means)), [labels[int(t)] for t in means.index],
                      fontfamily="monospace")  # fmt: skip
        ax.tick_params(axis="y", length=0, pad=6)
        ax.set_ylim(-0.6, len(means) - 0.4)
        ax.grid(False, axis="y")
        ax.annotate(header, (0, 1), xycoords="axes fraction", xytext=(-6, 3),
                    textcoords="offset points", ha="right", va="bottom",
                    fontfamily="monospace", fontsize=9)  # fmt: skip
        best = ev.result(method)
        ax.set_title(f"{method} (its pick's CV score: {best['selection_score']:.3f})",
                     fontsize=10, pad=30)  # above the header  # fmt: skip
    fig.supxlabel(_wrap("held-out fold accuracy (dots: one per fold; bar: their mean, the CV "
                        "score)", size=10), fontsize=10)  # fmt: skip
    _title(fig, "Every configuration's held-out fold scores, sorted by their mean (the best at "
                "the top of each run)")  # fmt: skip
    return fig


@_styled
def projections(ev: Evidence) -> Figure:
    """Per tuned hyperparameter, the values each sampling search tried: a grid repeats its few
    grid values, random and quasi-random searches spread over the whole range (log ranges on a
    log axis). One dot per configuration, jittered up and down to show how many."""
    methods, names = analysis.samplers(ev), ev.tuned
    cols = 2 if len(names) > 1 else 1
    rows = -(-len(names) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, (0.24 * len(methods) + 0.8) * rows
                                                      + 0.6), layout="constrained",
                                 sharey=True, squeeze=False)  # fmt: skip
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
            ax.plot(x, y, "o", ms=3.5, alpha=0.7, color=colour.get(method, SEED_GREY))
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
            else:
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.set_yticks(range(len(methods)), methods)
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.grid(False, axis="y")
        scale = " (log scale)" if isinstance(domain, dict) and domain["log"] else ""
        ax.set_title(f"{name}{scale}", fontsize=10)
    _title(fig, "What each search tried of every tuned hyperparameter (one dot per "
                "configuration; shaded: the range, dotted: its grid values)")  # fmt: skip
    return fig


@_styled
def best_so_far(ev: Evidence) -> Figure:
    """Best-so-far selection score against the number of evaluations (`analysis.anytime`),
    every search on the same axes, with the untuned baseline's score on its holdout for
    reference."""
    fig, ax = _figure(height=5.6)
    style = styles(ev)
    for method in ev.clean_searches:
        curve = analysis.anytime(ev, method)
        ax.step(curve["evaluation"], curve["best"], where="post", label=method, lw=1.6,
                color=style[method]["color"], ls=style[method]["ls"])  # fmt: skip
    base = ev.baseline
    if base is not None:
        ax.axhline(base["selection_score"], color=BASELINE, ls="--", lw=1,
                   label="baseline (untuned), its holdout score")  # fmt: skip
    ax.set_xlabel(_wrap("configurations evaluated (all folds of a CV score count once; a "
                        "halving candidate once per round)", 0.8 * WIDTH, 10))  # fmt: skip
    ax.set_ylabel(f"best {ev.selection} so far")
    _legend_below(fig, ax.get_legend_handles_labels()[0])
    _title(fig, "Best-so-far selection score against evaluations (CV searches: mean over "
                "folds)")  # fmt: skip
    return fig


@_styled
def hyperband_schedule(ev: Evidence, method: str = "kt-hyperband") -> Figure:
    """Each trial's epochs: a later round continues a parent's training where it stopped. The
    rows are grouped by bracket and round, and named so on the axis (no legend over a bar)."""
    trials = ev.trials[ev.trials["method"] == method]
    trials = trials.sort_values(["bracket", "round", "trial"], ascending=[False, True, True])
    fig, ax = _figure(height=max(3.0, 0.17 * len(trials) + 1.3))
    brackets = sorted(trials["bracket"].unique(), reverse=True)
    for y, (_, t) in enumerate(trials.iterrows()):
        color = series(brackets.index(t["bracket"]))  # one colour per bracket
        ax.barh(y, t[EPOCHS] - t["initial_epoch"], left=t["initial_epoch"], color=color,
                alpha=0.25, height=0.8)  # fmt: skip
        ax.barh(y, t["epochs_run"], left=t["initial_epoch"], color=color, height=0.8)
    ax.set_ylim(-0.6, len(trials) - 0.4)
    ax.invert_yaxis()
    position = np.arange(len(trials))
    groups = trials.assign(y=position).groupby(["bracket", "round"], sort=False)["y"]
    ticks = [(float(rows.mean()), f"bracket {int(b)}, round {int(r)} ({len(rows)})")
             for (b, r), rows in groups]  # fmt: skip
    ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks])
    ax.tick_params(axis="y", length=0)
    ax.grid(False, axis="y")
    ax.set_xlabel("epoch (dark: trained before EarlyStopping; light: budget left unused)")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    _title(fig, f"{method}: the epochs of each of its {len(trials)} trials, by bracket and "
                "round")  # fmt: skip
    return fig


@_styled
def callback_curves(ev: Evidence, method: str = "grid-loop") -> Figure:
    """The best fit's learning curves, with the checkpointed epoch and the early stop marked."""
    result = ev.result(method)
    best, curves = analysis.shown_fit(ev, method)  # the text beside it describes the same fit
    early = analysis.stopped_early(best, int(ev.provenance["config"]["training"]["patience"]))
    fig, (acc, loss) = _figure(height=3.6, ncols=2)
    for ax, metric in ((acc, "accuracy"), (loss, "loss")):
        for name, style, colour in ((metric, "--", ORANGE), (f"val_{metric}", "-", BLUE)):
            ax.plot(curves.index, curves[name], style, color=colour, lw=1.6)
        ax.axvline(best["best_epoch"], color=GREEN, lw=1.8)
        ax.axvline(best["epochs_run"], color=VERMILION, lw=1.8, ls=":")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
    handles = [
        matplotlib.lines.Line2D([], [], color=ORANGE, ls="--", label="training (accuracy, loss)"),
        matplotlib.lines.Line2D([], [], color=BLUE, label="validation (val_accuracy, val_loss)"),
        matplotlib.lines.Line2D([], [], color=GREEN, lw=1.8,
                                label=f"ModelCheckpoint keeps epoch {best['best_epoch']}"),
        matplotlib.lines.Line2D([], [], color=VERMILION, lw=1.8, ls=":",
                                label=(f"EarlyStopping stops at {best['epochs_run']}" if early
                                       else f"the budget ends it at {best['epochs_run']}")),
    ]  # fmt: skip
    _legend_below(fig, handles)
    _title(fig, f"{method}: its best fit (trial {best['trial']}, {best[EPOCHS]}-epoch budget); "
                f"the checkpoint's test accuracy {result['test_accuracy']:.3f}")  # fmt: skip
    return fig


@_styled
def anytime(ev: Evidence) -> Figure:
    """Best-so-far selection score against seconds and against epochs trained, every search on
    the same axes; a diamond marks where its final model landed on the untouched test set."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 5.6), layout="constrained", sharey=True)
    style = styles(ev)
    for method in ev.clean_searches:
        curve, result = analysis.anytime(ev, method), ev.result(method)
        for ax, x in zip(axes, ("seconds", "epochs_run"), strict=True):
            ax.step(curve[x], curve["best"], where="post", label=method, lw=1.6,
                    color=style[method]["color"], ls=style[method]["ls"])  # fmt: skip
            ax.plot(curve[x].iloc[-1], result["test_accuracy"], ls="", markersize=6,
                    marker=style[method]["marker"], color=style[method]["color"],
                    markeredgecolor="black", markeredgewidth=0.5)  # fmt: skip
    for ax, x in zip(axes, ("seconds of training so far", "epochs trained so far"), strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(f"{x}\n(log scale)")
    axes[0].set_ylabel("best selection score so far (line);\ntest accuracy (◆, or the variant's "
                       "marker)")  # fmt: skip
    handles = [matplotlib.lines.Line2D([], [], lw=1.6, markersize=6, markeredgecolor="black",
                                       markeredgewidth=0.5, label=method, **style[method])
               for method in ev.clean_searches]  # fmt: skip
    _legend_below(fig, handles)  # no curve or diamond under it
    _title(fig, "How fast each search finds its best score, and where its final model lands")
    return fig


@_styled
def paired(ev: Evidence) -> Figure:
    """The difference of every two clean searches' final models on the same test rows, as one
    triangle (row minus column), significant differences marked: the seed-protocol run is no
    search to compare, and the baseline has its own comparison (`analysis.versus_baseline`)."""
    labels = ev.clean_searches
    pairs = analysis.paired(ev)
    pairs = pairs[pairs["a"].isin(labels) & pairs["b"].isin(labels)]
    m = max(len(labels) - 1, 1)  # rows: the 2nd to the last search; columns: the 1st to the
    diff = np.full((m, m), np.nan)  # last but one (cell [i, j]: search i + 1 minus search j)
    raw, holm = np.zeros((m, m), bool), np.zeros((m, m), bool)
    for _, r in pairs.iterrows():
        a, b = labels.index(r["a"]), labels.index(r["b"])  # a before b: b's row, a's column
        diff[b - 1, a] = -100 * r["difference"] + 0.0  # `difference` is a minus b
        raw[b - 1, a], holm[b - 1, a] = r["p_value"] < analysis.ALPHA, r["p_holm"] < analysis.ALPHA
    inset = m >= 7  # the empty upper triangle is large enough for the colour bar and key
    cell = min(0.5, (WIDTH - 2.4 - (0 if inset else 1.0)) / m)  # inches: row labels take ~2.4
    fig, ax = _figure(height=cell * m + 2.3)
    limit = 1.6 * max(3.0, float(np.nanmax(np.abs(diff), initial=0)))  # pale: the text reads
    cmap = matplotlib.colormaps["RdBu"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(diff), cmap=cmap, vmin=-limit, vmax=limit)
    for i, j in zip(*np.nonzero(~np.isnan(diff)), strict=True):
        ax.text(j, i, f"{diff[i, j]:+.1f}{'*' if raw[i, j] else ''}", ha="center", va="center",
                fontsize=9, fontweight="bold" if holm[i, j] else "normal")  # fmt: skip
        if holm[i, j]:
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=1.8, ec="black"
                )
            )
    ax.set_xticks(range(m), labels[:-1] if len(labels) > 1 else labels, rotation=40,
                  ha="right", rotation_mode="anchor")  # fmt: skip
    ax.set_yticks(range(m), labels[1:] if len(labels) > 1 else labels)
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    alpha = f"p < {analysis.ALPHA:g}"
    key = [f"* McNemar {alpha}, unadjusted;", f"bold, boxed: {alpha}", "after Holm's adjustment",
           "over all pairs"]  # fmt: skip
    if inset:
        cax = ax.inset_axes((0.5, 0.88, 0.47, 0.035))
        fig.colorbar(image, cax=cax, orientation="horizontal")
        cax.set_title("row minus column, points", fontsize=9)
        ax.text(0.97, 0.8, "\n".join(key), transform=ax.transAxes, ha="right", va="top")
    else:
        fig.colorbar(image, ax=ax, label="row minus column, points", shrink=0.8)
        ax.set_xlabel(_wrap(" ".join(key), 0.6 * WIDTH, 10))
    _title(fig, "Same test rows: each clean search (row) minus another (column), accuracy "
                "points")  # fmt: skip
    return fig


@_styled
def optimism(ev: Evidence) -> Figure:
    """The optimism gap of every search: selection score minus untouched test accuracy."""
    frame = analysis.optimism(ev).iloc[::-1]
    fig, ax = _figure(height=0.36 * len(frame) + 1.6)
    y = np.arange(len(frame))
    gap = 100 * frame["gap"]
    seed = (frame["protocol"] == "seed").to_numpy()
    ax.barh(y, gap, color=[SEED_GREY if s else BLUE for s in seed])
    half = 50 * (frame["test_ci_high"] - frame["test_ci_low"])  # the test score's own noise
    half[seed] = np.nan
    ax.errorbar(gap, y, xerr=half, fmt="none", ecolor="#555555", capsize=3)
    for yi in np.flatnonzero(seed):  # in the middle of its row: inside the axes, wherever 0 is
        ax.text(0.5, yi, f"{SEED_NOTE}:\nno untouched data left to show its gap", ha="center",
                va="center", fontsize=9, color=SEED_TEXT, transform=ax.get_yaxis_transform(),
                bbox={"fc": "white", "ec": "none", "pad": 1}, zorder=4)  # fmt: skip
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, frame["method"])
    for label, s in zip(ax.get_yticklabels(), seed, strict=True):
        if s:
            label.set_color(SEED_TEXT)
    ax.set_xlabel(_wrap("selection score minus test accuracy, points (grey whiskers: the test "
                        "score's 95 % half-width)", 0.6 * WIDTH, 10))  # fmt: skip
    _title(fig, "Optimism gap: how much the selection score flattered each pick")
    return fig


@_styled
def cv_study(ev: Evidence) -> Figure:
    """Per scheme: each configuration's score against its models' mean test accuracy."""
    summary, configs = analysis.cv_study(ev)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(summary),
            figsize=(WIDTH, 3.2),
            layout="constrained",
            sharex=True,
            sharey=True,
            squeeze=False,
        )
    for ax, (i, row) in zip(axes[0], summary.iterrows(), strict=True):
        points = configs[configs["scheme"] == row["scheme"]]
        ax.scatter(points["score"], points["test"], s=18, color=series(i), alpha=0.85)
        ax.set_title(f"{row['variant']}: Spearman {row['spearman']:+.2f}", fontsize=10)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
    axes[0][0].set_ylabel("mean test accuracy\nof its models")
    fig.supxlabel("the scheme's score of the configuration", fontsize=10)
    _title(fig, "Does the validation scheme rank configurations the way the test set does?")
    return fig


@_styled
def scoreboard(ev: Evidence) -> Figure:
    """Test accuracy with its 95 % interval, beside the score each method selected on; the
    untuned baseline at the bottom, apart, with a line through its test accuracy, and the
    seed-protocol run greyed: it is no search."""
    base = ev.baseline
    results = ev.searches.iloc[::-1]
    offset = 0 if base is None else 1.5  # the baseline's row, set apart below the searches
    fig, ax = _figure(height=0.4 * len(results) + 1.9 + 0.4 * bool(offset))
    y = np.arange(len(results)) + offset
    seed = (results["protocol"] != "clean").to_numpy()
    for yi, (_, r), s in zip(y, results.iterrows(), seed, strict=True):
        ax.errorbar(r["test_accuracy"], yi, fmt="o", capsize=3,
                    xerr=[[r["test_accuracy"] - r["test_ci_low"]],
                          [r["test_ci_high"] - r["test_accuracy"]]],
                    color=SEED_GREY if s else BLUE)  # fmt: skip
    ticks = list(y)
    labels = [f"{m}\n{SEED_NOTE}" if s else m for m, s in zip(results["method"], seed,
                                                                strict=True)]  # fmt: skip
    if ev.higher_is_better:  # an accuracy: on the same axis
        ax.plot(results["selection_score"], y, "x", color=VERMILION, ms=7, mew=1.5)
    if base is not None:
        ax.errorbar(base["test_accuracy"], 0, xerr=[[base["test_accuracy"] - base["test_ci_low"]],
                    [base["test_ci_high"] - base["test_accuracy"]]], fmt="s", color=BASELINE,
                    capsize=3)  # fmt: skip
        ax.axvline(base["test_accuracy"], color=BASELINE, ls="--", lw=0.8)
        ticks, labels = [0, *ticks], ["baseline (untuned)", *labels]
    chance = ev.classes["rows"].max() / ev.classes["rows"].sum()
    ax.axvline(chance, color="grey", ls=":")
    ax.set_yticks(ticks, labels)
    for label, s in zip(ax.get_yticklabels()[-len(seed) :], seed, strict=True):
        if s:
            label.set_color(SEED_TEXT)
    ax.set_xlabel("accuracy")
    Line = matplotlib.lines.Line2D
    handles = [Line([], [], color=BLUE, marker="o", label="test accuracy, 95 % interval")]
    if ev.higher_is_better:
        handles.append(Line([], [], color=VERMILION, marker="x", ls="", ms=7, mew=1.5,
                            label="selection score"))  # fmt: skip
    if base is not None:
        handles.append(Line([], [], color=BASELINE, marker="s", ls="--", lw=0.8,
                            label="untuned baseline (not a search)"))  # fmt: skip
    if seed.any():
        handles.append(Line([], [], color=SEED_GREY, marker="o", label="seed protocol: no search"))
    handles.append(Line([], [], color="grey", ls=":", label=f"majority class {chance:.3f}"))
    _legend_below(fig, handles)
    _title(fig, "Untouched test set: every search's final model, with its 95 % interval")
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


def _each_panel(axes: np.ndarray, names: list[str]) -> tuple[list[tuple[Any, str]], list[Any]]:
    """Each hyperparameter's panel, and the panels left over, switched off (a legend's place)."""
    spare = list(axes.flat[len(names) :])
    for ax in spare:
        ax.set_axis_off()
    return list(zip(axes.flat, names, strict=False)), spare


def _positions(values: object, domain: object) -> np.ndarray:
    """Where values go on `_value_axis`: a list's by their position in it."""
    if isinstance(domain, list):
        return values.map({v: i for i, v in enumerate(domain)}).to_numpy(float)  # type: ignore
    return values.to_numpy(float)  # type: ignore[attr-defined]


@_styled
def bayesian_proposals(ev: Evidence, method: str = analysis.BAYESIAN) -> Figure:
    """Every trial's value of each tuned hyperparameter against its trial number, coloured by
    its score: the random initial points first, then the Gaussian process's proposals, which
    move from exploring the space to exploiting where it predicts good scores."""
    frame, names = analysis.proposals(ev, method), ev.tuned
    cols = min(2, len(names))  # two to the page's width: their tick labels stay apart
    rows = -(-len(names) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 2.1 * rows + 1.2),
                                 layout="constrained", squeeze=False)  # fmt: skip
    cmap = "viridis" if ev.higher_is_better else "viridis_r"  # yellow: the better scores
    norm = matplotlib.colors.Normalize(frame["score"].min(), frame["score"].max())
    initial = int(frame["initial"].sum())
    panels, spare = _each_panel(axes, names)  # the legend goes in the first spare panel
    for ax, name in panels:
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
        ax.set_xlabel("trial")
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes,
                 label=f"the trial's {ev.selection}", shrink=0.6, aspect=30)  # fmt: skip
    handles = [
        matplotlib.lines.Line2D([], [], ls="", marker="s", mfc="white", mec="black",
                                label=f"random initial point ({initial})"),
        matplotlib.lines.Line2D([], [], ls="", marker="o", mfc="white", mec="black",
                                label=f"Gaussian-process proposal ({len(frame) - initial})"),
        matplotlib.lines.Line2D([], [], color="grey", ls="--", lw=1,
                                label="where the Gaussian\nprocess takes over"),
    ]  # fmt: skip
    if spare:
        spare[0].legend(handles=handles, loc="center", frameon=False)
    else:
        _legend_below(fig, handles)
    _title(fig, f"{method}: what each trial tried, in trial order, coloured by its score")
    return fig


@_styled
def halving_rounds(ev: Evidence, method: str = analysis.HALVING) -> Figure:
    """Each candidate's mean CV score in every round it reached, a line to the next round for
    those that went on; the winner is the best of the last round, whatever earlier rounds
    scored."""
    scores = ev.selection_trials(method)
    rounds = analysis.halving_rounds(ev, method).dropna(subset=["candidates"])
    winner, last = analysis.halving_winner(ev, method), int(scores["rung"].max())
    fig, ax = _figure(height=4.4)
    for trial, path in scores.groupby("trial"):
        path = path.sort_values("rung")
        won = trial == winner
        color = VERMILION if won else BLUE
        ax.plot(path["rung"], path["score"], "-", color=color, lw=2.2 if won else 1,
                alpha=1 if won else 0.5, zorder=3 if won else 2)  # fmt: skip
        went_on = path["rung"] < path["rung"].max()  # filled: it went on; hollow: it stopped
        ax.plot(path["rung"][went_on], path["score"][went_on], "o", color=color, ms=6,
                zorder=3)  # fmt: skip
        if not won:
            ax.plot(path["rung"][~went_on], path["score"][~went_on], "o", mfc="white",
                    mec=color, ms=6, zorder=3)  # fmt: skip
    top = scores[(scores["trial"] == winner) & (scores["rung"] == last)]
    ax.plot(top["rung"], top["score"], "*", color=VERMILION, ms=16, mec="black", zorder=4)
    ticks = [f"round {int(r['round'])}\n{int(r['candidates'])} × "
             f"{span(r['epochs_low'], r['epochs_high'])} epochs"
             for _, r in rounds.iterrows()]  # fmt: skip
    ax.set_xticks(list(rounds["round"].astype(int)), ticks)
    ax.set_xlim(-0.3, last + 0.3)
    ax.set_xlabel("round (candidates × the epochs each got)")
    ax.set_ylabel(f"mean CV {ev.selection}")
    handles = [
        matplotlib.lines.Line2D([], [], color=BLUE, marker="o", label="went on"),
        matplotlib.lines.Line2D([], [], color=BLUE, marker="o", mfc="white", ls="",
                                label="stopped after this round"),
        matplotlib.lines.Line2D([], [], color=VERMILION, marker="*", ms=12, mec="black",
                                lw=2.2, label=f"winner: trial {winner}"),
    ]  # fmt: skip
    _legend_below(fig, handles, ncol=3)
    _title(fig, f"{method}: each candidate's mean CV score per round; the winner is the best "
                f"of the last round (round {last}) only")  # fmt: skip
    return fig


@_styled
def optuna_pruning(ev: Evidence, method: str = analysis.PRUNING) -> Figure:
    """Every trial's monitored validation score by epoch, as the pruner judged it: pruned
    trials end where they were stopped, finished ones where EarlyStopping or the budget
    ended them."""
    curves = analysis.pruning_curves(ev, method)
    monitor = ev.provenance["config"]["training"]["monitor"]
    trials = analysis.pruned(ev, method)
    chosen = analysis.chosen_trials(ev, method)  # never a pruned trial
    fig, ax = _figure(height=4.4)
    for _, curve in curves.groupby("trial"):
        cut = bool(curve["pruned"].iloc[0])
        color = VERMILION if cut else BLUE
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
        matplotlib.lines.Line2D([], [], color=BLUE,
                                label=f"finished ({len(trials) - n_cut})"),
        matplotlib.lines.Line2D([], [], color=VERMILION, marker="x",
                                label=f"pruned ({n_cut}), × where stopped"),
    ]  # fmt: skip
    if chosen:
        label = f"chosen: trial {chosen[0]}"
        handles.append(matplotlib.lines.Line2D([], [], color="black", lw=2.2, label=label))
    _legend_below(fig, handles, ncol=3)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{monitor} (what the pruner judged)")
    _title(fig, f"{method}: each trial's {monitor} by epoch; {n_cut} of {len(trials)} trials "
                "pruned")  # fmt: skip
    return fig

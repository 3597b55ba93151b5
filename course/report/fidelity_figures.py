"""The multi-fidelity figures of the Lab page, one function each: a `fidelity.Fidelity` in, a
matplotlib Figure out, in the house style of `figures`; the data of each from `fidelity`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course.report import fidelity, figures
from course.report.fidelity import Fidelity
from course.report.figures import METHOD_COLOURS, STYLE, WIDTH, _styled
from course.report.lab_figures import Line, _log
from course.report.lab_text import number


def colours(f: Fidelity) -> dict[str, str]:
    """One colour per method, fixed by the registry's order (the same on every figure)."""
    names = [*fidelity.ORDER, *(m for m in f.methods if m not in fidelity.ORDER)]
    return {m: METHOD_COLOURS[i % len(METHOD_COLOURS)] for i, m in enumerate(names)}


@_styled
def regret(f: Fidelity) -> Figure:
    """Mean regret against full trainings' worth of epochs spent, a band per method."""
    curves = fidelity.regret_curves(f)
    colour = colours(f)
    positive = curves.loc[curves["mean"] > 0, "mean"]
    floor = 10 ** np.floor(np.log10(positive.min())) if len(positive) else 1e-3
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 3.6), layout="constrained")
    for method in f.methods:
        c = curves[curves["method"] == method]
        x = c["trainings"].to_numpy()
        ax.fill_between(x, c["low"].clip(lower=floor), c["high"].clip(lower=floor),
                        color=colour[method], alpha=0.15, lw=0, step="post")  # fmt: skip
        ls = ":" if method in fidelity.FULL else "-"
        ax.plot(x, c["mean"].clip(lower=floor), color=colour[method], lw=1.6, ls=ls,
                drawstyle="steps-post")  # fmt: skip
    _log(ax, "y", floor)
    ax.set_xlim(0, f.budget)
    ax.set_xlabel(f"epochs spent, in full trainings of {f.max_epochs} epochs")
    ax.set_ylabel(f"mean regret ({f.metric}, log scale)")
    handles = [Line([], [], color=colour[m], lw=1.8, ls=":" if m in fidelity.FULL else "-",
                    label=m + (" (full fidelity)" if m in fidelity.FULL else ""))
               for m in f.methods]  # fmt: skip
    figures._legend_below(fig, handles, ncol=3)
    figures._title(fig, "Regret of the incumbent against epochs spent on the telecust curves "
                        f"(mean over {int(curves['repeats'].max())} searches, 95 % bootstrap "
                        "band)")  # fmt: skip
    return fig


@_styled
def agreement(f: Fidelity) -> Figure:
    """Spearman's rho of each epoch's ranking with the last epoch's, the rungs marked."""
    a = fidelity.agreement(f)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 3.0), layout="constrained")
    ax.plot(a.index, a["spearman"], color=METHOD_COLOURS[0], lw=1.6, marker="o", ms=3)
    for epoch in fidelity.rungs(f):
        ax.axvline(epoch, color="0.75", lw=0.8, ls="--", zorder=0)
    ax.set_xscale("log")
    ax.set_xticks(fidelity.rungs(f), [str(e) for e in fidelity.rungs(f)])
    ax.set_xlabel("epoch (dashed: the epochs the rungs judge at)")
    ax.set_ylabel("Spearman's rho")
    ax.set_ylim(min(0.0, float(a["spearman"].min()) - 0.05), 1.02)
    figures._title(fig, f"How well the configurations' ranking after each epoch agrees with "
                        f"their ranking after {f.max_epochs}")  # fmt: skip
    return fig


@_styled
def curves(f: Fidelity) -> Figure:
    """The median curve of each value of the learning rate (or the first varied
    hyperparameter), its quartile band."""
    name, data = fidelity.by_hyperparameter(f)
    values = list(dict.fromkeys(data[name]))
    cmap = plt.get_cmap("viridis")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 3.6), layout="constrained")
    handles = []
    for i, value in enumerate(values):
        c = data[data[name] == value]
        colour = cmap(i / max(1, len(values) - 1) * 0.9)
        ax.fill_between(c["epoch"], c["low"], c["high"], color=colour, alpha=0.12, lw=0)
        ax.plot(c["epoch"], c["median"], color=colour, lw=1.6)
        label = number(value) if isinstance(value, float) else str(value)
        handles.append(Line([], [], color=colour, lw=1.8, label=f"{name} = {label}"))
    top = float(np.quantile(data["high"], 0.95))  # a diverging value's band would flatten the rest
    bottom = float(data["low"].min())
    ax.set_ylim(bottom - 0.05 * (top - bottom), top)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"median {f.metric}")
    figures._legend_below(fig, handles, ncol=3)
    figures._title(fig, f"The telecust curves by {name}: median {f.metric} after each epoch "
                        "(band: quartiles)")  # fmt: skip
    return fig

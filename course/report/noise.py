"""Retraining variance and search variance (`course variance`) beside the differences between
methods, and the expected best of m random trials: whether a ranking says more than noise.

The data is `data/variance.csv`; every view reads the first seed's split, as those runs do.
A private function computes each view's data, a public one draws or words it (Optuna's
visualisation split).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from course.report.evidence import Evidence
from course.stats import expected_max

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# variance.csv's kinds (the data contract's words: the report may not import course.variance)
RETRAIN, SEARCHED, EVALUATED = "retrain", "search", "search-trial"


def _rows(ev: Evidence, kind: str) -> pd.DataFrame:
    frame = ev.variance
    return frame[frame["kind"] == kind] if frame is not None else pd.DataFrame()


MIN_SEEDS = 2  # a spread needs two draws: of every pick's retraining, and of the search


def measured(ev: Evidence) -> bool:
    """Whether `course variance` measured this study: every pick retrained under two seeds or
    more, and the random search run under two search seeds or more (an interrupted or partly
    outdated measurement shows nothing rather than a spread of one)."""
    if ev.variance is None:
        return False
    retrained = _rows(ev, RETRAIN).groupby("method")["seed"].nunique()
    return (not retrained.empty and retrained.min() >= MIN_SEEDS
            and len(_rows(ev, SEARCHED)) >= MIN_SEEDS)  # fmt: skip


def retraining(ev: Evidence) -> pd.DataFrame:
    """Per clean search: its pick's test accuracy in the study and under each initialisation
    seed it was retrained under (mean, sd, lowest, highest, how many), in results order."""
    rows = _rows(ev, RETRAIN)
    table = rows.groupby("method", sort=False)["test_accuracy"].agg(
        n="size", mean="mean", sd=lambda s: s.std(ddof=1), low="min", high="max"
    )
    study = ev.results.set_index("method")["test_accuracy"]
    table = table.assign(study=study.reindex(table.index))
    order = [m for m in ev.results["method"] if m in table.index]
    return table.loc[order].reset_index()


def pooled_sd(ev: Evidence) -> float:
    """The retraining standard deviation pooled over the distinct configurations (each has its
    own mean; their within-configuration variances averaged, weighted by degrees of freedom).
    Two searches that chose alike share one configuration's fits, counted once."""
    rows = _rows(ev, RETRAIN).drop_duplicates(["trial", "seed"])
    centred = rows["test_accuracy"] - rows.groupby("trial")["test_accuracy"].transform("mean")
    dof = len(rows) - rows["trial"].nunique()
    return float(np.sqrt((centred**2).sum() / dof)) if dof > 0 else float("nan")


def searches(ev: Evidence) -> pd.DataFrame:
    """The random search's pick under each search seed: its selection score and test accuracy."""
    return _rows(ev, SEARCHED)[["method", "seed", "selection_score", "test_accuracy"]]


def between_methods(ev: Evidence) -> pd.Series:
    """The clean searches' test accuracies on the first seed's split, the split the variance
    runs share: the differences the noise is set beside."""
    return ev.results.set_index("method").loc[ev.clean_searches, "test_accuracy"]


def _best_of_m(ev: Evidence) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Expected best selection score of m trials of the random search, for m up to one
    search's length: pooled over every search seed's trials (mean and the sd of the best of
    m: the band), and from each seed's trials alone (what one search would have said)."""
    trials = _rows(ev, EVALUATED)
    sign = 1.0 if ev.higher_is_better else -1.0  # the best of a loss is its lowest

    def curve(scores: np.ndarray, top: int) -> pd.DataFrame:
        values = [expected_max(sign * scores, m) for m in range(1, top + 1)]
        return pd.DataFrame({"m": np.arange(1, top + 1),
                             "mean": [sign * v[0] for v in values],
                             "sd": [v[1] for v in values]})  # fmt: skip

    per_seed = {int(seed): rows["selection_score"].to_numpy(float)
                for seed, rows in trials.groupby("seed")}  # fmt: skip
    top = min(len(s) for s in per_seed.values())
    pooled = curve(np.concatenate(list(per_seed.values())), top)
    return pooled, {seed: curve(scores, top) for seed, scores in per_seed.items()}


def markdown(ev: Evidence) -> str:
    """The variance include: what was measured, the three spreads, and whether the
    differences between methods are larger than what noise alone makes."""
    if not measured(ev):
        return ("*This study has no variance measurements yet: run `course variance` (after "
                "`course run-all`).*\n")  # fmt: skip
    retrained = retraining(ev)
    inits = int(retrained["n"].max())
    configurations = _rows(ev, RETRAIN)["trial"].nunique()
    picked = searches(ev)
    methods = between_methods(ev)
    noise_retrain, noise_search = pooled_sd(ev), float(picked["test_accuracy"].std(ddof=1))
    # A rerun search draws other configurations, each trained from its own initial weights:
    # its spread holds the retraining noise already. The larger of the two is the noise.
    noise = max(noise_retrain, noise_search)
    spread = float(methods.std(ddof=1))
    ratio = round(spread / noise, 1)  # the verdict reads the ratio as the sentence shows it
    verdict = (
        "smaller than what noise alone makes: on this split, the ranking of the methods could "
        "be the seeds'" if ratio < 0.8 else
        "about what noise alone makes: on this split, the ranking of the methods could be the "
        "seeds'" if ratio < 1.5 else
        "larger than noise alone, but less than twice it: some of the ranking may be the seeds'"
        if ratio < 2 else "more than twice what noise alone makes"
    )  # fmt: skip
    search = picked["method"].iloc[0]
    lines = [
        f"- **Retraining variance**: the {len(retrained)} searches' picks ({configurations} "
        f"distinct configurations) trained again under {inits} initialisation seeds on the "
        f"same split, the holdout way: a pick's test accuracy moves with a standard deviation "
        f"of {noise_retrain:.3f} (pooled over the configurations; the largest range is "
        f"{(retrained['high'] - retrained['low']).max():.3f}).",
        f"- **Search variance**: `{search}` run under {len(picked)} search seeds, split and "
        f"initialisation unchanged: its pick's test accuracy has a standard deviation of "
        f"{noise_search:.3f} (from {picked['test_accuracy'].min():.3f} to "
        f"{picked['test_accuracy'].max():.3f}; {len(picked)} runs make a rough estimate). "
        "Each rerun picks other configurations, each trained from its own initial weights, "
        "so this spread holds retraining noise too.",
        f"- **Between methods**: the {len(methods)} searches' test accuracies on this split "
        "(the seed-protocol run, which chose on the test rows, left out)"
        f" have a standard deviation of {spread:.3f} (from {methods.min():.3f} to "
        f"{methods.max():.3f}): {ratio:.1f} times the noise ({noise:.3f}, the larger of "
        f"the two), {verdict}.",
        f"- **Cost**: {cost(ev).strip()} Every fit: [variance.csv](generated/data/variance.csv).",
    ]
    lines.append(
        "\nThe comparison of spreads is a rough guide, not a test: the paired tests "
        "on the [summary](index.md) and [conclusions](conclusions.md) are the tests. A "
        "cross-validated search's own test accuracy comes from its refit on every "
        "development row, its retrained ones from the holdout recipe, so in the figure its "
        "diamond need not sit among its circles."
    )
    return "\n".join(lines) + "\n"


def cost(ev: Evidence) -> str:
    """What `course variance` trained for this study: its own fits and their seconds (the
    study's own search seed is its run, not trained again)."""
    if not measured(ev):
        return "*`course variance` has not measured this study yet.*\n"
    trials = _rows(ev, EVALUATED)
    retrained = _rows(ev, RETRAIN).drop_duplicates(["trial", "seed"])
    own = pd.concat([retrained, trials[trials["seed"] != searches(ev)["seed"].min()]])
    return (f"{len(own)} fits of its own ({len(retrained)} retraining the picks, "
            f"{len(own) - len(retrained)} trials of the other search seeds), "
            f"{own['seconds'].sum() / 60:.1f} minutes of fitting on the machine the study "
            "ran on.\n")  # fmt: skip


def figure(ev: Evidence) -> Figure:
    """Each clean search's test accuracy in the study (an open diamond) beside the same pick
    retrained under each initialisation seed (dots, one a little lower than the last, so that
    equal values stay apart), and the random search's pick
    under each search seed (its own row): noise set beside the differences between methods."""
    from course.report import figures

    retrained = retraining(ev)
    rows = _rows(ev, RETRAIN)
    picked = searches(ev)
    colour = figures.colours(ev)
    labels = [*retrained["method"], f"{picked['method'].iloc[0]}, other search seeds"]
    fig, ax = figures._figure(height=0.34 * len(labels) + 1.6)
    with figures.plt.rc_context(figures.STYLE):
        for y, label in enumerate(retrained["method"]):
            values = rows.loc[rows["method"] == label].sort_values("seed")["test_accuracy"]
            spread = np.linspace(-0.18, 0.18, len(values))  # one row per seed: none hides another
            ax.scatter(values, y + spread, s=18, color=colour.get(label, "black"), zorder=3)
            ax.scatter(retrained["study"].iloc[y], y, marker="D", s=110, facecolors="none",
                       edgecolors=colour.get(label, "black"), lw=1.6)  # fmt: skip
        y = len(labels) - 1
        ax.scatter(picked["test_accuracy"], y + np.linspace(-0.18, 0.18, len(picked)),
                   marker="s", s=24, color=figures.BASELINE)  # fmt: skip
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("test accuracy (first seed's split)")
        handles = [
            figures.matplotlib.lines.Line2D([], [], marker="D", ls="", mfc="none", color="grey",
                                            ms=9, label="the study's pick"),
            figures.matplotlib.lines.Line2D([], [], marker="o", ls="", color="grey", ms=4,
                                            label="the pick retrained, one per init seed"),
            figures.matplotlib.lines.Line2D([], [], marker="s", ls="", color=figures.BASELINE,
                                            label="the search's pick (each search seed)"),
        ]  # fmt: skip
        figures._legend_below(fig, handles, ncol=2)
        figures._title(fig, "Test accuracy: the picks, retrained, and a search rerun")
    return fig


def best_of_m(ev: Evidence) -> Figure:
    """The expected best selection score of m random trials, with a band of one standard
    deviation of the best of m, pooled over the search seeds; each seed's own estimate thin."""
    from course.report import figures

    pooled, per_seed = _best_of_m(ev)
    fig, ax = figures._figure(height=3.8)
    with figures.plt.rc_context(figures.STYLE):
        for i, (seed, curve) in enumerate(per_seed.items()):
            ax.plot(curve["m"], curve["mean"], lw=0.9, color=figures.series(i + 1), alpha=0.8,
                    label=f"search seed {seed} alone")  # fmt: skip
        ax.fill_between(pooled["m"], pooled["mean"] - pooled["sd"],
                        pooled["mean"] + pooled["sd"], color=figures.series(0), alpha=0.2,
                        label="± one sd of the best of m")  # fmt: skip
        ax.plot(pooled["m"], pooled["mean"], lw=2, color=figures.series(0),
                label="expected best, every seed's trials pooled")  # fmt: skip
        ax.xaxis.set_major_locator(figures.matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("m: trials of the random search")
        ax.set_ylabel(f"expected best {ev.selection}")
        figures._legend_below(fig, ax.get_legend_handles_labels()[0], ncol=2)
        figures._title(fig, f"Expected best of m trials of {searches(ev)['method'].iloc[0]}")
    return fig

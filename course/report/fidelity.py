"""The lab's multi-fidelity evidence: searchers replayed on telecust curves trained to the full
epoch budget (`course lab`'s lab-curves, lab-fidelity and lab-replays files).

Pure, like `lab`: the files in, frames and generated sentences out (the figures are
`fidelity_figures`'). A replayed search spends epochs, not evaluations, so everything here is
against the epochs it has spent, in full trainings (a full training is `max_epochs` epochs);
its regret is its incumbent's truth (the mean over the curves' seeds) against the best
configuration's at the full budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from course.report.lab import LEVEL, RESAMPLES, _bootstrap
from course.report.lab_text import _and, number
from course.report.markdown import table

# course/lab/fidelity.py's registry order (the report may not import the lab)
ORDER = ("random", "optuna-tpe", "kt-hyperband", "asha", "optuna-tpe-asha")
FULL = ("random", "optuna-tpe")  # every configuration trained to max_epochs
FILES = {"curves": "lab-curves.csv.gz", "evaluations": "lab-fidelity.csv.gz",
         "replays": "lab-replays.csv"}  # fmt: skip
POINTS = 200  # epochs at which the regret curves are read
NOT_RUN = ("*The lab has not trained its curves yet: `course lab` trains them and writes this "
           "evidence.*\n")  # fmt: skip
DATA_LINKS = ", ".join(f"[{name}](generated/data/{name})" for name in FILES.values())


@dataclass(frozen=True, eq=False)
class Fidelity:
    """The three files: `curves` by configuration, seed and epoch; `evaluations` by method,
    repeat and evaluation; `replays` by method and repeat."""

    curves: pd.DataFrame
    evaluations: pd.DataFrame
    replays: pd.DataFrame
    computed: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def max_epochs(self) -> int:
        return int(self.curves["epoch"].max())

    @property
    def budget(self) -> int:
        """In full trainings."""
        return int(self.replays["budget"].max())

    @property
    def metric(self) -> str:
        return str(self.curves["metric"].iloc[0])

    @property
    def maximize(self) -> bool:
        return not self.metric.endswith("loss")

    @property
    def methods(self) -> list[str]:
        found = list(dict.fromkeys(self.replays["method"]))
        return [m for m in ORDER if m in found] + [m for m in found if m not in ORDER]

    @property
    def hyperparameters(self) -> list[str]:
        """The curves' hyperparameter columns that vary."""
        first, last = "configuration", "init_seed"
        cols = list(self.curves.columns)
        names = cols[cols.index(first) + 1 : cols.index(last)]
        return [n for n in names if self.curves[n].nunique() > 1]


def load(generated: Path) -> Fidelity | None:
    data = generated / "data"
    if not all((data / name).is_file() for name in FILES.values()):
        return None
    return Fidelity(**{key: pd.read_csv(data / name) for key, name in FILES.items()})


def truth(f: Fidelity) -> pd.DataFrame:
    """Each configuration's truth after each epoch: the mean over seeds of its best so far
    (one row per configuration, one column per epoch)."""
    if "truth" not in f.computed:
        f.computed["truth"] = f.curves.pivot_table(index="configuration", columns="epoch",
                                                   values="best", aggfunc="mean")  # fmt: skip
    return f.computed["truth"]


def regret_curves(f: Fidelity) -> pd.DataFrame:
    """Each method's mean regret over its repeats against epochs spent, with its bootstrap
    interval: a search's regret at x epochs is its incumbent's after its last evaluation that
    ended by then (none before its first incumbent: the mean starts where every repeat has one)."""
    if "regret" in f.computed:
        return f.computed["regret"]
    total = f.budget * f.max_epochs
    x = np.unique(np.linspace(1, total, POINTS).round().astype(int))
    parts = []
    for method in f.methods:
        rows = f.evaluations[f.evaluations["method"] == method]
        matrix = []
        for _, search in rows.groupby("repeat"):
            at = np.searchsorted(search["epochs"].to_numpy(), x, side="right") - 1
            regret = search["regret"].to_numpy(float)
            matrix.append(np.where(at >= 0, regret[np.maximum(at, 0)], np.nan))
        values = np.array(matrix)
        known = ~np.isnan(values).any(axis=0)
        low, high = _bootstrap(values[:, known])
        parts.append(pd.DataFrame({"method": method, "trainings": x[known] / f.max_epochs,
                                   "mean": values[:, known].mean(axis=0), "low": low,
                                   "high": high, "repeats": len(values)}))  # fmt: skip
    f.computed["regret"] = pd.concat(parts, ignore_index=True)
    return f.computed["regret"]


def finals(f: Fidelity) -> pd.DataFrame:
    """Per method: its regret once the budget is spent (the incumbent after the last
    evaluation that ended within it), over the repeats, with what the searches spent."""
    total = f.budget * f.max_epochs
    within = f.evaluations[f.evaluations["epochs"] <= total]
    last = within.groupby(["method", "repeat"]).last()["regret"].unstack("method")
    out = []
    for method in f.methods:
        values = last[method].dropna().to_numpy(float)
        low, high = _bootstrap(values[:, None])
        r = f.replays[f.replays["method"] == method]
        out.append({"method": method, "repeats": len(values), "mean": values.mean(),
                    "low": low[0], "high": high[0], "best": float(np.mean(values <= 0)),
                    "trainings": r["trainings"].median(), "evaluations": r["evaluations"].median(),
                    "epochs": r["epochs"].median(), "seconds": r["seconds"].median()})  # fmt: skip
    return pd.DataFrame(out).set_index("method")


def agreement(f: Fidelity) -> pd.DataFrame:
    """How well the truth after each epoch ranks the configurations as the truth after the
    last does (Spearman's rho), and where the best configuration at the full budget stands
    after that epoch (its rank, 1 = first): what a multi-fidelity method bets on."""
    t = truth(f)
    final = t[f.max_epochs]
    best = final.idxmax() if f.maximize else final.idxmin()
    rows = []
    for epoch in t.columns:
        rho = stats.spearmanr(t[epoch], final).statistic
        order = t[epoch].rank(ascending=not f.maximize, method="min")
        rows.append({"epoch": int(epoch), "spearman": float(rho), "best_rank": int(order[best])})
    return pd.DataFrame(rows).set_index("epoch")


def by_hyperparameter(f: Fidelity) -> tuple[str, pd.DataFrame]:
    """The learning rate's (else the first varied hyperparameter's) value against each epoch:
    the median over configurations and seeds of the monitored value, with its quartiles."""
    names = f.hyperparameters
    name = "learning_rate" if "learning_rate" in names else names[0]
    grouped = f.curves.groupby([name, "epoch"])["value"]
    out = grouped.median().rename("median").to_frame()
    out["low"], out["high"] = grouped.quantile(0.25), grouped.quantile(0.75)
    return name, out.reset_index()


def rungs(f: Fidelity) -> list[int]:
    """The epochs at which successive halving judges (1, factor, factor², ... up to the
    budget), the epochs worth reading the agreement at."""
    factor = int(f.replays["factor"].iloc[0])
    found, epoch = [], 1
    while epoch < f.max_epochs:
        found.append(epoch)
        epoch *= factor
    return [*found, f.max_epochs]


# --- sentences --------------------------------------------------------------------------------


def summary_text(f: Fidelity) -> str:
    c = f.curves
    configurations, seeds = c["configuration"].nunique(), c["init_seed"].nunique()
    fits = c.drop_duplicates(["configuration", "init_seed"])["fit_seconds"]
    fin = finals(f)
    rows = [(f"`{m}`", int(r["repeats"]), f"{number(r['mean'])} ({number(r['low'])}–"
             f"{number(r['high'])})", f"{100 * r['best']:.0f} %", f"{r['trainings']:g}",
             f"{r['epochs'] / f.max_epochs:.3g}", number(r["seconds"]))
            for m, r in fin.iterrows()]  # fmt: skip
    head = ["method", "searches", f"mean final regret ({LEVEL:.0%} interval)",
            "found the best", "fits started (median)", "full trainings spent (median)",
            "searcher seconds (median)"]  # fmt: skip
    lowest = fin["mean"].min()
    winners = [m for m in fin.index if fin.loc[m, "mean"] == lowest]
    apart = [f"`{m}`" for m in fin.index if fin.loc[m, "low"] > fin.loc[winners[0], "high"]]
    versus = (f"The intervals of {_and(apart)} lie wholly above the lowest one's" if apart
              else "Every other method's interval overlaps the lowest one's")  # fmt: skip
    times = _and([f"{int(n)} times" for n in fin["repeats"].unique()])
    lines = [
        f"The curves: {configurations} configurations of telecust's MLP, each trained under "
        f"{seeds} initialisation seeds for {f.max_epochs} epochs with no early stop, "
        f"{len(fits)} fits, {number(fits.sum())} s of training in all "
        f"({number(fits.median())} s a fit, median), recorded in the ledger like every fit. "
        f"Each method then searched them {times}, each search with a budget of {f.budget} full "
        f"trainings ({f.budget * f.max_epochs} epochs) and its own seed. The data: "
        f"{DATA_LINKS}.",
        "",
        table(head, rows),
        "",
        f"*Final regret*: how far the truth of the configuration a search would return, once it "
        f"has spent its budget, falls short of the best configuration's at {f.max_epochs} "
        f"epochs, in {f.metric}; its interval is a percentile bootstrap of the mean over the "
        f"searches ({RESAMPLES} resamples). *Found the best*: the share of searches whose pick "
        f"was the best configuration itself. The lowest mean final regret: "
        f"{_and([f'`{m}`' for m in winners])}. {versus}. The intervals cover the luck of the "
        "searches on these curves, not that of the curves: trained again, under other seeds, "
        "they would rank the configurations a little differently, and one small table says "
        "nothing of how these methods compare on another problem.",
    ]
    short = fin[fin["epochs"] < f.budget * f.max_epochs]
    for m, r in short.iterrows():
        why = (" (KerasTuner's Hyperband never tries a configuration twice, in any bracket)"
               if m == "kt-hyperband" else "")  # fmt: skip
        lines.append(f"\n`{m}` stopped before spending its budget, after a median of "
                     f"{r['epochs'] / f.max_epochs:.3g} full trainings: it had no new "
                     f"configuration left to start{why}.")  # fmt: skip
    return "\n".join(lines) + "\n"


def regret_text(f: Fidelity) -> str:
    return (f"Each line is a method's mean regret over its searches against the epochs it has "
            f"spent, in full trainings of {f.max_epochs} epochs; its band a {LEVEL:.0%} "
            f"percentile-bootstrap interval of that mean. A line starts where every search of "
            "its method has a configuration it may return (a pruned trial may not be "
            "returned), and a search that stopped early keeps its last incumbent. The "
            "full-fidelity methods spend a full training on every configuration; the others "
            "spend most of theirs on short fits.\n")  # fmt: skip


def agreement_text(f: Fidelity) -> str:
    a = agreement(f)
    points = rungs(f)
    rows = [(e, number(a.loc[e, "spearman"]), int(a.loc[e, "best_rank"])) for e in points]
    configurations = f.curves["configuration"].nunique()
    return (f"Successive halving keeps a configuration when it ranks in the top part after a "
            "few epochs, so it bets that the early ranking is the final one. How good a bet "
            f"that is, on these curves: Spearman's rho between the configurations' truth after "
            f"each epoch and after {f.max_epochs} ({configurations} configurations), and the "
            f"rank after that epoch of the configuration that is best after {f.max_epochs}, at "
            "the epochs where the rungs judge:\n\n"
            + table(["epoch", "Spearman's rho", "the best's rank then"], rows))  # fmt: skip


def curves_text(f: Fidelity) -> str:
    name, data = by_hyperparameter(f)
    first = data[data["epoch"] == 1].set_index(name)["median"]
    last = data[data["epoch"] == f.max_epochs].set_index(name)["median"]
    pick = last.idxmax() if f.maximize else last.idxmin()
    early = first.idxmax() if f.maximize else first.idxmin()
    same = ("the same value leads after the first epoch" if early == pick else
            f"after the first epoch `{name}` = {_value(early)} led instead")  # fmt: skip
    return (
        f"Each line is the median {f.metric} over the configurations with one value of "
        f"`{name}` and over the seeds, after each epoch; its band the quartiles. After "
        f"{f.max_epochs} epochs the best median is at `{name}` = {_value(pick)}; {same}.\n"
    )


def _value(v: Any) -> str:
    return number(v) if isinstance(v, float) else str(v)

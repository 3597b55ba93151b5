"""Study health, one search at a time: whether its best values sit on the edge of what it could
try, whether its epoch budget was too small or merely generous, how many of its fits were
pruned, diverged or failed, and its best quarter of evaluations. These are the Deep Learning
Tuning Playbook's checks of a finished study ("is the search space well bounded?", axis
plots), asked of the exported data; `health_figures` draws them. Pure: evidence in, frames,
small records and generated sentences out, so no verdict is ever typed by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from course.report.evidence import PRUNED, Evidence
from course.space import EPOCHS, HYPERPARAMETERS

# The outer share of a sampled range, on its own scale (log where the range is), counted as its
# edge: a best value there leaves a tenth of the range or less beyond it, so the optimum may
# well lie outside.
BAND = 0.10
QUARTER = 0.25  # the best evaluations the views single out: the top quarter ...
MIN_BEST = 2  # ... and never fewer than two, so a pattern is never one trial's
# A budget is too small when this share of the full-budget fits or more had improved within
# their last `patience` epochs when it ended them: the median fit, the typical configuration,
# may have had more to give.
CUT_SHARE = 0.5
DIVERGED = "diverged"  # trials.csv `status` of a fit whose loss became NaN
Side = Literal["low", "high"]
Kind = Literal["range", "grid", "values"]


@dataclass(frozen=True)
class Edge:
    """A tuned hyperparameter whose best value sits on one edge of what the search could try:
    the outer `BAND` of a sampled range (`kind` "range", bounds `low`..`high`), or the lowest or
    highest of the values it was limited to, a range's grid ("grid") or a list ("values"),
    listed in `values`. `near` of the `best` best evaluations sit at that edge too (the best
    one among them), which tells a lone lucky trial from a trend."""

    name: str
    side: Side
    value: float
    low: float
    high: float
    kind: Kind
    near: int
    best: int
    log: bool = False
    values: tuple[float, ...] = ()
    bound: float | None = None  # a grid's range bound on `side`: how far the grid may grow

    @property
    def room(self) -> bool:
        """Whether the hyperparameter allows values beyond this edge: a best dropout of 0, or a
        best single layer, sits on an edge nothing lies beyond, where no wider range can help."""
        spec = HYPERPARAMETERS[self.name]
        return self.low > spec.low if self.side == "low" else self.high < spec.high

    @property
    def warning(self) -> str:
        """One generated sentence: where the best value sits and what to do about it (a note,
        not a warning, where there is no `room` beyond the edge)."""
        low = self.side == "low"
        share = ""
        if self.best > 1:
            share = f" ({self.near} of the best {self.best} evaluations {_sits(self.near)} there)"
        head = f"The best {self.name}, {number(self.value)},"
        listed = ", ".join(number(v) for v in self.values)
        which = "lowest" if low else "highest"
        if self.kind == "range":
            scale = "log-scale " if self.log else ""
            where = (f"{head} sits in the {'bottom' if low else 'top'} {100 * BAND:g} % of its "
                     f"{scale}range {number(self.low)}–{number(self.high)}{share}")  # fmt: skip
            advice = f"widen the range {'downward' if low else 'upward'} and search again"
        elif self.kind == "grid":
            where = f"{head} is the {which} of its grid values {listed}{share}"
            at_bound = self.bound is None or math.isclose(self.bound, self.value)
            room = (f", widening the range {'downward' if low else 'upward'} too" if at_bound
                    else f" (the range reaches {number(self.bound)})")  # fmt: skip
            advice = f"add grid values {'below' if low else 'above'} it{room} and search again"
        else:
            where = f"{head} is the {which} of its values {listed}{share}"
            advice = f"add {'smaller' if low else 'larger'} values and search again"
        if not self.room:
            end = self.low if low else self.high
            advice = (f"{self.name} can go no {'lower' if low else 'higher'} than {number(end)}, "
                      "so no wider range can help")  # fmt: skip
        return f"{where}: {advice}."


def _sits(n: int) -> str:
    return "sits" if n == 1 else "sit"


def number(v: Any) -> str:
    """A hyperparameter's value in a sentence: three significant digits, exponents short."""
    x = float(v)
    text = str(int(x)) if x.is_integer() and abs(x) < 1e6 else f"{x:.3g}"
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)  # 1e-05 -> 1e-5


def best_quarter(ev: Evidence, label: str) -> pd.DataFrame:
    """The best quarter of a search's full-budget evaluations (at least `MIN_BEST`, all of them
    when there are fewer), best first by its selection score; ties keep run order. Only
    full-budget scores compare configurations: an early Hyperband or halving round trained
    fewer epochs, and a pruned trial has no score."""
    frame = ev.evaluations(label)
    full = frame[frame["full_budget"] & frame["score"].notna()]
    n = min(len(full), max(MIN_BEST, math.ceil(QUARTER * len(full))))
    ranked = full.sort_values("score", ascending=not ev.higher_is_better, kind="stable")
    return ranked.head(n)


def unit(values: pd.Series, domain: Any) -> np.ndarray:
    """Where values sit in what a search could try, from 0 (low) to 1 (high): a range on its own
    scale (log where it is), a list by position (a single value in the middle)."""
    if isinstance(domain, list):
        place = {v: i / max(len(domain) - 1, 1) for i, v in enumerate(domain)}
        return values.map(place).to_numpy(float) if len(domain) > 1 else np.full(len(values), 0.5)
    x, low, high = values.to_numpy(float), float(domain["low"]), float(domain["high"])
    if domain["log"]:
        x, low, high = np.log(x), math.log(low), math.log(high)
    return (x - low) / (high - low)


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _limited(domain: Any, tried: pd.Series) -> tuple[float, ...] | None:
    """The values a search was limited to, sorted: a numeric list, or a range's grid when the
    search tried nothing else (a grid method); None for a range it sampled, or a list of words
    (no order, so no edge)."""
    if isinstance(domain, list):
        return tuple(sorted(domain)) if _numeric(domain) else None
    grid = domain.get("grid") or []
    on_grid = np.isclose(tried.to_numpy(float)[:, None], np.asarray(grid, float)[None, :])
    return tuple(sorted(grid)) if grid and on_grid.any(axis=1).all() else None


def checked(ev: Evidence, label: str) -> dict[str, Kind | None]:
    """How the edge rule reads each tuned hyperparameter of a search: a sampled "range", a
    "grid" or a list of "values" of three or more, or None where every value is at an edge (two
    values, one grid point) or values have no order (words)."""
    tried = ev.evaluations(label)
    kinds: dict[str, Kind | None] = {}
    for name in ev.tuned:
        domain = ev.space[name]
        values = _limited(domain, tried[name])
        if values is None:
            kinds[name] = "range" if isinstance(domain, dict) else None
        elif len(values) >= 3:
            kinds[name] = "values" if isinstance(domain, list) else "grid"
        else:
            kinds[name] = None
    return kinds


def edges(ev: Evidence, label: str) -> list[Edge]:
    """The tuned hyperparameters whose best value sits on an edge of what the search could try
    (a warning where there is `room` beyond it: `warned`). The best evaluation decides, as it
    is the value the search hands on; the best quarter is counted beside it (`Edge.near`), as a
    majority of a quarter can rarely sit in a band that holds a tenth of a sparse sample, even
    when the score clearly climbs toward the edge."""
    top = best_quarter(ev, label)
    if top.empty:
        return []
    tried = ev.evaluations(label)
    found = []
    for name, kind in checked(ev, label).items():
        if kind is None:
            continue
        domain, best, column = ev.space[name], float(top[name].iloc[0]), top[name]
        if kind == "range":
            u = unit(column, domain)
            low, high = float(domain["low"]), float(domain["high"])
            for side, at in (("low", u <= BAND), ("high", u >= 1 - BAND)):
                if at[0]:
                    found.append(Edge(name, side, best, low, high, kind, int(at.sum()),
                                      len(top), log=bool(domain["log"])))  # fmt: skip
            continue
        values = _limited(domain, tried[name]) or ()
        for side, end in (("low", values[0]), ("high", values[-1])):
            if math.isclose(best, end):
                near = int(np.isclose(column.to_numpy(float), end).sum())
                bound = None if kind == "values" else float(domain[side])
                found.append(Edge(name, side, best, values[0], values[-1], kind, near,
                                  len(top), values=values, bound=bound))  # fmt: skip
    return found


def warned(ev: Evidence, label: str) -> list[Edge]:
    """The edges a wider range or grid could move past: the ones to warn about."""
    return [edge for edge in edges(ev, label) if edge.room]


def edge_sentence(ev: Evidence, label: str) -> str:
    """The edge warnings of a search, or a sentence saying there are none, what was checked and
    why the rest was not."""
    found = edges(ev, label)
    if any(edge.room for edge in found):
        return " ".join(edge.warning for edge in found)
    kinds, tried = checked(ev, label), ev.evaluations(label)
    looked = ", ".join(name for name, kind in kinds.items() if kind)
    text = (f"No best value sits on an edge with room beyond it ({looked} checked)" if looked
            else f"{label} tuned nothing with three values or more")  # fmt: skip
    text = " ".join([*(edge.warning for edge in found), text])
    why: dict[str, list[str]] = {}
    for name in (name for name, kind in kinds.items() if not kind):
        values = _limited(ev.space[name], tried[name])
        if values is None:
            reason = "values with no order, so no edge"
        else:
            few = "a single grid value" if len(values) == 1 else "two values"
            reason = f"{few}: any best value sits at an edge, which says nothing"
        why.setdefault(reason, []).append(name)
    for reason, names in why.items():
        text += f"; {', '.join(names)} {'has' if len(names) == 1 else 'have'} {reason}"
    return text + "."


def _setting(ev: Evidence, label: str) -> str:
    """The profile key that sets a search's full epoch budget."""
    result = ev.result(label)
    slug = str(result["slug"]) if result is not None else label
    settings = (ev.provenance.get("config") or {}).get("methods", {}).get(slug, {})
    if "max_epochs" in settings:
        return f"methods.{slug}.max_epochs"
    return f"space.{EPOCHS}" if EPOCHS in ev.tuned else "training.max_epochs"


@dataclass(frozen=True)
class Budget:
    """The best epochs of a search's full-budget fits that finished (not pruned, not diverged:
    those ended for another reason), against each fit's budget (`epochs`). `cut`: the best epoch
    came within `patience` epochs of the budget, so the budget ended the fit before EarlyStopping
    could (`patience` epochs without improvement): its curve had improved lately."""

    fits: pd.DataFrame  # trial, rung, fold, best_epoch, epochs, cut, best (the best evaluation's)
    patience: int
    setting: str  # the profile key that sets the budget

    @property
    def verdict(self) -> Literal["too small", "generous", "enough", "no fits"]:
        """Too small: `CUT_SHARE` of the fits or more were cut. Generous: every fit's best epoch
        and EarlyStopping's patience after it fit in half the budget. Else enough."""
        if self.fits.empty:
            return "no fits"
        if self.fits["cut"].mean() >= CUT_SHARE:
            return "too small"
        ends = self.fits["best_epoch"] + self.patience
        return "generous" if (ends <= self.fits[EPOCHS] / 2).all() else "enough"

    @property
    def budget(self) -> str:
        """The budget in words: `40-epoch`, or `9–27-epoch` where fits had different ones."""
        low, high = int(self.fits[EPOCHS].min()), int(self.fits[EPOCHS].max())
        return f"{low}-epoch" if low == high else f"{low}–{high}-epoch"

    @property
    def sentence(self) -> str:
        """The verdict in words, with the counts behind it."""
        fits, p, verdict = self.fits, self.patience, self.verdict
        if verdict == "no fits":
            return ("No fit trained to the end of the full budget (each was pruned or diverged), "
                    "so nothing says whether the budget suffices.")  # fmt: skip
        n, k = len(fits), int(fits["cut"].sum())
        last = int((fits["best_epoch"] + p).clip(upper=fits[EPOCHS]).max())
        among = ", the best evaluation's among them" if (fits["cut"] & fits["best"]).any() else ""
        of = f"All {n} full-budget fits" if k == n > 1 else (
            f"{k} of {n} full-budget fits ({100 * k / n:.0f} %)")  # fmt: skip
        their, them = ("its", "it") if k == 1 else ("their", "them")
        cut = (f"{of} found {their} best epoch within the last {p} epochs of {their} "
               f"{self.budget} budget{among}: the budget ended {them} before EarlyStopping could "
               f"(it waits {p} epochs without improvement)")  # fmt: skip
        if verdict == "too small":
            if 2 * p >= fits[EPOCHS].min():  # the window is half the budget or more
                return (f"{cut}. With a patience of {p} on a {self.budget} budget, a best "
                        "epoch after the first half already counts as late, so this is a hint, "
                        f"not a finding: the budget may be too small "
                        f"(`{self.setting}`).")  # fmt: skip
            return (f"{cut}, so {their} curves may still have had room to improve. The budget "
                    f"looks too small: raise `{self.setting}` and search again.")  # fmt: skip
        every, each = ("The one full-budget fit", "it") if n == 1 else (
            f"Every one of the {n} full-budget fits", "each")  # fmt: skip
        if verdict == "generous":
            return (f"{every} found its best epoch by epoch {int(fits['best_epoch'].max())} of "
                    f"its {self.budget} budget, and EarlyStopping ended {each} {p} epochs later, "
                    f"by epoch {last}: the budget is generous, but the epochs it left unused "
                    f"were never trained, so it cost little (a {last}-epoch budget would have "
                    "ended every fit where it did).")  # fmt: skip
        if k == 0:
            return (f"{every} stopped before its {self.budget} budget: EarlyStopping ended {each} "
                    f"{p} epochs after its best epoch, by epoch {last} at the latest, so the "
                    "budget was enough.")  # fmt: skip
        return (f"{cut}; EarlyStopping ended the other {n - k}. That is under "
                f"{100 * CUT_SHARE:.0f} % of the fits: the budget is enough for most "
                f"configurations (a larger `{self.setting}` may still help the {k} it "
                "cut).")  # fmt: skip


def best_epochs(ev: Evidence, label: str) -> Budget:
    """The best epochs of a search's full-budget fits against their budget, with a verdict.
    Hyperband and successive halving give early rounds fewer epochs on purpose: only their
    full-budget fits say whether the budget (their own `max_epochs`) was enough."""
    config = ev.provenance.get("config") or {}
    patience = int(config.get("training", {}).get("patience", 0))
    evaluations = ev.evaluations(label)
    full = evaluations.loc[evaluations["full_budget"], ["trial", "rung"]]
    top = best_quarter(ev, label).head(1)[["trial", "rung"]].assign(best=True)
    fits = ev.trials[(ev.trials["method"] == label) & (ev.trials["fold"] >= 0)
                     & (ev.trials["status"] == "ok")]  # fmt: skip
    fits = fits.assign(rung=fits["rung"].fillna(0).astype(int) if "rung" in fits else 0)
    fits = fits.merge(full, on=["trial", "rung"]).merge(top, on=["trial", "rung"], how="left")
    frame = fits[["trial", "rung", "fold", "best_epoch", EPOCHS]].astype(int)
    frame = frame.assign(cut=(frame["best_epoch"] > frame[EPOCHS] - patience).to_numpy(),
                         best=fits["best"].eq(True).to_numpy())  # fmt: skip
    return Budget(frame.reset_index(drop=True), patience, _setting(ev, label))


@dataclass(frozen=True)
class Counts:
    """A search's fits by status (the final refit of a CV search counted, as results.csv's
    `n_fits` counts it) and its evaluations: scored, pruned (a pruner stopped every fit), failed
    (no score, yet not pruned: a trial that produced nothing to rank)."""

    fits: int
    ok: int
    pruned: int
    diverged: int
    refits: int
    evaluations: int
    scored: int
    pruned_evaluations: int
    failed: int

    @property
    def sentence(self) -> str:
        refit = (" (the final refit among them, which the epoch budget above leaves out)"
                 if self.refits == 1 else f" ({self.refits} final refits among them, which the "
                 "epoch budget above leaves out)" if self.refits else "")  # fmt: skip
        other = self.fits - self.ok - self.pruned - self.diverged
        others = f", {other} with another status" if other else ""
        return (f"{self.fits} fits{refit}: {self.ok} finished, {self.pruned} pruned, "
                f"{self.diverged} diverged (NaN loss){others}. {self.evaluations} evaluations: "
                f"{self.scored} scored, {self.pruned_evaluations} pruned before a score "
                f"counted, {self.failed} failed (no score).")  # fmt: skip


def counts(ev: Evidence, label: str) -> Counts:
    """How many of a search's fits finished, were pruned or diverged, and how many of its
    evaluations were scored, pruned or failed."""
    fits = ev.trials[ev.trials["method"] == label]
    status = fits["status"].value_counts()
    frame = ev.evaluations(label)
    scored = frame["score"].notna()
    return Counts(
        fits=len(fits),
        ok=int(status.get("ok", 0)),
        pruned=int(status.get(PRUNED, 0)),
        diverged=int(status.get(DIVERGED, 0)),
        refits=int((fits["fold"] < 0).sum()),
        evaluations=len(frame),
        scored=int(scored.sum()),
        pruned_evaluations=int((frame["pruned"] & ~scored).sum()),
        failed=int((~scored & ~frame["pruned"]).sum()),
    )


def summary(ev: Evidence, label: str) -> str:
    """A search's health in Markdown, one bullet per check: edges, epoch budget, trials."""
    return (f"- **Range edges.** {edge_sentence(ev, label)}\n"
            f"- **Epoch budget.** {best_epochs(ev, label).sentence}\n"
            f"- **Trials.** {counts(ev, label).sentence}\n")  # fmt: skip

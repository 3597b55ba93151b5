"""Which hyperparameters mattered in a search: the share of its scores' variance each explains.

Two estimates, by what the trials allow. A full grid (every combination of the tuned values
present, each once: the grid loop, GridSearchCV) gets its exact main effects: the functional
ANOVA of a balanced full factorial, where the main effects and the interactions add up to the
whole variance, with no model in between. Any other search gets fANOVA, through
`optuna.importance` on an in-memory Optuna study of its trials: a random forest fitted to the
scores, whose marginals are read off as importances (Hutter, Hoos & Leyton-Brown, 2014).

Either reads only full-budget evaluations: a pruned fit, or an early round of successive
halving or Hyperband, was scored on fewer epochs, and mixing those scores in would make the
budget look like a hyperparameter. Following `optuna.visualization`, the private functions
compute and the public ones draw or write.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.ticker
import numpy as np

from course.report import figures, optuna_studies
from course.report.evidence import Evidence
from course.space import Space

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

FANOVA, MAIN_EFFECTS = "fANOVA", "main effects"
INTERACTIONS = "interactions"  # the bar and column of what main effects leave unexplained
# fANOVA fits a random forest to the scores: like any regression, it needs several points per
# input before its splits follow the scores rather than their noise (the rule of thumb of ~10
# observations per predictor), and the importances are read off that forest. Fewer than this
# many full-budget trials per hyperparameter that varied, and the shares are mostly noise (how
# far off they are is for a lab on benchmarks whose answers are known to measure).
MIN_TRIALS_PER_HYPERPARAMETER = 10
# Exact main effects need no model, but each level's mean is an average of noisy scores (one
# fit per cell, a seed's noise in each): with fewer than this many scores behind a value, its
# mean's standard error is over 1/sqrt(5) ~ 0.45 of one score's noise, too much to rank by.
MIN_SCORES_PER_LEVEL = 5


@dataclass(frozen=True)
class Importance:
    """One search's importances. `shares`: each tuned hyperparameter (in the space's order) ->
    its share; one that did not vary among the evaluations explains nothing, so gets 0 (kept,
    so every search has the same keys). Main effects' shares are fractions of the scores'
    variance, and `interactions` the rest; fANOVA's are Optuna's importances normalised to sum
    to 1 over the hyperparameters (its interactions are not estimated: None)."""

    method: str
    kind: str
    shares: dict[str, float]
    n_trials: int
    warning: str = ""
    interactions: float | None = None


def _usable(ev: Evidence, label: str) -> pd.DataFrame:
    """The evaluations importance reads: full budget (not pruned, not an early round) and
    scored."""
    rows = ev.evaluations(label)
    finite = np.isfinite(rows["score"].to_numpy(float))
    return rows[rows["full_budget"].to_numpy(bool) & finite].reset_index(drop=True)


def _varied(rows: pd.DataFrame, names: list[str]) -> list[str]:
    return [n for n in names if rows[n].nunique() > 1]


def _is_full_grid(rows: pd.DataFrame, names: list[str]) -> bool:
    """Every combination of the values present, each exactly once: a balanced full factorial,
    the design whose main effects are exact."""
    combos = len(rows[names].drop_duplicates())
    return combos == len(rows) == math.prod(rows[n].nunique() for n in names)


def main_effects(rows: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Each factor's share of the scores' variance: the variance of its level means (weighted by
    their counts) over the total; on a balanced full factorial the rest is the interactions."""
    score = rows["score"].to_numpy(float)
    total = float(np.mean((score - score.mean()) ** 2))
    shares = {}
    for name in names:
        means = rows.groupby(name)["score"].agg(["mean", "size"])
        between = float((means["size"] * (means["mean"] - score.mean()) ** 2).sum()) / len(rows)
        shares[name] = between / total
    return shares


def fanova(rows: pd.DataFrame, names: list[str], space: Space, maximize: bool) -> dict[str, float]:
    """Optuna's fANOVA importances of `names` over the evaluations as finished trials of an
    in-memory study, the forest seeded: the same evidence gives the same shares. Built from the
    evaluations rather than `optuna_studies.studies`, which makes every search's trials with
    its curves (reading curves.csv, which importance does not depend on)."""
    import optuna

    distributions = {n: space.domains[n].distribution() for n in names}
    trials = [
        optuna.trial.create_trial(
            params={n: row[n].item() if hasattr(row[n], "item") else row[n] for n in names},
            distributions=distributions,
            value=float(row["score"]),
        )
        for _, row in rows.iterrows()
    ]
    with optuna_studies.quiet():
        # --8<-- [start:fanova]
        study = optuna.create_study(direction="maximize" if maximize else "minimize")
        study.add_trials(trials)
        found = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0), params=names,
            normalize=True,
        )  # fmt: skip
        # --8<-- [end:fanova]
    return {n: float(found[n]) for n in names}


def _warning(kind: str, rows: pd.DataFrame, varied: list[str]) -> str:
    """One sentence saying why to distrust the shares, or "" (the rules: the constants above)."""
    n = len(rows)
    if kind == FANOVA and n < MIN_TRIALS_PER_HYPERPARAMETER * len(varied):
        return (f"Only {n} full-budget evaluations for {len(varied)} hyperparameters (the rule "
                f"asks for {MIN_TRIALS_PER_HYPERPARAMETER} per hyperparameter, "
                f"{MIN_TRIALS_PER_HYPERPARAMETER * len(varied)} in all): fANOVA's random forest "
                "is fitted to too few points, so these shares may be mostly noise.")  # fmt: skip
    if kind == MAIN_EFFECTS:
        counts = {n: int(rows[n].value_counts().min()) for n in varied}
        name = min(counts, key=counts.__getitem__)
        if counts[name] < MIN_SCORES_PER_LEVEL:
            return (f"Only {counts[name]} scores behind a value of {name} (fewer than "
                    f"{MIN_SCORES_PER_LEVEL}): its level means average too few noisy scores, "
                    "so these shares may be mostly noise.")  # fmt: skip
    return ""


def importance(ev: Evidence, label: str) -> Importance | None:
    """A search's importances (exact main effects on a full grid, fANOVA otherwise), or None
    when fewer than two full-budget evaluations have a score, or neither their scores nor any
    tuned hyperparameter varied: then nothing explains anything."""
    return ev.memo(("importance", label), lambda: _importance(ev, label))


def _importance(ev: Evidence, label: str) -> Importance | None:
    rows, names = _usable(ev, label), ev.tuned
    space = Space.from_mapping(ev.space)
    # a value outside the space (a halving round's epochs) is a budget, not a parameter
    held = [n for n in names if rows[n].map(space.domains[n].holds).all()]
    varied = _varied(rows, held)
    if len(rows) < 2 or not varied or rows["score"].nunique() < 2:
        return None
    shares = dict.fromkeys(names, 0.0)
    if _is_full_grid(rows, varied):
        shares.update(main_effects(rows, varied))
        rest = max(0.0, 1.0 - sum(shares.values()))  # >= 0 on a balanced design, but for rounding
        return Importance(label, MAIN_EFFECTS, shares, len(rows),
                          _warning(MAIN_EFFECTS, rows, varied), rest)  # fmt: skip
    shares.update(fanova(rows, varied, space, ev.higher_is_better))
    return Importance(label, FANOVA, shares, len(rows), _warning(FANOVA, rows, varied))


def _none(ev: Evidence, label: str) -> str:
    """Why a search has no importance, in words from its evaluations."""
    n = len(_usable(ev, label))
    if n < 2:
        return f"only {n} full-budget evaluation{'s' if n != 1 else ''} with a score"
    return f"nothing varied among its {n} full-budget evaluations"


def _percent(share: float) -> str:
    """A share in whole percent, a small one not shown as none."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _bars(imp: Importance) -> dict[str, float]:
    """What the bar chart shows: the shares, then what the main effects leave unexplained."""
    return imp.shares | ({} if imp.interactions is None else {INTERACTIONS: imp.interactions})


def overview(ev: Evidence) -> Figure:
    """Every clean search (a row) by tuned hyperparameter (a column), each cell its share; a
    row whose estimate is warned of starred, a search without one marked n/a. The seed-protocol
    run is no search to compare."""
    labels, names = ev.clean_searches, ev.tuned
    found = {label: importance(ev, label) for label in labels}
    columns = [*names, INTERACTIONS]
    grid = np.full((len(labels), len(columns)), np.nan)
    for i, imp in enumerate(found.values()):
        if imp is not None:
            grid[i] = [*_bars(imp).values(), *([] if imp.interactions is not None else [np.nan])]
    fig, ax = figures._figure(height=0.3 * len(labels) + 2.0)
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i, (label, imp) in enumerate(found.items()):
        if imp is None:
            ax.text((len(columns) - 1) / 2, i, f"n/a: {_none(ev, label)}", ha="center",
                    va="center", fontsize=9, color=figures.SEED_TEXT)  # fmt: skip
            continue
        rows = _usable(ev, label)
        for j, share in enumerate(grid[i]):
            fixed = j < len(names) and rows[names[j]].nunique() <= 1
            text = "—" if np.isnan(share) else "fixed" if fixed else _percent(share)
            dark = not np.isnan(share) and image.norm(share) > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="white" if dark else figures.SEED_TEXT if fixed else "black")  # fmt: skip
    ax.set_yticks(range(len(labels)),
                  [f"{label}{'*' if imp is not None and imp.warning else ''}"
                   + ("" if imp is None else f" ({imp.n_trials})")
                   for label, imp in found.items()])  # fmt: skip
    ax.set_xticks(range(len(columns)), [n.replace("_", "_\n") for n in columns])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.axvline(len(names) - 0.5, color="black", lw=0.8)  # interactions: main effects only
    note = (
        "(n): full-budget evaluations. A row with interactions: a full grid's exact main "
        "effects, shares of the scores' variance; the others: fANOVA, Optuna's importances "
        "normalised to sum to 1 (interactions not estimated: —). * Too few evaluations to mean "
        f"much: under {MIN_TRIALS_PER_HYPERPARAMETER} per varied hyperparameter (fANOVA), or "
        f"under {MIN_SCORES_PER_LEVEL} per value (main effects)."
    )
    fig.supxlabel(figures._wrap(note, 0.96 * figures.WIDTH, 9), fontsize=9)
    figures._title(fig, "Hyperparameter importance per search (full-budget evaluations only)")
    return fig


def _names(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def markdown(imp: Importance | None) -> str:
    """A generated paragraph: which hyperparameter explains the most, by how much, from what;
    the warning, if any, as an admonition."""
    if imp is None:
        return ("No importance: fewer than two full-budget evaluations have a score, or none "
                "of their scores or tuned hyperparameters differ.\n")  # fmt: skip
    top = max(imp.shares.values())
    leaders = [n for n, s in imp.shares.items() if math.isclose(s, top)]
    one = len(leaders) == 1
    if imp.kind == MAIN_EFFECTS:
        text = (
            f"{_names(leaders)} {'has' if one else 'have'} the largest main "
            f"effect{'' if one else 's'}: {'it' if one else 'each'} alone explains "
            f"{_percent(top)} of the scores' variance "
            f"(exact main effects over the full grid of {imp.n_trials} full-budget evaluations "
            f"of `{imp.method}`; interactions and noise, which one fit per grid cell cannot "
            f"tell apart, explain {_percent(imp.interactions or 0.0)})."
        )
    else:
        text = (f"Over the {imp.n_trials} full-budget evaluations of `{imp.method}`, "
                f"{_names(leaders)} {'has' if one else 'have'} the largest fANOVA importance, "
                f"{_percent(top)}{'' if one else ' each'} of the total over the "
                f"{len(imp.shares)} tuned hyperparameters (Optuna's `FanovaImportanceEvaluator`, "
                "normalised to sum to 1).")  # fmt: skip
    if imp.warning:
        text += f'\n\n!!! warning "Too few trials to mean much"\n    {imp.warning}'
    return text + "\n"


def explained(ev: Evidence, label: str) -> str:
    """`markdown` of a search's importance or, where it has none, the reason from its own
    evaluations (what the overview's row says)."""
    imp = importance(ev, label)
    return markdown(imp) if imp is not None else f"No importance: {_none(ev, label)}.\n"

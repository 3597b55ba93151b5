"""The seed notebook's five conclusions, each given a verdict computed from this run's numbers.

A difference between two searches counts only when a paired test finds it (p < 0.05): across
seeds when the study repeated itself (`analysis.compare`), else McNemar's test on the same 200
test rows. Otherwise it is "too close to call". What tuning bought (`tuning_bought`) is every
search against the untuned baseline on the same test rows, Holm-adjusted. No verdict here is
written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from course.report import analysis
from course.report.evidence import Evidence
from course.space import BATCH_SIZE, EPOCHS

SUPPORTED, NOT_SUPPORTED, TOO_CLOSE, NOT_RUN = (
    "supported",
    "not supported",
    "too close to call",
    "not run",
)


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    evidence: str


def interval(row: pd.Series) -> str:
    """Test accuracy with its 95 % interval, as every table prints it."""
    return f"{row['test_accuracy']:.3f} [{row['test_ci_low']:.3f}, {row['test_ci_high']:.3f}]"


def value(v: Any) -> str:
    """A hyperparameter's value as the tables print it (a sampled rate to three digits)."""
    if isinstance(v, float):
        return "—" if pd.isna(v) else f"{v:.3g}"
    return str(v)


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def tuning_bought(ev: Evidence, frame: pd.DataFrame | None = None) -> str:
    """What tuning bought, in words: every clean search against the untuned baseline on the
    same test rows (paired bootstrap interval, McNemar's exact test, Holm over the searches);
    `frame`: `analysis.versus_baseline(ev)`, where the caller has it already."""
    base = ev.baseline
    if base is None:
        return ("This study did not run the untuned baseline (`course run baseline`), so it "
                "cannot say what tuning bought.")  # fmt: skip
    frame = analysis.versus_baseline(ev) if frame is None else frame
    if frame.empty:
        return "No clean-protocol search has finished to compare with the untuned baseline."
    n, rows = len(frame), analysis.test_rows(ev)
    held = frame["p_holm"] < analysis.ALPHA
    gained, lost = frame[held & (frame["difference"] > 0)], frame[held & (frame["difference"] < 0)]
    top = frame.loc[frame["difference"].idxmax()]
    ci = (f"a 95 % interval of [{_points(top['ci_low'])}, {_points(top['ci_high'])}] (paired "
          "bootstrap)")  # fmt: skip
    if n == 1:
        spread = (
            f"`{top['method']}` differs from it by {_points(top['difference'])} points, with {ci}"
        )
    else:
        below = int((frame["difference"] < 0).sum())
        spread = (f"the {n} searches differ from it by {_points(frame['difference'].min())} to "
                  f"{_points(top['difference'])} points ({below} of them scored below it); the "
                  f"most favourable difference, `{top['method']}`'s, has {ci}")  # fmt: skip
    text = (f"What tuning bought: the untuned baseline scored {interval(base)} on the test set; "
            f"on the same {rows} test rows, {spread}. ")  # fmt: skip
    family = (f"at Holm-adjusted p < {analysis.ALPHA} (McNemar's exact test, {n} "
              f"comparison{'s' if n > 1 else ''})")  # fmt: skip
    if gained.empty:
        text += (f"No search beats the baseline {family}: on these {rows} test rows, tuning "
                 "bought nothing measurable.")  # fmt: skip
    else:
        names = ", ".join(f"`{m}`" for m in gained["method"])
        text += f"{len(gained)} of the {n} searches beat the baseline {family}: {names}."
    if not lost.empty:
        names = ", ".join(f"`{m}`" for m in lost["method"])
        text += f" {len(lost)} did worse than the baseline at that level: {names}."
    return text + _tuning_across_seeds(ev)


def _tuning_across_seeds(ev: Evidence) -> str:
    """The same question asked of the repeats: does a search beat the baseline on average over
    the seeds' own splits (McNemar above compares two fitted models on one split)?"""
    frame = analysis.versus_baseline_seeds(ev)
    if frame.empty:
        return ""
    seeds, n = int(frame["seeds"].min()), len(frame)
    held = frame[frame["p_holm"] < analysis.ALPHA]
    low, high = _points(frame["difference"].min()), _points(frame["difference"].max())
    differences = (f"the search's mean difference from the baseline is {low} points" if n == 1
                   else f"the searches' mean differences from the baseline run from {low} to "
                   f"{high} points")  # fmt: skip
    text = f" Across {seeds} seeds, each with its own split, {differences}; "
    family = (f"at Holm-adjusted p < {analysis.ALPHA} (Nadeau and Bengio's corrected resampled "
              f"t-test, {n} comparison{'s' if n > 1 else ''})")  # fmt: skip
    if held.empty:
        return text + f"none differs from it {family}."
    better = held[held["difference"] > 0]
    worse = held[held["difference"] < 0]
    parts = [f"{len(g)} {word} ({', '.join(f'`{m}`' for m in g['method'])})"
             for g, word in ((better, "beat it"), (worse, "did worse")) if len(g)]  # fmt: skip
    return text + " and ".join(parts) + f" {family}."


def better(ev: Evidence, a: str, b: str) -> tuple[str, str]:
    """SUPPORTED if run a beats run b beyond noise, NOT_SUPPORTED if b beats a, else TOO_CLOSE;
    with the numbers and the p-value that decided it."""
    sign, words = analysis.compare(ev, a, b)
    return {1: SUPPORTED, -1: NOT_SUPPORTED, 0: TOO_CLOSE}[sign], words


def _cv_study(ev: Evidence, *schemes: str) -> str:
    """The CV study's line on some schemes, when it ran them."""
    summary, _ = analysis.cv_study(ev)
    rows = summary[summary["variant"].isin(schemes)] if len(summary) else summary
    if rows.empty:
        return ""
    parts = [f"{r['variant']}: models learn from {r['learn_share']:.0%} of rows, mean "
             f"test accuracy {r['test_mean']:.3f}, rank correlation with test {r['spearman']:+.2f}"
             for _, r in rows.iterrows()]  # fmt: skip
    return " CV study, same configurations (" + "; ".join(parts) + ")."


def _epochs(ev: Evidence, label: str) -> str:
    """A run's epochs trained, as the cost verdicts state it (a mean over seeds, if any)."""
    return f"{analysis.costs(ev).loc[label, 'epochs_run']:.0f} epochs"


def _over(ev: Evidence) -> str:
    """Where the costs are means over seeds, say so."""
    return f" (means over {analysis.seeds(ev)} seeds)" if analysis.costs_over_seeds(ev) else ""


def claim_grid_loop_best_but_slow(ev: Evidence) -> Verdict:
    claim = "The grid loop finds the best model, but takes long."
    loop = ev.result("grid-loop")
    searches = ev.searches
    clean = searches[(searches["protocol"] == "clean") & (searches["method"] != "grid-loop")]
    if loop is None or clean.empty:
        return Verdict(claim, NOT_RUN, "The study did not run the grid loop and another method.")
    means = analysis.test_means(ev)
    rival = means[[m for m in clean["method"] if m in means.index]].idxmax()
    epochs = analysis.costs(ev)["epochs_run"]
    dearer = int((epochs[list(clean["method"])] > epochs["grid-loop"]).sum())
    verdict, words = better(ev, "grid-loop", rival)
    if dearer > len(clean) / 2:  # "takes long" is contradicted, whatever the accuracy says
        verdict = NOT_SUPPORTED
    return Verdict(
        claim,
        verdict,
        f"Against the best other search: {words}. Cost, in epochs trained{_over(ev)}: the grid "
        f"loop {_epochs(ev, 'grid-loop')}; {dearer} of {len(clean)} other searches trained "
        "more.",
    )


def claim_grid_search_cv_worse(ev: Evidence) -> Verdict:
    claim = (
        "GridSearchCV does worse than the grid loop, because 5-fold CV trains each model "
        "on only 64 % of the data."
    )
    loop, cv = ev.result("grid-loop"), ev.result("grid-search-cv")
    if loop is None or cv is None:
        return Verdict(claim, NOT_RUN, "The study did not run both methods.")
    verdict, words = better(ev, "grid-loop", "grid-search-cv")
    return Verdict(
        claim,
        verdict,
        f"{words}. Both final models learn from the development set less a validation part; "
        f"only the fold models behind the CV score ({cv['selection_score']:.3f}) learn from "
        f"less.{_cv_study(ev, 'holdout', 'cv5')}",
    )


def claim_randomized_trade_off(ev: Evidence) -> Verdict:
    claim = (
        "RandomizedSearchCV is a good trade-off between time and result; more iterations "
        "do not help; 5-fold beats 3-fold."
    )
    variants = {m: ev.result(m) for m in ev.methods("randomized-search-cv")}
    grid = ev.result("grid-search-cv")
    cv3 = next((r for m, r in variants.items() if ev.folds(m) == 3), None)
    cv5 = sorted((r for m, r in variants.items() if ev.folds(m) == 5), key=lambda r: r["n_trials"])
    if grid is None or cv3 is None or len(cv5) < 2:
        return Verdict(
            claim,
            NOT_RUN,
            "Needs grid-search-cv and the randomized variants cv3 and cv5 at two "
            "budgets (the standard profile has them).",
        )
    few, many = cv5[0], cv5[-1]
    vs_grid, vs_grid_words = better(ev, few["method"], "grid-search-cv")
    more, more_words = better(ev, many["method"], few["method"])
    folds, folds_words = better(ev, few["method"], cv3["method"])
    epochs = analysis.costs(ev)["epochs_run"]
    # "as good" and "do not help" claim an absence of difference, which a failed test does not
    # establish: the claim can be contradicted, never shown, so at best it is too close to call
    contradicted = [
        vs_grid == NOT_SUPPORTED or epochs[few["method"]] >= epochs["grid-search-cv"],
        more == SUPPORTED,
        folds == NOT_SUPPORTED,
    ]
    verdict = NOT_SUPPORTED if any(contradicted) else TOO_CLOSE
    return Verdict(
        claim,
        verdict,
        f"Trade-off: {vs_grid_words}, for {_epochs(ev, few['method'])} trained against "
        f"{_epochs(ev, 'grid-search-cv')}{_over(ev)}. More iterations: {more_words}. 5-fold "
        f"against 3-fold: {folds_words}; 5-fold beating 3-fold is {folds}."
        + _cv_study(ev, "cv3", "cv5"),
    )


def claim_keras_tuner_loses_values(ev: Evidence) -> Verdict:
    claim = (
        "KerasTuner RandomSearch is impractical because the chosen epochs and batch size are lost."
    )
    row = ev.result("kt-random-search")
    if row is None:
        return Verdict(claim, NOT_RUN, "The study did not run kt-random-search.")
    # checked on batch size always, on epochs only where the study tunes them (else a budget)
    checked = [BATCH_SIZE, *([EPOCHS] if EPOCHS in ev.tuned else [])]
    kept = all(pd.notna(row[name]) for name in checked)
    found = ", ".join(
        f"{name.replace('_', ' ')} {value(row[name])}"
        + ("" if name in ev.tuned else " (fixed in this study)")
        for name in checked
    )
    aside = (
        ""
        if EPOCHS in checked
        else " This study does not tune epochs (every fit has a budget), so the claim is checked "
        "on batch size only."
    )
    return Verdict(
        claim,
        NOT_SUPPORTED if kept else SUPPORTED,
        f"Passed through HyperModel.fit, KerasTuner recorded them: {found}, test accuracy "
        f"{interval(row)}.{aside}"
        if kept
        else f"The results lack the chosen {' or '.join(checked)}.{aside}",
    )


# The searches that train every configuration they try to its full budget (EarlyStopping
# aside): what the seed notebook called brute force.
BRUTE_FORCE = ("grid-loop", "grid-search-cv", "randomized-search-cv")


AS_MUCH = 0.8  # "costs as much": at least this share of a brute-force method's epochs
FIXED = 0.05  # seconds: a fitted fixed cost per fit below this is too small to name


def claim_hyperband_costly(ev: Evidence) -> Verdict:
    claim = "Hyperband costs as much time as the brute-force methods."
    hb = ev.result("kt-hyperband")
    brute = {slug: ev.methods(slug) for slug in BRUTE_FORCE if ev.methods(slug)}
    if hb is None or not brute:
        why = "The study did not run kt-hyperband and a grid loop or a scikit-learn search."
        return Verdict(claim, NOT_RUN, why)
    epochs = analysis.costs(ev)["epochs_run"]
    ratios = {m: epochs["kt-hyperband"] / epochs[m] for runs in brute.values() for m in runs}
    # one vote per method, against its cheapest run: variants do not outvote other methods
    as_much = sum(max(ratios[m] for m in runs) >= AS_MUCH for runs in brute.values())
    verdict = SUPPORTED if as_much > len(brute) / 2 else NOT_SUPPORTED
    listed = "; ".join(f"`{m}` {epochs[m]:.0f} (ratio {r:.2f})" for m, r in ratios.items())
    fixed = analysis.fit_costs(ev).set_index("slug")["fixed"]  # the Performance page's numbers
    fixed_hb, fixed_loop = fixed["kt-hyperband"], fixed["grid-loop"]
    text = (f"Judged by epochs trained{_over(ev)}, every fit counted: kt-hyperband "
            f"{_epochs(ev, 'kt-hyperband')}, the brute-force runs {listed}; it trained at least "
            f"{AS_MUCH:.0%} of the epochs of the cheapest run of {as_much} of these "
            f"{len(brute)} methods. Wall seconds mix in a fixed cost: a kt-hyperband fit costs "
            f"{_seconds(fixed_hb)} before its first epoch (the intercept of its fits' seconds "
            f"against their epochs), a grid-loop fit {_seconds(fixed_loop)}")  # fmt: skip
    if fixed_hb >= FIXED:  # NaN compares False
        share = fixed_hb * hb["n_fits"] / hb["wall_seconds"]
        text += (f"; over its {hb['n_fits']} fits that is about {share:.0%} of kt-hyperband's "
                 f"{hb['wall_seconds']:.0f} s (seed {hb['seed']})")  # fmt: skip
    return Verdict(claim, verdict, text + ". The Performance page measures it for every method.")


def _seconds(fixed: float) -> str:
    """A fixed cost per fit, in words (a fitted intercept below FIXED is none to speak of)."""
    return "nothing measurable" if pd.isna(fixed) or fixed < FIXED else f"about {fixed:.1f} s"


CLAIMS = (
    claim_grid_loop_best_but_slow,
    claim_grid_search_cv_worse,
    claim_randomized_trade_off,
    claim_keras_tuner_loses_values,
    claim_hyperband_costly,
)


def verdicts(ev: Evidence) -> list[Verdict]:
    return [claim(ev) for claim in CLAIMS]

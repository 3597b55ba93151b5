"""The seed notebook's five conclusions, each given a verdict computed from this run's numbers.

Two test accuracies whose 95 % intervals overlap are "too close to call": with 200 test rows,
a difference of a few points is noise. No verdict here is written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from course.report.evidence import Evidence

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


def overlap(a: pd.Series, b: pd.Series) -> bool:
    """Whether two test-accuracy intervals overlap (then neither is shown to be better)."""
    return not (a["test_ci_low"] > b["test_ci_high"] or b["test_ci_low"] > a["test_ci_high"])


def better(a: pd.Series, b: pd.Series) -> str:
    """SUPPORTED if a beats b beyond noise, NOT_SUPPORTED if b beats a, else TOO_CLOSE."""
    if overlap(a, b):
        return TOO_CLOSE
    return SUPPORTED if a["test_accuracy"] > b["test_accuracy"] else NOT_SUPPORTED


def claim_grid_loop_best_but_slow(ev: Evidence) -> Verdict:
    claim = "The grid loop finds the best model, but takes long."
    loop = ev.result("grid-loop")
    clean = ev.results[(ev.results["protocol"] == "clean") & (ev.results["method"] != "grid-loop")]
    if loop is None or clean.empty:
        return Verdict(claim, NOT_RUN, "The study did not run the grid loop and another method.")
    rival = clean.loc[clean["test_accuracy"].idxmax()]
    slower = (clean["wall_seconds"] > loop["wall_seconds"]).sum()
    verdict = better(loop, rival)
    if verdict == SUPPORTED and slower > len(clean) / 2:  # best, but not among the slow ones
        verdict = NOT_SUPPORTED
    return Verdict(
        claim,
        verdict,
        f"grid-loop test accuracy {interval(loop)} vs the best other method, {rival['method']}, "
        f"{interval(rival)}; it took {loop['wall_seconds']:.0f} s, and {slower} of "
        f"{len(clean)} other methods took longer.",
    )


def claim_grid_search_cv_worse(ev: Evidence) -> Verdict:
    claim = (
        "GridSearchCV does worse than the grid loop, because 5-fold CV trains each model "
        "on only 64 % of the data."
    )
    loop, cv = ev.result("grid-loop"), ev.result("grid-search-cv")
    if loop is None or cv is None:
        return Verdict(claim, NOT_RUN, "The study did not run both methods.")
    verdict = better(loop, cv)
    return Verdict(
        claim,
        verdict,
        f"grid-loop {interval(loop)} vs grid-search-cv {interval(cv)}. Both final models learn "
        f"from the development set less a validation part; only the fold models behind the "
        f"CV score ({cv['selection_score']:.3f}) learn from less.",
    )


def claim_randomized_trade_off(ev: Evidence) -> Verdict:
    claim = (
        "RandomizedSearchCV is a good trade-off between time and result; more iterations "
        "do not help; 5-fold beats 3-fold."
    )
    variants = {m: ev.result(m) for m in ev.methods("randomized-search-cv")}
    grid = ev.result("grid-search-cv")
    cv3 = next((r for m, r in variants.items() if "cv3-" in m), None)
    cv5 = sorted((r for m, r in variants.items() if "cv5-" in m), key=lambda r: r["n_trials"])
    if grid is None or cv3 is None or len(cv5) < 2:
        return Verdict(
            claim,
            NOT_RUN,
            "Needs grid-search-cv and the randomized variants cv3 and cv5 at two "
            "budgets (the standard profile has them).",
        )
    few, many = cv5[0], cv5[-1]
    parts = [
        better(few, grid) != NOT_SUPPORTED and few["wall_seconds"] < grid["wall_seconds"],
        better(many, few) != SUPPORTED,
        better(few, cv3) == SUPPORTED,
    ]
    verdict = SUPPORTED if all(parts) else (TOO_CLOSE if parts[0] and parts[1] else NOT_SUPPORTED)
    return Verdict(
        claim,
        verdict,
        f"{few['method']} {interval(few)} in {few['wall_seconds']:.0f} s vs grid-search-cv "
        f"{interval(grid)} in {grid['wall_seconds']:.0f} s; {many['method']} {interval(many)}; "
        f"{cv3['method']} {interval(cv3)}. 5-fold beating 3-fold is "
        f"{better(few, cv3)}.",
    )


def claim_keras_tuner_loses_values(ev: Evidence) -> Verdict:
    claim = (
        "KerasTuner RandomSearch is impractical because the chosen epochs and batch size are lost."
    )
    row = ev.result("kt-random-search")
    if row is None:
        return Verdict(claim, NOT_RUN, "The study did not run kt-random-search.")
    kept = pd.notna(row["epochs"]) and pd.notna(row["batch_size"])
    return Verdict(
        claim,
        NOT_SUPPORTED if kept else SUPPORTED,
        f"Tuned in HyperModel.fit, KerasTuner recorded them: epochs {row['epochs']}, batch size "
        f"{row['batch_size']}, test accuracy {interval(row)}."
        if kept
        else "The results lack the chosen epochs or batch size.",
    )


def claim_hyperband_costly(ev: Evidence) -> Verdict:
    claim = "Hyperband costs as much time as the brute-force methods."
    hb, loop = ev.result("kt-hyperband"), ev.result("grid-loop")
    if hb is None or loop is None:
        return Verdict(claim, NOT_RUN, "The study did not run kt-hyperband and the grid loop.")
    ratio = hb["wall_seconds"] / loop["wall_seconds"]
    verdict = SUPPORTED if ratio >= 0.8 else NOT_SUPPORTED
    return Verdict(
        claim,
        verdict,
        f"kt-hyperband ran {hb['n_trials']} trials and {hb['epochs_total']} epochs in "
        f"{hb['wall_seconds']:.0f} s; the grid loop ran {loop['n_trials']} configurations and "
        f"{loop['epochs_total']} epochs in {loop['wall_seconds']:.0f} s (ratio {ratio:.2f}).",
    )


CLAIMS = (
    claim_grid_loop_best_but_slow,
    claim_grid_search_cv_worse,
    claim_randomized_trade_off,
    claim_keras_tuner_loses_values,
    claim_hyperband_costly,
)


def verdicts(ev: Evidence) -> list[Verdict]:
    return [claim(ev) for claim in CLAIMS]

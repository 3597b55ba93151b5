"""The statistics behind the site's claims: paired tests, repeats across seeds, any-time curves,
the optimism gap, the CV study and Hyperband's plan beside its run. Pure: evidence in, frames out.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from course.errors import CourseError
from course.report.evidence import Evidence
from course.stats import holm, mcnemar, paired_seeds, spearman

ALPHA = 0.05  # a verdict's difference counts below this p; the matrix also marks Holm-adjusted
MIN_SEEDS = 3  # repeats needed before verdicts use them instead of one seed's test rows


def paired(ev: Evidence) -> pd.DataFrame:
    """Every two searches' final models on the same test rows: McNemar's exact test, with
    Holm's adjustment over all pairs. One row per pair (a before b in results order)."""
    columns = ["a", "b", "difference", "a_only", "b_only", "p_value", "p_holm"]
    labels = list(ev.searches["method"])
    if not labels:
        return pd.DataFrame(columns=columns)
    y, predicted = _test_rows(ev, labels)
    rows = []
    for a, b in itertools.combinations(labels, 2):
        test = mcnemar(y, predicted[a], predicted[b])
        rows.append({"a": a, "b": b, "difference": test.difference, "a_only": test.a_only,
                     "b_only": test.b_only, "p_value": test.p_value})  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns[:-1])
    frame["p_holm"] = holm(list(frame["p_value"])) if rows else []
    return frame


def _test_rows(ev: Evidence, labels: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The test labels and each run's predictions for them, checked to be the same rows."""
    rows_of = {m: ev.predictions[ev.predictions["method"] == m].sort_values("row") for m in labels}
    y = rows_of[labels[0]]["label"].to_numpy()
    if any(not np.array_equal(r["label"].to_numpy(), y) for r in rows_of.values()):
        raise CourseError("predictions.csv: the runs were not scored on the same test rows")
    return y, {m: r["predicted"].to_numpy() for m, r in rows_of.items()}


def repeat_summary(ev: Evidence) -> pd.DataFrame:
    """Mean and standard deviation across seeds, per run label (only labels run under every
    seed of the study count, so the means compare like with like)."""
    reps = ev.repeats
    seeds = reps["seed"].nunique()
    grouped = reps.groupby("method", sort=False)
    frame = grouped.agg(
        seeds=("seed", "nunique"),
        test_mean=("test_accuracy", "mean"),
        test_sd=("test_accuracy", "std"),
        selection_mean=("selection_score", "mean"),
        selection_sd=("selection_score", "std"),
        seconds_mean=("wall_seconds", "mean"),
    ).reset_index()
    return frame[frame["seeds"] == seeds]


def compare(ev: Evidence, a: str, b: str) -> tuple[int, str]:
    """Whether run `a` beats run `b` beyond noise: +1 (a better), -1 (b better) or 0 (cannot
    tell), with the evidence in words. Uses the repeats (paired t-test across seeds) when both
    runs have at least MIN_SEEDS seeds in common, else McNemar's test on one seed's test rows."""
    wide = ev.repeats.pivot_table(index="seed", columns="method", values="test_accuracy")
    both = wide[[a, b]].dropna() if {a, b} <= set(wide.columns) else wide.iloc[:0]
    if len(both) >= MIN_SEEDS:
        p = paired_seeds(both[a].to_numpy(), both[b].to_numpy())
        diff = float((both[a] - both[b]).mean())
        words = (f"`{a}` {both[a].mean():.3f} ± {both[a].std():.3f} vs `{b}` "
                 f"{both[b].mean():.3f} ± {both[b].std():.3f} over {len(both)} seeds "
                 f"(paired t-test p = {p:.3f})")  # fmt: skip
        return (int(np.sign(diff)) if p < ALPHA else 0), words
    y, predicted = _test_rows(ev, [a, b])
    test = mcnemar(y, predicted[a], predicted[b])
    diff, p = test.difference, test.p_value
    words = (f"`{a}` {_interval(ev, a)} vs `{b}` {_interval(ev, b)}; on the same test rows "
             f"McNemar p = {p:.3f}")  # fmt: skip
    return (int(np.sign(diff)) if p < ALPHA else 0), words


def _interval(ev: Evidence, label: str) -> str:
    r = ev.result(label)
    assert r is not None
    return f"{r['test_accuracy']:.3f} [{r['test_ci_low']:.3f}, {r['test_ci_high']:.3f}]"


def anytime(ev: Evidence, method: str) -> pd.DataFrame:
    """Best-so-far selection score after each configuration, against the seconds and epochs
    trained so far (every fold included; the final refit comes after the search)."""
    scores = ev.selection_trials(method)
    return pd.DataFrame({
        "seconds": scores["seconds"].cumsum(),
        "epochs_run": scores["epochs_run"].cumsum(),
        "best": scores["score"].cummax(),
    })  # fmt: skip


def optimism(ev: Evidence) -> pd.DataFrame:
    """Each search's selection score against its untouched test accuracy: the gap is how much
    the score it chose by flattered the winner."""
    frame = ev.searches[["method", "protocol", "selection_score", "test_accuracy", "test_ci_low",
                         "test_ci_high"]].copy()  # fmt: skip
    frame["gap"] = frame["selection_score"] - frame["test_accuracy"]
    return frame.reset_index(drop=True)


def cv_study(ev: Evidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per scheme of the CV study: (summary row, per-configuration scores)."""
    schemes = ev.results[ev.results["slug"] == "cv-study"]
    rows_total = int(ev.classes["rows"].sum())
    summary, configs = [], []
    for label, variant in zip(schemes["method"], schemes["variant"], strict=True):
        fits = ev.trials[ev.trials["method"] == label]
        per = fits.groupby("trial").agg(
            score=("cv_fold_score", "mean"),
            spread=("cv_fold_score", "std"),
            test=("test_accuracy", "mean"),
        )
        per["scheme"] = label
        configs.append(per.reset_index())
        result = ev.result(label)
        assert result is not None
        summary.append({
            "scheme": label,
            "variant": variant,
            "folds": int(fits["fold"].nunique()),
            "learn_share": fits["train_rows"].mean() / rows_total,
            "spread": float(per["spread"].mean()) if fits["fold"].nunique() > 1 else np.nan,
            "spearman": spearman(per["score"].to_numpy(), per["test"].to_numpy()),
            "test_mean": float(per["test"].mean()),
            "fits": len(fits),
            "seconds": float(fits["seconds"].sum()),
            "pick_test": result["test_accuracy"],
            "pick_low": result["test_ci_low"],
            "pick_high": result["test_ci_high"],
        })  # fmt: skip
    return pd.DataFrame(summary), (pd.concat(configs) if configs else pd.DataFrame())


def hyperband_plan(ev: Evidence, method: str = "kt-hyperband") -> pd.DataFrame:
    """The schedule `course hyperband-plan` prints for the study's profile (exported as
    hyperband_plan.csv), beside what ran."""
    if ev.hyperband_plan is None:
        raise CourseError("hyperband_plan.csv: missing; run `course export` first")
    # trials.csv has no iteration column: iterations are summed per bracket and round
    frame = ev.hyperband_plan.groupby(["bracket", "round"], sort=False).agg(
        trials=("trials", "sum"), epochs=("epochs", "first"), epochs_trained=("epochs_trained",
                                                                               "sum")
    ).reset_index()  # fmt: skip
    ran = ev.trials[ev.trials["method"] == method]  # `method`: a label of kt-hyperband
    counts = ran.groupby(["bracket", "round"]).agg(
        ran=("trial", "size"), trained=("epochs_run", "sum")
    )
    counts.index = counts.index.set_levels([lvl.astype(int) for lvl in counts.index.levels])
    frame = frame.join(counts, on=["bracket", "round"])
    return frame.fillna({"ran": 0, "trained": 0})

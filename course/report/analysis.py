"""The statistics behind the site's claims: paired tests (between searches, and of each search
against the untuned baseline), repeats across seeds, any-time curves, the optimism gap, the CV
study, Hyperband's and successive halving's plans beside their runs, what a pruner stopped,
what Bayesian optimisation proposed, what each method sampled and cost, and the fits a space
duplicated. Pure: evidence in, frames out.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from course.errors import CourseError
from course.report.evidence import PRUNED, Evidence
from course.space import EPOCHS, NAMES
from course.stats import corrected_t, holm, mcnemar, spearman

ALPHA = 0.05  # a verdict's difference counts below this p; the matrix also marks Holm-adjusted
MIN_SEEDS = 3  # repeats needed before verdicts use them instead of one seed's test rows
BOOTSTRAP = 2000  # resamples of the test rows behind a paired difference's interval
LEVEL = 0.95
# Searches whose trials sample the space (a grid's are its grid values): the coverage figures
# (HalvingRandomSearchCV's candidates are a random sample: its first round holds them all)
SAMPLERS = ("grid-loop", "randomized-search-cv", "halving-random-search-cv", "kt-random-search",
            "quasi-random")  # fmt: skip


def paired(ev: Evidence) -> pd.DataFrame:
    """Every two clean-protocol searches' final models on the same test rows: McNemar's exact
    test, with Holm's adjustment over all pairs. One row per pair (a before b in results
    order). The seed-protocol run chose on these test rows, so it is no search to compare."""
    columns = ["a", "b", "difference", "a_only", "b_only", "p_value", "p_holm"]
    labels = list(ev.searches.loc[ev.searches["protocol"] == "clean", "method"])
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


def difference_interval(
    right_a: np.ndarray,
    right_b: np.ndarray,
    seed: int = 0,
    n_boot: int = BOOTSTRAP,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Percentile bootstrap interval of accuracy(a) - accuracy(b) over the same test rows: each
    resample draws rows with replacement and keeps both models' verdicts on a row together
    (paired), as `course.stats.accuracy_ci` does for one model. Seeded: reproducible."""
    diff = np.asarray(right_a, dtype=float) - np.asarray(right_b, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def versus_baseline(ev: Evidence) -> pd.DataFrame:
    """Every clean-protocol search's final model against the untuned baseline's, on the same
    test rows: the difference in accuracy (search minus baseline) with its paired bootstrap
    interval, the rows only one of them gets right, McNemar's exact p and Holm's adjustment
    over these comparisons. Empty when the study has no baseline or no clean search."""
    columns = ["method", "test_accuracy", "difference", "ci_low", "ci_high", "search_only",
               "baseline_only", "p_value", "p_holm"]  # fmt: skip
    base = ev.baseline
    searches = ev.searches[ev.searches["protocol"] == "clean"]
    if base is None or searches.empty:
        return pd.DataFrame(columns=columns)
    labels = list(searches["method"])
    y, predicted = _test_rows(ev, [base["method"], *labels])
    right_base = predicted[base["method"]] == y
    rows = []
    for label in labels:
        test = mcnemar(y, predicted[label], predicted[base["method"]])
        low, high = difference_interval(predicted[label] == y, right_base)
        rows.append({"method": label, "test_accuracy": float((predicted[label] == y).mean()),
                     "difference": test.difference, "ci_low": low, "ci_high": high,
                     "search_only": test.a_only, "baseline_only": test.b_only,
                     "p_value": test.p_value})  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns[:-1])
    frame["p_holm"] = holm(list(frame["p_value"]))
    return frame


def versus_baseline_seeds(ev: Evidence) -> pd.DataFrame:
    """Every clean-protocol search against the untuned baseline across the seeds both ran
    under (at least MIN_SEEDS): the mean difference in test accuracy (search minus baseline)
    and the corrected resampled t-test, Holm-adjusted over the searches. Empty otherwise."""
    columns = ["method", "seeds", "difference", "p_value", "p_holm"]
    base = ev.baseline
    if base is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for label in ev.searches.loc[ev.searches["protocol"] == "clean", "method"]:
        pair = across_seeds(ev, label, base["method"])
        if pair is not None:
            rows.append({"method": label, "seeds": len(pair[0]),
                         "difference": float((pair[0] - pair[1]).mean()),
                         "p_value": corrected_t(*pair, test_fraction(ev))})  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns[:-1])
    frame["p_holm"] = holm(list(frame["p_value"])) if rows else []
    return frame


def test_rows(ev: Evidence) -> int:
    """How many test rows every final model was scored on."""
    first = ev.predictions["method"].iloc[0]
    return int((ev.predictions["method"] == first).sum())


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


def across_seeds(ev: Evidence, a: str, b: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Two runs' test accuracies under the seeds both ran (seed order), when those are at
    least MIN_SEEDS: what the corrected t-test pairs. None otherwise."""
    wide = ev.repeats.pivot_table(index="seed", columns="method", values="test_accuracy")
    if not {a, b} <= set(wide.columns):
        return None
    both = wide[[a, b]].dropna()
    return (both[a].to_numpy(), both[b].to_numpy()) if len(both) >= MIN_SEEDS else None


def spread(values: np.ndarray) -> str:
    """A mean over seeds with its standard deviation, labelled (not a standard error)."""
    return f"{np.mean(values):.3f} (sd {np.std(values, ddof=1):.3f})"


def compare(ev: Evidence, a: str, b: str) -> tuple[int, str]:
    """Whether run `a` beats run `b` beyond noise: +1 (a better), -1 (b better) or 0 (cannot
    tell), with the evidence in words. Uses the repeats (Nadeau and Bengio's corrected
    resampled t-test across seeds, `course.stats.corrected_t`) when both runs have at least
    MIN_SEEDS seeds in common, else McNemar's test on one seed's test rows: two fitted models,
    which says nothing of how the two methods would do on another split."""
    pair = across_seeds(ev, a, b)
    if pair is not None:
        p = corrected_t(*pair, test_fraction(ev))
        diff = float((pair[0] - pair[1]).mean())
        words = (f"`{a}` {spread(pair[0])} vs `{b}` {spread(pair[1])} over {len(pair[0])} "
                 f"seeds (corrected resampled t-test p = {p:.3f})")  # fmt: skip
        return (int(np.sign(diff)) if p < ALPHA else 0), words
    y, predicted = _test_rows(ev, [a, b])
    test = mcnemar(y, predicted[a], predicted[b])
    diff, p = test.difference, test.p_value
    words = (f"`{a}` {_interval(ev, a)} vs `{b}` {_interval(ev, b)}; the two fitted models on "
             f"the same test rows, McNemar p = {p:.3f}")  # fmt: skip
    return (int(np.sign(diff)) if p < ALPHA else 0), words


def test_fraction(ev: Evidence) -> float:
    """The share of rows each seed's split holds out for testing (the corrected test's
    n_test / (n_test + n_train))."""
    return float(ev.provenance["config"]["test_size"])


def seeds(ev: Evidence) -> int:
    """How many seeds the study repeated itself under."""
    return int(ev.repeats["seed"].nunique())


def test_means(ev: Evidence) -> pd.Series:
    """Each run's test accuracy as the verdicts rank it: the mean over the seeds when the study
    ran at least MIN_SEEDS of them (runs missing a seed left out), else its one seed's."""
    summary = repeat_summary(ev)
    if seeds(ev) >= MIN_SEEDS:
        return summary.set_index("method")["test_mean"]
    return ev.results.set_index("method")["test_accuracy"]


COSTS = ("epochs_run", "n_fits", "n_trials", "wall_seconds")


def costs(ev: Evidence) -> pd.DataFrame:
    """What each run cost, by label: epochs trained (every fit, folds and final model
    included), fits, trials and wall seconds; the mean over the seeds for a run the repeats
    record under every seed of the study, else its one seed's results."""
    frame = ev.results.set_index("method")[list(COSTS)].astype(float)
    if set(COSTS) <= set(ev.repeats):
        grouped = ev.repeats.groupby("method")
        complete = grouped["seed"].nunique() == seeds(ev)
        means = grouped[list(COSTS)].mean()[complete]
        frame.loc[means.index.intersection(frame.index)] = means
    return frame


def costs_over_seeds(ev: Evidence) -> bool:
    """Whether `costs` are means over more than one seed."""
    return seeds(ev) > 1 and set(COSTS) <= set(ev.repeats)


def _line(fits: pd.DataFrame) -> tuple[float, float, float]:
    """(intercept, slope, the intercept's 95 % half-width) of fits' seconds against their
    epochs, by least squares; NaN where it cannot be told (the half-width needs four fits)."""
    nan = float("nan")
    if fits["epochs_run"].nunique() < 2:
        return nan, nan, nan
    if len(fits) < 4:
        slope, intercept = np.polyfit(fits["epochs_run"], fits["seconds"], 1)
        return float(intercept), float(slope), nan
    from scipy.stats import t

    (slope, intercept), cov = np.polyfit(fits["epochs_run"], fits["seconds"], 1, cov=True)
    half = t.ppf(0.975, len(fits) - 2) * np.sqrt(cov[1, 1])
    return float(intercept), float(slope), float(half)


def fit_costs(ev: Evidence) -> pd.DataFrame:
    """Per method (slug, its variants and seed-protocol run together, in results order): how
    many fits, the seconds a fit costs before its first epoch and the seconds per epoch after
    it, from a least-squares line through its fits (a pruned fit included: it trained what it
    trained), with the 95 % half-width of the first. Wall seconds mix this fixed cost with
    training, which is why cost is judged by epochs."""
    rows = []
    for slug, runs in ev.results.groupby("slug", sort=False):
        fits = ev.trials[ev.trials["method"].isin(runs["method"])]
        fixed, per_epoch, half = _line(fits)
        rows.append({"slug": slug, "fits": len(fits), "fixed": fixed, "half": half,
                     "per_epoch": per_epoch})  # fmt: skip
    return pd.DataFrame(rows, columns=["slug", "fits", "fixed", "half", "per_epoch"])


def _interval(ev: Evidence, label: str) -> str:
    r = ev.result(label)
    assert r is not None
    return f"{r['test_accuracy']:.3f} [{r['test_ci_low']:.3f}, {r['test_ci_high']:.3f}]"


def anytime(ev: Evidence, method: str) -> pd.DataFrame:
    """Best-so-far selection score after each evaluation (`Evidence.selection_trials`: a
    halving candidate once per round, a pruned fit as cost without a score), against the
    seconds and epochs trained so far (every fold included; the final refit comes after the
    search). Before the first scored evaluation the best is NaN."""
    scores = ev.selection_trials(method)
    best = scores["score"].cummax() if ev.higher_is_better else scores["score"].cummin()
    return pd.DataFrame({
        "evaluation": np.arange(1, len(scores) + 1),
        "trial": scores["trial"].to_numpy(),
        "rung": scores["rung"].to_numpy(),
        "seconds": scores["seconds"].cumsum().to_numpy(),
        "epochs_run": scores["epochs_run"].cumsum().to_numpy(),
        "best": best.ffill().to_numpy(),
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


def samplers(ev: Evidence) -> list[str]:
    """The clean-protocol runs of the searches that sample the space, in course order."""
    return [label for slug in SAMPLERS for label in ev.methods(slug)]


def configurations(ev: Evidence, method: str) -> pd.DataFrame:
    """One row per configuration a run tried (CV folds, halving rounds and the refit count
    once), with its hyperparameters as first scored (a halving candidate's epochs are its
    first round's), in trial order."""
    rows = ev.trials[ev.trials["method"] == method]
    if "rung" in rows:  # its first round's CV fits first, a refit (fold -1) after them
        rows = rows.assign(_refit=rows["fold"] < 0).sort_values(["rung", "_refit"], kind="stable")
    return rows.groupby("trial", sort=True)[list(NAMES)].first().reset_index()


def distinct_values(ev: Evidence) -> pd.DataFrame:
    """Per run that tried configurations (searches, in results order), how many it tried and
    how many distinct values of each tuned hyperparameter they used."""
    rows = []
    for label in ev.searches["method"]:
        tried = configurations(ev, label)
        rows.append({"method": label, "configurations": len(tried),
                     **{name: int(tried[name].nunique()) for name in ev.tuned}})  # fmt: skip
    return pd.DataFrame(rows, columns=["method", "configurations", *ev.tuned])


def budgets(ev: Evidence) -> pd.DataFrame:
    """What each method cost in this study, per slug in results order (its variants and the
    seed-protocol run together): runs, trials, fits, epochs, wall seconds (the ledger's, from
    the run's start to its final model), the seconds its fits themselves took, per fit."""
    fit_seconds = ev.trials.groupby("method")["seconds"].sum()
    results = ev.results.assign(fit_seconds=ev.results["method"].map(fit_seconds).fillna(0.0))
    frame = (
        results.groupby("slug", sort=False)
        .agg(
            kind=("kind", "first"),
            runs=("method", "size"),
            trials=("n_trials", "sum"),
            fits=("n_fits", "sum"),
            epochs_run=("epochs_run", "sum"),
            wall_seconds=("wall_seconds", "sum"),
            fit_seconds=("fit_seconds", "sum"),
        )
        .reset_index()
    )
    frame["seconds_per_fit"] = frame["wall_seconds"] / frame["fits"]
    return frame


FIT_SCORES = ("epochs_run", "best_epoch", "val_accuracy", "val_loss")  # what a fit recorded


def duplicate_fits(
    trials: pd.DataFrame, curves: pd.DataFrame | None, method: str = "grid-loop"
) -> pd.DataFrame:
    """The pairs of a run's configurations that differ only in their epoch budget, each with
    whether the two trained identical fits: the same recorded scores and the same learning
    curves, epoch by epoch, on every fold. One row per pair (the smaller budget first)."""
    columns = ["trial", "other", "epochs", "other_epochs", "identical"]
    fits = trials[trials["method"] == method]
    fits = fits[fits["fold"] >= 0]  # a CV search's refit is not one of the grid's fits
    others = [name for name in NAMES if name != EPOCHS]
    history = {}
    if curves is not None:
        mine = curves[curves["method"] == method].sort_values(["metric", "epoch"])
        history = {key: [str(cell) for cell in zip(g["metric"], g["epoch"], g["value"],
                                                    strict=True)]
                   for key, g in mine.groupby(["trial", "fold"])}  # fmt: skip

    def record(trial: int) -> list:
        """What a configuration's fits recorded, as text (a diverged fit's NaN equals NaN)."""
        rows = fits[fits["trial"] == trial].sort_values("fold")
        return [([str(r[k]) for k in FIT_SCORES], history.get((r["trial"], r["fold"])))
                for _, r in rows.iterrows()]  # fmt: skip

    pairs = []
    configs = fits.groupby("trial", sort=True)[[*others, EPOCHS]].first().reset_index()
    for _, group in configs.groupby(others, sort=False, dropna=False):
        group = group.sort_values([EPOCHS, "trial"])
        for (_, a), (_, b) in itertools.combinations(group.iterrows(), 2):
            if a[EPOCHS] == b[EPOCHS]:
                continue
            pairs.append({"trial": int(a["trial"]), "other": int(b["trial"]),
                          "epochs": int(a[EPOCHS]), "other_epochs": int(b[EPOCHS]),
                          "identical": record(a["trial"]) == record(b["trial"])})  # fmt: skip
    return pd.DataFrame(pairs, columns=columns)


def duplicated(pairs: pd.DataFrame) -> set[int]:
    """The configurations whose fits repeat those of a configuration with a smaller budget
    (the ones a search could have skipped)."""
    return set(pairs.loc[pairs["identical"], "other"].astype(int))


HALVING, BAYESIAN, PRUNING = "halving-random-search-cv", "kt-bayesian", "optuna-tpe"


def _best(ev: Evidence, scores: pd.Series) -> object | None:
    """The index of the best score (NaN scores never win; None when all are NaN)."""
    scores = scores.dropna()
    if scores.empty:
        return None
    return scores.idxmax() if ev.higher_is_better else scores.idxmin()


def halving_rounds(ev: Evidence, method: str = HALVING) -> pd.DataFrame:
    """Per round of a successive-halving run, the plan `course export` wrote (halving_plan.csv:
    candidates and epochs) beside what ran (trials.csv, a fit's rung being its round): the
    candidates scored, the epoch budget they got, their fits (every fold), the epochs those
    trained, and the round's best mean CV score and its trial. One row per round, planned or
    run; the final refit is no round's (`halving_refit`)."""
    fits = ev.trials[(ev.trials["method"] == method) & (ev.trials["fold"] >= 0)]
    ran = fits.groupby(fits["rung"].astype(int)).agg(
        candidates=("trial", "nunique"), epochs_low=(EPOCHS, "min"), epochs_high=(EPOCHS, "max"),
        fits=("trial", "size"), epochs_run=("epochs_run", "sum"),
    )  # fmt: skip
    scores = ev.selection_trials(method)
    picks = [_best(ev, g["score"]) for _, g in scores.groupby("rung")]
    best = scores.loc[[i for i in picks if i is not None]]
    ran = ran.join(best.set_index("rung")[["score", "trial"]].rename(
        columns={"score": "best", "trial": "best_trial"}))  # fmt: skip
    ran.index.name = "round"
    plan = ev.halving_plan
    if plan is None:
        plan = pd.DataFrame(columns=["round", "candidates", "epochs"])
    plan = plan.rename(columns={"candidates": "planned_candidates", "epochs": "planned_epochs"})
    frame = plan.set_index("round").join(ran, how="outer").reset_index()
    counts = ["planned_candidates", "planned_epochs", "candidates", "epochs_low", "epochs_high",
              "fits", "epochs_run", "best_trial"]  # fmt: skip
    return frame.astype({c: "Int64" for c in counts})


def halving_refit(ev: Evidence, method: str = HALVING) -> pd.Series | None:
    """The final refit of a successive-halving run (fold -1), or None if it recorded none."""
    rows = ev.trials[(ev.trials["method"] == method) & (ev.trials["fold"] < 0)]
    return None if rows.empty else rows.iloc[0]


def halving_winner(ev: Evidence, method: str = HALVING) -> int:
    """The trial a successive-halving run chose: the one it refit, else the best of its last
    round (only the last round's scores choose, whatever an earlier round scored)."""
    refit = halving_refit(ev, method)
    if refit is not None:
        return int(refit["trial"])
    scores = ev.selection_trials(method)
    last = scores[scores["rung"] == scores["rung"].max()]
    return int(last.loc[_best(ev, last["score"]), "trial"])


def pruned(ev: Evidence, method: str = PRUNING) -> pd.DataFrame:
    """One row per trial of a search with a pruner: whether it was pruned, the epochs it ran
    (a pruned trial's: the epoch it was stopped at) and its seconds, in trial order."""
    fits = ev.trials[ev.trials["method"] == method].sort_values("trial")
    return pd.DataFrame({"trial": fits["trial"].to_numpy(),
                         "pruned": fits["status"].eq(PRUNED).to_numpy(),
                         "epochs_run": fits["epochs_run"].to_numpy(),
                         "seconds": fits["seconds"].to_numpy()})  # fmt: skip


def pruning_curves(ev: Evidence, method: str = PRUNING) -> pd.DataFrame:
    """Every trial's monitored validation score (what the pruner judged) by epoch, with
    whether the trial was pruned: curves.csv's rows of the monitored metric."""
    monitor = ev.provenance["config"]["training"]["monitor"]
    curves = ev.curves[(ev.curves["method"] == method) & (ev.curves["metric"] == monitor)]
    status = pruned(ev, method).set_index("trial")["pruned"]
    frame = curves[["trial", "epoch", "value"]].sort_values(["trial", "epoch"])
    return frame.assign(pruned=frame["trial"].map(status).fillna(False).astype(bool))


def proposals(ev: Evidence, method: str = BAYESIAN) -> pd.DataFrame:
    """One row per trial of a Bayesian optimisation run: its tuned hyperparameters, its
    selection score, and whether it was one of the random initial points (the first
    `initial_points` trials) rather than a Gaussian-process proposal."""
    settings = ev.provenance["config"]["methods"].get(BAYESIAN, {})
    tried = configurations(ev, method)[["trial", *ev.tuned]]
    scores = ev.selection_trials(method).groupby("trial")["score"].first()
    return tried.assign(score=tried["trial"].map(scores),
                        initial=tried["trial"] < settings.get("initial_points", 0))  # fmt: skip


def which_method(ev: Evidence) -> pd.DataFrame:
    """One row per clean-protocol search, in results order: its test accuracy with the 95 %
    interval, and what it cost (epochs trained, wall seconds, fits), with the number of folds
    it scored a configuration on (1: holdout)."""
    clean = ev.searches[ev.searches["protocol"] == "clean"]
    frame = clean[["method", "slug", "test_accuracy", "test_ci_low", "test_ci_high",
                   "epochs_run", "wall_seconds", "n_fits"]].reset_index(drop=True)  # fmt: skip
    return frame.assign(folds=[ev.folds(m) for m in frame["method"]])


def shown_fit(ev: Evidence, method: str = "grid-loop") -> tuple[pd.Series, pd.DataFrame]:
    """The fit of the configuration a run chose (its first, for a CV search's folds) and its
    learning curves, one column per metric by epoch: what the callbacks page shows."""
    trial = chosen_trials(ev, method)[0]
    trials = ev.trials[(ev.trials["method"] == method) & (ev.trials["trial"] == trial)]
    fit = trials.sort_values("fold").iloc[0]
    curves = ev.curves[(ev.curves["method"] == method) & (ev.curves["trial"] == trial)
                       & (ev.curves["fold"] == fit["fold"])]  # fmt: skip
    curves = curves.pivot_table(index="epoch", columns="metric", values="value")
    curves.columns.name = None
    return fit, curves


def stopped_early(fit: pd.Series, patience: int) -> bool:
    """Whether EarlyStopping ended a fit: `patience` epochs passed after its best one (else its
    budget ended it first)."""
    return int(fit["epochs_run"]) - int(fit["best_epoch"]) >= patience


def validation_rows(ev: Evidence) -> int:
    """The rows of a holdout validation split, counted as scikit-learn's split counts them (the
    held-out share rounded up)."""
    dev = int(ev.classes["rows"].sum()) - test_rows(ev)
    return math.ceil(dev * float(ev.provenance["config"]["validation_size"]))


def chosen_trials(ev: Evidence, method: str) -> list[int]:
    """The trials whose configuration is the one a run chose (results.csv), in trial order (a
    halving candidate's epochs are its round's, so they are not compared; a pruned trial is
    no candidate, unless every trial was pruned)."""
    result = ev.result(method)
    if result is None:
        return []
    names = [name for name in NAMES if name != EPOCHS or method != HALVING]
    tried = configurations(ev, method)
    same = (tried[names].astype(str) == result[names].astype(str)).all(axis=1)
    stopped = ev.trials.loc[(ev.trials["method"] == method) & ev.trials["status"].eq(PRUNED),
                            "trial"]  # fmt: skip
    if len(set(stopped)) < len(tried):
        same &= ~tried["trial"].isin(stopped)
    return [int(t) for t in tried.loc[same, "trial"]]

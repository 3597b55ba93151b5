"""Markdown includes: tables and short generated passages the hand-written pages embed."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from course.report import analysis
from course.report.conclusions import Verdict, interval, verdicts
from course.report.evidence import Evidence
from course.report.markdown import HEADER, table
from course.space import EPOCHS, NAMES


def config(row: pd.Series) -> str:
    return ", ".join(f"{name} {row[name]}" for name in NAMES)


def provenance(ev: Evidence) -> str:
    p = ev.provenance
    shown = ("keras", "jax", "tensorflow", "scikit-learn", "keras-tuner")
    versions = ", ".join(f"{k} {v}" for k, v in p["packages"].items() if k in shown and v)
    commit = (p.get("git_commit") or "unknown")[:10]
    return (
        f'!!! info "Evidence on this page"\n'
        f"    Profile `{p['profile']}`, seed {', '.join(map(str, p['seeds']))}, finished "
        f"{p['finished_at'][:16].replace('T', ' ')} UTC on {p['cpu_count']} CPUs "
        f"({p['platform']}), Keras backend `{p['keras_backend']}`; {versions}; "
        f"command `{p['command']}`, commit `{commit}`.\n"
    )


def scoreboard(ev: Evidence) -> str:
    """Every run side by side (each method's page lists the configuration it chose)."""
    rows = [
        (f"`{r['method']}`", f"{r['selection_score']:.3f}", interval(r), f"{r['wall_seconds']:.0f}",
         r["n_trials"], r["n_fits"], r["epochs_run"])
        for _, r in ev.searches.iterrows()
    ]  # fmt: skip
    columns = ["method", "selection score", "test accuracy [95 % CI]", "seconds", "trials",
               "fits", "epochs run"]  # fmt: skip
    return table(columns, rows)


def method_results(ev: Evidence, slug: str) -> str:
    labels = list(ev.results.loc[ev.results["slug"] == slug, "method"])
    rows = []
    for label in labels:
        r = ev.result(label)
        rows.append(
            (
                f"`{label}`",
                f"{r['selection_score']:.3f}",
                interval(r),
                f"{r['wall_seconds']:.0f}",
                r["n_trials"],
                r["n_fits"],
                config(r),
            )
        )
    return table(
        [
            "run",
            "selection score",
            "test accuracy [95 % CI]",
            "seconds",
            "trials",
            "fits",
            "chosen configuration",
        ],
        rows,
    )


def space(ev: Evidence) -> str:
    profile = ev.provenance["config"]
    values = profile["space"]
    size = 1
    for name in NAMES:
        size *= len(values[name])
    rows = [
        (f"`{n}`", ", ".join(map(str, values[n])), "tuned" if len(values[n]) > 1 else "fixed")
        for n in NAMES
    ]
    return (
        table(["hyperparameter", "candidate values", ""], rows)
        + f"\nThe `{ev.provenance['profile']}` profile's grid has **{size}** configurations; "
        f"EarlyStopping monitors `{profile['training']['monitor']}` with patience "
        f"{profile['training']['patience']}.\n"
    )


def callbacks(ev: Evidence) -> str:
    fits = ev.trials
    # Hyperband continues a parent's training: its fits start at `initial_epoch`, others at 0
    start = fits["initial_epoch"].fillna(0) if "initial_epoch" in fits else 0
    budget = (fits[EPOCHS] - start).sum()
    trained = fits["epochs_run"].sum()
    stopped = (fits["epochs_run"] < fits[EPOCHS] - start).mean()
    gap = (fits["epochs_run"] - (fits["best_epoch"] - start)).mean()
    return (
        f"Over the {len(fits)} fits of this study, EarlyStopping ended {stopped:.0%} of them "
        f"before their epoch budget: {trained:.0f} epochs trained out of {budget} budgeted. "
        f"A fit ran on average {gap:.1f} epochs past its best (checkpointed) epoch, which "
        f"is the patience EarlyStopping waits before it gives up.\n"
    )


def conclusions(verdicts: list[Verdict]) -> str:
    rows = [(i, v.claim, f"**{v.verdict}**", v.evidence) for i, v in enumerate(verdicts, 1)]
    return table(["#", "the seed notebook concluded", "verdict from this run", "evidence"], rows)


def summary(ev: Evidence, verdicts: list[Verdict]) -> str:
    clean = ev.searches[ev.searches["protocol"] == "clean"]
    if clean.empty:
        return "No clean-protocol search has finished yet: run `course run-all`.\n"
    repeated = analysis.repeat_summary(ev).set_index("method")
    means = repeated["test_mean"]
    seeds = ev.repeats["seed"].nunique()
    if seeds >= analysis.MIN_SEEDS and set(clean["method"]) <= set(means.index):
        best = means[list(clean["method"])].idxmax()  # by the mean over the repeats
        row = repeated.loc[best]
        top_words = f"`{best}`'s {row['test_mean']:.3f} ± {row['test_sd']:.3f} over {seeds} seeds"
    else:
        best = clean.loc[clean["test_accuracy"].idxmax(), "method"]
        top_words = f"`{best}`'s {interval(ev.result(best))}"
    tied = [m for m in clean["method"] if m != best and analysis.compare(ev, best, m)[0] == 0]
    counts = pd.Series([v.verdict for v in verdicts]).value_counts()
    return (
        f"The latest `{ev.provenance['profile']}` study ran {len(ev.searches)} searches "
        f"{'and the CV study ' if len(ev.searches) < len(ev.results) else ''}in "
        f"{len(ev.trials)} fits. The highest test accuracy is {top_words}; "
        f"{len(tied)} of the other {len(clean) - 1} searches cannot be told "
        f"apart from it ({_rule(ev)}). Of the seed notebook's five conclusions: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + ".\n"
    )


def _rule(ev: Evidence) -> str:
    """How `analysis.compare` decides, in words."""
    seeds = ev.repeats["seed"].nunique()
    if seeds >= analysis.MIN_SEEDS:
        return f"paired t-test over {seeds} seeds, p ≥ {analysis.ALPHA}"
    return f"McNemar's test on the same test rows, p ≥ {analysis.ALPHA}"


def cv_fractions(ev: Evidence) -> str:
    profile = ev.provenance["config"]
    dev = 1 - profile["test_size"]
    val = profile["validation_size"]
    rows = [("holdout (grid loop, KerasTuner)", f"{dev * (1 - val):.0%}", f"{dev * val:.0%}")]
    for k in sorted(
        {3, 5, *(v["cv"] for v in profile["methods"]["randomized-search-cv"]["variants"])}
    ):
        fit = dev * (k - 1) / k
        rows.append(
            (
                f"{k}-fold CV",
                f"{fit * (1 - val):.0%} (+{fit * val:.0%} for EarlyStopping)",
                f"{dev / k:.0%} per fold",
            )
        )
    return table(["protocol", "rows a model learns from", "rows that score it"], rows)


def benchmark(bench: pd.DataFrame | None) -> str:
    """scripts/bench.py's measurements, the median of its repeats: each setup's first run and
    rerun against the same run of the first setup (the seed-style one)."""
    if bench is None or bench.empty:
        return "*No benchmark has been run yet: `python scripts/bench.py` measures it.*\n"
    measured = ["wall_seconds", "search_seconds", "fits_per_minute", "ms_per_epoch",
                "best_val_accuracy"]  # fmt: skip
    median = bench.groupby(["setup", "run"], sort=False)[measured].median()
    described = bench.groupby("setup", sort=False)["description"].first()
    base = described.index[0]

    def timing(setup: str, run: str) -> tuple[str, str]:
        """Seconds of the whole command (of the search), and the speed-ups over `base`."""
        mine, theirs = median.loc[(setup, run)], median.loc[(base, run)]
        return (f"{mine['wall_seconds']:.1f} ({mine['search_seconds']:.1f})",
                f"{theirs['wall_seconds'] / mine['wall_seconds']:.1f}x "
                f"({theirs['search_seconds'] / mine['search_seconds']:.1f}x)")  # fmt: skip

    rows = [
        (f"`{setup}`", description, *timing(setup, "first"), *timing(setup, "rerun"),
         f"{median.loc[(setup, 'rerun'), 'fits_per_minute']:.1f}",
         f"{median.loc[(setup, 'rerun'), 'ms_per_epoch']:.1f}",
         f"{median.loc[(setup, 'rerun'), 'best_val_accuracy']:.3f}")
        for setup, description in described.items()
    ]  # fmt: skip
    headers = ["setup", "what it is", "first run: seconds (search)", "speed-up",
               "rerun: seconds (search)", "speed-up", "rerun: fits/minute", "rerun: ms/epoch",
               "best validation accuracy"]  # fmt: skip
    repeats = int(bench.groupby(["setup", "run"]).size().min())
    return table(headers, rows) + (
        f"\nThe median of {repeats} repeats, measured on {int(bench['cpus'].iloc[0])} CPUs, one "
        "process per run; the reference workload is `course run grid-loop --profile reference`. "
        "*Seconds* is the whole command (start-up, search and report); in brackets, the search "
        "itself: the grid loop's fits with their compiling, and its final model. The first run "
        "starts with an empty JAX compilation cache, as on a new machine; the rerun finds what "
        "the first run compiled, as every later run does. Each speed-up compares the same run "
        f"of `{base}`.\n"
    )


def paired(ev: Evidence) -> str:
    """Every pair of searches, smallest p-value first, inside a collapsible block."""
    pairs = analysis.paired(ev).sort_values("p_value", kind="stable")
    if pairs.empty:
        return "*Paired comparisons need at least two searches: run `course run-all`.*\n"
    raw = int((pairs["p_value"] < analysis.ALPHA).sum())
    held = int((pairs["p_holm"] < analysis.ALPHA).sum())
    rows = [
        (f"`{r['a']}` − `{r['b']}`", f"{100 * r['difference']:+.1f}", r["a_only"], r["b_only"],
         f"{r['p_value']:.3f}", f"**{r['p_holm']:.3f}**" if r["p_holm"] < analysis.ALPHA
         else f"{r['p_holm']:.3f}")
        for _, r in pairs.iterrows()
    ]  # fmt: skip
    body = table(["pair (a − b)", "difference, points", "rows only a gets right",
                  "rows only b gets right", "McNemar p", "Holm-adjusted p"], rows)  # fmt: skip
    return (
        f"Of the {len(pairs)} pairs of searches, {raw} differ at p < {analysis.ALPHA} on their "
        f"own and **{held}** once the p-values are adjusted for making {len(pairs)} comparisons "
        "(Holm).\n\n"
        f'??? note "All {len(pairs)} pairs"\n\n'
        + "".join(f"    {line}\n" for line in body.splitlines())
    )


def optimism(ev: Evidence) -> str:
    rows = [
        (f"`{r['method']}`", r["protocol"], f"{r['selection_score']:.3f}", interval(r),
         f"{100 * r['gap']:+.1f}")
        for _, r in analysis.optimism(ev).iterrows()
    ]  # fmt: skip
    return table(["search", "protocol", "selection score", "test accuracy [95 % CI]",
                  "gap, points (selection − test)"], rows)  # fmt: skip


def cv_study(ev: Evidence) -> str:
    summary, _ = analysis.cv_study(ev)
    if summary.empty:
        return "*This study did not run the CV study: `course run cv-study`.*\n"
    rows = [
        (
            f"`{r['scheme']}`",
            f"{r['learn_share']:.0%}",
            "—" if pd.isna(r["spread"]) else f"{r['spread']:.3f}",
            f"{r['spearman']:+.2f}",
            f"{r['test_mean']:.3f}",
            f"{r['fits']} fits, {r['seconds']:.0f} s",
            f"{r['pick_test']:.3f} [{r['pick_low']:.3f}, {r['pick_high']:.3f}]",
        )
        for _, r in summary.iterrows()
    ]
    columns = ["scheme", "rows a model learns from", "fold scores' sd", "Spearman with test",
               "its models' mean test accuracy", "cost", "its pick on the test set"]  # fmt: skip
    return table(columns, rows)


def hyperband_plan(ev: Evidence) -> str:
    if ev.result("kt-hyperband") is None:
        return "*This study did not run kt-hyperband.*\n"
    frame = analysis.hyperband_plan(ev)
    rows = [
        (r["bracket"], r["round"], r["trials"], int(r["ran"]), r["epochs"],
         r["epochs_trained"], int(r["trained"]))
        for _, r in frame.iterrows()
    ]  # fmt: skip
    s = ev.provenance["config"]["methods"]["kt-hyperband"]
    return (
        table(
            [
                "bracket",
                "round",
                "trials planned",
                "trials run",
                "epochs (up to)",
                "epochs planned",
                "epochs trained",
            ],
            rows,
        )
        + f"\nPlanned by `course hyperband-plan --max-epochs {s['max_epochs']} --factor "
        f"{s['factor']} --iterations {s['hyperband_iterations']}`; trained epochs fall short "
        "of the plan where EarlyStopping ended a trial early.\n"
    )


def repeats(ev: Evidence) -> str:
    summary = analysis.repeat_summary(ev)
    seeds = sorted(ev.repeats["seed"].unique())
    if len(seeds) < 2:
        return (
            f"This study ran one seed ({seeds[0]}). `course run-all --profile full` repeats "
            "every method under five seeds, and this table then shows their mean and spread.\n"
        )
    rows = [
        (f"`{r['method']}`", r["seeds"], f"{r['test_mean']:.3f} ± {r['test_sd']:.3f}",
         f"{r['selection_mean']:.3f} ± {r['selection_sd']:.3f}", f"{r['seconds_mean']:.0f}")
        for _, r in summary.iterrows()
    ]  # fmt: skip
    return (
        table(
            [
                "run",
                "seeds",
                "test accuracy, mean ± sd",
                "selection score, mean ± sd",
                "seconds, mean",
            ],
            rows,
        )
        + f"\nSeeds {', '.join(map(str, seeds))}: each seed draws its own test split and "
        "initial weights, so the spread is what a student rerunning the study would see.\n"
    )


def makers(ev: Evidence) -> dict[str, Callable[[], str]]:
    """Every table include, by name, each made only when called (an unchanged one is not)."""
    made: dict[str, Callable[[], str]] = {
        "provenance": lambda: provenance(ev),
        "summary": lambda: summary(ev, verdicts(ev)),
        "scoreboard": lambda: scoreboard(ev),
        "space": lambda: space(ev),
        "callbacks": lambda: callbacks(ev),
        "conclusions": lambda: conclusions(verdicts(ev)),
        "cv-fractions": lambda: cv_fractions(ev),
        "benchmark": lambda: benchmark(ev.benchmark),
        "paired": lambda: paired(ev),
        "optimism": lambda: optimism(ev),
        "cv-study": lambda: cv_study(ev),
        "hyperband-plan": lambda: hyperband_plan(ev),
        "repeats": lambda: repeats(ev),
    }
    for slug in ev.slugs:
        made[f"results-{slug}"] = lambda slug=slug: method_results(ev, slug)
    return {name: lambda make=make: HEADER + make() for name, make in made.items()}

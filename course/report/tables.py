"""Markdown includes: tables and short generated passages the hand-written pages embed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

from course.report import analysis
from course.report.conclusions import Verdict, interval, tuning_bought, value, verdicts
from course.report.evidence import NOTEBOOK_DIR, NOTEBOOK_PROFILE, PRUNED, Evidence
from course.report.markdown import HEADER, table
from course.space import EPOCHS, NAMES


def config(row: pd.Series) -> str:
    return ", ".join(f"{name} {value(row[name])}" for name in NAMES)


def _and(values: list) -> str:
    """`30 and 60`, `10, 20 and 40`: a list as a sentence writes it."""
    words = [str(v) for v in values]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _count(row: pd.Series, column: str) -> str:
    """A count from results.csv, or a dash where an older export has none."""
    return "—" if column not in row or pd.isna(row[column]) else str(int(row[column]))


def provenance(ev: Evidence) -> str:
    p = ev.provenance
    shown = ("keras", "jax", "tensorflow", "scikit-learn", "keras-tuner")
    versions = ", ".join(f"{k} {v}" for k, v in p["packages"].items() if k in shown and v)
    commit = (p.get("git_commit") or "unknown")[:10]
    seeds = p["seeds"]
    commands = list(dict.fromkeys(r["command"] for r in p.get("runs", []))) or [p["command"]]
    said = ", ".join(f"`{c}`" for c in commands)
    rerun = ""
    plain = re.compile(r"course run-all( --profile \S+)?( --repeats \d+)?")
    if all(plain.fullmatch(c) for c in commands):  # the whole built-in study, once more
        options = [f"--profile {p['profile']}"]
        options += [f"--seed {seeds[0]}"] if seeds[0] != p["config"].get("seed") else []
        options += [f"--repeats {len(seeds)}"] if len(seeds) > 1 else []
        rerun = f"; to rerun it all: `course run-all {' '.join(options)}`"
    config = p["config"]
    named = {k: config.get(f"{k}_seed", config["seed"]) for k in ("split", "init", "search")}
    apart = ", ".join(f"{k} seed {v}" for k, v in named.items())
    apart = (" (each seeds the split, the initial weights and the search alike)"
             if set(named.values()) == {config["seed"]} else f" (the first's {apart})")  # fmt: skip
    finished = p["finished_at"][:16].replace("T", " ")
    return (
        f'!!! info "Evidence on this page"\n'
        f"    Profile `{p['profile']}`, seed{'s' if len(seeds) > 1 else ''} "
        f"{', '.join(map(str, seeds))}{apart}, finished {finished} UTC "
        f"on {p['cpu_count']} CPUs ({p['platform']}), Keras backend `{p['keras_backend']}`; "
        f"{versions}; command{'s' if len(commands) > 1 else ''} {said}{rerun}, commit "
        f"`{commit}`.\n"
    )


def dataset_facts(ev: Evidence) -> str:
    """What the Dataset page says of the table the study used, from its provenance and its
    class counts: which table, its shape, its classes, and what one row is worth."""
    d, classes = ev.provenance["dataset"], ev.classes
    test, dev = analysis.test_rows(ev), int(classes["rows"].sum()) - analysis.test_rows(ev)
    validation = analysis.validation_rows(ev)
    categorical = d["categorical"]
    kinds = (f"{len(d['features']) - len(categorical)} numeric, {len(categorical)} categorical "
             f"({', '.join(f'`{c}`' for c in categorical)}), one-hot encoded into "
             f"{d['inputs']} inputs" if categorical else "all numeric")  # fmt: skip
    about = f": {d['about']}" if d.get("about") else ""
    largest = classes["rows"].max() / classes["rows"].sum()
    shown = ", ".join(f"**{name}**" for name in classes["name"])
    return (
        f"This study used **{d['title']}** (`{d['path']}`, SHA-256 `{d['sha256'][:12]}`)"
        f"{about}.\n\n"
        f"| fact | value |\n| --- | --- |\n"
        f"| rows | {d['rows']} |\n"
        f"| features | {len(d['features'])} ({kinds}) |\n"
        f"| target | `{d['target']}`, {len(classes)} classes: {shown} |\n"
        f"| majority class | {largest:.1%} of the rows: the accuracy of always guessing it |\n"
        f"| development / test rows | {dev} / {test} (stratified by class) |\n"
        f"| holdout validation rows | {validation}: one row moves validation accuracy by "
        f"{100 / validation:.2f} points |\n"
        f"| one test row | moves test accuracy by {100 / test:.2f} points |\n"
    )


def dataset_summary(ev: Evidence) -> str:
    """The home page's sentence on the study's table, whichever it is."""
    d, classes = ev.provenance["dataset"], ev.classes
    about = d.get("about") or ""
    about = f" Its rows: {about[0].lower()}{about[1:].rstrip('.')}." if about else ""
    return (f"Its task, in the study on this site, is the *{d['title']}* table ({d['rows']} rows, "
            f"{len(d['features'])} features): predict `{d['target']}`, one of {len(classes)} "
            f"classes.{about} [The dataset](dataset.md) has the details.\n")  # fmt: skip


def scoreboard(ev: Evidence) -> str:
    """Every search side by side (each method's page lists the configuration it chose), then
    apart the seed-protocol run (it chose on the test rows) and the untuned baseline (it
    searched nothing): neither is ranked with the searches."""

    def row(r: pd.Series, name: str, tied: str) -> tuple:
        return (name, f"{r['selection_score']:.3f}", tied, interval(r), f"{r['wall_seconds']:.0f}",
                r["n_trials"], r["n_fits"], r["epochs_run"])  # fmt: skip

    searches = ev.searches.sort_values("protocol", key=lambda p: p != "clean", kind="stable")
    rows = [row(r, f"`{r['method']}`" + ("" if r["protocol"] == "clean" else
                " (chose on the test rows: not comparable)"), _count(r, "tied"))
            for _, r in searches.iterrows()]  # fmt: skip
    base = ev.baseline
    if base is not None:
        rows.append(row(base, f"`{base['method']}` (untuned, not a search)", "—"))
    columns = ["method", "selection score", "tied", "test accuracy [95 % CI]", "seconds",
               "trials", "fits", "epochs run"]  # fmt: skip
    seeds = analysis.seeds(ev)
    whose = (f"\nSeed {ev.results['seed'].iloc[0]}'s runs, one of the study's {seeds} seeds: the "
             "means over all of them are in the repeats table.\n" if seeds > 1 else "")  # fmt: skip
    if "tied" not in ev.results:  # an export from before ties were counted
        return table(columns, rows) + whose
    ties = (f"\n*tied*: how many configurations shared the pick's selection score "
            f"(`{ev.selection}`); every method breaks such ties the same way (the better other "
            "validation score, then the earlier trial).\n")  # fmt: skip
    return table(columns, rows) + whose + ties


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
    ) + "".join(_random_start(ev, label) + _hyperband_pick(ev, label) for label in labels)


# The adaptive searchers that start with random trials: the setting that counts them, and what
# proposes after them.
RANDOM_STARTS = {"kt-bayesian": ("initial_points", "the Gaussian process"),
                 "optuna-tpe": ("startup_trials", "TPE")}  # fmt: skip


def _random_start(ev: Evidence, method: str) -> str:
    """Whether an adaptive search's pick came from its random start or from its model: a pick
    among the random trials says the model's proposals did not change the result."""
    slug = str(ev.result(method)["slug"])  # type: ignore[index]
    if slug not in RANDOM_STARTS:
        return ""
    key, model = RANDOM_STARTS[slug]
    n = int(ev.provenance["config"]["methods"].get(slug, {}).get(key, 0))
    chosen = analysis.chosen_trials(ev, method)
    if not chosen:
        return ""
    trial = chosen[0]
    if trial < n:
        return (f"\nThe chosen trial, {trial}, is one of the first {n} (`{key}`), drawn at random "
                f"before {model} proposed anything: none of the proposals that followed was "
                "picked over it.\n")  # fmt: skip
    return (f"\nThe chosen trial, {trial}, was proposed by {model}, after the first {n} random "
            f"ones (`{key}`).\n")  # fmt: skip


def _hyperband_pick(ev: Evidence, method: str) -> str:
    """Where a Hyperband pick came from: its `epochs` is the budget of the round it was
    trained in, not a value the search tuned; and which rounds EarlyStopping could not act in,
    being shorter than its patience."""
    if str(ev.result(method)["slug"]) != "kt-hyperband":  # type: ignore[index]
        return ""
    chosen = analysis.chosen_trials(ev, method)
    fits = ev.trials[ev.trials["method"] == method].set_index("trial")
    if not chosen or "bracket" not in fits:
        return ""
    fit = fits.loc[chosen[-1]]
    start = int(fit.get("initial_epoch", 0) or 0)
    patience = int(ev.provenance["config"]["training"]["patience"])
    rounds = fits.assign(length=fits[EPOCHS] - fits["initial_epoch"].fillna(0)).groupby(
        ["bracket", "round"])["length"].max()  # fmt: skip
    short = rounds[rounds <= patience]
    origin = (f", continuing from epoch {start} the weights of the trial it was promoted from"
              if start else ", trained from scratch")  # fmt: skip
    text = (f"\nThe chosen configuration's `epochs {int(fit[EPOCHS])}` is not a tuned value: it "
            f"is the budget of the round its final model came from (trial {chosen[-1]}, "
            f"bracket {int(fit['bracket'])}, round {int(fit['round'])}{origin}); its best "
            f"epoch was {int(fit['best_epoch'])}. ")  # fmt: skip
    if short.empty:
        return text + "\n"
    return text + (
        f"{len(short)} of the schedule's {len(rounds)} rounds train at most {patience} epochs, "
        f"EarlyStopping's patience: in those, EarlyStopping cannot end a fit before its "
        "budget, and only the round's cut judges the trials.\n"
    )


def _domain(domain: object) -> str:
    """A space entry as provenance keeps it, in words."""
    if isinstance(domain, dict):
        scale = ", log scale" if domain["log"] else ""
        return f"{value(domain['low'])} to {value(domain['high'])}{scale}"
    return ", ".join(value(v) for v in domain)  # type: ignore[union-attr]


def _grid(domain: object) -> list | None:
    """What the grid methods try of an entry (None: a range without grid values)."""
    return domain.get("grid") if isinstance(domain, dict) else list(domain)  # type: ignore


def space(ev: Evidence) -> str:
    profile = ev.provenance["config"]
    values, training = ev.space, profile["training"]
    grids = {name: _grid(values[name]) for name in NAMES if name in values}
    rows = [
        (f"`{n}`", _domain(values[n]),
         "—" if grids[n] is None else ", ".join(value(v) for v in grids[n]),
         ("tuned (range)" if isinstance(values[n], dict) else "tuned") if n in ev.tuned
         else "fixed")
        for n in grids
    ]  # fmt: skip
    name = ev.provenance["profile"]
    if any(grid is None for grid in grids.values()):
        size = f"The `{name}` profile's space has a range without grid values: it has no grid"
    else:
        size = f"The `{name}` profile's grid has **{math.prod(map(len, grids.values()))}** "
        size += "configurations"
    if any(isinstance(values[n], dict) for n in ev.tuned):
        size += "; random and quasi-random searches sample the ranges themselves"
    if EPOCHS in ev.tuned:
        budget = "The epoch budget is tuned, as the seed notebook did"
    elif "max_epochs" in training:
        budget = f"Every fit has a budget of {training['max_epochs']} epochs"
    else:
        budget = f"Every fit has a budget of {_domain(values[EPOCHS])} epochs"
    return (
        table(["hyperparameter", "domain", "grid values", "role"], rows)
        + f"\n{size}. {budget}; EarlyStopping monitors `{training['monitor']}` with patience "
        f"{training['patience']}, and every method selects by `{ev.selection}`.\n"
    )


def callbacks(ev: Evidence) -> str:
    fits = ev.trials
    pruned = fits["status"].eq(PRUNED)
    fits = fits[~pruned]  # a pruner, not EarlyStopping, ended those
    # Hyperband continues a parent's training: its fits start at `initial_epoch`, others at 0
    start = fits["initial_epoch"].fillna(0) if "initial_epoch" in fits else 0
    budget = (fits[EPOCHS] - start).sum()
    trained = fits["epochs_run"].sum()
    stopped = (fits["epochs_run"] < fits[EPOCHS] - start).mean()
    gap = (fits["epochs_run"] - (fits["best_epoch"] - start)).mean()
    apart = f" (the {int(pruned.sum())} fits a pruner stopped left out)" if pruned.any() else ""
    return (
        f"Over the {len(fits)} fits of this study{apart}, EarlyStopping ended {stopped:.0%} of "
        f"them before their epoch budget: {trained:.0f} epochs trained out of {budget:.0f} "
        f"budgeted. A fit ran on average {gap:.1f} epochs past its best (checkpointed) epoch, "
        "which is the patience EarlyStopping waits before it gives up.\n"
    )


def callback_fit(ev: Evidence, method: str = "grid-loop") -> str:
    """What the callbacks did in the fit the callbacks page draws, in words that follow the
    curves: what ended it, whether the monitored score had got worse, and how coarse accuracy
    is."""
    if ev.result(method) is None:
        return f"*This study did not run `{method}`.*\n"
    fit, curves = analysis.shown_fit(ev, method)
    training = ev.provenance["config"]["training"]
    monitor, patience = training["monitor"], int(training["patience"])
    best, stop = int(fit["best_epoch"]), int(fit["epochs_run"])
    watched, train = curves[monitor], curves[monitor.removeprefix("val_")]
    lower = monitor.endswith("loss")

    def improved(series: pd.Series) -> bool:  # from the best epoch to the last one
        return bool(series[stop] < series[best] if lower else series[stop] > series[best])

    text = (f"In the fit drawn above (`{method}` trial {fit['trial']}), EarlyStopping watched "
            f"`{monitor}`: its best, {watched[best]:.3f}, came at epoch {best}. ")  # fmt: skip
    if not analysis.stopped_early(fit, patience):
        text += (f"The epoch budget ended the fit at epoch {stop}, {stop - best} epochs after "
                 f"that best: EarlyStopping's patience ({patience}) had not run out, so the "
                 "fit might have improved with a larger budget. ")  # fmt: skip
    else:
        text += (f"After {patience} epochs without a better one it stopped the fit at epoch "
                 f"{stop}, with `{monitor}` at {watched[stop]:.3f}. ")  # fmt: skip
        if improved(train) and not improved(watched) and watched[stop] != watched[best]:
            text += (f"Meanwhile the training `{train.name}` kept improving ({train[best]:.3f} to "
                     f"{train[stop]:.3f}): the model was fitting its training rows better and "
                     "its validation rows worse, which is what overfitting looks like, and the "
                     "checkpoint kept the epoch before it. ")  # fmt: skip
        else:
            text += ("Training and validation had both stopped improving: the fit had reached "
                     "a plateau. ")  # fmt: skip
    rows = analysis.validation_rows(ev)
    steps = curves["val_accuracy"].round(6).nunique()
    peak = int(curves["val_accuracy"].idxmax())
    return text + (
        f"Accuracy on its {rows} validation rows can only move in steps of one row, "
        f"{100 / rows:.2f} points: over the {stop} epochs `val_accuracy` took {steps} distinct "
        f"values, and it peaked at epoch {peak}"
        + (" too" if peak == best else f", not {best}") + ".\n"
    )  # fmt: skip


def conclusions(verdicts: list[Verdict]) -> str:
    rows = [(i, v.claim, f"**{v.verdict}**", v.evidence) for i, v in enumerate(verdicts, 1)]
    return table(["#", "the seed notebook concluded", "verdict from this run", "evidence"], rows)


def summary(ev: Evidence, verdicts: list[Verdict]) -> str:
    clean = ev.searches[ev.searches["protocol"] == "clean"]
    if clean.empty:
        return "No clean-protocol search has finished yet: run `course run-all`.\n"
    labels = list(clean["method"])
    seeds = analysis.seeds(ev)
    means = analysis.test_means(ev)
    if seeds >= analysis.MIN_SEEDS and set(labels) <= set(means.index):
        what = f"mean test accuracy over {seeds} seeds"
        reps = ev.repeats.groupby("method")["test_accuracy"]
        words = {m: analysis.spread(reps.get_group(m).to_numpy()) for m in labels}
    else:
        means = clean.set_index("method")["test_accuracy"]
        what = "test accuracy"
        words = {m: interval(ev.result(m)) for m in labels}
    means = means[labels]
    leaders = [m for m in labels if math.isclose(means[m], means.max())]
    best = leaders[0]
    top = f"`{best}`'s {words[best]}"
    if len(leaders) > 1:  # e.g. two variants that chose the same configuration
        top += (f", shared by {_and([f'`{m}`' for m in leaders[1:]])} (the same score to the "
                "last row)")  # fmt: skip
    others = [m for m in labels if m not in leaders]
    tied = [m for m in others if analysis.compare(ev, best, m)[0] == 0]
    counts = pd.Series([v.verdict for v in verdicts]).value_counts()
    kinds = set(ev.results["kind"])
    besides = [name for kind, name in (("baseline", "the untuned baseline"),
                                       ("study", "the CV study")) if kind in kinds]  # fmt: skip
    slugs = clean["slug"].nunique()
    searched = (f"{slugs} search methods in {len(clean)} runs" if len(clean) > slugs
                else f"{len(clean)} search{'es' if len(clean) > 1 else ''}")  # fmt: skip
    ran = " and ".join(", ".join([searched, *besides]).rsplit(", ", 1))
    seed_runs = ev.searches[ev.searches["protocol"] != "clean"]
    apart = (f" {_and([f'`{m}`' for m in seed_runs['method']])} reran a search under the seed "
             "notebook's protocol, choosing on the test rows: it measures optimism and is "
             "compared with no search." if len(seed_runs) else "")  # fmt: skip
    fits = int(ev.repeats["n_fits"].sum()) if "n_fits" in ev.repeats else len(ev.trials)
    under = f" under {seeds} seeds" if seeds > 1 else ""
    return (
        f"The latest `{ev.provenance['profile']}` study ran {ran}{under}, in {fits} fits."
        f"{apart} The highest {what} is {top}{_tied(tied, others, ev)}. {tuning_bought(ev)} "
        "Of the seed notebook's five conclusions: "
        + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".\n"
    )  # fmt: skip


def _tied(tied: list[str], others: list[str], ev: Evidence) -> str:
    """How many of the other runs a paired test cannot tell from the best, in words."""
    if not others:
        return ""
    n = len(others)
    return (f"; {len(tied)} of the other {n} search run{'s' if n > 1 else ''} cannot be told "
            f"apart from it ({_rule(ev)})")  # fmt: skip


def _rule(ev: Evidence) -> str:
    """How `analysis.compare` decides, in words, with what that test can see."""
    seeds = analysis.seeds(ev)
    if seeds >= analysis.MIN_SEEDS:
        from scipy.stats import t

        return (f"Nadeau and Bengio's corrected resampled t-test over {seeds} seeds, p ≥ "
                f"{analysis.ALPHA}; with {seeds} seeds it has {seeds - 1} degrees of freedom, "
                f"so a mean difference must reach {t.ppf(1 - analysis.ALPHA / 2, seeds - 1):.1f} "
                "times its corrected standard error to count: a weak test, for which "
                "\"cannot be told apart\" is the expected answer")  # fmt: skip
    return (f"McNemar's test of the two fitted models on the same test rows, p ≥ "
            f"{analysis.ALPHA}")  # fmt: skip


def cv_fractions(ev: Evidence) -> str:
    profile = ev.provenance["config"]
    dev = 1 - profile["test_size"]
    val = profile["validation_size"]
    methods = profile["methods"]
    holdout = [f"`{slug}`" for slug in dict.fromkeys(ev.searches["slug"])
               if all(ev.folds(m) == 1 for m in ev.methods(slug))]  # fmt: skip
    rows = [(f"holdout ({', '.join(holdout) or 'no search of this study'})",
             f"{dev * (1 - val):.0%}", f"{dev * val:.0%}")]  # fmt: skip
    ks = {
        3,
        5,
        *(v["cv"] for v in methods.get("randomized-search-cv", {}).get("variants", [])),
        *(s["cv"] for s in methods.values() if isinstance(s, dict) and "cv" in s),
    }
    for k in sorted(ks):
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


def cluster_bench(bench: pd.DataFrame | None) -> str:
    """scripts/cluster_bench.py's measurements: one process against N Dask workers."""
    if bench is None or bench.empty:
        return ("*No cluster benchmark has been run yet: `python scripts/cluster_bench.py` "
                "measures it.*\n")  # fmt: skip
    base = float(bench["wall_seconds"].iloc[0])
    rows = [(r["setup"], f"{r['wall_seconds']:.1f}", f"{base / r['wall_seconds']:.2f}x",
             r["fits"], r["same_fits"]) for _, r in bench.iterrows()]  # fmt: skip
    return table(["setup", "seconds", "speed-up", "fits", "the same fits as one process"],
                 rows) + (
        f"\nMeasured on {int(bench['cpus'].iloc[0])} CPUs: `course run-all --profile quick "
        "--only grid-search-cv --only cv-study`, the whole command, each setup from scratch after "
        "a warm-up run that filled JAX's compilation cache, the scheduler and the workers on "
        "the same machine as the study.\n"
    )  # fmt: skip


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
    seed = ev.results["seed"].iloc[0]
    return (
        f"Of the {len(pairs)} pairs of searches, {raw} differ{'s' if raw == 1 else ''} at p < "
        f"{analysis.ALPHA} on {'its' if raw == 1 else 'their'} own and **{held}** once the "
        f"p-values are adjusted for making {len(pairs)} comparisons "
        f"(Holm). Each pair is two fitted models on seed {seed}'s test rows: a difference here "
        "is one split's, not yet the methods'.\n\n"
        f'??? note "All {len(pairs)} pairs"\n\n'
        + "".join(f"    {line}\n" for line in body.splitlines())
    )


def optimism(ev: Evidence) -> str:
    if not ev.higher_is_better:
        return (f"*This study selects by `{ev.selection}`, not an accuracy: there is no gap to "
                "a test accuracy to show.*\n")  # fmt: skip
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
            r["fits"],
            f"{r['seconds']:.0f}",
            f"{r['pick_test']:.3f} [{r['pick_low']:.3f}, {r['pick_high']:.3f}]",
        )
        for _, r in summary.iterrows()
    ]
    columns = ["scheme", "rows a model learns from", "fold scores' sd", "Spearman with test",
               "its models' mean test accuracy", "fits", "seconds in fits",
               "its pick on the test set"]  # fmt: skip
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


def span(low: object, high: object) -> str:
    """`6`, or `2–6` where a round's fits had different budgets; a dash where none ran."""
    if pd.isna(low):
        return "—"
    return _cell(low) if low == high else f"{_cell(low)}–{_cell(high)}"


def _cell(x: object) -> str:
    """A count as an integer (a row of a numeric frame holds it as a float), or a dash."""
    return "—" if pd.isna(x) else str(int(x))  # type: ignore[call-overload]


def halving_rounds(ev: Evidence) -> str:
    """HalvingRandomSearchCV's rounds as planned beside what ran, and why its winner is the
    best of the last round only."""
    slug = analysis.HALVING
    result = ev.result(slug)
    if result is None:
        return f"*This study did not run {slug}: `course run {slug}`.*\n"
    frame, refit = analysis.halving_rounds(ev), analysis.halving_refit(ev)
    rows = [
        (r["round"], _cell(r["planned_candidates"]), _cell(r["candidates"]),
         _cell(r["planned_epochs"]), span(r["epochs_low"], r["epochs_high"]), _cell(r["fits"]),
         _cell(r["epochs_run"]),
         "—" if pd.isna(r["best"]) else f"{r['best']:.3f} (trial {r['best_trial']})")
        for _, r in frame.iterrows()
    ]  # fmt: skip
    if refit is not None:
        rows.append(("final refit", "—", f"1 (trial {refit['trial']})", "—", refit[EPOCHS], 1,
                     refit["epochs_run"], "—"))  # fmt: skip
    s = ev.provenance["config"]["methods"].get(slug, {})
    ran = frame.dropna(subset=["candidates"])
    last = ran.iloc[-1]
    winner = analysis.halving_winner(ev)
    text = (
        f"\nPlanned from the profile's settings (`candidates = {s.get('candidates')}`, "
        f"`factor = {s.get('factor')}`, `min_epochs = {s.get('min_epochs')}`, "
        f"`max_epochs = {s.get('max_epochs')}`, {ev.folds(slug)}-fold CV): each round keeps the "
        f"best 1/{s.get('factor')} of its candidates and trains them again from scratch with "
        f"{s.get('factor')} times the epochs. *Fits* counts every fold; *best mean CV score* is "
        f"`{ev.selection}` averaged over the held-out folds. "
    )
    pairs = (("planned_candidates", "candidates"), ("planned_epochs", "epochs_low"),
             ("planned_epochs", "epochs_high"))  # fmt: skip
    differs = any((frame[a] != frame[b]).fillna(True).any() for a, b in pairs)  # NA: not run
    if ev.halving_plan is None:
        text += "This export has no plan (halving_plan.csv): the planned columns are empty. "
    elif differs:
        text += "**The run differs from the plan** where the columns above disagree. "
    else:
        text += "Every round ran as planned. "
    text += (
        f"The winner, trial {winner}, is the best of the **last** round (round "
        f"{_cell(last['round'])}, {_cell(last['candidates'])} "
        f"candidate{'s' if last['candidates'] != 1 else ''} at "
        f"{span(last['epochs_low'], last['epochs_high'])} epochs): HalvingRandomSearchCV "
        "chooses from the last round only"
    )
    earlier = ran.iloc[:-1].dropna(subset=["best"])
    higher = earlier[earlier["best"] > last["best"] if ev.higher_is_better
                     else earlier["best"] < last["best"]]  # fmt: skip
    if not higher.empty:
        top = higher.loc[higher["best"].idxmax() if ev.higher_is_better
                         else higher["best"].idxmin()]  # fmt: skip
        who = ("the winner's own score" if int(top["best_trial"]) == int(winner)
               else f"trial {top['best_trial']}'s score")  # fmt: skip
        text += (
            f"; {who} in round {_cell(top['round'])}, {top['best']:.3f} after "
            f"{span(top['epochs_low'], top['epochs_high'])} epochs, was higher, but an earlier "
            "round's score does not choose"
        )
    text += "."
    if refit is not None:
        text += (f" It was then refit on the whole development set with {refit[EPOCHS]} epochs; "
                 f"that model scored {interval(result)} on the test set.")  # fmt: skip
    return table(["round", "candidates planned", "candidates run", "epochs each, planned",
                  "epochs each, run", "fits", "epochs trained", "best mean CV score"],
                 rows) + text + "\n"  # fmt: skip


def _stopped_at(epochs: pd.Series) -> str:
    """`1 (4 trials), 3 (1 trial)`: at which epochs trials stopped, and how many at each."""
    counts = epochs.value_counts().sort_index()
    return ", ".join(f"{e} ({n} trial{'s' if n != 1 else ''})" for e, n in counts.items())


def optuna_pruning(ev: Evidence) -> str:
    """What Optuna's pruner stopped: trials, the epochs they were stopped at, and the epochs
    pruned and finished trials ran (what pruned ones would have run is not knowable)."""
    slug = analysis.PRUNING
    if ev.result(slug) is None:
        return f"*This study did not run {slug}: `course run {slug}`.*\n"
    trials = analysis.pruned(ev)
    s = ev.provenance["config"]["methods"].get(slug, {})
    monitor = ev.provenance["config"]["training"]["monitor"]

    def row(name: str, part: pd.DataFrame, stops: str) -> tuple:
        return (name, len(part), int(part["epochs_run"].sum()), stops,
                f"{part['seconds'].sum():.1f}")  # fmt: skip

    cut, kept = trials[trials["pruned"]], trials[~trials["pruned"]]
    rows = [
        row("finished (EarlyStopping or the budget)", kept,
            span(kept["epochs_run"].min(), kept["epochs_run"].max()) if len(kept) else "—"),
        row("pruned", cut, _stopped_at(cut["epochs_run"]) if len(cut) else "—"),
        row("**all**", trials, "—"),
    ]  # fmt: skip
    if s.get("pruner") == "none":
        how = 'No pruner was set (`pruner = "none"`): every trial ran until EarlyStopping or '
        how += "its budget ended it."
    else:
        how = (f"The `{s.get('pruner')}` pruner (`min_epochs = {s.get('min_epochs')}`, `factor "
               f"= {s.get('factor')}`) was told each trial's `{monitor}` after every epoch and, "
               f"comparing it with the trials before, stopped {len(cut)} of the "
               f"{len(trials)}.")  # fmt: skip
    body = table(["trials", "how many", "epochs run in all", "epochs run per trial",
                  "seconds in fits"], rows)  # fmt: skip
    return body + (
        f"\n{how} A pruned trial is no candidate for the final pick. Pruned trials ran "
        f"{int(cut['epochs_run'].sum())} epochs in all, finished ones "
        f"{int(kept['epochs_run'].sum())}. How many epochs pruning saved is not knowable from "
        "this run: a pruned trial never ran on, and EarlyStopping might have ended it soon "
        "after.\n"
    )


class Traits(NamedTuple):
    """What a method is by construction, never by result."""

    proposes: str  # how it picks the configurations it trains
    purpose: str  # what that way of picking is for
    adaptive: bool  # whether a later proposal depends on the scores so far
    cuts: str  # what ends a trial short of its epochs besides EarlyStopping ("" if nothing)


GRID = Traits("every grid configuration", "trying every combination of a small grid", False, "")
RANDOM = "covering wide ranges with a fixed number of trials"
TRAITS = {
    "grid-loop": GRID,
    "grid-search-cv": GRID,
    "randomized-search-cv": Traits("random samples", RANDOM, False, ""),
    "halving-random-search-cv": Traits("random samples", RANDOM, False,
                                       "rounds of successive halving"),
    "kt-random-search": Traits("random samples", RANDOM, False, ""),
    "quasi-random": Traits("scrambled Sobol points", RANDOM + ", more evenly than random",
                           False, ""),
    "kt-bayesian": Traits("Gaussian-process proposals after random ones",
                          "modelling the scores so far to choose the next trial", True, ""),
    "optuna-tpe": Traits("TPE proposals after random ones",
                         "modelling the good and the other trials to choose the next", True,
                         "a pruner, epoch by epoch"),
    "kt-hyperband": Traits("random samples", RANDOM, False, "Hyperband's brackets"),
}  # fmt: skip


def _for(traits: Traits, folds: int) -> tuple[str, str]:
    """How a search works and what that is for, in words made from its traits alone."""
    validation = "holdout" if folds <= 1 else f"{folds}-fold CV"
    proposes = traits.proposes + (" (adaptive)" if traits.adaptive else "")
    how = ", ".join([proposes, validation, *([traits.cuts] if traits.cuts else [])])
    uses = [traits.purpose]
    if traits.cuts:
        uses.append("more configurations for the same epochs, by cutting poor ones short")
    uses.append("one fit per configuration" if folds <= 1 else
                f"a steadier score per configuration, at {folds} fits each")  # fmt: skip
    return how, "; ".join(uses)


def which_method(ev: Evidence) -> str:
    """Which method, for what: every clean search's test accuracy and cost beside what it is
    by construction (a fixed description per slug: no result is typed here)."""
    frame = analysis.which_method(ev)
    if frame.empty:
        return "*No clean-protocol search has finished yet: run `course run-all`.*\n"
    summaries = {} if ev.catalog is None else dict(zip(ev.catalog["slug"], ev.catalog["summary"],
                                                       strict=True))  # fmt: skip
    rows = []
    for _, r in frame.iterrows():
        traits = TRAITS.get(r["slug"])
        how, use = _for(traits, r["folds"]) if traits else (summaries.get(r["slug"], "—"), "—")
        rows.append((f"`{r['method']}`", how, interval(r), int(r["epochs_run"]),
                     f"{r['wall_seconds']:.0f}", int(r["n_fits"]), use))  # fmt: skip
    cheap = frame.loc[frame["epochs_run"].idxmin()]
    dear = frame.loc[frame["epochs_run"].idxmax()]
    spread = (f"In this study they range from `{cheap['method']}`'s {int(cheap['epochs_run'])} "
              f"epochs to `{dear['method']}`'s {int(dear['epochs_run'])}. " if len(frame) > 1
              else "")  # fmt: skip
    pairs = analysis.paired(ev)
    held = int((pairs["p_holm"] < analysis.ALPHA).sum())
    noise = (f"{held} of the {len(pairs)} pairs of searches differ at Holm-adjusted p < "
             f"{analysis.ALPHA}" if len(pairs) else "they need two searches or more")  # fmt: skip
    body = table(["search", "how it searches", "test accuracy [95 % CI]", "epochs trained",
                  "seconds", "fits", "what it is for"], rows)  # fmt: skip
    return body + (
        f"\n*Epochs trained* and *fits* count every fit of the run, folds and final model "
        f"included; *seconds* is the run's wall time. {spread}Whether two test accuracies "
        f"differ beyond noise is for the paired tests: {noise}. *What it is for* describes "
        "the method, not this study's result.\n"
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


def baseline(ev: Evidence) -> str:
    """Every clean search against the untuned baseline, on the same test rows."""
    base, frame = ev.baseline, analysis.versus_baseline(ev)
    if base is None or frame.empty:  # nothing to pair: the sentence says which is missing
        return f"*{tuning_bought(ev, frame)}*\n"
    rows = [
        (f"`{r['method']}`", interval(ev.result(r["method"])),
         f"{100 * r['difference']:+.1f} [{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}]",
         r["search_only"], r["baseline_only"], f"{r['p_value']:.3f}",
         f"**{r['p_holm']:.3f}**" if r["p_holm"] < analysis.ALPHA else f"{r['p_holm']:.3f}")
        for _, r in frame.iterrows()
    ]  # fmt: skip
    body = table(["search", "test accuracy [95 % CI]", "search − baseline, points [95 % CI]",
                  "rows only the search gets right", "rows only the baseline gets right",
                  "McNemar p", "Holm-adjusted p"], rows)  # fmt: skip
    n, test_rows = len(frame), analysis.test_rows(ev)
    seed = ev.searches[ev.searches["protocol"] != "clean"]
    left_out = (
        f" The seed-protocol run{'s' if len(seed) > 1 else ''} "
        f"({', '.join(f'`{m}`' for m in seed['method'])}) chose on these test rows, so "
        "its score there is no evidence and it is left out."
        if len(seed) else ""
    )  # fmt: skip
    return (
        f"The untuned baseline, `{base['method']}`, is one fit at fixed values ({config(base)}), "
        f"with the same callbacks and holdout split as the grid loop; it scored "
        f"{interval(base)} on the test set. Each row compares a search's final model with it on "
        f"the same {test_rows} test rows (seed {base['seed']}). The difference is the search's "
        "accuracy minus the baseline's, in points, with a 95 % interval from a paired "
        f"percentile bootstrap over the test rows ({analysis.BOOTSTRAP} resamples; a resample "
        "keeps both models' verdicts on a row together). McNemar's exact test counts only the "
        "rows exactly one of the two gets right; Holm's adjustment is over these "
        f"{n} comparison{'s' if n > 1 else ''} (a family of its own, apart from the table of all "
        f"pairs of searches).{left_out}\n\n" + body + f"\n{tuning_bought(ev, frame)}\n"
    )


def distinct_values(ev: Evidence) -> str:
    """How many distinct values of each tuned hyperparameter every search's trials used."""
    names = ev.tuned
    if not names:
        return "*This study's space tunes no hyperparameter.*\n"
    frame = analysis.distinct_values(ev)

    def offered(domain: object) -> str:
        n = len(_grid(domain) or [])
        if isinstance(domain, dict):
            return "a range" + (f" ({n} grid value{'s' if n > 1 else ''})" if n else "")
        return str(n)

    rows = [("*the space*", "—", *(offered(ev.space[n]) for n in names))]
    rows += [(f"`{r['method']}`", r["configurations"], *(r[n] for n in names))
             for _, r in frame.iterrows()]  # fmt: skip
    return table(["search", "trials", *(f"`{n}`" for n in names)], rows) + (
        "\nCounted over each search's trials (the folds and the refit of a CV search count "
        "once; a Hyperband trial promoted to a later round repeats its configuration). A grid "
        "method can use only the grid's values; random and quasi-random searches draw from the "
        "whole range, so for the same number of trials they can use more distinct values of "
        "it.\n"
    )


def budgets(ev: Evidence) -> str:
    """What each method cost in this study, measured, for instructors sizing a profile."""
    frame = analysis.budgets(ev)
    notes = {"baseline": " (untuned baseline)", "study": " (evidence, not a search)"}

    def row(name: str, r: pd.Series) -> tuple:
        counts = (int(r[k]) for k in ("runs", "trials", "fits", "epochs_run"))
        return (name, *counts,
                f"{r['wall_seconds']:.0f}", f"{r['fit_seconds']:.0f}",
                f"{r['wall_seconds'] / r['fits']:.2f}")  # fmt: skip

    rows = [row(f"`{r['slug']}`{notes.get(r['kind'], '')}", r) for _, r in frame.iterrows()]
    rows.append(row("**all**", frame.sum(numeric_only=True)))
    p = ev.provenance
    return table(["method", "runs", "trials", "fits", "epochs run", "wall seconds",
                  "seconds in fits (summed)", "seconds per fit"], rows) + (
        f"\nMeasured in the `{p['profile']}` study on {p['cpu_count']} CPUs, Keras backend "
        f"`{p['keras_backend']}`. A method's runs are its variants and, for the grid loop, its "
        "seed-protocol run. *Wall seconds* is each run's time from its start to its final "
        "model, as the ledger recorded it, summed over the runs; *seconds in fits* adds up "
        "the fits' own times (with parallel workers it can exceed the wall time); *seconds "
        "per fit* is wall seconds over fits." + _study_time(ev) + "\n"
    )  # fmt: skip


def _minutes(minutes: float) -> str:
    return f"{minutes:.0f} minute{'' if round(minutes) == 1 else 's'}"


def _study_time(ev: Evidence) -> str:
    """What the whole study took, every seed of the repeats included: what an instructor who
    reruns it before a class has to plan for."""
    per_seed = ev.repeats.groupby("seed")["wall_seconds"].sum() / 60
    if len(per_seed) < 2:
        return f" The table is the whole study: {_minutes(per_seed.sum())} of runs, under one seed."
    minutes = ", ".join(f"{m:.0f}" for m in per_seed)
    return (f" The table shows seed {ev.results['seed'].iloc[0]}'s runs; the study repeated "
            f"every run under {len(per_seed)} seeds, {_minutes(per_seed.sum())} of runs in "
            f"all ({minutes} minutes per seed; the wall times of the runs added up, start-up "
            "and export between them not counted).")  # fmt: skip


def fit_costs(ev: Evidence) -> str:
    """Each method's fixed seconds per fit and seconds per epoch: why seconds and epochs rank
    the methods' costs differently."""
    frame = analysis.fit_costs(ev)

    def fixed(r: pd.Series) -> str:
        if pd.isna(r["fixed"]):
            return "—"
        if pd.isna(r["half"]):
            return f"{r['fixed']:.2f}"
        low, high = r["fixed"] - r["half"], r["fixed"] + r["half"]
        none = "none measurable: " if low <= 0 <= high else ""
        return f"{none}{r['fixed']:.2f} [{low:.2f}, {high:.2f}]"

    rows = [(f"`{r['slug']}`", r["fits"], fixed(r),
             "—" if pd.isna(r["per_epoch"]) else f"{1000 * r['per_epoch']:.0f}")
            for _, r in frame.iterrows()]  # fmt: skip
    headers = ["method", "fits", "seconds before the first epoch [95 % CI]", "ms per epoch"]
    return table(headers, rows) + (
        "\nFrom a least-squares line through each method's fits (`trials.csv`, seed "
        f"{ev.results['seed'].iloc[0]}): a fit's seconds against the epochs it trained. The "
        "intercept is what a fit costs however short it is (building and compiling a model, a "
        "library's bookkeeping per trial, loading the best checkpoint); the slope is the price "
        "of one more epoch. *None measurable*: the interval holds zero. A dash marks a method "
        "whose fits all trained as many epochs. The line pools batch sizes and architectures "
        "(a batch of 16 takes four times the steps of a batch of 64), so it splits the cost "
        "roughly, not exactly.\n"
    )


NOTEBOOK_COMMAND = (f"course run grid-loop --profile {NOTEBOOK_PROFILE} --to "
                    f"docs/generated/{NOTEBOOK_DIR}")  # fmt: skip


def duplicates(
    trials: pd.DataFrame, curves: pd.DataFrame | None, where: str, method: str = "grid-loop"
) -> str:
    """How many of a grid run's configurations trained the same fits as one with a smaller
    epoch budget, and why (what EarlyStopping did before any budget was reached)."""
    pairs = analysis.duplicate_fits(trials, curves, method)
    fits = trials[(trials["method"] == method) & (trials["fold"] >= 0)]
    configs = fits["trial"].nunique()
    if pairs.empty:
        return (f"In {where}, no two of `{method}`'s {configs} configurations differ only in "
                "their epoch budget.\n")  # fmt: skip
    same = analysis.duplicated(pairs)
    smallest = int(fits[EPOCHS].min())
    longest = int(fits["epochs_run"].max())
    reached = int((fits.loc[fits[EPOCHS] == smallest, "epochs_run"] >= smallest).sum())
    wasted = fits[fits["trial"].isin(same)]
    what = "identical learning curves, epoch by epoch, and identical scores" if curves is not \
        None else "identical recorded scores"  # fmt: skip
    text = (
        f"In {where}, `{method}` tried {configs} configurations with epoch budgets of "
        f"{_and(sorted(fits[EPOCHS].unique()))}. Of its {len(pairs)} pairs of "
        f"configurations that differ only in the budget, **{int(pairs['identical'].sum())}** "
        f"trained {what}: **{len(same)}** of the {configs} configurations repeat the fits of "
        f"one with a smaller budget, so the grid held {configs - len(same)} distinct fits, and "
        f"the repeats cost {wasted['seconds'].sum():.0f} s and {wasted['epochs_run'].sum()} "
        "epochs of training. "
    )
    if longest < smallest:
        text += (
            f"Why: no fit ran as many epochs as the smallest budget (the longest ran {longest} "
            f"epochs; the smallest budget is {smallest}). EarlyStopping ended every fit before "
            "any budget was reached, so a larger budget changed nothing but the grid's size.\n"
        )
    else:
        text += (
            f"The longest fit ran {longest} epochs, the smallest budget is {smallest}: "
            f"{reached} fit{'s' if reached != 1 else ''} at the smallest budget ran all of it, "
            "and only there could a larger budget have trained a different fit.\n"
        )
    return text


def seed_space(ev: Evidence) -> str:
    """What tuning epochs under EarlyStopping cost: from the seed notebook's study, exported
    beside this one, and from this study when it tunes epochs too."""
    parts = []
    if ev.notebook_trials is not None:
        p = ev.notebook_provenance or {}
        table = (p.get("dataset") or {}).get("title", "telecust")  # older exports: telecust
        where = (f"the `{p.get('profile', NOTEBOOK_PROFILE)}` study on *{table}* (exported to "
                 f"`docs/generated/{NOTEBOOK_DIR}`, finished "
                 f"{str(p.get('finished_at', '?'))[:16].replace('T', ' ')} UTC)")  # fmt: skip
        parts.append(duplicates(ev.notebook_trials, ev.notebook_curves, where))
    if EPOCHS in ev.tuned and ev.result("grid-loop") is not None:
        where = f"this `{ev.provenance['profile']}` study"
        parts.append(duplicates(ev.trials, ev.curves, where))
    if not parts:
        return (
            "*The seed notebook's study has not been exported beside this one. "
            f"`{NOTEBOOK_COMMAND}` runs its grid loop and exports it there; `course report` "
            "then counts here how many of its configurations trained identical fits.*\n"
        )
    return "\n".join(parts)


def makers(ev: Evidence) -> dict[str, Callable[[], str]]:
    """Every table include, by name, each made only when called (an unchanged one is not)."""
    made: dict[str, Callable[[], str]] = {
        "provenance": lambda: provenance(ev),
        "dataset-facts": lambda: dataset_facts(ev),
        "dataset-summary": lambda: dataset_summary(ev),
        "summary": lambda: summary(ev, verdicts(ev)),
        "scoreboard": lambda: scoreboard(ev),
        "space": lambda: space(ev),
        "callbacks": lambda: callbacks(ev),
        "callback-fit": lambda: callback_fit(ev),
        "conclusions": lambda: conclusions(verdicts(ev)),
        "baseline": lambda: baseline(ev),
        "distinct-values": lambda: distinct_values(ev),
        "budgets": lambda: budgets(ev),
        "fit-costs": lambda: fit_costs(ev),
        "seed-space": lambda: seed_space(ev),
        "cv-fractions": lambda: cv_fractions(ev),
        "benchmark": lambda: benchmark(ev.benchmark),
        "cluster-bench": lambda: cluster_bench(ev.cluster),
        "paired": lambda: paired(ev),
        "optimism": lambda: optimism(ev),
        "cv-study": lambda: cv_study(ev),
        "hyperband-plan": lambda: hyperband_plan(ev),
        "halving-rounds": lambda: halving_rounds(ev),
        "optuna-pruning": lambda: optuna_pruning(ev),
        "which-method": lambda: which_method(ev),
        "repeats": lambda: repeats(ev),
    }
    for slug in ev.slugs:
        made[f"results-{slug}"] = lambda slug=slug: method_results(ev, slug)
    return {name: lambda make=make: HEADER + make() for name, make in made.items()}

"""Evidence you can trust: the CV study, paired comparisons, repeats across seeds and the
Hyperband plan, on a real quick study (and on small synthetic evidence for the decision rules)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course.registry import load_profile
from course.report import analysis
from course.report.evidence import Evidence
from course.space import EPOCHS, HYPERPARAMETERS, LEARNING_RATE, NAMES, UNITS
from course.stats import corrected_t, holm, mcnemar
from tests.conftest import ledger_fits, read_csv, run_course

PROFILE = load_profile("quick")


def _data(folder: Path, name: str) -> list[dict[str, str]]:
    return read_csv(folder / "docs" / "generated" / "data" / f"{name}.csv")


def _fits(folder: Path, method: str) -> dict[tuple[str, str], dict[str, str]]:
    return {(t["trial"], t["fold"]): t for t in _data(folder, "trials") if t["method"] == method}


# --- the decision rules, on evidence built by hand ------------------------------------------


def test_mcnemar_counts_only_the_rows_where_exactly_one_model_is_right() -> None:
    y = np.zeros(100, dtype=int)
    a = np.where(np.arange(100) < 70, 0, 1)  # right on rows 0..69
    b = np.where((np.arange(100) >= 10) & (np.arange(100) < 65), 0, 1)  # right on 10..64
    test = mcnemar(y, a, b)
    assert (test.a_only, test.b_only) == (15, 0)
    assert test.difference == pytest.approx(0.15)
    # two-sided exact binomial: 15 of 15 discordant rows on one side
    assert test.p_value == pytest.approx(2 * 0.5**15)
    assert mcnemar(y, a, a).p_value == 1.0


def test_holm_multiplies_the_smallest_p_by_the_number_of_tests_and_stays_monotone() -> None:
    adjusted = holm([0.04, 0.01, 0.03, 0.5])
    assert adjusted[1] == pytest.approx(0.04)  # 4 x 0.01
    assert adjusted[2] == pytest.approx(0.09)  # 3 x 0.03
    assert adjusted[0] == pytest.approx(0.09)  # 2 x 0.04 = 0.08, raised to keep the order
    assert adjusted[3] == pytest.approx(0.5)


def test_the_corrected_t_test_inflates_the_variance_of_overlapping_splits() -> None:
    """Nadeau and Bengio: var/J becomes (1/J + n_test/n_train) var, so a difference a plain
    paired t-test calls significant across three overlapping splits can stop being one."""
    from scipy.stats import t, ttest_rel

    a, b = np.array([0.42, 0.40, 0.45]), np.array([0.38, 0.37, 0.39])
    d = a - b
    statistic = d.mean() / math.sqrt((1 / 3 + 0.2 / 0.8) * d.var(ddof=1))
    assert corrected_t(a, b, 0.2) == pytest.approx(2 * t.sf(statistic, 2))
    assert ttest_rel(a, b).pvalue < 0.05 < corrected_t(a, b, 0.2)
    assert corrected_t(a, a, 0.2) == 1.0 and corrected_t(a[:1], b[:1], 0.2) == 1.0
    assert corrected_t(a, a - 0.01, 0.2) == 1.0  # no spread to judge a difference against


def _evidence(accuracies: dict[str, list[float]], y_pred: dict[str, np.ndarray]) -> Evidence:
    """Evidence with only what the decision rules read: results, predictions, repeats."""
    y = np.zeros(200, dtype=int)
    results = pd.DataFrame([
        {"method": m, "protocol": "clean", "test_accuracy": float((y_pred[m] == y).mean()),
         "test_ci_low": 0.0, "test_ci_high": 1.0, "selection_score": 0.5}
        for m in y_pred
    ])  # fmt: skip
    predictions = pd.DataFrame([
        {"method": m, "row": i, "label": 0, "predicted": int(p)}
        for m, preds in y_pred.items() for i, p in enumerate(preds)
    ])  # fmt: skip
    repeats = pd.DataFrame([
        {"method": m, "seed": 42 + i, "test_accuracy": acc, "selection_score": 0.5,
         "wall_seconds": 1.0}
        for m, accs in accuracies.items() for i, acc in enumerate(accs)
    ])  # fmt: skip
    empty = pd.DataFrame()
    return Evidence(results=results, trials=empty, curves=empty, classes=empty, features=empty,
                    predictions=predictions, repeats=repeats,
                    provenance={"config": {"test_size": 0.2}})  # fmt: skip


def test_one_seed_is_judged_by_mcnemar_on_the_same_rows() -> None:
    rows = np.arange(200)
    clear = {"a": np.where(rows < 120, 0, 1), "b": np.where(rows < 80, 0, 1)}
    ev = _evidence({"a": [0.6], "b": [0.4]}, clear)
    assert analysis.compare(ev, "a", "b")[0] == 1 and analysis.compare(ev, "b", "a")[0] == -1
    assert "McNemar" in analysis.compare(ev, "a", "b")[1]
    close = {"a": np.where(rows < 84, 0, 1), "b": np.where(rows < 80, 0, 1)}  # 4 rows apart
    assert analysis.compare(_evidence({"a": [0.42], "b": [0.4]}, close), "a", "b")[0] == 0


def test_repeats_over_seeds_decide_when_there_are_enough() -> None:
    rows = np.arange(200)
    same = {"a": np.where(rows < 80, 0, 1), "b": np.where(rows < 80, 0, 1)}  # one seed: equal
    steady = {"a": [0.45, 0.47, 0.46, 0.48, 0.44], "b": [0.40, 0.41, 0.41, 0.42, 0.39]}
    verdict, words = analysis.compare(_evidence(steady, same), "a", "b")
    assert verdict == 1 and "5 seeds" in words and "corrected resampled t-test" in words
    noisy = {"a": [0.45, 0.38, 0.46, 0.37, 0.44], "b": [0.40, 0.43, 0.41, 0.42, 0.39]}
    assert analysis.compare(_evidence(noisy, same), "a", "b")[0] == 0
    table = analysis.repeat_summary(_evidence(steady, same)).set_index("method")
    assert table.loc["a", "test_mean"] == pytest.approx(np.mean(steady["a"]))
    assert table.loc["a", "test_sd"] == pytest.approx(np.std(steady["a"], ddof=1))


def _cost_evidence(hyperband_epochs: int) -> Evidence:
    """kt-hyperband beside a grid loop and GridSearchCV: Hyperband is the slowest in seconds
    (a fixed second and a half per trial), and trains `hyperband_epochs` epochs in all."""
    runs = {
        "grid-loop": (24, 300, 24.0),
        "grid-search-cv": (24, 1200, 80.0),
        "kt-hyperband": (20, hyperband_epochs, 100.0),
    }  # trials, epochs, wall seconds
    results = pd.DataFrame([
        {"method": m, "slug": m, "kind": "search", "protocol": "clean", "seed": 42,
         "n_trials": n, "n_fits": n, "epochs_run": e, "wall_seconds": w}
        for m, (n, e, w) in runs.items()
    ])  # fmt: skip
    trials = pd.DataFrame([
        {"method": m, "trial": i, "epochs_run": e // n + i % 3,
         "seconds": (1.5 if m == "kt-hyperband" else 0.0) + 0.05 * (e // n + i % 3)}
        for m, (n, e, _) in runs.items() for i in range(n)
    ])  # fmt: skip
    repeats = results[["method", "seed", *analysis.COSTS]]
    return Evidence(results=results, trials=trials, repeats=repeats, provenance={})


def test_hyperbands_cost_is_judged_by_epochs_and_its_fixed_seconds_are_measured() -> None:
    from course.report.conclusions import NOT_SUPPORTED, SUPPORTED, claim_hyperband_costly

    cheap = _cost_evidence(hyperband_epochs=100)
    fixed = analysis.fit_costs(cheap).set_index("slug")["fixed"]
    assert fixed["kt-hyperband"] == pytest.approx(1.5)
    assert fixed["grid-loop"] == pytest.approx(0.0, abs=1e-9)
    verdict = claim_hyperband_costly(cheap)  # slowest in seconds, cheapest in epochs
    assert verdict.verdict == NOT_SUPPORTED and "about 1.5 s" in verdict.evidence
    assert "`grid-search-cv` 1200 (ratio 0.08)" in verdict.evidence
    assert claim_hyperband_costly(_cost_evidence(hyperband_epochs=1000)).verdict == SUPPORTED


# --- on a real quick study --------------------------------------------------------------------


@pytest.mark.slow
def test_cv_study_holdout_scheme_trains_exactly_the_grid_loops_fits(quick_study: Path) -> None:
    loop, holdout = _fits(quick_study, "grid-loop"), _fits(quick_study, "cv-study[holdout]")
    assert loop.keys() == holdout.keys() and len(loop) == PROFILE.space.size
    for key, fit in loop.items():
        for column in ("layers", "units", "batch_size", "epochs_run", "best_epoch",
                       "val_accuracy"):  # fmt: skip
            assert holdout[key][column] == fit[column], (key, column)
        # the holdout scheme scores on its validation rows: the best epoch's val accuracy
        assert float(holdout[key]["cv_fold_score"]) == pytest.approx(float(fit["val_accuracy"]))


@pytest.mark.slow
def test_cv_study_k_fold_scores_every_configuration_on_every_fold(quick_study: Path) -> None:
    (k,) = PROFILE.methods["cv-study"]["folds"]
    fits = _fits(quick_study, f"cv-study[cv{k}]")
    trials = {t for t, _ in fits}
    assert fits.keys() == {(t, str(f)) for t in trials for f in range(k)}
    dev = round(1000 * (1 - PROFILE.test_size))
    learn = {int(f["train_rows"]) for f in fits.values()}
    # a fold model learns from (k-1)/k of the development rows, less EarlyStopping's slice
    assert all(abs(n - dev * (k - 1) / k * (1 - PROFILE.validation_size)) <= 2 for n in learn)
    for trial in trials:
        scores = [float(fits[trial, str(f)]["cv_fold_score"]) for f in range(k)]
        mean = pytest.approx(np.mean(scores), abs=1e-5)  # the CSV keeps six decimals
        assert all(float(fits[trial, str(f)]["cv_score"]) == mean for f in range(k))
        assert all(0 < float(fits[trial, str(f)]["test_accuracy"]) <= 1 for f in range(k))
    summary, configs = analysis.cv_study(Evidence.load(quick_study / "docs" / "generated"))
    assert list(summary["scheme"]) == ["cv-study[holdout]", f"cv-study[cv{k}]"]
    assert -1 <= summary["spearman"].min() <= summary["spearman"].max() <= 1
    assert len(configs) == 2 * PROFILE.space.size


@pytest.mark.slow
def test_predictions_reproduce_every_test_accuracy_and_feed_the_paired_table(
    quick_study: Path,
) -> None:
    predictions = pd.DataFrame(_data(quick_study, "predictions")).astype(
        {"row": int, "label": int, "predicted": int}
    )
    results = _data(quick_study, "results")
    for result in results:
        rows = predictions[predictions["method"] == result["method"]]
        assert len(rows) == round(1000 * PROFILE.test_size)
        accuracy = (rows["label"] == rows["predicted"]).mean()
        assert accuracy == pytest.approx(float(result["test_accuracy"]))
    # no study, no baseline, no seed-protocol run (it chose on these very rows)
    searches = [r["method"] for r in results if r["kind"] == "search" and r["protocol"] == "clean"]
    text = (quick_study / "docs" / "generated" / "paired.md").read_text()
    pairs = math.comb(len(searches), 2)
    assert f"Of the {pairs} pairs of searches" in text and "`baseline`" not in text
    a, b = searches[0], searches[-1]
    ra, rb = (predictions[predictions["method"] == m].sort_values("row") for m in (a, b))
    right_a = ra["label"].to_numpy() == ra["predicted"].to_numpy()
    right_b = rb["label"].to_numpy() == rb["predicted"].to_numpy()
    line = next(line for line in text.splitlines() if f"`{a}` − `{b}`" in line)
    cells = [c.strip() for c in line.split("|")]
    assert cells[3:5] == [str((right_a & ~right_b).sum()), str((~right_a & right_b).sum())]
    for figure in ("paired", "anytime", "optimism", "cv-study"):
        assert (quick_study / "docs" / "generated" / "figures" / f"{figure}.png").stat().st_size


@pytest.mark.slow
def test_hyperband_page_shows_the_plan_beside_the_trials_run(quick_study: Path) -> None:
    frame = analysis.hyperband_plan(Evidence.load(quick_study / "docs" / "generated"))
    assert (frame["trials"] == frame["ran"]).all()
    assert (frame["trained"] <= frame["epochs_trained"]).all()  # EarlyStopping only shortens
    assert (
        "course hyperband-plan --max-epochs"
        in (quick_study / "docs" / "generated" / "hyperband-plan.md").read_text()
    )


@pytest.mark.slow
def test_repeats_rerun_every_method_under_more_seeds_and_keep_the_first(
    quick_grid_loop: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(quick_grid_loop, folder)
    before = ledger_fits(folder)
    proc = run_course("run", "grid-loop", "--profile", "quick", "--repeats", "2", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    after = ledger_fits(folder)
    assert all(after[key] == stamp for key, stamp in before.items())  # seed 42: nothing redone
    assert len(after) == 2 * len(before)
    repeats = _data(folder, "repeats")
    assert sorted(int(r["seed"]) for r in repeats) == [PROFILE.seed, PROFILE.seed + 1]
    assert {r["method"] for r in repeats} == {"grid-loop"}
    # the per-run tables stay on the first seed; the repeats table summarises both
    assert {r["seed"] for r in _data(folder, "results")} == {str(PROFILE.seed)}
    text = (folder / "docs" / "generated" / "repeats.md").read_text()
    assert "±" in text and f"Seeds {PROFILE.seed}, {PROFILE.seed + 1}" in text


def _generated(folder: Path, name: str) -> str:
    return (folder / "docs" / "generated" / name).read_text(encoding="utf-8")


def _row(text: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is `first_cell`."""
    line = next(line for line in text.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@pytest.mark.slow
def test_baseline_is_on_the_scoreboard_and_every_search_is_paired_against_it(
    quick_study: Path,
) -> None:
    results = {r["method"]: r for r in _data(quick_study, "results")}
    (base,) = [r for r in results.values() if r["kind"] == "baseline"]
    scoreboard = _generated(quick_study, "scoreboard.md")
    assert _row(scoreboard, f"`{base['method']}` (untuned, not a search)")[2] == "—"  # no ties
    for label, r in results.items():
        if r["kind"] == "search":  # its `tied` count as exported; the seed protocol's apart
            apart = "" if r["protocol"] == "clean" else " (chose on the test rows: not comparable)"
            assert _row(scoreboard, f"`{label}`{apart}")[2] == r["tied"]
    predictions = pd.DataFrame(_data(quick_study, "predictions")).astype(
        {"row": int, "label": int, "predicted": int}
    )

    def right(label: str) -> np.ndarray:
        rows = predictions[predictions["method"] == label].sort_values("row")
        return (rows["label"] == rows["predicted"]).to_numpy()

    text = _generated(quick_study, "baseline.md")
    clean = [m for m, r in results.items() if r["kind"] == "search" and r["protocol"] == "clean"]
    assert "paired percentile bootstrap" in text and f"over these {len(clean)} comparisons" in text
    seed_runs = [m for m, r in results.items() if r["protocol"] == "seed"]
    assert all(f"| `{m}` |" not in text for m in seed_runs)  # chosen on the test rows
    frame = analysis.versus_baseline(Evidence.load(quick_study / "docs" / "generated"))
    assert list(frame["method"]) == clean
    assert list(frame["p_holm"]) == pytest.approx(holm(list(frame["p_value"])))
    for label in (clean[0], clean[-1]):  # recomputed from predictions.csv
        a, b = right(label), right(base["method"])
        difference = 100 * (a.mean() - b.mean())
        cells = _row(text, f"`{label}`")
        assert cells[2].startswith(f"{difference:+.1f} [")
        low, high = (float(x) for x in cells[2].split("[")[1].rstrip("]").split(","))
        assert low <= round(difference, 1) <= high
        assert cells[3:5] == [str((a & ~b).sum()), str((~a & b).sum())]
        y = predictions.loc[predictions["method"] == label].sort_values("row")["label"]
        pa = predictions.loc[predictions["method"] == label].sort_values("row")["predicted"]
        pb = predictions.loc[predictions["method"] == base["method"]].sort_values("row")
        assert (
            cells[5]
            == f"{mcnemar(y.to_numpy(), pa.to_numpy(), pb['predicted'].to_numpy()).p_value:.3f}"
        )
    for include in ("baseline.md", "summary.md"):  # the home page, the baseline and conclusions
        assert "What tuning bought: the untuned baseline scored" in _generated(quick_study, include)
    # the conclusions page embeds baseline.md beside its table: the sentence once, not twice
    assert "What tuning bought" not in _generated(quick_study, "conclusions.md")
    page = Path(__file__).parents[1] / "docs" / "conclusions.md"
    assert '--8<-- "docs/generated/baseline.md"' in page.read_text(encoding="utf-8")


@pytest.mark.slow
def test_projections_and_distinct_values_count_what_trials_csv_holds(quick_study: Path) -> None:
    trials = pd.DataFrame(_data(quick_study, "trials"))
    ev = Evidence.load(quick_study / "docs" / "generated")
    tuned = ev.tuned
    assert tuned == list(PROFILE.space.tuned)
    text = _generated(quick_study, "distinct-values.md")
    for label in ev.searches["method"]:
        configs = trials[trials["method"] == label].groupby("trial").first()
        cells = _row(text, f"`{label}`")
        assert cells[1] == str(len(configs))
        assert cells[2:] == [str(configs[name].nunique()) for name in tuned]
    for label in analysis.samplers(ev):  # what the projections figure plots, per method
        plotted = analysis.configurations(ev, label)
        configs = trials[trials["method"] == label].groupby("trial").first()
        for name in tuned:
            assert [str(v) for v in plotted[name]] == list(configs[name])
    quasi = trials[trials["method"] == "quasi-random"]["learning_rate"].astype(float)
    assert quasi.nunique() == len(quasi)  # continuous: a value of its own per trial
    figures = quick_study / "docs" / "generated" / "figures"
    for figure in ("projections", "best-so-far"):
        assert (figures / f"{figure}.png").stat().st_size
        assert f"figures/{figure}.png" in _generated(quick_study, f"figure-{figure}.md")
    assert not (figures / "random-samples.png").exists()  # the grid-position figure it replaced


@pytest.mark.slow
def test_budget_table_adds_up_each_methods_runs(quick_study: Path) -> None:
    results = _data(quick_study, "results")
    text = _generated(quick_study, "budgets.md")
    for slug in {r["slug"] for r in results}:
        runs = [r for r in results if r["slug"] == slug]
        cells = next(_row(text, c) for c in (f"`{slug}`", f"`{slug}` (untuned baseline)",
                                              f"`{slug}` (evidence, not a search)")
                     if f"| {c} |" in text)  # fmt: skip
        fits = sum(int(r["n_fits"]) for r in runs)
        wall = sum(float(r["wall_seconds"]) for r in runs)
        assert cells[1:5] == [
            str(len(runs)),
            str(sum(int(r["n_trials"]) for r in runs)),
            str(fits),
            str(sum(int(r["epochs_run"]) for r in runs)),
        ]
        assert cells[5] == f"{wall:.0f}" and cells[7] == f"{wall / fits:.2f}"
    assert _row(text, "**all**")[3] == str(sum(int(r["n_fits"]) for r in results))


@pytest.mark.slow
def test_export_to_writes_the_other_study_only_there(quick_study: Path, tmp_path: Path) -> None:
    """`course export --to` writes a study into a folder of its own; docs/generated keeps
    the site's study, and the report reads the notebook folder for the seed-space include."""
    folder = tmp_path / "project"
    for part in ("data", "docs"):
        shutil.copytree(quick_study / part, folder / part)
    (folder / "runs").mkdir()
    for ledger in (quick_study / "runs").glob("ledger.sqlite*"):  # with its WAL, if any
        shutil.copy(ledger, folder / "runs" / ledger.name)
    generated = folder / "docs" / "generated"

    def files() -> dict[Path, bytes]:  # the lock file keeps only its last owner's pid
        return {
            p: p.read_bytes() for p in generated.rglob("*") if p.is_file() and p.name != ".lock"
        }

    before = files()
    proc = run_course("export", "--profile", "quick", "--to", "docs/generated/notebook",
                      cwd=folder)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "to docs/generated/notebook/" in proc.stdout
    after = files()
    assert {p: b for p, b in after.items() if p in before} == before  # nothing else rewritten
    written = sorted(str(p.relative_to(generated)) for p in set(after) - set(before))
    assert "notebook/provenance.json" in written and "notebook/data/trials.csv" in written
    assert all(name.startswith("notebook/") for name in written)
    assert (generated / "notebook" / "data" / "trials.csv").read_bytes() == before[
        generated / "data" / "trials.csv"
    ]  # the same study, exported twice: the same rows
    proc = run_course("report", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    text = _generated(folder, "seed-space.md")
    assert "exported to `docs/generated/notebook`" in text  # read from there
    assert "differ only in their epoch budget" in text  # quick does not tune epochs


# --- the newer searches' evidence, on a study built by hand -----------------------------------

HALVING, BAYESIAN, PRUNING = "halving-random-search-cv", "kt-bayesian", "optuna-tpe"
MONITOR = "val_loss"
SPACE = {
    UNITS: [16, 32, 64],
    LEARNING_RATE: {"low": 1e-4, "high": 1e-2, "log": True, "grid": None},
    **{n: [HYPERPARAMETERS[n].default or 20] for n in NAMES if n not in (UNITS, LEARNING_RATE)},
}


def _params(rng: np.random.Generator, **fixed: object) -> dict[str, object]:
    drawn = {UNITS: int(rng.choice(SPACE[UNITS])), LEARNING_RATE: float(10 ** rng.uniform(-4, -2))}
    return {n: v[0] for n, v in SPACE.items() if isinstance(v, list)} | drawn | fixed


def _fit_row(method: str, trial: int, params: dict, **fit: object) -> dict[str, object]:
    return {"method": method, "run_id": f"{method}-1", "trial": trial, "fold": 0, "rung": 0,
            **params, "epochs_run": 5, "best_epoch": 3, "val_accuracy": 0.4, "val_loss": 1.2,
            "seconds": 0.5, "status": "ok", "protocol": "clean", "slug": method,
            "kind": "search", **fit}  # fmt: skip


def _halving(rng: np.random.Generator, plan: list[tuple[int, int]], folds: int) -> list[dict]:
    """Successive halving as HalvingRandomSearchCV runs it: every round's candidates on every
    fold, the best third going on; trial 0 scores best in round 0 and worst in the last."""
    params = {t: _params(rng) for t in range(plan[0][0])}
    rows, alive = [], list(params)
    for rung, (candidates, epochs) in enumerate(plan):
        assert len(alive) == candidates
        means = {t: 0.3 + 0.05 * rung + 0.01 * t for t in alive}
        if 0 in alive:
            means[0] = 0.9 if rung == 0 else 0.1
        for t in alive:
            for fold in range(folds):
                rows.append(_fit_row(HALVING, t, params[t] | {EPOCHS: epochs}, fold=fold, rung=rung,
                                 epochs_run=epochs, cv_fold_score=means[t],
                                 cv_score=means[t]))  # fmt: skip
        if rung + 1 < len(plan):
            alive = sorted(alive, key=lambda t: -means[t])[: plan[rung + 1][0]]
    winner = max(alive, key=lambda t: means[t])
    rows.append(_fit_row(HALVING, winner, params[winner] | {EPOCHS: plan[-1][1]}, fold=-1,
                     rung=len(plan) - 1, epochs_run=plan[-1][1]))  # fmt: skip
    return rows


def _study(
    plan: tuple[tuple[int, int], ...] = ((9, 2), (3, 6), (1, 18)),
    pruned: tuple[int, ...] = (2, 3, 5, 6),
    trials: int = 8,
    initial: int = 3,
    ran: tuple[str, ...] = (HALVING, BAYESIAN, PRUNING),
) -> Evidence:
    """A study of the three newer searches (any left out of `ran`), with a seed-protocol run
    of the grid loop beside them, and what export writes of each."""
    rng = np.random.default_rng(0)
    folds = 3
    rows = _halving(rng, list(plan), folds) if HALVING in ran else []
    for method in (BAYESIAN, PRUNING):
        if method not in ran:
            continue
        for t in range(trials):
            cut = method == PRUNING and t in pruned
            fit = {"epochs_run": 1 + t % 3 if cut else 8, "val_accuracy": 0.3 + 0.02 * t,
                   "status": "pruned" if cut else "ok"}  # fmt: skip
            rows.append(_fit_row(method, t, _params(rng), **fit))
    rows.append(_fit_row("grid-loop[seed-protocol]", 0, _params(rng), protocol="seed",
                     slug="grid-loop"))  # fmt: skip
    frame = pd.DataFrame(rows)
    results = []
    for method, fits in frame.groupby("method", sort=False):
        chosen = fits.iloc[-1]  # the halving refit, or any trial
        results.append({"method": method, "slug": fits["slug"].iloc[0], "variant": "",
                        "kind": "search", "protocol": fits["protocol"].iloc[0],
                        **{n: chosen[n] for n in NAMES}, "selection_score": 0.5,
                        "test_accuracy": 0.5, "test_ci_low": 0.4, "test_ci_high": 0.6,
                        "n_trials": fits["trial"].nunique(), "n_fits": len(fits),
                        "epochs_run": int(fits["epochs_run"].sum()),
                        "wall_seconds": float(fits["seconds"].sum())})  # fmt: skip
    results = pd.DataFrame(results)
    predictions = pd.DataFrame([{"method": m, "row": i, "label": 0, "predicted": i % (k + 2)}
                                for k, m in enumerate(results["method"])
                                for i in range(50)])  # fmt: skip
    holdout = frame[(frame["method"] == PRUNING)]
    curves = pd.DataFrame([{"method": PRUNING, "trial": r["trial"], "fold": 0, "epoch": e,
                            "metric": MONITOR, "value": 1.5 - 0.01 * e}
                           for _, r in holdout.iterrows()
                           for e in range(1, r["epochs_run"] + 1)],
                          columns=["method", "trial", "fold", "epoch", "metric",
                                   "value"])  # fmt: skip
    settings = {HALVING: {"candidates": plan[0][0], "factor": 3, "min_epochs": plan[0][1],
                          "max_epochs": plan[-1][1], "cv": folds},
                BAYESIAN: {"max_trials": trials, "initial_points": initial},
                PRUNING: {"trials": trials, "startup_trials": 3, "pruner": "successive-halving",
                          "min_epochs": 1, "factor": 3}}  # fmt: skip
    catalog = pd.DataFrame([{"slug": s, "summary": f"what {s} is", "kind": "search"}
                            for s in (*ran, "grid-loop")])  # fmt: skip
    repeats = results.assign(seed=42)[["method", "seed", "test_accuracy", "wall_seconds"]]
    return Evidence(
        trials=frame, results=results, predictions=predictions, curves=curves, catalog=catalog,
        repeats=repeats,
        halving_plan=pd.DataFrame([{"round": r, "candidates": c, "epochs": e}
                                   for r, (c, e) in enumerate(plan)]),
        provenance={"profile": "hand", "config": {
            "selection": "val_accuracy", "space": SPACE, "methods": settings,
            "training": {"monitor": MONITOR, "patience": 3, "max_epochs": 20}}},
    )  # fmt: skip


def test_a_halving_candidate_is_evaluated_once_per_round_and_every_fold_costs() -> None:
    ev = _study()
    fits = ev.trials[(ev.trials["method"] == HALVING) & (ev.trials["fold"] >= 0)]
    scores = ev.selection_trials(HALVING)
    assert len(scores) == 9 + 3 + 1  # (trial, rung) pairs, not the 9 trials
    assert list(scores["rung"]) == sorted(scores["rung"])  # round by round, as it ran
    assert (scores["fits"] == 3).all()
    curve = analysis.anytime(ev, HALVING)
    assert curve["epochs_run"].iloc[-1] == fits["epochs_run"].sum()  # the refit comes after
    assert curve["seconds"].iloc[-1] == pytest.approx(fits["seconds"].sum())
    assert curve["best"].iloc[-1] == pytest.approx(0.9)  # round 0's best counts as evaluated
    assert analysis.configurations(ev, HALVING)[EPOCHS].eq(2).all()  # as first scored


def test_halving_rounds_match_the_plan_and_the_trials_and_the_winner_is_from_the_last() -> None:
    from course.report import tables

    ev = _study()
    frame = analysis.halving_rounds(ev)
    fits = ev.trials[(ev.trials["method"] == HALVING) & (ev.trials["fold"] >= 0)]
    assert list(frame["planned_candidates"]) == list(frame["candidates"]) == [9, 3, 1]
    assert list(frame["planned_epochs"]) == list(frame["epochs_high"]) == [2, 6, 18]
    assert list(frame["fits"]) == [len(fits[fits["rung"] == r]) for r in range(3)]
    assert list(frame["fits"]) == [27, 9, 3]
    # trial 0 is round 0's best, but the last round chooses: the winner is the one refit
    assert frame["best_trial"].iloc[0] == 0
    refit = ev.trials[(ev.trials["method"] == HALVING) & (ev.trials["fold"] < 0)]
    assert analysis.halving_winner(ev) == refit["trial"].iloc[0] != 0
    text = tables.halving_rounds(ev)
    assert "| final refit | — | 1 (trial " in text and "does not choose" in text
    assert "Every round ran as planned" in text
    assert int(frame["fits"].sum()) + 1 == ev.result(HALVING)["n_fits"]
    short = _study(plan=((9, 2), (3, 6)))  # a plan the run does not match
    short.loaded["halving_plan"] = ev.halving_plan
    assert "**The run differs from the plan**" in tables.halving_rounds(short)


def test_pruned_fits_cost_epochs_but_are_no_candidates() -> None:
    from course.report import tables

    ev = _study()
    rows = ev.trials[ev.trials["method"] == PRUNING]
    cut = rows[rows["status"] == "pruned"]
    scores = ev.selection_trials(PRUNING)
    assert scores["score"].isna().sum() == len(cut)
    curve = analysis.anytime(ev, PRUNING)
    assert curve["epochs_run"].iloc[-1] == rows["epochs_run"].sum()
    assert curve["best"].max() == rows.loc[rows["status"] == "ok", "val_accuracy"].max()
    text = tables.optuna_pruning(ev)
    cells = [c.strip() for c in text.split("| pruned |")[1].split("\n")[0].split("|")]
    assert cells[0] == str(len(cut)) and cells[1] == str(cut["epochs_run"].sum())
    assert f"stopped {len(cut)} of the {len(rows)}" in text
    assert "not knowable" in text
    curves = analysis.pruning_curves(ev)
    ends = curves.groupby("trial").agg(last=("epoch", "max"), pruned=("pruned", "first"))
    assert set(ends.index[ends["pruned"]]) == set(cut["trial"])
    assert list(ends.loc[cut["trial"], "last"]) == list(cut["epochs_run"])


def test_bayesian_proposals_mark_the_random_initial_points() -> None:
    ev = _study(initial=3)
    frame = analysis.proposals(ev)
    assert list(frame["initial"]) == [t < 3 for t in range(8)]
    rows = ev.trials[ev.trials["method"] == BAYESIAN]
    assert list(frame["score"]) == list(rows["val_accuracy"])
    assert list(frame.columns) == ["trial", *ev.tuned, "score", "initial"]


def test_which_method_has_one_row_per_clean_search_and_types_no_result() -> None:
    from course.report import tables

    ev = _study()
    text = tables.which_method(ev)
    lines = [line for line in text.splitlines() if line.startswith("| `")]
    clean = ev.searches[ev.searches["protocol"] == "clean"]
    assert [line.split("`")[1] for line in lines] == list(clean["method"])
    assert "seed-protocol" not in text
    # the description columns come from what a method is, not from what it scored
    better = _study()
    better.results["test_accuracy"] = 0.9
    better.results["epochs_run"] *= 7

    def described(text: str) -> list[tuple[str, str]]:
        rows = [line.split("|") for line in text.splitlines() if line.startswith("| `")]
        return [(cells[2], cells[7]) for cells in rows]

    assert described(tables.which_method(better)) == described(text)
    assert "3-fold CV" in described(text)[0][0] and "holdout" in described(text)[1][0]


def test_the_seed_protocol_run_is_paired_with_no_search_and_ranked_apart() -> None:
    from course.report import tables

    ev = _study()
    seed = "grid-loop[seed-protocol]"
    pairs = analysis.paired(ev)
    assert len(pairs) == 3 and seed not in set(pairs["a"]) | set(pairs["b"])  # 3 clean searches
    rows = [line for line in tables.scoreboard(ev).splitlines() if line.startswith("| `")]
    assert rows[-1].startswith(f"| `{seed}` (chose on the test rows: not comparable)")


def test_the_new_includes_exist_when_the_study_ran_none_of_the_methods() -> None:
    from course.report import render, tables

    ev = _study(ran=())
    made = tables.makers(ev)
    for name in ("halving-rounds", "optuna-pruning"):
        assert "did not run" in made[name]()
    assert "| `grid-loop" not in made["which-method"]()  # the seed-protocol run only
    figures = render._figures(ev)
    new = ("kt-bayesian-proposals", "halving-random-search-cv-rounds", "optuna-tpe-pruning")
    assert set(new) <= set(render.FIGURES) and not set(new) & set(figures)
    assert set(new) <= set(render._figures(_study()))


def test_the_new_figures_draw_with_a_log_axis_for_a_log_range() -> None:
    from course.report import figures

    ev = _study()
    fig = figures.bayesian_proposals(ev)
    scales = {ax.get_title(): ax.get_yscale() for ax in fig.axes if ax.get_title()}
    assert scales == {UNITS: "linear", f"{LEARNING_RATE} (log scale)": "log"}
    for draw in (figures.bayesian_proposals, figures.halving_rounds, figures.optuna_pruning):
        assert figures.png(draw(ev)).startswith(b"\x89PNG")


@pytest.mark.slow
def test_quick_study_tables_of_the_newer_searches_count_what_trials_csv_holds(
    quick_study: Path,
) -> None:
    trials = pd.DataFrame(_data(quick_study, "trials")).astype({"fold": int, "rung": int})
    plan = _data(quick_study, "halving_plan")
    text = _generated(quick_study, "halving-rounds.md")
    halving = trials[(trials["method"] == HALVING) & (trials["fold"] >= 0)]
    for r in plan:
        cells = _row(text, r["round"])
        ran = halving[halving["rung"] == int(r["round"])]
        assert cells[1:6] == [r["candidates"], str(ran["trial"].nunique()), r["epochs"],
                              r["epochs"], str(len(ran))]  # fmt: skip
    optuna = trials[trials["method"] == PRUNING]
    cut = optuna[optuna["status"] == "pruned"]
    assert _row(_generated(quick_study, "optuna-pruning.md"), "pruned")[1] == str(len(cut))
    which = _generated(quick_study, "which-method.md")
    results = _data(quick_study, "results")
    clean = [r["method"] for r in results if r["kind"] == "search" and r["protocol"] == "clean"]
    assert [line.split("`")[1] for line in which.splitlines() if line.startswith("| `")] == clean
    figures = quick_study / "docs" / "generated" / "figures"
    for name in ("kt-bayesian-proposals", "halving-random-search-cv-rounds",
                 "optuna-tpe-pruning"):  # fmt: skip
        assert (figures / f"{name}.png").stat().st_size
        assert f"figures/{name}.png" in _generated(quick_study, f"figure-{name}.md")


def _one_fit(val_loss: list[float], loss: list[float], budget: int, patience: int = 3) -> Evidence:
    """A grid loop of one fit with these learning curves (val_accuracy flat but for one row)."""
    params = _params(np.random.default_rng(0), epochs=budget)
    best = int(np.argmin(val_loss)) + 1
    fit = _fit_row("grid-loop", 0, params, epochs_run=len(val_loss), best_epoch=best)
    curves = pd.DataFrame([
        {"method": "grid-loop", "trial": 0, "fold": 0, "epoch": e, "metric": metric, "value": v}
        for metric, values in (("val_loss", val_loss), ("loss", loss),
                               ("val_accuracy", [0.4 + 0.00625 * (e == 2)
                                                 for e in range(1, len(val_loss) + 1)]))
        for e, v in enumerate(values, start=1)
    ])  # fmt: skip
    results = pd.DataFrame([{**fit, "selection_score": 0.4, "test_accuracy": 0.4}])
    predictions = pd.DataFrame([{"method": "grid-loop", "row": i, "label": 0, "predicted": 0}
                                for i in range(200)])  # fmt: skip
    return Evidence(
        results=results, trials=pd.DataFrame([fit]), curves=curves, predictions=predictions,
        classes=pd.DataFrame({"rows": [500, 500]}),
        provenance={"config": {"test_size": 0.2, "validation_size": 0.2, "space": SPACE,
                               "training": {"monitor": MONITOR, "patience": patience}}},
    )  # fmt: skip


def test_the_callbacks_text_says_what_ended_the_fit_and_whether_it_overfitted() -> None:
    from course.report.tables import callback_fit

    overfit = callback_fit(_one_fit([1.3, 1.2, 1.25, 1.27, 1.3], [1.3, 1.2, 1.1, 1.0, 0.9], 40))
    assert "stopped the fit at epoch 5" in overfit and "overfitting" in overfit
    assert "160 validation rows" in overfit and "0.62 points" in overfit
    assert "took 2 distinct values, and it peaked at epoch 2 too" in overfit
    plateau = callback_fit(_one_fit([1.3, 1.2, 1.2, 1.2, 1.2], [1.3, 1.2, 1.2, 1.2, 1.2], 40))
    assert "plateau" in plateau and "overfitting" not in plateau
    budget = callback_fit(_one_fit([1.3, 1.2, 1.1, 1.15], [1.3, 1.2, 1.1, 1.0], 4))
    assert "The epoch budget ended the fit at epoch 4" in budget
    assert "EarlyStopping" in budget and "stopped the fit" not in budget


def test_the_provenance_box_offers_a_rerun_only_for_a_whole_built_in_study() -> None:
    from course.report.tables import provenance

    def box(*commands: str, seeds: tuple[int, ...] = (42, 43, 44)) -> str:
        runs = [{"command": c} for c in commands]
        return provenance(Evidence(provenance={
            "profile": "standard", "config": {"seed": 42}, "seeds": list(seeds),
            "command": commands[-1], "runs": runs, "finished_at": "2026-12-01T21:54:25",
            "cpu_count": 2, "platform": "Linux", "keras_backend": "jax", "packages": {},
            "git_commit": "356b112b23e8"}))  # fmt: skip

    assert "to rerun it all: `course run-all --profile standard --repeats 3`" in box(
        "course run-all", "course run-all --repeats 3"
    )
    assert "seeds 42, 43, 44" in box("course run-all --repeats 3")
    assert "--seed 7" in box("course run-all", seeds=(7,))
    assert "rerun" not in box("course run-all --only grid-loop")
    assert "rerun" not in box("course run grid-loop")

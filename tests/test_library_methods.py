"""The four library methods on the quick profile: real training, the same split and ledger."""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import pytest

from course.hyperband import halving, plan
from course.plan import expand, full_plan
from course.registry import load_profile
from course.searchers import drain
from course.selection import pick
from course.space import NAMES
from tests.conftest import kill_and_resume, read_csv, run_course

pytestmark = pytest.mark.slow

PROFILE = load_profile("quick")
SETTINGS = PROFILE.methods
EXPECTED_METHODS = {
    "baseline", "grid-loop", "grid-loop[seed-protocol]", "grid-search-cv", "kt-random-search",
    "quasi-random", "kt-hyperband", "kt-bayesian", "halving-random-search-cv", "optuna-tpe",
    *(f"randomized-search-cv[cv{v['cv']}-n{v['n_iter']}]"
      for v in SETTINGS["randomized-search-cv"]["variants"]),
    "cv-study[holdout]", *(f"cv-study[cv{k}]" for k in SETTINGS["cv-study"]["folds"]),
}  # fmt: skip


def _expected_sizes() -> dict[str, tuple[int, int]]:
    """(trials, fits) each run of the quick profile must make, from the profile alone."""
    size, sizes = PROFILE.space.size, {}
    for unit in expand(full_plan(), PROFILE):
        s = unit.settings
        if unit.slug == "grid-loop":
            sizes[unit.label] = (size, size)
        elif unit.slug == "baseline":
            sizes[unit.label] = (1, 1)
        elif unit.slug == "halving-random-search-cv":
            rounds = halving(s["candidates"], s["min_epochs"], s["max_epochs"], s["factor"])
            sizes[unit.label] = (s["candidates"],
                                 sum(r["candidates"] for r in rounds) * s["cv"] + 1)  # fmt: skip
        elif unit.slug.endswith("search-cv"):
            n = s.get("n_iter", size)
            sizes[unit.label] = (n, n * s["cv"] + 1)  # every fold, plus the refit
        elif unit.slug == "cv-study":
            n = s["configurations"] or size
            sizes[unit.label] = (n, n * s["folds"])  # every fold, no refit
        elif unit.slug in ("kt-random-search", "kt-bayesian"):
            sizes[unit.label] = (s["max_trials"],) * 2  # a continuous space: every trial new
        elif unit.slug in ("quasi-random", "optuna-tpe"):
            sizes[unit.label] = (s["trials"],) * 2  # a pruned trial is a fit too
        else:
            n = sum(r["trials"] for r in plan(s["max_epochs"], s["factor"],
                                               s["hyperband_iterations"]))  # fmt: skip
            sizes[unit.label] = (n, n)
    return sizes


EXPECTED_SIZES = _expected_sizes()


def _rows(folder: Path, method: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    data = folder / "docs" / "generated" / "data"
    (result,) = [r for r in read_csv(data / "results.csv") if r["method"] == method]
    trials = [r for r in read_csv(data / "trials.csv") if r["method"] == method]
    return result, trials


def test_every_method_and_variant_has_a_complete_result_row(quick_study: Path) -> None:
    results = read_csv(quick_study / "docs/generated/data/results.csv")
    assert {r["method"] for r in results} == EXPECTED_METHODS
    trials = read_csv(quick_study / "docs/generated/data/trials.csv")
    for result in results:
        fits = [t for t in trials if t["run_id"] == result["run_id"]]
        for name in NAMES:  # chosen hyperparameters, batch size and epochs included
            assert result[name] != "", (result["method"], name)
        low, acc, high = (float(result[k]) for k in ("test_ci_low", "test_accuracy",
                                                      "test_ci_high"))  # fmt: skip
        assert low <= acc <= high and 0 < float(result["selection_score"]) <= 1
        assert (int(result["n_trials"]), int(result["n_fits"])) == EXPECTED_SIZES[result["method"]]
        assert float(result["wall_seconds"]) >= sum(float(t["seconds"]) for t in fits)


def test_grid_search_cv_records_every_fold_of_every_configuration_and_the_refit(
    quick_study: Path,
) -> None:
    result, trials = _rows(quick_study, "grid-search-cv")
    k, size = SETTINGS["grid-search-cv"]["cv"], PROFILE.space.size
    folds = [t for t in trials if t["fold"] != "-1"]
    (refit,) = [t for t in trials if t["fold"] == "-1"]
    assert len(trials) == size * k + 1
    assert {(t["trial"], t["fold"]) for t in folds} == {
        (str(i), str(f)) for i in range(size) for f in range(k)
    }
    # the CV score of a configuration is the mean of its held-out fold scores
    by_trial: dict[str, list[dict[str, str]]] = {}
    for t in folds:
        by_trial.setdefault(t["trial"], []).append(t)
    means = []
    for trial, rows in by_trial.items():
        expected = statistics.mean(float(t["cv_fold_score"]) for t in rows)
        assert all(float(t["cv_score"]) == pytest.approx(expected, abs=1e-5) for t in rows)
        means.append(
            {
                "trial": int(trial),
                "val_accuracy": expected,
                "val_loss": statistics.mean(float(t["cv_fold_loss"]) for t in rows),
            }
        )
    best = pick(means, PROFILE.selection)  # the refit is the course's pick, ties included
    assert refit["trial"] == str(best.trial) and int(result["tied"]) == best.tied
    assert float(result["selection_score"]) == pytest.approx(best.row[PROFILE.selection], abs=1e-5)
    assert all(result[name] == refit[name] for name in NAMES)


def test_randomized_search_cv_samples_n_iter_configurations(quick_study: Path) -> None:
    (variant,) = SETTINGS["randomized-search-cv"]["variants"]
    result, trials = _rows(
        quick_study, f"randomized-search-cv[cv{variant['cv']}-n{variant['n_iter']}]"
    )
    configurations = {tuple(t[name] for name in NAMES) for t in trials}
    assert len(configurations) == variant["n_iter"]
    assert len(trials) == int(result["n_fits"]) == variant["n_iter"] * variant["cv"] + 1
    # a range is sampled from its distribution: every draw its own learning rate, in range
    rates = {float(t["learning_rate"]) for t in trials}
    lr = PROFILE.space.domains["learning_rate"]
    assert len(rates) == variant["n_iter"] and all(lr.low <= r <= lr.high for r in rates)


def test_quasi_random_trains_the_sobol_points_of_the_space(quick_study: Path) -> None:
    from course.registry import method

    result, trials = _rows(quick_study, "quasi-random")
    points = [
        c.params for c in drain(method("quasi-random").searcher(PROFILE, SETTINGS["quasi-random"]))
    ]
    assert [{n: t[n] for n in NAMES} for t in sorted(trials, key=lambda t: int(t["trial"]))] == [
        {n: str(p[n]) for n in NAMES} for p in points
    ]  # fmt: skip
    assert len({p["learning_rate"] for p in points}) == len(points)  # each its own rate
    best = pick(_scores(trials), PROFILE.selection)
    assert all(result[n] == best.row[n] for n in NAMES)


def _scores(trials: list[dict[str, str]]) -> list[dict]:
    """Trials as `course.selection.pick` reads them (numbers, not text)."""
    return [{**t, "trial": int(t["trial"]), "val_accuracy": float(t["val_accuracy"]),
             "val_loss": float(t["val_loss"])} for t in trials]  # fmt: skip


def test_the_baseline_trains_the_profile_defaults_once(quick_study: Path) -> None:
    result, (fit,) = _rows(quick_study, "baseline")
    baseline = SETTINGS["baseline"]
    assert {n: fit[n] for n in baseline} == {n: str(v) for n, v in baseline.items()}
    assert fit["epochs"] == str(PROFILE.training.max_epochs) and result["kind"] == "baseline"


def _reloaded_tuner(folder: Path, run_id: str, slug: str):
    """The tuner as KerasTuner itself reloads it from its directory."""
    from course import backend

    backend.configure()
    import keras_tuner

    from course.methods.tuner_search import MLPHyperModel

    common = {
        "objective": keras_tuner.Objective(PROFILE.training.monitor, PROFILE.training.mode),
        "seed": PROFILE.seed,
        "directory": folder / "runs" / run_id,
        "project_name": "tuner",
        "overwrite": False,
    }
    if slug == "kt-random-search":
        return keras_tuner.RandomSearch(
            MLPHyperModel(PROFILE.space, PROFILE.seed),
            max_trials=SETTINGS[slug]["max_trials"], **common,
        )  # fmt: skip
    if slug == "kt-bayesian":
        return keras_tuner.BayesianOptimization(
            MLPHyperModel(PROFILE.space, PROFILE.seed), max_trials=SETTINGS[slug]["max_trials"],
            num_initial_points=SETTINGS[slug]["initial_points"], **common,
        )  # fmt: skip
    hb = SETTINGS[slug]
    return keras_tuner.Hyperband(
        MLPHyperModel(PROFILE.space, PROFILE.seed, tune_epochs=False),
        max_epochs=hb["max_epochs"], factor=hb["factor"],
        hyperband_iterations=hb["hyperband_iterations"], **common,
    )  # fmt: skip


@pytest.mark.parametrize("slug", ["kt-random-search", "kt-bayesian", "kt-hyperband"])
def test_keras_tuner_rows_carry_the_batch_size_and_epochs_the_tuner_reports(
    quick_study: Path, slug: str
) -> None:
    result, trials = _rows(quick_study, slug)
    tuner = _reloaded_tuner(quick_study, result["run_id"], slug)
    completed = {int(t.trial_id): t for t in tuner.oracle.trials.values()
                 if t.status == "COMPLETED"}  # fmt: skip
    assert len(completed) == len(trials) == int(result["n_trials"])
    chosen = pick(_scores(trials), PROFILE.selection)
    values = completed[chosen.trial].hyperparameters.values  # as KerasTuner stored the trial
    epochs = values["tuner/epochs"] if slug == "kt-hyperband" else values["epochs"]
    assert int(result["epochs"]) == epochs
    for name in ("batch_size", "learning_rate", "units"):
        assert float(result[name]) == pytest.approx(values[name]), name


def test_hyperband_runs_the_schedule_course_hyperband_plan_prints(quick_study: Path) -> None:
    """`course hyperband-plan` for the quick profile, against the trials KerasTuner really ran."""
    _, trials = _rows(quick_study, "kt-hyperband")
    proc = run_course("hyperband-plan", "--profile", "quick", cwd=quick_study)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = lines[0].split()
    schedule = [dict(zip(header, map(int, line.split()), strict=True)) for line in lines[1:-1]]
    hb = SETTINGS["kt-hyperband"]
    assert schedule == plan(hb["max_epochs"], hb["factor"], hb["hyperband_iterations"])
    assert len(trials) == sum(row["trials"] for row in schedule)
    assert f"{len(trials)} trials" in lines[-1]
    for row in schedule:
        ran = [t for t in trials if (t["bracket"], t["round"]) == (str(row["bracket"]),
                                                                    str(row["round"]))]  # fmt: skip
        assert len(ran) == row["trials"]
        assert {t["epochs"] for t in ran} == {str(row["epochs"])}
        for t in ran:  # a later round continues its parent's training
            assert int(t["initial_epoch"]) + int(t["epochs_run"]) <= row["epochs"]
            assert (t["resumed_from"] != "") == (row["round"] > 0)


# halving-random-search-cv shares grid-search-cv's path (run_search, n_jobs); kt-random-search
# and kt-bayesian share kt-hyperband's (the chief and its workers)
@pytest.mark.parametrize("slug", ["grid-search-cv", "kt-hyperband"])
def test_two_workers_train_the_same_fits(slug: str, workdir: Path, quick_study: Path) -> None:
    """--workers 2: scikit-learn's n_jobs, or KerasTuner's chief and two worker processes,
    each recording into the same ledger. The fits are the same; which worker trained which,
    and KerasTuner's trial numbers, may differ."""
    proc = run_course("run", slug, "--profile", "quick", "--workers", "2", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "I0000" not in proc.stderr  # the workers loaded TensorFlow quietly
    parallel, fits = _rows(workdir, slug)
    serial, serial_fits = _rows(quick_study, slug)
    columns = ("epochs_run", "best_epoch", "val_accuracy", "val_loss", "cv_fold_score",
               "initial_epoch", *NAMES)  # fmt: skip

    def signatures(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
        return sorted(tuple(t.get(c, "") for c in columns) for t in rows)

    assert signatures(fits) == signatures(serial_fits)
    for column in ("selection_score", "test_accuracy", *NAMES):
        assert parallel[column] == serial[column], column


@pytest.mark.parametrize(
    ("slug", "workers"),
    [("grid-search-cv", "1"), ("kt-hyperband", "1"), ("kt-hyperband", "2"),
     ("halving-random-search-cv", "1"), ("kt-bayesian", "1"), ("optuna-tpe", "1")],
)  # fmt: skip
def test_interrupted_method_resumes_without_repeating_a_fit(
    slug: str, workers: str, workdir: Path, quick_study: Path
) -> None:
    """SIGKILL mid-run (workers die with the study), rerun: no fit repeated or lost."""
    args = ("run", slug, "--profile", "quick", "--workers", workers)
    fits = kill_and_resume(workdir, *args, after_fits=3)
    before, after = fits["before"], fits["after"]
    assert 3 <= len(before) < len(after), "the kill must land mid-run"
    assert all(after[key] == stamp for key, stamp in before.items())  # none repeated or lost
    resumed, trials = _rows(workdir, slug)
    assert (int(resumed["n_trials"]), int(resumed["n_fits"])) == EXPECTED_SIZES[slug]
    if slug == "optuna-tpe":  # TPE's random state is not saved: later proposals may differ
        assert len(_optuna_trials(workdir, resumed["run_id"])) == len(trials)
        return
    if slug == "kt-bayesian":  # nor is the state that seeds its search of the GP's bound
        tuner = _reloaded_tuner(workdir, resumed["run_id"], slug)
        assert sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values()) == len(trials)
        return
    # and the resumed run found what the uninterrupted quick study found
    uninterrupted, _ = _rows(quick_study, slug)
    for column in ("selection_score", "test_accuracy", *NAMES):
        assert resumed[column] == uninterrupted[column], column


def test_each_method_searcher_asks_for_the_configurations_its_run_trained(
    quick_study: Path,
) -> None:
    """The ask/tell searchers (what the lab can drive without training) are the searches the
    runs made: the same configurations under the same trial numbers."""
    from course.registry import method
    from course.searchers import drain

    slugs = ["grid-loop", "grid-search-cv", "randomized-search-cv", "halving-random-search-cv"]
    for unit in expand(full_plan(slugs), PROFILE):
        if unit.protocol != "clean":
            continue
        _, trials = _rows(quick_study, unit.label)
        first = [t for t in trials if t["fold"] == "0" and t["rung"] == "0"]
        searcher = method(unit.slug).searcher(PROFILE, unit.settings)
        asked = {c.trial: {n: str(v) for n, v in c.params.items()} for c in drain(searcher)}
        trained = {int(t["trial"]): {n: t[n] for n in next(iter(asked.values()))} for t in first}
        assert asked == trained, unit.label


def test_halving_runs_its_rounds_and_picks_from_the_last(quick_study: Path) -> None:
    """HalvingRandomSearchCV on the plan `course.hyperband.halving` makes: each round's
    candidates on every fold at the round's epochs, the best 1/factor going on, the refit the
    best of the last round."""
    s = SETTINGS["halving-random-search-cv"]
    result, trials = _rows(quick_study, "halving-random-search-cv")
    rounds = halving(s["candidates"], s["min_epochs"], s["max_epochs"], s["factor"])
    assert len(rounds) >= 2
    folds = [t for t in trials if t["fold"] != "-1"]
    scores: list[dict[str, float]] = []  # per round: each candidate's mean CV score
    for row in rounds:
        ran = [t for t in folds if t["rung"] == str(row["round"])]
        scores.append({t["trial"]: float(t["cv_score"]) for t in ran})
        assert len(scores[-1]) == row["candidates"] and len(ran) == row["candidates"] * s["cv"]
        assert {t["epochs"] for t in ran} == {str(row["epochs"])}
        assert all(int(t["epochs_run"]) <= row["epochs"] for t in ran)
    for here, after in itertools.pairwise(scores):  # the best 1/factor go on
        assert set(after) <= set(here) and len(after) == math.ceil(len(here) / s["factor"])
        dropped = [v for trial, v in here.items() if trial not in after]
        assert min(here[trial] for trial in after) >= max(dropped, default=-math.inf)
    (refit,) = [t for t in trials if t["fold"] == "-1"]
    assert scores[-1][refit["trial"]] == max(scores[-1].values())  # from the last round
    assert refit["rung"] == str(rounds[-1]["round"]) and refit["epochs"] == result["epochs"]
    assert float(result["selection_score"]) == pytest.approx(max(scores[-1].values()), abs=1e-5)


def _optuna_trials(folder: Path, run_id: str) -> list:
    """The finished trials of a run's study, as Optuna itself reloads them."""
    import optuna

    from course.methods.optuna_tpe import JOURNAL

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(folder / "runs" / run_id / JOURNAL)))  # fmt: skip
    study = optuna.load_study(study_name=run_id, storage=storage)
    state = optuna.trial.TrialState
    return study.get_trials(states=(state.COMPLETE, state.PRUNED))


def test_optuna_records_every_trial_pruned_ones_where_they_stopped(quick_study: Path) -> None:
    import optuna

    result, trials = _rows(quick_study, "optuna-tpe")
    study = {t.number: t for t in _optuna_trials(quick_study, result["run_id"])}
    assert sorted(study) == sorted(int(t["trial"]) for t in trials)
    pruned = [t for t in trials if t["status"] == "pruned"]
    assert pruned, "the quick study's pruner stopped no trial: the test shows nothing"
    for fit in trials:
        trial = study[int(fit["trial"])]
        assert (fit["status"] == "pruned") == (trial.state == optuna.trial.TrialState.PRUNED)
        # one report per epoch: the last step is the epoch a pruned trial stopped at
        assert max(trial.intermediate_values) == int(fit["epochs_run"])
        for name, value in trial.params.items():
            assert str(value) == fit[name], name
    finished = [t for t in _scores(trials) if t["status"] != "pruned"]
    best = pick(finished, PROFILE.selection)  # a pruned trial is never the final model
    assert all(result[n] == str(best.row[n]) for n in NAMES)


def test_optuna_workers_share_one_study(workdir: Path) -> None:
    """--workers 2: two processes ask one journal-backed study for trials. TPE's proposals
    depend on which trials have finished, so the fits differ from one process's; what holds is
    the bookkeeping: every finished Optuna trial is one ledger fit, pruned where Optuna says."""
    import optuna

    proc = run_course("run", "optuna-tpe", "--profile", "quick", "--workers", "2", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    result, trials = _rows(workdir, "optuna-tpe")
    study = {t.number: t for t in _optuna_trials(workdir, result["run_id"])}
    wanted = SETTINGS["optuna-tpe"]["trials"]
    assert wanted <= len(study) <= wanted + 1  # a trial already running when the study filled
    assert sorted(study) == sorted(int(t["trial"]) for t in trials)
    for fit in trials:
        pruned = study[int(fit["trial"])].state == optuna.trial.TrialState.PRUNED
        assert (fit["status"] == "pruned") == pruned


def test_bayesian_starts_with_the_random_searchs_first_trials(quick_study: Path) -> None:
    """What the kt-bayesian page says: its random initial points are RandomSearch's first
    trials, fit for fit, so the two part only where the Gaussian process proposes."""
    n = SETTINGS["kt-bayesian"]["initial_points"]
    columns = (*NAMES, "val_accuracy", "val_loss", "epochs_run")

    def first(slug: str) -> list[tuple[str, ...]]:
        _, trials = _rows(quick_study, slug)
        trials = sorted(trials, key=lambda t: int(t["trial"]))[:n]
        return [tuple(t[c] for c in columns) for t in trials]

    assert len(first("kt-bayesian")) == n and first("kt-bayesian") == first("kt-random-search")
    # and its results include says whether the pick came from that random start
    result, trials = _rows(quick_study, "kt-bayesian")
    (chosen,) = [int(t["trial"]) for t in trials if all(t[c] == result[c] for c in NAMES)]
    text = (quick_study / "docs/generated/results-kt-bayesian.md").read_text()
    assert f"The chosen trial, {chosen}, " in text
    assert ("drawn at random" in text) == (chosen < n)


@pytest.mark.slow
def test_optuna_resumes_past_the_journal_lock_a_killed_study_left(
    quick_study: Path, tmp_path: Path
) -> None:
    """A SIGKILL while Optuna writes leaves its journal lock (a symlink) behind; pointing at a
    missing file, Optuna would wait on it for ever. The rerun clears it and finishes."""
    import shutil

    from course.methods.optuna_tpe import JOURNAL

    for name in ("runs", "data", "docs"):
        shutil.copytree(quick_study / name, tmp_path / name)
    (run,) = [r for r in read_csv(tmp_path / "docs/generated/data/results.csv")
              if r["method"] == "optuna-tpe"]  # fmt: skip
    folder = tmp_path / "runs" / run["run_id"]
    (folder / "final-model.zip").unlink()  # the run is entered again: its study is reopened
    (folder / f"{JOURNAL}.lock").symlink_to(folder / "gone")
    proc = run_course("run", "optuna-tpe", "--profile", "quick", cwd=tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert not (folder / f"{JOURNAL}.lock").is_symlink()
    (rerun,) = [r for r in read_csv(tmp_path / "docs/generated/data/results.csv")
                if r["method"] == "optuna-tpe"]  # fmt: skip
    assert rerun["test_accuracy"] == run["test_accuracy"]  # rebuilt, not retrained

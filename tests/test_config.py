"""Profiles load and validate; every invalid file is one line naming the key."""

from __future__ import annotations

import copy
import math
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from course import config
from course.errors import CourseError
from course.registry import load_profile, parse_profile
from course.space import HYPERPARAMETERS, NAMES, Choice, Range
from tests.conftest import error_line, run_course


def standard_raw() -> dict:
    text = (resources.files("course") / "profiles" / "standard.toml").read_text()
    return tomllib.loads(text)


# The seed notebook's study (the first wave's `standard`): what the notebook profile keeps.
SEED_SPACE = {
    "layers": (1, 2),
    "units": (16, 64),
    "epochs": (30, 60),
    "batch_size": (16, 64),
    "input_activation": ("relu", "tanh"),
    "hidden_activation": ("relu", "tanh"),
    "optimizer": ("adam",),
}


def test_builtin_profiles_load() -> None:
    assert config.builtin_profiles() == [
        "digits",
        "full",
        "notebook",
        "quick",
        "reference",
        "standard",
    ]
    for name in config.builtin_profiles():
        profile = load_profile(name)
        assert profile.name == name
        assert list(profile.space.domains) == list(NAMES)
        assert profile.selection in config.MONITORS and profile.training.monitor in config.MONITORS
    assert load_profile().name == config.DEFAULT_PROFILE == "standard"


def test_standard_tunes_the_learning_rate_on_a_log_scale_and_gives_epochs_a_budget() -> None:
    profile = load_profile("standard")
    space = profile.space
    rate, dropout = space.domains["learning_rate"], space.domains["dropout"]
    assert isinstance(rate, Range) and rate.kind is float and rate.log
    assert rate.low > 0 and rate.high / rate.low >= 100  # at least two decades
    assert len(rate.points) >= 3  # the grid methods see several rates too
    assert isinstance(dropout, Range) and not dropout.log and dropout.low == 0.0
    searched = {"learning_rate", "dropout", "layers", "units", "batch_size"}
    assert searched <= set(space.tuned)
    assert "epochs" not in space.tuned  # a budget, not a hyperparameter to tune
    assert space.domains["epochs"] == Choice((profile.training.max_epochs,))
    assert space.domains["optimizer"] == Choice(("adam",))
    assert space.count() == math.inf  # sampling methods draw continuous values
    assert space.size <= 48  # a coarse grid for the grid methods
    assert profile.training.monitor == "val_loss" and profile.selection == "val_accuracy"


def test_notebook_reproduces_the_seed_notebooks_study() -> None:
    profile = load_profile("notebook")
    space = profile.space
    assert all(isinstance(d, Choice) for d in space.domains.values())  # lists only
    values = space.grid_values()
    assert {name: values[name] for name in SEED_SPACE} == SEED_SPACE
    # what the seed did not tune stays at Keras' defaults: Adam's own rate, no dropout
    assert values["learning_rate"] == (HYPERPARAMETERS["learning_rate"].default,) == (1e-3,)
    assert values["dropout"] == (0.0,)
    assert "epochs" in space.tuned and space.size == 64 == space.count()
    assert profile.training.monitor == "val_accuracy" and profile.training.patience == 5
    assert profile.selection == "val_accuracy"
    assert profile.methods["grid-search-cv"]["cv"] == 5
    assert profile.methods["randomized-search-cv"]["variants"] == [
        {"cv": 3, "n_iter": 10}, {"cv": 5, "n_iter": 10}, {"cv": 5, "n_iter": 30}
    ]  # fmt: skip


def test_quick_is_smaller_than_standard_and_full_repeats_it_over_five_seeds() -> None:
    quick, standard, full = (load_profile(n) for n in ("quick", "standard", "full"))
    assert quick.space.size < standard.space.size == full.space.size
    assert full.space == standard.space  # the same study, more seeds and folds
    assert "learning_rate" in quick.space.tuned  # the quick study tunes the rate too
    assert quick.repeats == standard.repeats == 1 and full.repeats >= 5
    assert full.seeds == [full.seed + i for i in range(full.repeats)]
    assert 10 in full.methods["cv-study"]["folds"]  # the issue: 10-fold in `full`
    assert standard.methods["cv-study"]["folds"] == [3, 5]


def test_the_epoch_budget_is_training_max_epochs_unless_the_space_gives_epochs() -> None:
    raw = standard_raw()
    raw["training"]["max_epochs"] = 37
    raw["space"].pop("epochs", None)
    budget = parse_profile(copy.deepcopy(raw), "mine")
    assert budget.training.max_epochs == 37
    assert budget.space.domains["epochs"] == Choice((37,)) and "epochs" not in budget.space.tuned
    assert {c["epochs"] for c in budget.space.grid()} == {37}
    raw["space"]["epochs"] = 12  # fixed by the space: the budget setting does not apply
    assert parse_profile(copy.deepcopy(raw), "mine").space.domains["epochs"] == Choice((12,))
    raw["space"]["epochs"] = [10, 20]  # tuned, as the seed notebook did
    tuned = parse_profile(copy.deepcopy(raw), "mine").space
    assert "epochs" in tuned.tuned and tuned.grid_values()["epochs"] == (10, 20)
    del raw["training"]["max_epochs"]
    raw["space"].pop("epochs")
    default = parse_profile(raw, "mine")
    assert default.training.max_epochs == config.KEYS["training.max_epochs"][0]
    assert default.space.domains["epochs"] == Choice((default.training.max_epochs,))


def test_a_hyperparameter_left_out_is_fixed_at_its_default() -> None:
    raw = standard_raw()
    for name in ("units", "dropout", "optimizer", "learning_rate"):
        del raw["space"][name]
    space = parse_profile(raw, "mine").space
    for name in ("units", "dropout", "optimizer", "learning_rate"):
        assert space.domains[name] == Choice((HYPERPARAMETERS[name].default,)), name
        assert name not in space.tuned


def test_monitor_and_selection_are_separate_settings_with_their_defaults() -> None:
    raw = standard_raw()
    raw.pop("selection", None)
    raw["training"].pop("monitor", None)
    defaults = parse_profile(copy.deepcopy(raw), "mine")
    assert defaults.training.monitor == "val_loss" and defaults.training.mode == "min"
    assert defaults.selection == "val_accuracy"
    raw["selection"], raw["training"]["monitor"] = "val_loss", "val_accuracy"
    swapped = parse_profile(raw, "mine")
    assert swapped.selection == "val_loss" and swapped.training.mode == "max"
    assert swapped.digest() != defaults.digest()  # both shape the results


def _set(raw: dict, dotted: str, value: object) -> dict:
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


_DELETE = object()

INVALID = [
    ("colour", "blue", "colour: unknown key"),
    ("training.paitence", 3, "training.paitence: unknown key"),
    ("space.dropuot", [0.1], "space.dropuot: unknown hyperparameter"),
    ("space.units", "wide", "space.units: 'wide' is not int"),
    ("space.units", [], "space.units: empty list"),
    ("space.epochs", [0, 10], "space.epochs: 0 is outside [1, 10000]"),
    ("space.batch_size", [-8], "space.batch_size: -8 is outside [1, ∞)"),
    ("space.batch_size", [16.5], "space.batch_size: 16.5 is not int"),
    ("space.layers", [True], "space.layers: True is not int"),
    ("space.input_activation", ["relu", "rellu"], "space.input_activation: unknown value 'rellu'"),
    ("space.optimizer", ["adam", "adam"], "space.optimizer: duplicate values"),
    ("space.optimizer", "adamm", "space.optimizer: unknown value 'adamm'"),
    ("space.dropout", [0.0, 1.0], "space.dropout: 1.0 is outside [0, 1)"),
    ("space.learning_rate", [0.01, 0], "space.learning_rate: 0.0 is outside (0, 10]"),
    ("space.learning_rate", ["fast"], "space.learning_rate: 'fast' is not float"),
    ("seed", "42", "seed: expected int"),
    ("test_size", 1.5, "test_size: 1.5 must be a fraction"),
    ("training.monitor", "accuracy", "training.monitor: 'accuracy'"),
    ("training.patience", -1, "training.patience: -1 must be between 0 and 1000"),
    ("training.patience", 5000, "training.patience: 5000 must be between 0 and 1000"),
    ("training.max_epochs", 0, "training.max_epochs: 0 is outside [1, 10000]"),
    ("training.max_epochs", 20000, "training.max_epochs: 20000 is outside [1, 10000]"),
    ("training.max_epochs", "60", "training.max_epochs: expected int"),
    ("training.max_epochs", 60.0, "training.max_epochs: expected int"),
    ("selection", "accuracy", "selection: 'accuracy'; expected one of val_loss, val_accuracy"),
    ("selection", "loss", "selection: 'loss'; expected one of"),
    ("selection", 1, "selection: expected str"),
    ("space.units", [100000000], "space.units: 100000000 is outside [1, 4096]"),
    ("space.layers", [1, 100], "space.layers: 100 is outside [1, 64]"),
    ("methods.grid-serch", {}, "methods.grid-serch: unknown key"),
    ("methods.grid-search-cv.cv", 1, "methods.grid-search-cv.cv: 1 must be at least 2"),
    ("methods.randomized-search-cv.variants", [{"cv": 5}], "variants[0].n_iter: missing"),
    ("repeats", 0, "repeats: 0 must be at least 1"),
    ("seeds.shuffle", 1, "seeds.shuffle: unknown key; expected one of init, search, split"),
    ("seeds.init", "7", "seeds.init: expected int"),
    ("seeds.search", -1, "seeds.search: -1 must be between 0 and"),
    ("repeats", 2.5, "repeats: expected int"),
    ("methods.cv-study.folds", [1, 5], "methods.cv-study.folds: [1, 5]; expected whole numbers"),
    ("methods.cv-study.folds", [5, 5], "lists a fold count twice"),
    ("methods.cv-study.folds", 5, "methods.cv-study.folds: expected list"),
]


@pytest.mark.parametrize(("key", "value", "message"), INVALID)
def test_invalid_profile_names_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(CourseError) as info:
        parse_profile(_set(standard_raw(), key, value), "mine")
    assert message in str(info.value)


LR = {"low": 1e-4, "high": 1e-2, "log": True}
# Malformed ranges: (hyperparameter, its table, the one line's start, which names the key).
BAD_RANGES = {
    "low above high": ("learning_rate", {"low": 1e-2, "high": 1e-3},
                       "space.learning_rate: low 0.01 must be less than high 0.001"),
    "low equals high": ("dropout", {"low": 0.3, "high": 0.3},
                        "space.dropout: low 0.3 must be less than high 0.3"),
    "log from zero": ("dropout", {"low": 0.0, "high": 0.5, "log": True},
                      "space.dropout: log = true needs low > 0, got 0.0"),
    "grid outside": ("learning_rate", {**LR, "grid": [1e-3, 1e-1]},
                     "space.learning_rate.grid: 0.1 is outside the range [0.0001, 0.01]"),
    "grid below": ("units", {"low": 16, "high": 128, "grid": [8, 64]},
                   "space.units.grid: 8 is outside the range [16, 128]"),
    "range of words": ("optimizer", {"low": 1, "high": 2},
                       "space.optimizer: a range needs numbers; list the values instead"),
    "range of activations": ("input_activation", {"low": 0.0, "high": 1.0},
                             "space.input_activation: a range needs numbers"),
    "grid and grid_points": ("learning_rate", {**LR, "grid": [1e-3], "grid_points": 3},
                             "space.learning_rate: give grid or grid_points, not both"),
    "unknown range key": ("learning_rate", {**LR, "steps": 3},
                          "space.learning_rate.steps: unknown key; expected one of grid, "
                          "grid_points, high, log, low"),
    "missing high": ("learning_rate", {"low": 1e-4, "log": True},
                     "space.learning_rate.high: missing"),
    "missing low": ("dropout", {"high": 0.5}, "space.dropout.low: missing"),
    "float bound of an int": ("units", {"low": 16.5, "high": 64},
                              "space.units.low: 16.5 is not int"),
    "float grid of an int": ("batch_size", {"low": 16, "high": 64, "grid": [32.0]},
                             "space.batch_size.grid: 32.0 is not int"),
    "one grid point": ("learning_rate", {**LR, "grid_points": 1},
                       "space.learning_rate.grid_points: 1 must be a whole number of at least 2"),
    "grid_points not a number": ("learning_rate", {**LR, "grid_points": True},
                                 "space.learning_rate.grid_points: True must be a whole number"),
    "repeating integers": ("units", {"low": 16, "high": 18, "grid_points": 5},
                           "space.units.grid_points: 5 points on [16, 18] repeat whole numbers"),
    "dropout of 1.5": ("dropout", {"low": 0.0, "high": 1.5},
                       "space.dropout.high: 1.5 is outside [0, 1)"),
    "learning rate from 0": ("learning_rate", {"low": 0, "high": 0.1},
                             "space.learning_rate.low: 0.0 is outside (0, 10]"),
    "layers beyond 64": ("layers", {"low": 1, "high": 100},
                         "space.layers.high: 100 is outside [1, 64]"),
    "log not a bool": ("learning_rate", {"low": 1e-4, "high": 1e-2, "log": "yes"},
                       "space.learning_rate.log: expected true or false, got 'yes'"),
    "log as a number": ("dropout", {"low": 0.1, "high": 0.5, "log": 1},
                        "space.dropout.log: expected true or false, got 1"),
    "empty grid": ("learning_rate", {**LR, "grid": []},
                   "space.learning_rate.grid: empty list"),
    "grid not a list": ("learning_rate", {**LR, "grid": 1e-3},
                        "space.learning_rate.grid: expected a list, got float"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_RANGES))
def test_a_malformed_range_is_one_line_naming_its_key(case: str) -> None:
    name, table, message = BAD_RANGES[case]
    with pytest.raises(CourseError) as info:
        parse_profile(_set(standard_raw(), f"space.{name}", table), "mine")
    line = str(info.value)
    assert line.startswith(message), line
    assert "\n" not in line


def test_well_formed_ranges_parse() -> None:
    raw = standard_raw()
    raw["space"].update(
        learning_rate={"low": 1e-5, "high": 10, "log": True, "grid_points": 3},  # up to its bound
        dropout={"low": 0, "high": 0.9},  # whole-number bounds of a float are floats
        units={"low": 16, "high": 18, "grid_points": 3},  # exactly every integer
        batch_size={"low": 8, "high": 64, "log": True, "grid": [8, 64]},
    )
    space = parse_profile(raw, "mine").space
    assert space.domains["dropout"] == Range(float, 0.0, 0.9, False, None)
    assert space.domains["units"].points == (16, 17, 18)
    assert space.domains["learning_rate"].points == pytest.approx((1e-5, 1e-2, 10.0))
    assert space.domains["batch_size"].points == (8, 64)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_invalid_profile_file_stops_the_cli_with_nothing_written(workdir: Path) -> None:
    text = (resources.files("course") / "profiles" / "quick.toml").read_text()
    bad = workdir / "mine.toml"
    bad.write_text(text.replace('input_activation = ["relu", "tanh"]',
                                'input_activation = ["relu", "rellu"]'))  # fmt: skip
    line = error_line(run_course("run", "grid-loop", "--config", str(bad), cwd=workdir))
    assert "space.input_activation" in line and "rellu" in line
    assert not (workdir / "docs").exists() and not (workdir / "runs").exists()


# Malformed ranges in a profile file: the CLI exits 2 with one line and writes nothing. The last
# is well formed but has no grid points, which only a grid method refuses (its `check`).
CLI_RANGES = {
    "low above high": ("grid-loop", "low = 1e-3, high = 1e-2", "low = 1e-2, high = 1e-3",
                       "space.learning_rate: low 0.01 must be less than high 0.001"),
    "range of words": ("grid-loop", 'hidden_activation = "relu"',
                       'hidden_activation = { low = 1, high = 2 }',
                       "space.hidden_activation: a range needs numbers"),
    "dropout of 1.5": ("kt-random-search", "layers = 1\n",
                       "layers = 1\ndropout = { low = 0.0, high = 1.5 }\n",
                       "space.dropout.high: 1.5 is outside [0, 1)"),
    "no grid points": ("grid-loop", "log = true, grid_points = 2 }", "log = true }",
                       "space.learning_rate: a range has no grid; add grid = [...] or "
                       "grid_points = N"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CLI_RANGES))
def test_a_malformed_range_stops_the_cli_with_nothing_written(case: str, workdir: Path) -> None:
    slug, old, new, message = CLI_RANGES[case]
    text = (resources.files("course") / "profiles" / "quick.toml").read_text()
    assert old in text
    bad = workdir / "mine.toml"
    bad.write_text(text.replace(old, new, 1))
    line = error_line(run_course("run", slug, "--config", str(bad), cwd=workdir))
    assert line.startswith(f"course: error: {message}")
    assert not (workdir / "docs").exists() and not (workdir / "runs").exists()


# Settings only the data (or the grid) can refuse: one line, before any run or ledger exists.
AGAINST_DATA = {
    "cv = 200": ("quick", "grid-search-cv", "cv = 3\n", "cv = 200\n",
                 "methods.grid-search-cv.cv: 200 folds, but class 2 has"),
    "variant cv = 250": ("quick", "randomized-search-cv", "{ cv = 3,", "{ cv = 250,",
                         "variants: cv = 250: 250 folds, but class 2 has"),
    # a finite space (lists only) caps n_iter at its size
    "n_iter = 1000": ("notebook", "randomized-search-cv", "n_iter = 10 }", "n_iter = 1000 }",
                      "variants[0].n_iter: 1000 is more than the space's 64 configurations"),
    "batch_size = 100000": ("quick", "grid-loop", "batch_size = 32\n",
                            "batch_size = [32, 100000]\n",
                            "space.batch_size: 100000 is more than the 640 rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(AGAINST_DATA))
def test_settings_the_data_cannot_feed_are_one_line(case: str, workdir: Path) -> None:
    profile, slug, old, new, message = AGAINST_DATA[case]
    text = (resources.files("course") / "profiles" / f"{profile}.toml").read_text()
    assert old in text
    bad = workdir / "mine.toml"
    bad.write_text(text.replace(old, new, 1))
    line = error_line(run_course("run", slug, "--config", str(bad), cwd=workdir))
    assert message in line
    assert not (workdir / "runs").exists()


def test_a_continuous_space_has_no_n_iter_cap() -> None:
    from course.registry import method

    quick = load_profile("quick")
    assert quick.space.count() == math.inf
    settings = {"variants": [{"cv": 3, "n_iter": 1000}]}
    method("randomized-search-cv").check(quick, settings)  # no cap: every draw is new
    notebook = load_profile("notebook")
    with pytest.raises(CourseError, match=r"variants\[0\]\.n_iter: 1000 is more than"):
        method("randomized-search-cv").check(notebook, settings)


def test_broken_toml_is_one_line(workdir: Path) -> None:
    bad = workdir / "broken.toml"
    bad.write_text("[space\nlayers = [1]\n")
    line = error_line(run_course("run", "grid-loop", "--config", str(bad), cwd=workdir))
    assert "invalid TOML" in line


def test_digest_tracks_every_result_shaping_setting() -> None:
    base = load_profile("quick")
    standard = load_profile("standard")
    changed = parse_profile(_set(standard_raw(), "training.patience", 9), "standard")
    assert base.digest() != standard.digest()
    assert standard.digest() != changed.digest()
    for key, value in (
        ("training.max_epochs", 61),
        ("selection", "val_loss"),
        ("space.learning_rate.high", 0.2),
        ("space.dropout.grid", [0.0, 0.2]),
    ):
        other = parse_profile(_set(standard_raw(), key, value), "standard")
        assert other.digest() != standard.digest(), key
    assert base.digest() == load_profile("quick").digest()
    assert base.digest(method="a") != base.digest(method="b")
    assert base.with_seed(7).digest() != base.digest() and base.with_seed(7).seed == 7
    # how many seeds a study repeats does not change what any one run computes
    assert base.with_seed(None, 5).digest() == base.digest()
    with pytest.raises(CourseError, match="--seed plus --repeats"):
        base.with_seed(2**32 - 2, 3)


def test_split_init_and_search_seeds_default_from_the_seed_and_move_with_repeats() -> None:
    standard = load_profile("standard")
    assert (standard.split_seed, standard.init_seed, standard.search_seed) == (42, 42, 42)
    # named at the seed's own value, a seed hashes as it did before it had a name
    same = parse_profile(_set(standard_raw(), "seeds", {"split": 42, "init": 42}), "standard")
    assert same.digest() == standard.digest()
    init = parse_profile(_set(standard_raw(), "seeds", {"init": 7}), "standard")
    assert (init.split_seed, init.init_seed, init.search_seed) == (42, 7, 42)
    assert init.digest() != standard.digest()
    assert init.as_dict()["init_seed"] == 7  # what the ledger's config and provenance record
    repeat = init.seeded(44)  # the third repeat: every seed keeps its distance from the seed
    assert (repeat.seed, repeat.split_seed, repeat.init_seed, repeat.search_seed) == (44, 44, 9, 44)
    assert init.seeded(42, search_seed=5).search_seed == 5
    assert init.with_seed(50).init_seed == 15
    with pytest.raises(CourseError, match="--seed plus --repeats"):
        parse_profile(_set(standard_raw(), "seeds", {"search": 2**32 - 2}), "standard").with_seed(
            None, 3
        )


def test_a_method_digest_ignores_other_methods_settings() -> None:
    standard = load_profile("standard")
    bigger = parse_profile(_set(standard_raw(), "methods.kt-hyperband.max_epochs", 27), "standard")
    loop = {"method": "grid-loop", "variant": {}}
    assert standard.digest(**loop) == bigger.digest(**loop)  # the grid loop need not rerun
    hyperband = [{"method": "kt-hyperband", "variant": p.methods["kt-hyperband"]}
                 for p in (standard, bigger)]  # fmt: skip
    assert standard.digest(**hyperband[0]) != bigger.digest(**hyperband[1])


def test_hyperband_schedule_must_fit_the_space(workdir: Path) -> None:
    text = (resources.files("course") / "profiles" / "notebook.toml").read_text()  # lists only
    assert text.count("max_epochs = 24") == 1
    bad = workdir / "big-hyperband.toml"
    bad.write_text(text.replace("max_epochs = 24", "max_epochs = 81"))
    line = error_line(run_course("run-all", "--config", str(bad), cwd=workdir))
    assert "methods.kt-hyperband: its schedule draws" in line
    assert not (workdir / "runs").exists()  # refused before anything ran


def test_a_continuous_space_feeds_any_hyperband_schedule() -> None:
    from course.registry import method

    quick = load_profile("quick")  # a float range: configurations never run out
    method("kt-hyperband").check(quick, {"max_epochs": 81, "factor": 3, "hyperband_iterations": 2})


@pytest.mark.parametrize(
    ("line", "changed", "message"),
    [
        ('pruner = "successive-halving"', 'pruner = "asha"',
         "methods.optuna-tpe.pruner: 'asha'; expected one of"),
        ("max_epochs = 18", "max_epochs = 5",
         "methods.halving-random-search-cv.max_epochs: 5 leaves no second round"),
        ("initial_points = 6", "initial_points = 17",
         "methods.kt-bayesian.initial_points: 17 is more than max_trials (16)"),
    ],
)  # fmt: skip
def test_new_methods_refuse_settings_they_cannot_run(
    line: str, changed: str, message: str, workdir: Path
) -> None:
    """A pruner Optuna lacks, a halving schedule of one round, a Gaussian process that would
    never propose: one line, exit 2, before anything trains."""
    text = (resources.files("course") / "profiles" / "standard.toml").read_text()
    assert text.count(line) == 1
    bad = workdir / "bad.toml"
    bad.write_text(text.replace(line, changed))
    assert message in error_line(run_course("run-all", "--config", str(bad), cwd=workdir))
    assert not (workdir / "runs").exists()

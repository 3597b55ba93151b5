"""Profiles load and validate; every invalid file is one line naming the key."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from course import config
from course.errors import CourseError
from course.registry import load_profile, parse_profile
from course.space import NAMES
from tests.conftest import error_line, run_course


def standard_raw() -> dict:
    text = (resources.files("course") / "profiles" / "standard.toml").read_text()
    return tomllib.loads(text)


def test_builtin_profiles_load() -> None:
    assert config.builtin_profiles() == ["full", "quick", "reference", "standard"]
    for name in config.builtin_profiles():
        profile = load_profile(name)
        assert profile.name == name
        assert set(profile.space.values) == set(NAMES)
    assert load_profile().name == config.DEFAULT_PROFILE == "standard"


def test_standard_tunes_every_seed_hyperparameter_and_fixes_adam() -> None:
    space = load_profile("standard").space
    assert space.values["optimizer"] == ("adam",)
    assert set(space.tuned) == set(NAMES) - {"optimizer"}
    assert all(len(space.values[name]) >= 2 for name in space.tuned)


def test_quick_is_smaller_than_standard_and_full_repeats_it_over_five_seeds() -> None:
    quick, standard, full = (load_profile(n) for n in ("quick", "standard", "full"))
    assert quick.space.size < standard.space.size == full.space.size
    assert quick.repeats == standard.repeats == 1 and full.repeats >= 5
    assert full.seeds == [full.seed + i for i in range(full.repeats)]
    assert 10 in full.methods["cv-study"]["folds"]  # the issue: 10-fold in `full`
    assert standard.methods["cv-study"]["folds"] == [3, 5]


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
    ("space.dropout", [0.1], "space.dropout: unknown hyperparameter"),
    ("space.units", 32, "space.units: expected a list"),
    ("space.units", [], "space.units: empty list"),
    ("space.epochs", [0, 10], "space.epochs: 0 must be a positive integer"),
    ("space.batch_size", [-8], "space.batch_size: -8 must be a positive integer"),
    ("space.batch_size", [16.5], "space.batch_size: 16.5 is not int"),
    ("space.layers", [True], "space.layers: True is not int"),
    ("space.input_activation", ["relu", "rellu"], "space.input_activation: unknown value 'rellu'"),
    ("space.optimizer", ["adam", "adam"], "space.optimizer: duplicate values"),
    ("space.units", _DELETE, "space.units: missing"),
    ("seed", "42", "seed: expected int"),
    ("test_size", 1.5, "test_size: 1.5 must be a fraction"),
    ("training.monitor", "accuracy", "training.monitor: 'accuracy'"),
    ("training.patience", -1, "training.patience: -1 must be between 0 and 1000"),
    ("training.patience", 5000, "training.patience: 5000 must be between 0 and 1000"),
    ("space.units", [100000000], "space.units: 100000000 is more than 4096"),
    ("space.layers", [1, 100], "space.layers: 100 is more than 64"),
    ("methods.grid-serch", {}, "methods.grid-serch: unknown key"),
    ("methods.grid-search-cv.cv", 1, "methods.grid-search-cv.cv: 1 must be at least 2"),
    ("methods.randomized-search-cv.variants", [{"cv": 5}], "variants[0].n_iter: missing"),
    ("repeats", 0, "repeats: 0 must be at least 1"),
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


# Settings only the data (or the grid) can refuse: one line, before any run or ledger exists.
AGAINST_DATA = {
    "cv = 200": ("grid-search-cv", "cv = 3\n", "cv = 200\n",
                 "methods.grid-search-cv.cv: 200 folds, but the smallest class has"),
    "variant cv = 250": ("randomized-search-cv", "{ cv = 3,", "{ cv = 250,",
                         "variants: cv = 250: 250 folds, but the smallest class"),
    "n_iter = 1000": ("randomized-search-cv", "n_iter = 4", "n_iter = 1000",
                      "variants[0].n_iter: 1000 is more than the grid's 8 configurations"),
    "batch_size = 100000": ("grid-loop", "batch_size = [32]", "batch_size = [32, 100000]",
                            "space.batch_size: 100000 is more than the 640 rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(AGAINST_DATA))
def test_settings_the_data_cannot_feed_are_one_line(case: str, workdir: Path) -> None:
    slug, old, new, message = AGAINST_DATA[case]
    text = (resources.files("course") / "profiles" / "quick.toml").read_text()
    assert old in text
    bad = workdir / "mine.toml"
    bad.write_text(text.replace(old, new, 1))
    line = error_line(run_course("run", slug, "--config", str(bad), cwd=workdir))
    assert message in line
    assert not (workdir / "runs").exists()


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
    assert base.digest() == load_profile("quick").digest()
    assert base.digest(method="a") != base.digest(method="b")
    assert base.with_seed(7).digest() != base.digest() and base.with_seed(7).seed == 7
    # how many seeds a study repeats does not change what any one run computes
    assert base.with_seed(None, 5).digest() == base.digest()
    with pytest.raises(CourseError, match="--seed plus --repeats"):
        base.with_seed(2**32 - 2, 3)


def test_a_method_digest_ignores_other_methods_settings() -> None:
    standard = load_profile("standard")
    bigger = parse_profile(_set(standard_raw(), "methods.kt-hyperband.max_epochs", 9), "standard")
    loop = {"method": "grid-loop", "variant": {}}
    assert standard.digest(**loop) == bigger.digest(**loop)  # the grid loop need not rerun
    hyperband = [{"method": "kt-hyperband", "variant": p.methods["kt-hyperband"]}
                 for p in (standard, bigger)]  # fmt: skip
    assert standard.digest(**hyperband[0]) != bigger.digest(**hyperband[1])


def test_hyperband_schedule_must_fit_the_space(workdir: Path) -> None:
    text = (resources.files("course") / "profiles" / "quick.toml").read_text()
    bad = workdir / "big-hyperband.toml"
    bad.write_text(text.replace("max_epochs = 3", "max_epochs = 81"))
    line = error_line(run_course("run-all", "--config", str(bad), cwd=workdir))
    assert "methods.kt-hyperband: its schedule draws" in line
    assert not (workdir / "runs").exists()  # refused before anything ran

"""The one search space and its translations for each library: the grid, scikit-learn's
distributions, KerasTuner, Optuna and the unit cube (quasi-random points)."""

from __future__ import annotations

import itertools
import math
import tomllib
from importlib import resources

import numpy as np
import pytest

from course import backend
from course.errors import CourseError
from course.registry import load_profile
from course.space import (
    FIT_NAMES,
    HYPERPARAMETERS,
    MODEL_NAMES,
    NAMES,
    Choice,
    IntLogUniform,
    Range,
    Space,
    from_sklearn,
    split_params,
)

LR = {"low": 1e-4, "high": 1e-1, "log": True}  # three decades: a log scale is visible


def profile_space(name: str) -> dict:
    """A built-in profile's `[space]` table, as its TOML spells it."""
    text = (resources.files("course") / "profiles" / f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)["space"]


def geometric_mean(low: float, high: float) -> float:
    return math.sqrt(low * high)


# --- domains -----------------------------------------------------------------------------------


def test_a_profile_entry_becomes_a_list_a_range_or_a_fixed_value() -> None:
    space = Space.from_mapping({"units": [16, 64], "learning_rate": LR, "optimizer": "sgd"})
    assert space.domains["units"] == Choice((16, 64))
    assert space.domains["learning_rate"] == Range(float, 1e-4, 1e-1, True, None)
    assert space.domains["optimizer"] == Choice(("sgd",))  # a single value: fixed
    # a name left out is fixed at its hyperparameter's default, or at the profile's own
    assert space.domains["dropout"] == Choice((HYPERPARAMETERS["dropout"].default,))
    assert space.domains["layers"] == Choice((HYPERPARAMETERS["layers"].default,))
    budget = Space.from_mapping({}, defaults={"epochs": 77})
    assert budget.domains["epochs"] == Choice((77,))
    assert list(space.domains) == list(NAMES)
    assert space.tuned == ("units", "learning_rate")


def test_a_float_given_as_a_whole_number_is_a_float() -> None:
    space = Space.from_mapping({"dropout": [0, 0.3], "learning_rate": {"low": 1, "high": 2}})
    assert [type(v) for v in space.domains["dropout"].values] == [float, float]
    assert isinstance(space.domains["learning_rate"].low, float)


# --- the grid ----------------------------------------------------------------------------------


def test_grid_methods_use_exactly_the_profiles_grid_values() -> None:
    raw = profile_space("standard")
    values = load_profile("standard").space.grid_values()
    for name, entry in raw.items():
        if isinstance(entry, dict):
            assert list(values[name]) == entry["grid"]
        elif isinstance(entry, list):
            assert list(values[name]) == entry
        else:
            assert values[name] == (entry,)
    assert values["epochs"] == (load_profile("standard").training.max_epochs,)  # the budget


def test_grid_points_are_evenly_spaced_on_the_ranges_scale() -> None:
    space = Space.from_mapping({
        "learning_rate": {**LR, "grid_points": 4},
        "dropout": {"low": 0.0, "high": 0.5, "grid_points": 3},
        "units": {"low": 16, "high": 128, "log": True, "grid_points": 4},
        "batch_size": {"low": 16, "high": 64, "grid_points": 4},
    })  # fmt: skip
    values = space.grid_values()
    lr = values["learning_rate"]
    assert lr == pytest.approx((1e-4, 1e-3, 1e-2, 1e-1))  # one point per decade
    assert lr[0] == 1e-4 and lr[-1] == 1e-1  # the ends themselves, as the profile wrote them
    ratios = [b / a for a, b in itertools.pairwise(lr)]
    assert ratios == pytest.approx([ratios[0]] * 3)  # log-spaced: equal ratios
    assert values["dropout"] == pytest.approx((0.0, 0.25, 0.5))  # linear: equal steps
    assert values["units"] == (16, 32, 64, 128)
    assert values["batch_size"] == (16, 32, 48, 64)
    assert all(type(v) is int for v in values["units"] + values["batch_size"])
    assert space.size == 4 * 3 * 4 * 4 == len(space.grid())


def test_a_grid_is_every_combination_in_a_fixed_order() -> None:
    space = load_profile("standard").space
    values = space.grid_values()
    grid = space.grid()
    assert len(grid) == space.size == math.prod(len(v) for v in values.values())
    assert grid == [dict(zip(values, combo, strict=True))
                    for combo in itertools.product(*values.values())]  # fmt: skip
    assert len({frozenset(c.items()) for c in grid}) == len(grid)  # no duplicates


def test_a_range_without_grid_points_cannot_be_gridded() -> None:
    space = Space.from_mapping({"learning_rate": LR, "units": [16, 64]})
    for translation in (space.grid_values, space.grid, space.param_grid, lambda: space.size):
        with pytest.raises(CourseError, match=r"^space\.learning_rate: a range has no grid"):
            translation()
    assert "model__learning_rate" in space.distributions()  # sampling methods are fine


def test_sklearn_grid_is_the_profile_space_with_prefix() -> None:
    space = load_profile("standard").space
    values = space.grid_values()
    grid = space.param_grid(step="clf")
    assert grid["clf__model__learning_rate"] == list(values["learning_rate"])  # to the builder
    assert grid["clf__batch_size"] == list(values["batch_size"])  # taken by KerasClassifier.fit
    assert len(grid) == len(NAMES)
    first = {key: v[0] for key, v in grid.items()}
    assert from_sklearn(first, step="clf") == {n: values[n][0] for n in NAMES}


def test_sklearn_parameter_grid_enumerates_the_same_configurations_as_the_loop() -> None:
    from sklearn.model_selection import ParameterGrid

    for name in ("quick", "standard", "notebook"):
        space = load_profile(name).space
        theirs = [from_sklearn(p) for p in ParameterGrid(space.param_grid())]
        assert len(theirs) == space.size
        assert {frozenset(d.items()) for d in space.grid()} == {
            frozenset(d.items()) for d in theirs
        }


# --- scikit-learn distributions ----------------------------------------------------------------


def test_sklearn_distributions_are_lists_and_scipy_distributions() -> None:
    space = Space.from_mapping({
        "learning_rate": LR,
        "dropout": {"low": 0.1, "high": 0.5},
        "batch_size": {"low": 16, "high": 64},
        "units": {"low": 16, "high": 128, "log": True},
        "layers": [1, 2, 3],
    })  # fmt: skip
    dists = space.distributions(step="clf")
    assert dists["clf__model__layers"] == [1, 2, 3]
    assert dists["clf__model__optimizer"] == ["adam"]  # fixed: a one-value list
    assert dists["clf__model__learning_rate"].dist.name == "loguniform"
    assert dists["clf__model__learning_rate"].support() == pytest.approx((1e-4, 1e-1))
    assert dists["clf__model__dropout"].dist.name == "uniform"
    assert dists["clf__model__dropout"].support() == pytest.approx((0.1, 0.5))
    assert dists["clf__batch_size"].dist.name == "randint"
    assert dists["clf__batch_size"].support() == (16, 64)  # both ends included
    assert isinstance(dists["clf__model__units"], IntLogUniform)


def test_loguniform_draws_lie_in_the_range_and_spread_over_its_decades() -> None:
    dist = Space.from_mapping({"learning_rate": LR}).distributions()["model__learning_rate"]
    draws = dist.rvs(size=4000, random_state=0)
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    below = np.mean(draws < geometric_mean(1e-4, 1e-1))
    assert 0.45 < below < 0.55  # half below the geometric mean: uniform in log
    decades = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0]
    assert decades.min() > 0.28 * len(draws)  # about a third per decade
    # a linear uniform would put 90 % in the top decade
    assert np.mean(draws < 1e-2) > 0.6


def test_parameter_sampler_draws_a_distinct_learning_rate_per_configuration() -> None:
    from sklearn.model_selection import ParameterSampler

    space = load_profile("standard").space
    low, high = (space.domains["learning_rate"].low, space.domains["learning_rate"].high)
    drawn = [from_sklearn(p) for p in ParameterSampler(space.distributions(), 40, random_state=0)]
    rates = [c["learning_rate"] for c in drawn]
    assert len(set(rates)) == len(rates)  # continuous: no two draws share a rate
    assert all(type(r) is float and low <= r <= high for r in rates)  # plain Python floats
    assert not set(rates) & set(space.grid_values()["learning_rate"])  # not the grid's points
    assert np.mean(np.array(rates) < geometric_mean(low, high)) > 0.25  # not crowded at the top
    assert all(type(c["units"]) is int and 16 <= c["units"] <= 128 for c in drawn)
    assert all(0.0 <= c["dropout"] <= 0.5 for c in drawn)
    assert {c["optimizer"] for c in drawn} == {"adam"}  # fixed stays fixed
    again = [from_sklearn(p) for p in ParameterSampler(space.distributions(), 40, random_state=0)]
    assert again == drawn  # seeded: the same draws


def test_int_log_uniform_draws_whole_numbers_spread_on_a_log_scale() -> None:
    dist = IntLogUniform(16, 128)
    rng = np.random.RandomState(0)
    draws = [dist.rvs(random_state=rng) for _ in range(3000)]
    assert all(type(d) is int and 16 <= d <= 128 for d in draws)
    assert {16, 128} <= set(draws)  # both ends reachable
    below = np.mean(np.array(draws) < geometric_mean(16, 128))
    assert 0.43 < below < 0.57  # about half below the geometric mean (45.3), not a quarter
    rng = np.random.RandomState(0)
    assert [dist.rvs(random_state=rng) for _ in range(3000)] == draws  # seeded


# --- KerasTuner --------------------------------------------------------------------------------


def test_keras_tuner_hyperparameters_follow_the_space() -> None:
    backend.configure()  # before Keras loads: the course's backend, not Keras' default
    import keras_tuner
    from keras_tuner.engine import hyperparameters as kt

    space = load_profile("standard").space
    hp = keras_tuner.HyperParameters()
    drawn = space.declare(hp)
    assert list(drawn) == list(NAMES)
    declared = {h.name: h for h in hp.space}
    for name, d in space.domains.items():
        h = declared[name]
        if isinstance(d, Range):
            assert isinstance(h, kt.Float if d.kind is float else kt.Int), name
            assert (h.min_value, h.max_value) == (d.low, d.high)
            assert h.sampling == ("log" if d.log else "linear")
            assert d.low <= drawn[name] <= d.high
        elif len(d.values) > 1:
            assert isinstance(h, kt.Choice) and list(h.values) == list(d.values)
            assert drawn[name] in d.values
        else:
            assert isinstance(h, kt.Fixed) and h.value == drawn[name] == d.values[0]
    assert declared["learning_rate"].sampling == "log"  # the standard's log range


def test_keras_tuner_samples_a_log_range_over_its_decades() -> None:
    backend.configure()  # before Keras loads: the course's backend, not Keras' default
    import keras_tuner

    space = Space.from_mapping({"learning_rate": LR, "units": {"low": 16, "high": 128}})
    hp = keras_tuner.HyperParameters()
    space.declare(hp, skip=("epochs",))  # no profile here gives the epoch budget
    declared = {h.name: h for h in hp.space}
    rates = np.array([declared["learning_rate"].random_sample(seed) for seed in range(2000)])
    assert rates.min() >= 1e-4 and rates.max() <= 1e-1
    assert 0.44 < np.mean(rates < geometric_mean(1e-4, 1e-1)) < 0.56
    units = [declared["units"].random_sample(seed) for seed in range(200)]
    assert all(isinstance(u, int) and 16 <= u <= 128 for u in units)


def test_keras_tuner_skips_what_a_tuner_allots_itself_and_accepts_whole_floats() -> None:
    backend.configure()  # before Keras loads: the course's backend, not Keras' default
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    # KerasTuner's Choice refuses a list mixing ints and floats: 0 must arrive as 0.0
    drawn = Space.from_mapping({"dropout": [0, 0.3], "epochs": [5, 10]}).declare(
        hp, skip=("epochs",)
    )
    assert "epochs" not in drawn and "epochs" not in {h.name for h in hp.space}
    assert hp.get("dropout") == 0.0 and drawn["dropout"] == 0.0


# --- Optuna ------------------------------------------------------------------------------------


def test_optuna_suggests_each_domain_with_its_own_distribution() -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_profile("standard").space
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    configurations = []
    for _ in range(30):
        trial = study.ask()
        params = space.suggest(trial)
        configurations.append(params)
        assert list(params) == list(NAMES)
        assert set(trial.distributions) == set(space.tuned)  # fixed values are not suggested
        for name, d in space.domains.items():
            if name not in space.tuned:
                assert params[name] == d.values[0]
                continue
            recorded = trial.distributions[name]
            if isinstance(d, Range):
                kind = FloatDistribution if d.kind is float else IntDistribution
                assert recorded == kind(d.low, d.high, log=d.log), name
                assert d.low <= params[name] <= d.high
            else:
                assert recorded == CategoricalDistribution(list(d.values))
                assert params[name] in d.values
        study.tell(trial, 0.0)
    assert isinstance(trial.distributions["learning_rate"], FloatDistribution)
    assert trial.distributions["learning_rate"].log  # the standard's log range
    rates = [c["learning_rate"] for c in configurations]
    assert len(set(rates)) == len(rates)


# --- the unit cube (quasi-random) --------------------------------------------------------------


def test_the_unit_cube_maps_onto_each_domains_scale() -> None:
    space = Space.from_mapping({
        "learning_rate": LR,
        "dropout": {"low": 0.1, "high": 0.5},
        "units": {"low": 16, "high": 128, "log": True},
        "batch_size": [16, 32, 64],
    })  # fmt: skip
    assert space.tuned == ("units", "learning_rate", "dropout", "batch_size")
    low = space.from_unit([0.0, 0.0, 0.0, 0.0])
    assert low["units"] == 16 and low["batch_size"] == 16  # the low end, in range
    assert low["learning_rate"] == pytest.approx(1e-4) and low["learning_rate"] >= 1e-4
    assert low["dropout"] == pytest.approx(0.1)
    high = space.from_unit([1 - 1e-12] * 4)
    assert high["units"] == 128 and high["batch_size"] == 64
    assert high["learning_rate"] == pytest.approx(1e-1) and high["learning_rate"] <= 1e-1
    assert high["dropout"] == pytest.approx(0.5)
    middle = space.from_unit([0.5] * 4)
    assert middle["learning_rate"] == pytest.approx(geometric_mean(1e-4, 1e-1))  # log midpoint
    assert middle["dropout"] == pytest.approx(0.3)  # linear midpoint
    assert middle["batch_size"] == 32
    assert {k: v for k, v in low.items() if k not in space.tuned} == {
        k: d.values[0] for k, d in space.domains.items() if k not in space.tuned
    }  # fixed values stay as they are
    with pytest.raises(ValueError):
        space.from_unit([0.5])  # one coordinate per tuned hyperparameter


def test_listed_values_take_equal_shares_of_the_unit_interval() -> None:
    space = Space.from_mapping({"batch_size": [16, 32, 64], "units": {"low": 4, "high": 7}})
    us = (np.arange(300) + 0.5) / 300
    assert space.tuned == ("units", "batch_size")  # the coordinates' order: NAMES
    batch = [space.from_unit([0.0, u])["batch_size"] for u in us]
    assert [batch.count(v) for v in (16, 32, 64)] == [100, 100, 100]
    units = [space.from_unit([u, 0.0])["units"] for u in us]
    assert [units.count(v) for v in (4, 5, 6, 7)] == [75, 75, 75, 75]  # every integer alike


def test_sobol_points_become_configurations_in_the_space() -> None:
    from scipy.stats import qmc

    space = load_profile("standard").space
    points = qmc.Sobol(d=len(space.tuned), scramble=True, seed=0).random(16)
    configurations = [space.from_unit(p) for p in points]
    for name, d in space.domains.items():
        for c in configurations:
            if isinstance(d, Range):
                assert d.low <= c[name] <= d.high
            else:
                assert c[name] in d.values
    rates = [c["learning_rate"] for c in configurations]
    assert len(set(rates)) == 16  # every point its own learning rate
    # a Sobol net of 16 points puts exactly half of them in each half of every coordinate
    for name in ("layers", "units", "batch_size"):
        values = [c[name] for c in configurations]
        assert [values.count(v) for v in space.domains[name].values] == [8, 8], name


# --- counting ----------------------------------------------------------------------------------


def test_count_is_infinite_with_a_float_range_and_exact_otherwise() -> None:
    assert load_profile("standard").space.count() == math.inf
    notebook = load_profile("notebook").space
    assert (
        notebook.count()
        == notebook.size
        == math.prod(len(v) for v in profile_space("notebook").values())
    )
    assert notebook.count(skip=("epochs",)) == notebook.size // 2  # epochs: two values
    ints = Space.from_mapping({"units": {"low": 16, "high": 128, "log": True}, "layers": [1, 2]})
    assert ints.count() == 113 * 2  # every whole number of the range, log or not
    assert ints.count(skip=("units",)) == 2


# --- names ---------------------------------------------------------------------------------


def test_split_params_separates_fit_arguments() -> None:
    params = {name: i for i, name in enumerate(NAMES)}
    model, fit = split_params(params)
    assert set(model) == set(MODEL_NAMES) and set(fit) == set(FIT_NAMES) == {"epochs", "batch_size"}
    assert {**model, **fit} == params
    assert {"learning_rate", "dropout"} <= set(model)  # the builder's, not fit's

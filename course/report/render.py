"""`course report`: everything under docs/generated/ that is drawn from the exported data (the
CLI adds the reference pages, which come from the code).

It redraws only what changed. Beside the evidence, `.report.json` keeps, for every figure and
table, the fingerprints of the files it was drawn from (`Evidence.reads`) and of the report's
own code; one whose fingerprints still match is not drawn again. When no input changed at all,
nothing is loaded: neither pandas nor matplotlib nor the drawing code is imported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from course.paths import GENERATED_DIR, write_atomic, write_changed
from course.report.evidence import Evidence
from course.report.markdown import HEADER, image

MANIFEST = ".report.json"
INPUTS = tuple(file.path for file in Evidence.files())  # relative to docs/generated
# What draws the figures and tables besides that data: a change here redraws everything.
PACKAGE = Path(__file__).parents[1]
CODE = (*sorted(p for p in (PACKAGE / "report").glob("*.py")
               if not p.name.startswith("lab")),  # the Lab page's: its own fingerprints
        *(PACKAGE / f"{name}.py" for name in ("space", "stats", "paths", "errors")))  # fmt: skip
PACKAGES = ("matplotlib", "pandas", "numpy", "scipy", "optuna")  # optuna: fANOVA, its plot

# Every figure a page can include, with its alt text (the include exists even when a study
# skipped the method, so pages always build).
FIGURES = {
    "dataset-classes": "Bar chart of rows per class of the target",
    "dataset-features": "Histograms of the features, bars of rows per category for "
    "categorical ones",
    "scoreboard": "Test accuracy with 95 % intervals and selection score for every method",
    "anytime": "Best-so-far selection score against seconds and epochs, with test accuracy",
    "paired": "Triangle of paired accuracy differences between the clean searches, "
    "significant ones marked",
    "optimism": "Optimism gap, selection score minus untouched test accuracy, of every search",
    "cv-study": "Scheme score against test accuracy per configuration, for each CV scheme",
    "grid-loop-heatmap": "Heatmap of the grid loop's best validation accuracy",
    "callbacks-curves": "Learning curves of the best fit with checkpoint and early stop marked",
    "grid-search-cv-folds": "Held-out fold scores of every GridSearchCV configuration",
    "randomized-search-cv-folds": "Held-out fold scores of the RandomizedSearchCV variants",
    "projections": "Values of every tuned hyperparameter each sampling search tried",
    "best-so-far": "Best-so-far selection score against the number of evaluations, every search",
    "kt-hyperband-schedule": "Epochs given to each Hyperband trial by bracket and round",
    "kt-bayesian-proposals": "Each tuned hyperparameter against trial number for Bayesian "
    "optimisation, coloured by score, random initial points marked apart",
    "halving-random-search-cv-rounds": "Mean CV score of each HalvingRandomSearchCV candidate "
    "per round, the winner from the last round highlighted",
    "optuna-tpe-pruning": "Monitored validation score by epoch of every Optuna trial, pruned "
    "ones ending where they were stopped",
    "optuna-example": "Optuna's own optimisation-history plot of one of our searches, read "
    "from the exported study",
    "importance": "Heatmap of each tuned hyperparameter's share of the score's variance in "
    "every search, too-small samples marked",
    "variance": "Each search's test accuracy beside its pick retrained under other "
    "initialisation seeds, and a random search's pick under other search seeds",
    "best-of-m": "Expected best selection score of m random-search trials with its band, "
    "pooled and per search seed",
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprints(generated: Path) -> dict[str, str | None]:
    """Every input's content hash (None where absent), and the code's under "code"."""
    found: dict[str, str | None] = {}
    for name in INPUTS:
        path = generated / name
        found[name] = _digest(path.read_bytes()) if path.is_file() else None
    code = b"".join(path.read_bytes() for path in CODE)
    versions = " ".join(f"{p}={metadata.version(p)}" for p in PACKAGES).encode()
    found["code"] = _digest(code + versions)
    return found


def _figures(ev: Evidence) -> dict[str, Callable[[], bytes]]:
    """The figures this evidence has, by name, each drawn only when called (matplotlib and the
    drawing code load with the first one); a method not run has no figure."""
    from course.report import analysis, noise, optuna_studies

    def draw(function: str | Callable[..., Any], *args: Any) -> Callable[[], bytes]:
        """A figure of `course.report.figures` by name, or one a view's own module draws."""

        def make() -> bytes:
            from course.report import figures

            drawn = getattr(figures, function) if isinstance(function, str) else function
            return figures.png(drawn(ev, *args))

        return make

    planned = {"dataset-classes": draw("dataset_classes"),
               "dataset-features": draw("dataset_features")}  # fmt: skip
    if not ev.searches.empty:  # a study of the CV study alone has no search to plot
        planned |= {"scoreboard": draw("scoreboard"), "anytime": draw("anytime"),
                    "best-so-far": draw("best_so_far")}  # fmt: skip
        if ev.higher_is_better:  # the gap subtracts a test accuracy from an accuracy
            planned["optimism"] = draw("optimism")
    if len(ev.searches) > 1:
        planned["paired"] = draw("paired")
    if ev.methods("cv-study"):
        planned["cv-study"] = draw("cv_study")
    if ev.result("grid-loop") is not None:
        planned["grid-loop-heatmap"] = draw("grid_heatmap")
        planned["callbacks-curves"] = draw("callback_curves")
    for slug in ("grid-search-cv", "randomized-search-cv"):
        if ev.methods(slug):
            planned[f"{slug}-folds"] = draw("fold_spread", slug)
    if ev.tuned and analysis.samplers(ev):
        planned["projections"] = draw("projections")
    if ev.result("kt-hyperband") is not None:
        planned["kt-hyperband-schedule"] = draw("hyperband_schedule")
    if ev.result(analysis.BAYESIAN) is not None and ev.tuned:
        planned["kt-bayesian-proposals"] = draw("bayesian_proposals")
    if ev.result(analysis.HALVING) is not None:
        planned["halving-random-search-cv-rounds"] = draw("halving_rounds")
    if ev.result(analysis.PRUNING) is not None:
        planned["optuna-tpe-pruning"] = draw("optuna_pruning")
    if not ev.searches.empty:
        from course.report import importance

        planned["optuna-example"] = draw(optuna_studies.example)
        planned["importance"] = draw(importance.overview)
    if noise.measured(ev):
        planned |= {"variance": draw(noise.figure), "best-of-m": draw(noise.best_of_m)}
    assert set(planned) <= set(FIGURES), set(planned) - set(FIGURES)
    return planned


def _view_figures(ev: Evidence) -> dict[str, Callable[[], bytes]]:
    """The figures of each search's study-health block, by file name: one set per search, so
    its include embeds them itself (no `figure-*.md` include of their own)."""
    from course.report import health_views

    def make(draw: Callable[[], Any]) -> Callable[[], bytes]:
        def png() -> bytes:
            from course.report import figures

            return figures.png(draw())

        return png

    return {name: make(draw) for name, draw in health_views.figures(ev).items()}


def _missing(ev: Evidence, name: str) -> str:
    """What a page shows where this study has no such figure."""
    if name in ("variance", "best-of-m"):
        return "*This study has no variance measurements yet: run `course variance`.*\n"
    if name == "optimism" and not ev.searches.empty and not ev.higher_is_better:
        return (f"*This study selects by `{ev.selection}`, not an accuracy: there is no gap to "
                "a test accuracy to draw.*\n")  # fmt: skip
    return "*This study did not run the method behind this figure: run `course run-all`.*\n"


def _manifest(generated: Path) -> dict[str, Any]:
    try:
        return json.loads((generated / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {"inputs": {}, "outputs": {}}


def render(generated: Path = GENERATED_DIR) -> list[Path]:
    """Draw the figures and write the includes whose inputs changed; returns the files written.
    The Lab page's evidence comes along (`render_lab`, which keeps its own fingerprints)."""
    from course.report.lab_views import render_lab

    lab = render_lab(generated)
    now = fingerprints(generated)
    old = _manifest(generated)
    outputs: dict[str, dict[str, str | None]] = old["outputs"]
    drawn = [*outputs, *(f"figure-{name}.md" for name in FIGURES)]
    if old["inputs"] == now and all((generated / name).is_file() for name in drawn):
        return lab  # nothing else changed since the last render

    from course.report import health_views, tables

    ev = Evidence.load(generated)
    figures = _figures(ev)
    products: dict[str, Callable[[], str | bytes]] = {
        f"figures/{name}.png": make for name, make in (figures | _view_figures(ev)).items()
    }
    products |= {f"{name}.md": make for name, make in tables.makers(ev).items()}
    products |= {f"{name}.md": make for name, make in health_views.includes(ev).items()}

    def unchanged(name: str) -> bool:
        before = outputs.get(name)
        return (before is not None and all(now.get(i) == h for i, h in before.items())
                and (generated / name).is_file())  # fmt: skip

    made, kept = {}, {}
    for name, make in products.items():  # everything first: a failure leaves all as it was
        if unchanged(name):
            kept[name] = outputs[name]
            continue
        ev.reads.clear()
        made[name] = make()
        kept[name] = {"code": now["code"], **{i: now[i] for i in sorted(ev.reads)}}
    written = []
    for name, content in made.items():
        write_atomic(generated / name, content)
        written.append(generated / name)
    for name, alt in FIGURES.items():  # the includes that point at the figures
        text = HEADER + (image(name, alt) if name in figures else _missing(ev, name))
        if write_changed(generated / f"figure-{name}.md", text):
            written.append(generated / f"figure-{name}.md")
    for stale in set((generated / "figures").glob("*.png")) - {generated / p for p in products}:
        if not stale.name.startswith("lab-"):  # the lab's figures are render_lab's
            stale.unlink()  # from a study that ran more
    manifest = {"_generated": "Written by `course report`: what each file was drawn from.",
                "inputs": now, "outputs": dict(sorted(kept.items()))}  # fmt: skip
    write_changed(generated / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return lab + written

"""`course report`: everything under docs/generated/ that is drawn from the exported data (the
CLI adds the reference pages, which come from the code)."""

from __future__ import annotations

from pathlib import Path

from course.paths import GENERATED_DIR, write_atomic
from course.report import figures, tables
from course.report.conclusions import verdicts
from course.report.evidence import Evidence

# Every figure a page can include, with its alt text (the include exists even when a study
# skipped the method, so pages always build).
FIGURES = {
    "dataset-classes": "Bar chart of customers per service class",
    "dataset-features": "Histograms of the eleven features",
    "scoreboard": "Test accuracy with 95 % intervals and selection score for every method",
    "anytime": "Best-so-far selection score against seconds and epochs, with test accuracy",
    "paired": "Matrix of paired accuracy differences between searches with McNemar p-values",
    "optimism": "Selection score against untouched test accuracy for every search",
    "cv-study": "Scheme score against test accuracy per configuration, for each CV scheme",
    "grid-loop-heatmap": "Heatmap of the grid loop's best validation accuracy",
    "callbacks-curves": "Learning curves of the best fit with checkpoint and early stop marked",
    "grid-search-cv-folds": "Held-out fold scores of every GridSearchCV configuration",
    "randomized-search-cv-folds": "Held-out fold scores of the RandomizedSearchCV variants",
    "random-samples": "Which grid configurations each random method sampled",
    "kt-hyperband-schedule": "Epochs given to each Hyperband trial by bracket and round",
}


def render(generated: Path = GENERATED_DIR) -> list[Path]:
    """Draw every figure and write every include from docs/generated/data; returns the files."""
    ev = Evidence.load(generated)
    drawn = figures.all_figures(ev)
    assert set(drawn) <= set(FIGURES), set(drawn) - set(FIGURES)
    folder = generated / "figures"
    written = []
    for name, fig in drawn.items():
        figures.save(fig, folder / f"{name}.png")
        written.append(folder / f"{name}.png")
    for stale in set(folder.glob("*.png")) - set(written):  # from a study that ran more
        stale.unlink()
    includes = tables.all_tables(ev, verdicts(ev))
    for name, alt in FIGURES.items():
        includes[f"figure-{name}"] = tables.HEADER + (
            tables.image(name, alt)
            if name in drawn
            else "*This study did not run the method behind this figure: run `course run-all`.*\n"
        )
    for name, text in includes.items():
        path = generated / f"{name}.md"
        write_atomic(path, text)
        written.append(path)
    return written

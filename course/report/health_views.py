"""The study-health views of every search, gathered for the report: each search's block (range
edges, epoch budget, trial counts, importance, axis plots, best epochs, parallel coordinates),
one include per method for the Study health page, and the variance measurements."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from course.report import noise
from course.report.evidence import Evidence
from course.report.markdown import HEADER, image

# each search's figures: file-name suffix, the drawing function's name in health_figures, alt
VIEWS = (
    ("axes", "axis_plots", "Selection score against each tuned hyperparameter"),
    ("epochs", "best_epoch_histogram", "Histogram of the fits' best epochs against the budget"),
    ("parallel", "parallel", "Parallel coordinates of the best quarter of the trials"),
)


def name(label: str, view: str) -> str:
    """A search's figure, by file name: `randomized-search-cv[cv5-n8]` ->
    `health-randomized-search-cv-cv5-n8-axes`."""
    return f"health-{re.sub(r'[^a-z0-9]+', '-', label).strip('-')}-{view}"


def figures(ev: Evidence) -> dict[str, Callable[[], Any]]:
    """Each search's block figures, by file name (under figures/), each drawn when called."""

    def draw(function: str, label: str) -> Callable[[], Any]:
        def make() -> Any:
            from course.report import health_figures

            return getattr(health_figures, function)(ev, label)

        return make

    return {name(label, view): draw(function, label) for label in ev.clean_searches
            for view, function, _ in VIEWS}  # fmt: skip


def block(ev: Evidence, label: str) -> str:
    """One search's study health: what the views found, in words, then the views."""
    from course.report import health, importance

    heading = f"#### `{label}`\n\n" if len(ev.methods(ev.result(label)["slug"])) > 1 else ""
    pictures = "".join(image(name(label, view), f"{alt} of {label}") for view, _, alt in VIEWS)
    return (f"{heading}{health.summary(ev, label)}\n"
            f"{importance.explained(ev, label)}\n{pictures}")  # fmt: skip


def method(ev: Evidence, slug: str) -> str:
    """A method's include on the Study health page: the block of each of its runs."""
    labels = [label for label in ev.methods(slug) if label in ev.clean_searches]
    if not labels:
        return f"*This study did not run `{slug}`: run `course run-all`.*\n"
    return "\n".join(block(ev, label) for label in labels)


def includes(ev: Evidence) -> dict[str, Callable[[], str]]:
    """The study-health includes, by name, each written when called."""
    made: dict[str, Callable[[], str]] = {"variance": lambda: noise.markdown(ev),
                                          "variance-cost": lambda: noise.cost(ev)}  # fmt: skip
    search_slugs = [] if ev.catalog is None else list(
        ev.catalog.loc[ev.catalog["kind"] == "search", "slug"])  # fmt: skip
    for slug in search_slugs:
        made[f"health-{slug}"] = lambda slug=slug: method(ev, slug)
    return {key: lambda make=make: HEADER + make() for key, make in made.items()}

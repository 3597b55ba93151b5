"""The study-health views of every search, gathered for the report: each search's block
(importance, axis plots, best epochs, counts, parallel coordinates), the importance overview,
and the variance measurements beside the differences between methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.report import noise
from course.report.evidence import Evidence
from course.report.markdown import HEADER


def figures(ev: Evidence) -> dict[str, Callable[[], Any]]:
    """Each search's block figures, by file name (under figures/), each drawn when called."""
    return {}


def includes(ev: Evidence) -> dict[str, Callable[[], str]]:
    """The study-health includes, by name, each written when called."""
    made: dict[str, Callable[[], str]] = {"variance": lambda: noise.markdown(ev)}
    return {name: lambda make=make: HEADER + make() for name, make in made.items()}

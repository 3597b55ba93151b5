"""The methods of the course, by slug. Importing this is cheap: modules load on demand."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    slug: str
    module: str
    summary: str


METHODS: dict[str, Method] = {
    m.slug: m
    for m in (
        Method(
            "grid-loop",
            "course.methods.grid_loop",
            "hand-written itertools.product loop over the grid, holdout validation",
        ),
    )
}

"""The registered methods, found through the `course.methods` entry-point group, the way
pytest and MkDocs find their plugins: this package declares its own in `pyproject.toml`, and any
installed package can add one. Loading them imports each method's module, which imports no
framework, so `course --help` stays fast.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from course import config
from course.errors import CourseError
from course.study import Method

GROUP = "course.methods"


@functools.cache
def methods() -> dict[str, Method]:
    """Every registered method by slug, in course order (`Method.order`, then slug)."""
    found: dict[str, tuple[str, Method]] = {}
    for point in entry_points(group=GROUP):
        where = f"method {point.name!r} ({point.value})"
        try:
            declared = point.load()
            if not (isinstance(declared, type) and issubclass(declared, Method)):
                raise TypeError("not a subclass of course.study.Method")
            method = declared()
            missing = [a for a in ("slug", "title", "summary") if not hasattr(method, a)]
            if missing:
                raise TypeError(f"it declares no {missing[0]}")
        except Exception as exc:  # a broken plugin is the user's to fix: say which one
            raise CourseError(f"{where} failed to load: {exc} (reinstall it?)") from None
        if method.slug != point.name:
            raise CourseError(f"{where} declares the slug {method.slug!r}; they must match")
        if point.name in found and found[point.name][0] != point.value:
            raise CourseError(f"{where} and {found[point.name][0]} both claim {point.name!r}")
        found[point.name] = (point.value, method)
    if not found:
        raise CourseError(
            f"no methods registered under {GROUP!r}; reinstall the package (pip install -e .)"
        )
    ordered = sorted((m for _, m in found.values()), key=lambda m: (m.order, m.slug))
    return {m.slug: m for m in ordered}


def method(slug: str) -> Method:
    try:
        return methods()[slug]
    except KeyError:
        raise CourseError(
            f"unknown method {slug!r}; see `course methods` (a new one needs pip install)"
        ) from None


def schemas() -> dict[str, Any]:
    """Each method's settings schema, by slug, for `config`."""
    return {slug: m.settings for slug, m in methods().items()}


def load_profile(name: str | None = None, path: Path | None = None) -> config.Profile:
    """A built-in profile or an instructor's file, its `[methods.*]` tables validated by the
    registered methods."""
    return config.load(schemas(), name, path)


def parse_profile(raw: dict[str, Any], name: str) -> config.Profile:
    """A parsed TOML document as a validated profile (what `load_profile` does after reading)."""
    return config.parse(raw, name, schemas())

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
    found: dict[str, Method] = {}
    for point in entry_points(group=GROUP):
        try:
            declared = point.load()
        except Exception as exc:  # a broken plugin is the user's to fix: say which one
            raise CourseError(
                f"method {point.name!r} ({point.value}) failed to load: {exc}"
            ) from None
        if not (isinstance(declared, type) and issubclass(declared, Method)):
            raise CourseError(f"method {point.name!r} ({point.value}) is not a course Method")
        method = declared()
        if method.slug != point.name:
            raise CourseError(f"entry point {point.name!r} declares a method {method.slug!r}")
        found.setdefault(method.slug, method)  # one distribution seen twice on the path
    if not found:
        raise CourseError(
            f"no methods registered under {GROUP!r}; reinstall the package (pip install -e .)"
        )
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def method(slug: str) -> Method:
    try:
        return methods()[slug]
    except KeyError:
        raise CourseError(f"unknown method {slug!r}; see `course methods`") from None


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

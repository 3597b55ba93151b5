"""What a study runs: (method, protocol) pairs expanded into runs, one per variant, and the run
id that ties a run to the exact settings that shape its results."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from course.config import Profile
from course.errors import CourseError
from course.methods import METHODS

PROTOCOLS = ("clean", "seed")


@dataclass(frozen=True)
class Unit:
    """One run to make: a method, its protocol, and one variant of its settings."""

    slug: str
    protocol: str
    variant: str
    settings: dict[str, Any]

    @property
    def label(self) -> str:
        """The name a run carries in tables, e.g. `randomized-search-cv[cv5-n30]`."""
        marks = [self.variant] if self.variant else []
        if self.protocol == "seed":
            marks.append("seed-protocol")
        return f"{self.slug}[{','.join(marks)}]" if marks else self.slug

    def digest(self, profile: Profile, data_sha256: str, backend: str) -> str:
        """Changes whenever anything that shapes this run's results changes."""
        return profile.digest(
            method=self.slug, protocol=self.protocol, variant=self.settings,
            data=data_sha256, backend=backend,
        )  # fmt: skip


def full_plan(slugs: list[str] | None = None) -> list[tuple[str, str]]:
    """Every method in course order; the grid loop also runs under the seed notebook's protocol."""
    plan = []
    for slug in slugs or list(METHODS):
        plan.append((slug, "clean"))
        if slug == "grid-loop":
            plan.append((slug, "seed"))
    return plan


def expand(plan: list[tuple[str, str]], profile: Profile, check: bool = True) -> list[Unit]:
    """Turn (slug, protocol) pairs into runs, one per variant a method defines for the profile.

    With `check`, a method may refuse its settings here, before anything runs.
    """
    units = []
    for slug, protocol in plan:
        if slug not in METHODS:
            raise CourseError(f"unknown method {slug!r}; see `course methods`")
        if protocol not in PROTOCOLS:
            raise CourseError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
        if protocol == "seed" and slug != "grid-loop":
            raise CourseError("--protocol seed exists for grid-loop only (the seed notebook)")
        module = importlib.import_module(METHODS[slug].module)
        settings = profile.methods.get(slug, {})
        if check and hasattr(module, "validate"):
            module.validate(profile, settings)
        variants = module.variants(settings) if hasattr(module, "variants") else [("", settings)]
        units += [Unit(slug, protocol, name, values) for name, values in variants]
    return units

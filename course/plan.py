"""What a study runs: (method, protocol) pairs expanded into runs, one per variant, and the run
id that ties a run to the exact settings that shape its results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course.config import Profile
from course.errors import CourseError
from course.registry import method, methods
from course.study import CLEAN, SEED

if TYPE_CHECKING:
    from course.ledger import Run

PROTOCOLS = (CLEAN, SEED)


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
        if self.protocol == SEED:
            marks.append("seed-protocol")
        return f"{self.slug}[{','.join(marks)}]" if marks else self.slug

    def digest(self, profile: Profile, data_sha256: str, backend: str) -> str:
        """Changes whenever anything that shapes this run's results changes."""
        return profile.digest(
            method=self.slug, protocol=self.protocol, variant=self.settings,
            data=data_sha256, backend=backend,
        )  # fmt: skip


def full_plan(slugs: list[str] | None = None) -> list[tuple[str, str]]:
    """Every method in course order, under each protocol it plays (the grid loop also plays
    the seed notebook's)."""
    chosen = slugs or list(methods())
    return [(slug, protocol) for slug in chosen for protocol in method(slug).protocols]


def expand(plan: list[tuple[str, str]], profile: Profile, check: bool = True) -> list[Unit]:
    """Turn (slug, protocol) pairs into runs, one per variant a method defines for the profile.

    With `check`, a method may refuse its settings here, before anything runs.
    """
    units = []
    for slug, protocol in plan:
        chosen = method(slug)
        if protocol not in PROTOCOLS:
            raise CourseError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
        if protocol not in chosen.protocols:
            raise CourseError(f"--protocol {protocol} does not exist for {slug}")
        settings = profile.methods.get(slug, {})
        if check:
            chosen.check(profile, settings)
        units += [Unit(slug, protocol, v.name, v.settings) for v in chosen.variants(settings)]
    return units


def units_by_label(profile: Profile) -> dict[str, Unit]:
    """Every run the profile makes, by label, in course order (settings not checked)."""
    return {unit.label: unit for unit in expand(full_plan(), profile, check=False)}


def varies(run: Run, profile: Profile, data_sha256: str) -> bool:
    """Whether a ledger run measures the study's variance (`course variance`): the profile as
    it is now, with only its initialisation or search seed moved, on the same data. `clean`
    keeps such runs with the study's own."""
    if (
        run.profile != profile.name
        or run.data_sha256 != data_sha256
        or run.seed not in profile.seeds
    ):
        return False
    config = json.loads(run.config)
    moved = {key: config.get(key) for key in ("init_seed", "search_seed")}
    if None in moved.values():
        return False
    expected = json.loads(json.dumps(profile.seeded(run.seed, **moved).as_dict()))
    for key in ("speed", "repeats"):  # how it ran, and how many seeds: not what it computed
        config.pop(key, None)
        expected.pop(key, None)
    return config == expected


def in_study(run: Run, units: dict[str, Unit], profile: Profile, data_sha256: str) -> bool:
    """Whether a ledger run belongs to the study: one of the profile's runs as it is now (any
    seed of its repeats), on the dataset with this hash, on any Keras backend."""
    unit = units.get(run.method)
    return (unit is not None and run.seed in profile.seeds
            and run.config_hash == unit.digest(profile.seeded(run.seed), data_sha256,
                                               run.backend))  # fmt: skip

"""The exact version of every package hpo-course installs, as a pip constraints file:
`pip install -c constraints.txt -e ".[test]"` reproduces the environment the published evidence
ran with (docs/generated/provenance.json records the main ones; a test checks they agree).

The packages are the installed closure of the project's requirements, its test extra
included, each at the version installed now: write it from the environment that generated
the evidence (`course constraints > constraints.txt`). A constraint pip does not need is
ignored, so one file serves the package and its extra alike.
"""

from __future__ import annotations

from importlib import metadata

PROJECT = "hpo-course"
EXTRAS = ("test",)


def _key(name: str) -> str:
    """PEP 503's normalised name: `Keras_Tuner` and `keras-tuner` are one package."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def closure(project: str = PROJECT, extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """Every installed package `project` requires, directly or not, by name: its version."""
    from packaging.requirements import Requirement

    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    todo = [(project, extra) for extra in ("", *extras)]
    while todo:
        name, extra = todo.pop()
        if (_key(name), extra) in seen:
            continue
        seen.add((_key(name), extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # for another platform, or an extra not installed
            continue
        found[_key(name)] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo += [(req.name, e) for e in ("", *req.extras)]
    found.pop(_key(project), None)
    return dict(sorted(found.items()))


def text() -> str:
    pins = "".join(f"{name}=={version}\n" for name, version in closure().items())
    return ("# The versions the published evidence ran with: "
            "pip install -c constraints.txt -e \".[test]\"\n"
            "# Written by `course constraints > constraints.txt`; do not edit by hand.\n"
            + pins)  # fmt: skip

"""Reference pages generated from the code itself: the CLI and the profile format."""

from __future__ import annotations

import json

import typer
from typer.cli import get_docs_for_click

from course.config import KEYS, METHOD_SETTINGS, VARIANT_KEYS
from course.report.tables import HEADER, table
from course.space import FIT_NAMES, HYPERPARAMETERS


def cli() -> str:
    """typer's own Markdown docs of `course`, headings moved one level down for the page."""
    from course.cli import app

    command = typer.main.get_command(app)
    docs = get_docs_for_click(obj=command, ctx=typer.Context(command), name="course")
    lines = [f"#{line}" if line.startswith("#") else line for line in docs.strip().splitlines()]
    return HEADER + "\n".join(lines) + "\n"


def profile() -> str:
    """Every key a profile may hold, with its type, default and rule, from the validators."""
    top = table(
        ["key", "type", "default", "meaning"],
        [(f"`{k}`", type(d).__name__, f"`{json.dumps(d)}`", m) for k, (d, m) in KEYS.items()],
    )
    space_rows = []
    for name, (kind, allowed) in HYPERPARAMETERS.items():
        rule = "one of " + ", ".join(f"`{a}`" for a in allowed) if allowed else "positive integers"
        where = "`Model.fit`" if name in FIT_NAMES else "the model builder"
        space_rows.append((f"`space.{name}`", f"list of {kind.__name__}", rule, where))
    space = table(["key", "type", "values", "used by"], space_rows)
    method_rows = []
    for slug, settings in METHOD_SETTINGS.items():
        for key, (kind, default, minimum) in settings.items():
            rule = (
                f"tables with keys {', '.join(f'`{k}` ≥ {m}' for k, m in VARIANT_KEYS.items())}"
                if key == "variants"
                else f"≥ {minimum}"
            )
            method_rows.append((f"`methods.{slug}.{key}`", kind.__name__, f"`{default}`", rule))
    methods = table(["key", "type", "default", "rule"], method_rows)
    return (
        HEADER
        + "## Top level and `[training]`\n\n"
        + top
        + "\n## `[space]`: candidate values per hyperparameter (a single value fixes it)\n\n"
        + space
        + "\n## `[methods.<slug>]`: per-method settings\n\n"
        + methods
        + "\nAn unknown key, a wrong type, an empty list, a non-positive size or an unknown "
        "activation stops `course` with one line naming the key (exit code 2).\n"
    )

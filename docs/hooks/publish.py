"""mkdocs hook: a published site must know its address.

`site_url` (from `$COURSE_SITE_URL`, mkdocs.yml) is where the site is served, sub-path
included (`https://you.github.io/hpo-course/`). Pages link relatively and work anywhere without
it, but the 404 page, served at whatever address was missed, can only link by absolute path,
and the exercise downloads carry it to fetch their evidence (docs/hooks/exercises.py). So
`mkdocs gh-deploy` without it stops with one line saying what to set; `build` and `serve` do
not need it.
"""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError

_command: list[str] = []


def on_startup(command: str, dirty: bool) -> None:
    _command[:] = [command]


def on_config(config: Any) -> Any:
    if _command == ["gh-deploy"] and not config.get("site_url"):
        raise PluginError("set COURSE_SITE_URL to the address the site will be served at, its "
                          "sub-path included (e.g. https://you.github.io/hpo-course/): the 404 "
                          "page's links and the notebooks' downloads need it")  # fmt: skip
    return config

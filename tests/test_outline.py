"""Every lesson says what a student can do after it and how long it takes (its front matter,
shown by docs/hooks/lessons.py), and the course outline lists them all with a schedule."""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.exceptions import PluginError
from mkdocs.utils.meta import get_data
from mkdocs.utils.yaml import yaml_load

from tests.conftest import ROOT


def _hook() -> ModuleType:
    """docs/hooks/lessons.py, imported as mkdocs imports it: by path."""
    spec = importlib.util.spec_from_file_location("lessons_hook", ROOT / "docs/hooks/lessons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _hook()


def lesson_pages() -> list[tuple[str, str, str]]:
    """(part, title, page) of every Markdown page in the nav's teaching parts, in nav order."""
    nav = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    found = []
    for section in nav:
        (part, children), = section.items()  # fmt: skip
        if part in HOOK.PARTS:
            found += [(part, title, page) for child in children
                      for title, page in child.items() if page.endswith(".md")]  # fmt: skip
    return found


def test_every_lesson_has_objectives_and_a_time() -> None:
    pages = lesson_pages()
    assert len(pages) >= 20 and {p for p, _, _ in pages} == set(HOOK.PARTS)
    for part, title, page in pages:
        meta = get_data((ROOT / "docs" / page).read_text(encoding="utf-8"))[1]
        found = HOOK.lesson(part, title, page, meta)
        assert 2 <= len(found.objectives) <= 4, page
        assert 5 <= found.time <= 180, page


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"time": 10}, "needs `objectives`"),
        ({"objectives": [], "time": 10}, "needs `objectives`"),
        ({"objectives": ["Read a figure."]}, "needs `time`"),
        ({"objectives": ["Read a figure."], "time": "ten"}, "needs `time`"),
    ],
)
def test_a_lesson_without_its_front_matter_stops_the_build(meta: dict, message: str) -> None:
    with pytest.raises(PluginError, match=f"docs/new.md: a lesson {message}"):
        HOOK.lesson("Methods", "New", "new.md", meta)


def test_the_schedule_keeps_the_order_and_fills_sessions_up_to_their_length() -> None:
    lessons = [HOOK.Lesson("Methods", str(i), f"{i}.md", ("x",), t)
               for i, t in enumerate([30, 40, 25, 100, 10, 80])]  # fmt: skip
    plan = HOOK.schedule(lessons, 90)
    assert [x for group in plan for x in group] == lessons
    assert [sum(x.time for x in group) for group in plan] == [70, 25, 100, 90]


def test_each_lesson_page_opens_with_its_box_and_the_outline_lists_them(
    built_site: Path,
) -> None:
    pages = lesson_pages()
    outline = (built_site / "outline" / "index.html").read_text(encoding="utf-8")
    for _, _, page in pages:
        meta = get_data((ROOT / "docs" / page).read_text(encoding="utf-8"))[1]
        text = html.unescape((built_site / page.removesuffix(".md") / "index.html")
                             .read_text(encoding="utf-8"))  # fmt: skip
        assert f"In this lesson: about {meta['time']} minutes" in text, page
        assert text.index("In this lesson") < text.index("</h1>") + 2000, page  # at the top
        plain = re.sub(r"<[^>]+>", "", text)
        first = re.sub(r"`", "", meta["objectives"][0])
        assert first in plain, page
        assert f'href="../{page.removesuffix(".md")}/"' in outline, page
    total = sum(get_data((ROOT / "docs" / p).read_text(encoding="utf-8"))[1]["time"]
                for _, _, p in pages)  # fmt: skip
    assert f"about {total} minutes" in outline
    assert "Session 1" in outline

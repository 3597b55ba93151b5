"""Every lesson says what a student can do after it and how long it takes (its front matter,
shown by docs/hooks/lessons.py), and the course outline lists them all with a schedule."""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path
from types import ModuleType, SimpleNamespace

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


def _front_matter(page: str) -> dict:
    return get_data((ROOT / "docs" / page).read_text(encoding="utf-8"))[1]


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_the_outline_is_headings_and_lists_not_a_wide_table() -> None:
    lessons = [HOOK.Lesson("Methods", f"Lesson {i}", f"l{i}.md", (f"Do {i}.", f"Say {i}."), t)
               for i, t in enumerate([50, 30, 40])]  # fmt: skip
    saved = dict(HOOK._lessons)
    HOOK._lessons.clear()
    HOOK._lessons.update({x.src: x for x in lessons})
    try:
        text = HOOK.outline(SimpleNamespace(file=SimpleNamespace(src_uri="outline.md")))
    finally:
        HOOK._lessons.clear()
        HOOK._lessons.update(saved)
    lines = text.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("|")]  # no table row
    assert "about 120 minutes (2.0 hours)" in text
    assert [line for line in lines if line.startswith("#")] == [
        "### Session 1 — about 80 minutes { #session-1 }",
        "### Session 2 — about 40 minutes { #session-2 }",
    ]
    first = lines.index("- **[Lesson 0](l0.md)** · Methods · about 50 minutes; after it you can:")
    assert lines[first + 1 : first + 3] == ["    - Do 0.", "    - Say 0."]  # its own sub-list


def test_each_lesson_page_opens_with_its_box_and_the_outline_lists_them(
    built_site: Path,
) -> None:
    pages = lesson_pages()
    for _, _, page in pages:
        meta = _front_matter(page)
        text = html.unescape((built_site / page.removesuffix(".md") / "index.html")
                             .read_text(encoding="utf-8"))  # fmt: skip
        assert f"In this lesson: about {meta['time']} minutes" in text, page
        assert text.index("In this lesson") < text.index("</h1>") + 2000, page  # at the top
        plain = re.sub(r"<[^>]+>", "", text)
        first = re.sub(r"`", "", meta["objectives"][0])
        assert first in plain, page

    # the outline: a heading per session, then its lessons in nav order, each a link with its
    # time and a list of its objectives; no table, which would scroll sideways on a phone
    page_html = (built_site / "outline" / "index.html").read_text(encoding="utf-8")
    outline = page_html[page_html.index('<h2 id="lessons"') :]
    outline = outline[: outline.index("<h2", 1)]
    assert "<table" not in outline
    lessons = [HOOK.lesson(part, title, page, _front_matter(page)) for part, title, page in pages]
    total = sum(x.time for x in lessons)
    assert f"about {total} minutes" in _plain(outline)
    plan = HOOK.schedule(lessons)
    headings = list(re.finditer(r'<h3 id="session-(\d+)">(.*?)<a class="headerlink"', outline))
    assert [(m[1], _plain(m[2])) for m in headings] == [
        (str(n), f"Session {n} — about {sum(x.time for x in group)} minutes")
        for n, group in enumerate(plan, 1)
    ]
    links = [outline.index(f'href="../{x.src.removesuffix(".md")}/"') for x in lessons]
    assert links == sorted(links)  # in nav order, each once
    assert all(outline.count(f'href="../{x.src.removesuffix(".md")}/"') == 1 for x in lessons)
    sessions = [n for n, group in enumerate(plan) for _ in group]
    for i, x in enumerate(lessons):
        assert headings[sessions[i]].start() < links[i], x.src  # under its session's heading
        if sessions[i] + 1 < len(headings):
            assert links[i] < headings[sessions[i] + 1].start(), x.src
        item = outline[links[i] : links[i + 1] if i + 1 < len(links) else len(outline)]
        assert f"about {x.time} minutes" in _plain(item[: item.index("<ul>")]), x.src
        listed = item[item.index("<ul>") : item.index("</ul>")]
        assert [_plain(o) for o in re.findall(r"<li>(.*?)</li>", listed, re.S)] == [
            re.sub(r"`", "", o) for o in x.objectives
        ], x.src

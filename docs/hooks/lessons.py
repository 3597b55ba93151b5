"""mkdocs hook: each lesson's learning objectives and reading time, from its front matter.

A lesson is a Markdown page of the nav's teaching parts (`PARTS`). Its front matter holds
`objectives` (a list of outcomes a student can check themselves on) and `time` (minutes):

    ---
    objectives:
      - Run a grid search by hand and say what it costs.
    time: 15
    ---

The hook shows them in a box under the page's title, and writes the course outline (the page
that holds `OUTLINE`): a suggested schedule of sessions of at most `SESSION` minutes, in the
nav's order, each a heading followed by its lessons with their times and objectives. A lesson
without them stops the build, so a new page cannot be published without saying what it
teaches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from mkdocs.exceptions import PluginError
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

PARTS = ("Foundations", "Methods", "Evaluation", "Exercises")  # the nav sections that teach
OUTLINE = "<!-- course outline -->"  # replaced by the outline and its schedule
SESSION = 90  # minutes: a class period


class Lesson(NamedTuple):  # not a dataclass: a hook module is loaded by path
    part: str
    title: str
    src: str  # relative to docs/
    objectives: tuple[str, ...]
    time: int


_lessons: dict[str, Lesson] = {}  # by src, in nav order


def lesson(part: str, title: str, src: str, meta: dict[str, Any]) -> Lesson:
    """A lesson from its page's front matter, or a build error saying what is missing."""
    objectives, time = meta.get("objectives"), meta.get("time")
    if (not isinstance(objectives, list) or not objectives
            or not all(isinstance(o, str) and o.strip() for o in objectives)):  # fmt: skip
        raise PluginError(f"docs/{src}: a lesson needs `objectives` in its front matter, a "
                          "list of what a student can do after it")  # fmt: skip
    if isinstance(time, bool) or not isinstance(time, int) or time < 1:
        raise PluginError(f"docs/{src}: a lesson needs `time` in its front matter, the "
                          "minutes it takes, a whole number")  # fmt: skip
    return Lesson(part, title, src, tuple(o.strip() for o in objectives), time)


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    _lessons.clear()
    for section in nav.items:
        if not isinstance(section, Section) or section.title not in PARTS:
            continue
        for item in section.children:
            if isinstance(item, Page) and item.file.src_uri.endswith(".md"):
                text = Path(item.file.abs_src_path).read_text(encoding="utf-8")
                title = item.title or item.file.src_uri
                _lessons[item.file.src_uri] = lesson(section.title, title, item.file.src_uri,
                                                     get_data(text)[1])  # fmt: skip
    return nav


def box(found: Lesson) -> str:
    """The page's objectives and time, as an admonition."""
    items = "\n".join(f"    - {o}" for o in found.objectives)
    return (f'!!! abstract "In this lesson: about {found.time} minutes"\n\n'
            f"    After it you can:\n\n{items}\n")  # fmt: skip


def _link(found: Lesson, page: Page) -> str:
    here = Path(page.file.src_uri).parent
    target = Path(found.src)
    return f"[{found.title}]({Path(*(['..'] * len(here.parts)), target).as_posix()})"


def schedule(lessons: list[Lesson], session: int = SESSION) -> list[list[Lesson]]:
    """Lessons packed into sessions in order, a new session when the next would pass
    `session` minutes (a longer lesson has a session of its own)."""
    sessions: list[list[Lesson]] = []
    for found in lessons:
        if sessions and sum(x.time for x in sessions[-1]) + found.time <= session:
            sessions[-1].append(found)
        else:
            sessions.append([found])
    return sessions


def outline(page: Page) -> str:
    """Every lesson, grouped by its suggested session: a heading per session with its length,
    then per lesson its linked title, part and time, and its objectives as a bulleted list. A
    list and not a table, so that it reads on a phone as on a desktop, without scrolling
    sideways."""
    lessons = list(_lessons.values())
    total = sum(x.time for x in lessons)
    plan = schedule(lessons)
    lines = [f"In all, about {total} minutes ({total / 60:.1f} hours) of lessons and exercises, "
             f"in the order the site lists them, packed into {len(plan)} sessions of at most "
             f"{SESSION} minutes each (a longer lesson has a session of its own).", ""]  # fmt: skip
    for n, group in enumerate(plan, 1):
        lines += [f"### Session {n} — about {sum(x.time for x in group)} minutes "
                  f"{{ #session-{n} }}", ""]  # fmt: skip
        for x in group:
            lines.append(f"- **{_link(x, page)}** · {x.part} · about {x.time} minutes; after "
                         "it you can:")  # fmt: skip
            lines += [f"    - {o}" for o in x.objectives]
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Page, config: Any, files: Any) -> str:
    if OUTLINE in markdown:
        markdown = markdown.replace(OUTLINE, outline(page))
    found = _lessons.get(page.file.src_uri)
    if found is None:
        return markdown
    lines = markdown.split("\n")
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1)
    lines.insert(title + 1, "\n" + box(found))
    return "\n".join(lines)

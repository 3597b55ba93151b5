"""mkdocs hook: the exercise notebooks (docs/exercises/*.py) as a student gets them.

* Each exercise page gets, under its title, download links to the notebook (`.ipynb`, written
  here unexecuted) and its script (`.py`), both beside the page. The site's address
  (`site_url`, from `$COURSE_SITE_URL`) is written into them, so a notebook run outside a
  checkout fetches its evidence from the site it came from (`course.lessons.evidence`).
* Solution cells carry the tag `solution`; docs/assets/solutions.js folds them on the page.
  `COURSE_HIDE_SOLUTIONS=1` builds the graded site: mkdocs-jupyter removes those cells (its tag
  removal runs before execution), the downloads leave them out, and nothing is executed, since
  the checks would fail without their solutions and their outputs would give the answers away.
* A build that executes the notebooks first fetches the dataset exercise 1 trains on, so a
  missing one stops the build with one line saying what to do, not a notebook's traceback.
* Every build, graded or not, holds each exercise to the rules of `check`, and each
  file of docs/exercises/ to a place in the nav and, in the nav's Exercises part, a link from
  the overview page: a broken rule is one line naming the file and the cell.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

HIDE_ENV = "COURSE_HIDE_SOLUTIONS"
TAG = "solution"
SITE_LINE = re.compile(r"^SITE_URL = None\b.*$", re.MULTILINE)
OVERVIEW = "exercises.md"  # links to every exercise of the nav's Exercises part
_folders: dict[Path, Path] = {}  # exercise source -> its page's folder in the built site


def hide_solutions() -> bool:
    """Whether this is the graded build: `$COURSE_HIDE_SOLUTIONS` is 1/true/yes."""
    value = os.environ.get(HIDE_ENV, "").strip().lower()
    if value not in {"", "0", "false", "no", "1", "true", "yes"}:
        raise PluginError(f"{HIDE_ENV}={value!r}: expected 1 (no solutions) or 0 (folded ones)")
    return value in {"1", "true", "yes"}


def downloadable(notebook: Any, site_url: str | None, without_solutions: bool) -> Any:
    """The notebook a student downloads: the site's address written in, solution cells folded
    (JupyterLab hides their source until clicked) or, in a graded build, left out."""
    notebook = copy.deepcopy(notebook)
    if without_solutions:
        notebook.cells = [c for c in notebook.cells if TAG not in c.metadata.get("tags", [])]
    for cell in notebook.cells:
        if TAG in cell.metadata.get("tags", []):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    if site_url:
        line = f"SITE_URL = {json.dumps(site_url)}  # the site this notebook was downloaded from"
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = SITE_LINE.sub(line, cell.source)
    return notebook


def _tagged(cell: Any) -> bool:
    return TAG in cell.metadata.get("tags", [])


def check(notebook: Any, src: str) -> None:
    """Stop the build at the first broken rule, naming the file and the cell (counted
    from 1, as JupyterLab shows them): an exercise that breaks one still runs, but its page
    would fold no answer, its check would prove nothing or its download would find no
    evidence."""
    cells = notebook.cells

    def fail(n: int, why: str) -> None:
        raise PluginError(f"docs/{src}, cell {n + 1}: {why} (see the instructors' page, "
                          "'Your own exercise')")  # fmt: skip

    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        fail(0, "an exercise opens with a Markdown cell whose first line is its title, '# ...'")
    solutions = [n for n, cell in enumerate(cells) if _tagged(cell)]
    if not solutions:
        fail(len(cells) - 1, f"no task: no code cell is tagged {TAG!r}")
    for k, n in enumerate(solutions):
        before = cells[n - 1]
        if before.cell_type != "code" or _tagged(before):
            fail(n, f"a {TAG!r} cell follows the task's stub, a code cell for the student")
        following = cells[n + 1 : solutions[k + 1] - 1 if k + 1 < len(solutions) else None]
        if not any(c.cell_type == "code" and "assert" in c.source for c in following):
            fail(n, "no check after this solution: a code cell with `assert`s comes before the "
                 "next task")  # fmt: skip
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    if "evidence(" in code and not SITE_LINE.search(code):
        fail(0, "it reads evidence but sets no `SITE_URL = None` line for the build to fill in")


def _jupyter(config: Any) -> Any:
    return config.plugins["mkdocs-jupyter"].config


def _exercise(page: Any) -> Path | None:
    path = Path(page.file.abs_src_path)
    return path if path.suffix == ".py" and path.parent.name == "exercises" else None


def on_config(config: Any) -> Any:
    if hide_solutions():
        _jupyter(config).update(execute=False, remove_tag_config={"remove_cell_tags": [TAG]})
    return config


def on_pre_build(config: Any) -> None:
    _folders.clear()
    if not _jupyter(config)["execute"]:
        return
    from course.datasets import fetch
    from course.errors import CourseError
    from course.paths import DATA_FILE

    try:
        fetch(dest=Path(config.config_file_path).parent / DATA_FILE)
    except CourseError as error:
        message = f"exercise 1 trains on telecust in every build, whatever the data: {error}"
        raise PluginError(message) from None


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    import jupytext

    listed = {page.file.src_uri for page in nav.pages}
    for file in files:
        src = file.src_uri
        if src.startswith("exercises/") and src.endswith(".py"):
            if src not in listed:
                raise PluginError(f"docs/{src}: an exercise must be in mkdocs.yml's nav")
            check(jupytext.read(file.abs_src_path), src)
    overview = next((f for f in files if f.src_uri == OVERVIEW), None)
    part = next((s for s in nav.items if getattr(s, "title", None) == "Exercises"), None)
    if overview is not None and part is not None:
        text = Path(overview.abs_src_path).read_text(encoding="utf-8")
        for page in part.children:
            src = page.file.src_uri
            if src.startswith("exercises/") and f"]({src})" not in text:
                raise PluginError(f"docs/{OVERVIEW}: the overview has no link to {src}")
    return nav


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    source = _exercise(page)
    if source is None:
        return html
    _folders[source] = Path(page.file.abs_dest_path).parent
    name = source.stem
    how = ("This build leaves the solutions out: the check after each task says whether you are "
           "right." if hide_solutions() else "Each solution follows its task, folded. In the "
           "notebook it is the cell tagged <code>solution</code>: it redefines the task's "
           "names, so skip it to check your own answer.")  # fmt: skip
    box = (
        '<div class="admonition abstract"><p class="admonition-title">Run it yourself</p>'
        f'<p>Download <a href="{name}.ipynb" download>{name}.ipynb</a> or '
        f'<a href="{name}.py" download>{name}.py</a>, install the course '
        "(<code>pip install -e .</code> in a clone of the repository), then run "
        f"<code>jupyter lab {name}.ipynb</code> or <code>python {name}.py</code> in any folder "
        f'(<a href="../">more on running them</a>). {how}</p></div>'
    )
    head, h1, rest = html.partition("</h1>")
    return head + h1 + box + rest if h1 else box + html


def on_post_build(config: Any) -> None:
    import jupytext

    for source, folder in _folders.items():
        notebook = downloadable(jupytext.read(source), config.site_url, hide_solutions())
        folder.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, folder / f"{source.stem}.ipynb")
        jupytext.write(notebook, folder / f"{source.stem}.py", fmt="py:percent")

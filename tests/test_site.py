"""The report site: a strict mkdocs build, and every page opened in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import ROOT, mkdocs_build

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


def _project_copy(tmp: Path, generated: Path) -> Path:
    """The repository's site sources with another study's docs/generated in place."""
    project = tmp / "project"
    shutil.copytree(ROOT / "docs", project / "docs", ignore=shutil.ignore_patterns("generated"))
    shutil.copytree(generated, project / "docs" / "generated")
    shutil.copytree(ROOT / "course", project / "course")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copy(ROOT / "CONTRIBUTING.md", project / "CONTRIBUTING.md")  # the contributors page
    return project


def test_fresh_clone_builds_strict_from_committed_evidence(built_site: Path) -> None:
    assert (built_site / "index.html").is_file()
    assert (built_site / "generated" / "data" / "trials.csv").is_file()  # downloadable data
    assert not (built_site / "generated" / "scoreboard").exists()  # includes are not pages


@pytest.mark.slow
def test_quick_study_builds_and_says_so(quick_study: Path, tmp_path: Path) -> None:
    project = _project_copy(tmp_path, quick_study / "docs" / "generated")
    proc = mkdocs_build(project, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr[-4000:]
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Profile <code>quick</code>" in home


def nav_entries() -> list[str]:
    """Every file the nav of mkdocs.yml lists, in nav order, relative to docs/ (read as mkdocs
    reads it: with its `!ENV` tags)."""
    from mkdocs.utils.yaml import yaml_load

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    config = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return list(walk(config["nav"]))


def _url(entry: str) -> str:
    """A nav entry's page, as a URL path of the built site."""
    stem = entry.rsplit(".", 1)[0]
    return "/" if stem == "index" else f"/{stem}/"


def test_every_method_of_the_package_has_its_page_in_the_nav() -> None:
    """One slug per method names its page (`docs/<slug>.md`); the CV study is an experiment,
    explained on the cross-validation page, not a method page."""
    from course.registry import methods
    from course.study import STUDY

    ours = [slug for slug, m in methods().items()
            if type(m).__module__.startswith("course.methods.") and m.kind != STUDY]  # fmt: skip
    entries = nav_entries()
    assert {"quasi-random", "baseline"} <= set(ours)
    assert [slug for slug in ours if f"{slug}.md" not in entries] == []
    assert [slug for slug in ours if not (ROOT / "docs" / f"{slug}.md").is_file()] == []


def test_the_search_space_page_follows_hyperparameters_in_the_nav() -> None:
    entries = nav_entries()
    assert entries.index("search-space.md") == entries.index("hyperparameters.md") + 1
    assert len(entries) == len(set(entries)), "a page listed twice"


def nav_pages(site: Path) -> list[str]:
    """Every page of the built site, as a URL path."""
    folders = [p.parent.relative_to(site) for p in site.rglob("index.html")]
    return sorted(
        "/" if folder == Path(".") else f"/{folder.as_posix()}/"
        for folder in folders
        if folder.parts[:1] not in {("assets",), ("search",), ("generated",)}
    )


# The three ways the site is read: a desktop browser, a phone, and a desktop in dark mode.
CONTEXTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
              "is_mobile": True, "has_touch": True},
    "dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
}  # fmt: skip
FIGURE = 'article img[src*="generated/figures/"]'  # the generated figures, not icons or logos
LIGHTBOX = ".glightbox-container"
LIGHTBOX_IMAGE = f"{LIGHTBOX} .gslide.current .gslide-image img"
# The lightbox zooms in and out in half a second each way: the test does not wait for that.
NO_ZOOM = f"{LIGHTBOX}, {LIGHTBOX} * {{ animation-duration: 1ms !important; }}"

_BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""

_FIGURES = """sel => Array.from(document.querySelectorAll(sel)).map(img => ({
    src: img.getAttribute('src'),
    natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width,
    linked: img.parentElement.matches('a.glightbox') && img.parentElement.href === img.src,
}))"""

# How wide the page is, and when it is wider than the phone's screen, what sticks out past its
# right edge: the outermost boxes only, leaving out what sits inside a box that clips or scrolls
# it (a table's scroll box) or is fixed on screen. (The emulated phone zooms out to show a page
# wider than its screen, so the screen's width is passed in, not read from `innerWidth`.)
_SIDEWAYS = """width => {
    const root = document.documentElement;
    const scroll = Math.max(root.scrollWidth, document.body.scrollWidth);
    if (scroll <= width) return {scroll, offenders: []};
    const held = el => {
        for (let a = el; a && a !== document.body; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (style.position === 'fixed' || (a !== el && style.overflowX !== 'visible')) {
                return true;
            }
        }
        return false;
    };
    const out = el => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 1 && !held(el);
    };
    const offenders = [];
    for (const el of document.body.querySelectorAll('*')) {
        if (!out(el) || (el.parentElement !== document.body && out(el.parentElement))) continue;
        const r = el.getBoundingClientRect();
        const cls = typeof el.className === 'string' ? el.className.trim() : '';
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (cls ? '.' + cls.split(/\\s+/).join('.') : '');
        const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
        offenders.push(`${name} "${text}": ${Math.round(r.width)} px wide,`
            + ` right edge at ${Math.round(r.right)} px`);
    }
    return {scroll, offenders};
}"""

# Words a line break cuts in two: a code token of a table cell (a method label, a file name),
# or a word of a heading (a class name such as HalvingRandomSearchCV in a title).
_BROKEN_WORDS = """() => {
    const broken = [];
    for (const code of document.querySelectorAll('article :is(td, th) code')) {
        if (!/\\s/.test(code.textContent) && code.getClientRects().length > 1) {
            broken.push(code.textContent);
        }
    }
    for (const heading of document.querySelectorAll('article :is(h1, h2, h3)')) {
        const walker = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.textContent.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
                if (tops.size > 1) broken.push(match[0]);
            }
        }
    }
    return broken;
}"""

# Tables that scroll sideways but let their first column scroll away with the rest (unless that
# column is too wide to keep in view, which assets/tables.js marks).
_UNSTUCK = """() => {
    const unstuck = [];
    for (const box of document.querySelectorAll('article .md-typeset__scrollwrap')) {
        const table = box.querySelector('table');
        if (box.scrollWidth <= box.clientWidth + 1 || table.hasAttribute('data-wide-first')) {
            continue;
        }
        const first = table.querySelector('th, td');
        box.scrollLeft = 100;
        if (first.getBoundingClientRect().left < box.getBoundingClientRect().left - 1) {
            unstuck.push(first.textContent.trim());
        }
        box.scrollLeft = 0;
    }
    return unstuck;
}"""

# The luminance (0-255) a figure shows at its corner: the PNG's pixel over what lies below it.
_CORNER_LUMINANCE = """img => {
    const rgba = s => {
        const v = (s.match(/[\\d.]+/g) || []).map(Number);
        return v.length < 3 ? [0, 0, 0, 0] : [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
    };
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 1, 1, 1, 1, 0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    let under = rgba(getComputedStyle(img).backgroundColor);
    if (under[3] === 0) under = rgba(getComputedStyle(document.body).backgroundColor);
    const a = d[3] / 255;
    const mix = i => d[i] * a + under[i] * (1 - a);
    return 0.2126 * mix(0) + 0.7152 * mix(1) + 0.0722 * mix(2);
}"""


def _shot_name(path: str) -> str:
    return path.strip("/").replace("/", "_") or "home"


def _check_desktop(page: Page, path: str) -> list[str]:
    """Every figure links to itself for the lightbox, and is shown at no less than half its
    pixel width (narrower, its text is too small to read)."""
    problems = []
    for fig in page.evaluate(_FIGURES, FIGURE):
        if not fig["linked"]:
            problems.append(f"{path}: figure {fig['src']} does not open full size (no lightbox)")
        if fig["shown"] < fig["natural"] / 2:
            problems.append(
                f"{path}: figure {fig['src']} shown {fig['shown']:.0f} px wide, less than half"
                f" its {fig['natural']} px"
            )
    page.screenshot(path=str(ARTIFACTS / f"{_shot_name(path)}.png"), full_page=True)
    return problems


def _check_phone(page: Page, path: str) -> list[str]:
    """Nothing scrolls sideways but a table in its box, which keeps its first column in view; no
    word is cut in two; and every figure, tapped, opens at full size."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    problems = []
    width = CONTEXTS["phone"]["viewport"]["width"]
    sideways = page.evaluate(_SIDEWAYS, width)
    if sideways["scroll"] > width or sideways["offenders"]:
        problems.append(
            f"{path}: scrolls sideways on a phone ({sideways['scroll']} px wide for {width} px): "
            + "; ".join(sideways["offenders"])
        )
    problems += [f"{path}: {word!r} broken across lines" for word in page.evaluate(_BROKEN_WORDS)]
    problems += [
        f"{path}: the table whose first column is {head!r} scrolls it out of view"
        for head in page.evaluate(_UNSTUCK)
    ]
    page.screenshot(path=str(ARTIFACTS / "phone" / f"{_shot_name(path)}.png"), scale="css")
    page.add_style_tag(content=NO_ZOOM)
    for index, fig in enumerate(page.evaluate(_FIGURES, FIGURE)):
        image = page.locator(FIGURE).nth(index)
        try:
            image.evaluate("img => img.scrollIntoView({block: 'center'})")
            image.click(timeout=5000)
            shown = page.locator(LIGHTBOX_IMAGE)
            shown.wait_for(state="visible", timeout=5000)
            natural = shown.evaluate(
                "img => img.complete ? img.naturalWidth"
                " : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))"
            )
            if natural != fig["natural"]:
                problems.append(
                    f"{path}: the lightbox shows {fig['src']} {natural} px wide, not"
                    f" {fig['natural']} px"
                )
            page.keyboard.press("Escape")
            page.locator(LIGHTBOX).wait_for(state="detached", timeout=5000)
        except PlaywrightTimeout as error:
            problems.append(f"{path}: figure {fig['src']} does not open full size: {error}")
            page.keyboard.press("Escape")
    return problems


def _check_dark(page: Page, path: str) -> list[str]:
    """The page is in the slate scheme, and its figures keep a light background."""
    scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    if scheme != "slate":
        return [f"{path}: dark mode asked, page in the {scheme!r} scheme"]
    problems = []
    for index, fig in enumerate(page.evaluate(_FIGURES, FIGURE)):
        luminance = page.locator(FIGURE).nth(index).evaluate(_CORNER_LUMINANCE)
        if luminance < 200:
            problems.append(f"{path}: figure {fig['src']} on a dark background ({luminance:.0f})")
    return problems


def _check_downloads(page: Page, path: str) -> list[str]:
    """An exercise page offers its notebook as a .py file and as a .ipynb file, both served."""
    problems = []
    for ext in (".py", ".ipynb"):
        links = page.eval_on_selector_all(
            f'article a[download][href$="{ext}"]', "links => links.map(a => a.href)"
        )
        if not links:
            problems.append(f"{path}: no download link to a {ext} file")
        for href in links:
            status = page.request.get(href).status
            if status != 200:
                problems.append(f"{path}: download {href} answers HTTP {status}")
    return problems


def _report_errors(page: Page, at: list[str], problems: list[str]) -> None:
    """Console errors, page errors and failed requests, each with its context and page."""

    def report(what: str) -> None:
        problems.append(f"{at[0]} {at[1]}: {what}")

    page.on("console", lambda m: m.type == "error" and report(f"console: {m.text}"))
    page.on("pageerror", lambda e: report(f"page error: {e}"))
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"  # left for the next page
            and report(f"failed request: {r.url} ({r.failure})"))  # fmt: skip


CHECKS = {"desktop": _check_desktop, "phone": _check_phone, "dark": _check_dark}


def test_every_page_renders_in_a_real_browser(built_site: Path, served_site: str) -> None:
    """Every page of the nav, on a desktop, a phone and in dark mode: it loads with no error and
    no broken image; on a phone nothing scrolls sideways and every figure opens full size; on a
    desktop every figure is readable (at least half its pixel width); exercise pages offer their
    downloads. Screenshots (desktop full-page, phone screen-sized) go to test-artifacts/."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium for the browser test")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pages = nav_pages(built_site)
    missing = sorted({_url(entry) for entry in nav_entries()} - set(pages))
    assert missing == [], missing  # every page of the nav was built, and is opened below
    exercises = {_url(entry) for entry in nav_entries() if entry.startswith("exercises/")}
    (ARTIFACTS / "phone").mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage"],
        )  # fmt: skip
        for kind, options in CONTEXTS.items():
            context = browser.new_context(**options)
            page = context.new_page()
            at = [kind, "/"]  # where the listeners report from
            _report_errors(page, at, problems)
            for number, path in enumerate(pages):
                at[1] = path
                response = page.goto(served_site + path, wait_until="load")
                assert response is not None and response.status == 200, (kind, path)
                if number == 0:  # the search index and its worker load after the page
                    page.wait_for_load_state("networkidle")
                broken = page.evaluate(_BROKEN_IMAGES)
                problems += [f"{kind} {path}: broken image {src}" for src in broken]
                problems += [f"{kind} {p}" for p in CHECKS[kind](page, path)]
                if kind == "desktop" and path in exercises:
                    problems += [f"{kind} {p}" for p in _check_downloads(page, path)]
            context.close()
        browser.close()
    assert problems == [], "\n".join(problems)

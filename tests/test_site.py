"""The report site: a strict mkdocs build, and every page opened in a real headless Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, dataset_source

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_DATA_URL": dataset_source()}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def _project_copy(tmp: Path, generated: Path) -> Path:
    """The repository's site sources with another study's docs/generated in place."""
    project = tmp / "project"
    shutil.copytree(ROOT / "docs", project / "docs", ignore=shutil.ignore_patterns("generated"))
    shutil.copytree(generated, project / "docs" / "generated")
    shutil.copytree(ROOT / "course", project / "course")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copy(ROOT / "CONTRIBUTING.md", project / "CONTRIBUTING.md")  # the contributors page
    return project


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as a fresh clone builds it, from the committed evidence, without running."""
    site = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(ROOT, site)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return site


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
    """Every file the nav of mkdocs.yml lists, in nav order, relative to docs/."""
    import yaml

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
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


@pytest.fixture(scope="session")
def served_site(built_site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output readable
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_every_page_renders_in_a_real_browser(built_site: Path, served_site: str) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium for the browser test")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pages = nav_pages(built_site)
    missing = sorted({_url(entry) for entry in nav_entries()} - set(pages))
    assert missing == [], missing  # every page of the nav was built, and is opened below
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
        for path in pages:
            response = page.goto(served_site + path, wait_until="networkidle")
            assert response is not None and response.status == 200, path
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_load_state("networkidle")
            broken = page.evaluate(
                "Array.from(document.images)"
                ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
            )
            problems += [f"{path}: broken image {src}" for src in broken]
            name = path.strip("/").replace("/", "_") or "home"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        browser.close()
    assert problems == []

"""The evidence an exercise notebook reads, wherever it runs.

Inside a checkout of the repository a notebook reads `docs/generated/`, the evidence the site is
built from. A notebook downloaded from the site and run in an empty folder has no such folder, so
it fetches the same files from the site it came from (`<site>/generated/<name>`): the address
the site build wrote into it, or `$COURSE_SITE_URL`, which wins so that a mirror or a local
server can stand in. Standard library only, and nothing heavy: notebooks import it first.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from course.errors import CourseError
from course.paths import GENERATED_DIR, write_atomic

SITE_ENV = "COURSE_SITE_URL"
_fetched: dict[str, Path] = {}  # url -> file: each file is downloaded once per session


def checkout(start: Path | None = None) -> Path | None:
    """The repository root at or above `start` (the working directory): the folder holding
    mkdocs.yml and the study's evidence. None outside a checkout."""
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents)
                 if (folder / "mkdocs.yml").is_file()
                 and (folder / GENERATED_DIR / "provenance.json").is_file()), None)  # fmt: skip


def evidence(name: str, site: str | None = None) -> Path:
    """The evidence file `name` (relative to docs/generated, e.g. "data/trials.csv"), on disk.

    In a checkout, its own file: the site shows exactly that evidence. Elsewhere, the file of
    the site at `$COURSE_SITE_URL`, else at `site`, downloaded once per session into the user's
    cache (re-fetched in the next session, so a republished site is not read stale). A site
    given as a folder (a built `site/`) is read in place.
    """
    root = checkout()
    if root is not None:
        path = root / GENERATED_DIR / name
        if not path.is_file():
            raise CourseError(f"{path}: no such file; run `course run-all` to produce it")
        return path
    base = os.environ.get(SITE_ENV) or site
    if not base:
        raise CourseError(
            f"no evidence: this folder is not in a checkout of hpo-course, and ${SITE_ENV} is "
            "not set; set it to the address of the course site the notebook came from"
        )
    if urlparse(base).scheme in ("", "file"):  # a built site on disk
        path = Path(urlparse(base).path) / "generated" / name
        if not path.is_file():
            raise CourseError(f"{path}: no such file; is ${SITE_ENV} a built course site?")
        return path
    return _download(f"{base.rstrip('/')}/generated/{name}", base, name)


def _download(url: str, base: str, name: str) -> Path:
    if url in _fetched:
        return _fetched[url]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hpo-course"
    path = cache / re.sub(r"[^A-Za-z0-9.-]+", "_", base).strip("_") / name
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            write_atomic(path, response.read())
    except urllib.error.HTTPError as error:
        raise CourseError(
            f"{url}: HTTP {error.code}; is ${SITE_ENV} ({base}) the address of the course site?"
        ) from None
    except OSError as error:  # no connection, a timeout, or the cache not writable
        reason = getattr(error, "reason", error)
        raise CourseError(
            f"could not fetch {url} ({reason}); set ${SITE_ENV} to a site you can reach, or "
            "run the notebook inside a checkout of the repository"
        ) from None
    _fetched[url] = path
    return path

"""Publishing: the constraints file pins what the evidence ran with, `mkdocs gh-deploy` publishes
the site to a branch (here a local bare repository), and the site works under a sub-path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from course import constraints
from tests.conftest import ROOT, dataset_source

PINS = {
    constraints._key(line.split("==")[0]): line.split("==")[1]
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REQUIREMENTS = [Requirement(r) for r in (*PROJECT["dependencies"],
                                         *PROJECT["optional-dependencies"]["test"])]  # fmt: skip


def test_the_constraints_pin_every_requirement_within_its_range() -> None:
    for req in REQUIREMENTS:
        version = PINS.get(constraints._key(req.name))
        assert version is not None, f"{req.name} is not pinned"
        assert req.specifier.contains(version, prereleases=True), (req, version)


def test_the_constraints_are_the_versions_the_committed_evidence_ran_with() -> None:
    recorded = json.loads((ROOT / "docs/generated/provenance.json").read_text())["packages"]
    recorded.pop(constraints.PROJECT)
    assert {n: PINS.get(constraints._key(n)) for n in recorded} == recorded


def test_course_constraints_lists_the_installed_closure() -> None:
    found = constraints.closure()
    for req in REQUIREMENTS:
        assert found[constraints._key(req.name)] == metadata.version(req.name)
    assert "packaging" in found and constraints.PROJECT not in found
    assert found[constraints._key("jaxlib")] == metadata.version("jaxlib")  # jax's own need


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def _deploy(project: Path, site_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_DATA_URL": dataset_source(),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    env["COURSE_HIDE_SOLUTIONS"] = "1"  # the graded site: its notebooks are not executed
    env.pop("COURSE_SITE_URL", None)
    if site_url:
        env["COURSE_SITE_URL"] = site_url
    return subprocess.run([sys.executable, "-m", "mkdocs", "gh-deploy", "--force"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=900)  # fmt: skip


def test_gh_deploy_publishes_the_site_with_its_address_to_a_branch(tmp_path: Path) -> None:
    """What an instructor runs to publish (the graded site, which builds in less time),
    against a bare repository standing in for GitHub; without the address it refuses before
    building anything."""
    project = tmp_path / "project"
    for name in ("docs", "course"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, project / name)
    remote = tmp_path / "remote.git"
    _git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course", cwd=project)
    _git("remote", "add", "origin", str(remote), cwd=project)

    refused = _deploy(project, None)
    assert refused.returncode != 0 and "set COURSE_SITE_URL" in refused.stderr
    assert not _git("branch", "--list", cwd=remote).strip()  # nothing pushed

    proc = _deploy(project, "https://instructor.example/hpo-course/")
    assert proc.returncode == 0, proc.stderr[-4000:]
    files = _git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).split()
    assert {"index.html", ".nojekyll", "404.html", "outline/index.html",
            "generated/data/trials.csv"} <= set(files)  # fmt: skip
    missing = _git("show", "gh-pages:404.html", cwd=remote)
    assert 'href="/hpo-course/assets/' in missing or "/hpo-course/assets/" in missing
    assert 'href="/assets/' not in missing  # a root link would leave the project's path

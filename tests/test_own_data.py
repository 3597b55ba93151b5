"""The course on an instructor's own table: another target, text labels, a categorical column and
five classes, end to end (the study, its evidence, `course predict`, the site); scikit-learn's
bundled tables; and every bad `[data]` setting refused in one line with nothing written."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course import data, datasets
from course.datasets import DataSpec
from course.registry import load_profile
from tests.conftest import ROOT, error_line, mkdocs_build, read_csv, run_course

LABELS = ("bronze", "silver", "gold", "platinum", "diamond")
TARGET, CATEGORICAL = "segment", "plan"


def own_table(path: Path, rows: int = 600) -> pd.DataFrame:
    """A learnable table unlike telecust: six numeric columns, a text one, five text labels."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=6, n_informative=4, n_redundant=1,
                               n_classes=5, n_clusters_per_class=1, class_sep=1.2,
                               random_state=3)  # fmt: skip
    frame = pd.DataFrame(x, columns=[f"m{i}" for i in range(6)]).round(4)
    plans = np.array(["basic", "plus", "pro"])
    mixed = np.random.default_rng(3).random(rows) < 0.6  # the plan says something of the class
    frame.insert(2, CATEGORICAL, np.where(mixed, plans[y % 3], plans[(y + 1) % 3]))
    frame[TARGET] = np.array(LABELS)[y]
    frame.to_csv(path, index=False)
    return frame


def own_profile(folder: Path, data_table: str) -> Path:
    """The quick profile with a `[data]` table naming the file and its target."""
    quick = (resources.files("course") / "profiles" / "quick.toml").read_text("utf-8")
    top, rest = quick.split("\n[space]", 1)
    path = folder / "own.toml"
    path.write_text(f"{top}\n[data]\n{data_table}\n\n[space]{rest}", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def own_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `course run-all` of the quick profile on the own table."""
    folder = tmp_path_factory.mktemp("own")
    own_table(folder / "segments.csv")
    own_profile(folder, f'file = "segments.csv"\ntarget = "{TARGET}"')
    proc = run_course("run-all", "--config", "own.toml", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return folder


def test_every_output_of_an_own_table_keeps_its_labels(own_study: Path) -> None:
    table = pd.read_csv(own_study / "segments.csv")
    generated = own_study / "docs" / "generated"
    results = read_csv(generated / "data" / "results.csv")
    assert len({r["slug"] for r in results}) >= 10  # every method ran on it
    predictions = pd.read_csv(generated / "data" / "predictions.csv")
    assert set(predictions["label"]) == set(LABELS)
    assert set(predictions["predicted"]) <= set(LABELS)
    classes = pd.read_csv(generated / "data" / "classes.csv")
    assert list(classes["label"]) == sorted(LABELS)
    assert list(classes["rows"]) == [int((table[TARGET] == c).sum()) for c in sorted(LABELS)]
    features = pd.read_csv(generated / "data" / "features.csv", keep_default_na=False)
    plan = features[features["feature"] == CATEGORICAL]
    assert list(plan["category"]) == sorted(table[CATEGORICAL].unique())
    assert list(plan["rows"]) == [int((table[CATEGORICAL] == v).sum()) for v in plan["category"]]


def test_the_data_facts_describe_the_table_the_study_used(own_study: Path) -> None:
    table = pd.read_csv(own_study / "segments.csv")
    facts = (own_study / "docs" / "generated" / "dataset-facts.md").read_text()
    inputs = 6 + table[CATEGORICAL].nunique()  # numeric columns, and one per category
    assert "**segments.csv**" in facts and "telecust" not in facts
    assert f"| rows | {len(table)} |" in facts
    assert f"7 (6 numeric, 1 categorical (`{CATEGORICAL}`), one-hot encoded into {inputs} " in facts
    assert f"`{TARGET}`, 5 classes: " + ", ".join(f"**{c}**" for c in sorted(LABELS)) in facts
    test = round(len(table) * 0.2)
    assert f"| development / test rows | {len(table) - test} / {test} " in facts


def test_predict_reproduces_a_pipeline_search_on_text_columns(own_study: Path, tmp_path: Path):
    """A scikit-learn search's final model (its fitted ColumnTransformer inside) scores the raw
    held-out rows, categories as text, labels as text, as the study recorded."""
    profile = load_profile(path=own_study / "own.toml")
    spec = profile.data
    split = data.split(data.load(own_study / "segments.csv", spec), profile.seed, 0.2)
    rows = split.x_test.copy()
    rows[TARGET] = split.schema.label_of(split.y_test)
    rows.to_csv(tmp_path / "held-out.csv", index=False)
    results = {r["slug"]: r for r in read_csv(own_study / "docs/generated/data/results.csv")}
    for slug in ("grid-search-cv", "grid-loop"):
        out = tmp_path / f"{slug}.csv"
        proc = run_course("predict", results[slug]["run_id"], str(tmp_path / "held-out.csv"),
                          "--out", str(out), cwd=own_study)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        predicted = pd.read_csv(out)[f"predicted_{TARGET}"]
        accuracy = float(np.mean(predicted.to_numpy() == rows[TARGET].to_numpy()))
        assert accuracy == pytest.approx(float(results[slug]["test_accuracy"]), abs=1e-6)


def test_the_site_builds_from_an_own_study(own_study: Path, tmp_path: Path) -> None:
    """The site, built from the own study's evidence in place of the committed one, describes
    the own table on its dataset page."""
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
        ".git", "site", "runs", "data", "generated", "__pycache__", ".venv"))  # fmt: skip
    shutil.copytree(own_study / "docs" / "generated", project / "docs" / "generated")
    proc = mkdocs_build(project, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr[-4000:]
    page = (tmp_path / "site" / "dataset" / "index.html").read_text()
    assert "This study used <strong>segments.csv</strong>" in page
    assert all(f"<strong>{label}</strong>" in page for label in LABELS)


@pytest.mark.parametrize("name", ["wine", "breast_cancer", "digits", "iris"])
def test_bundled_tables_need_no_download(name: str, tmp_path: Path) -> None:
    from sklearn import datasets as bundled

    original = getattr(bundled, f"load_{name}")()
    path = datasets.bundled(name, tmp_path)
    table = data.load(path, DataSpec(name=name))
    assert len(table.frame) == len(original.target)
    assert table.schema.features == tuple(original.feature_names)
    assert list(map(str, table.schema.labels)) == sorted(map(str, original.target_names))
    counts = table.frame[table.schema.target].value_counts()
    assert sorted(counts.tolist()) == sorted(np.bincount(original.target).tolist())


def test_a_bundled_table_runs_by_name(workdir: Path) -> None:
    """`[data] name` alone: the table is written once into data/ and trained on."""
    own_profile(workdir, 'name = "iris"')
    proc = run_course("run", "baseline", "--config", "own.toml", cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (workdir / "data" / "iris.csv").is_file()
    facts = (workdir / "docs" / "generated" / "dataset-facts.md").read_text()
    assert "**iris**" in facts and "`species`, 3 classes: **setosa**" in facts


def _rare(folder: Path, rows: int) -> None:
    """The own table with its first `rows` rows relabelled as a sixth, rare class."""
    table = own_table(folder / "segments.csv")
    table.loc[: rows - 1, TARGET] = "rare"
    table.to_csv(folder / "segments.csv", index=False)


BAD = {
    "missing target": (lambda f: own_table(f / "segments.csv"), 'file = "segments.csv"',
                       ["--target", "tier"], "target column 'tier' is missing"),
    "one class only": (lambda f: own_table(f / "segments.csv").assign(segment="gold").to_csv(
        f / "segments.csv", index=False), f'file = "segments.csv"\ntarget = "{TARGET}"', [],
        "holds one class only ('gold')"),
    "too rare to split": (lambda f: _rare(f, 1), f'file = "segments.csv"\ntarget = "{TARGET}"',
                          [], "class 'rare' of 'segment' has 1 of the table's rows (600)"),
    "too rare for the folds": (lambda f: _rare(f, 4), f'file = "segments.csv"\ntarget = '
                               f'"{TARGET}"', [], "5 folds, but class 'rare' has"),
    "unreadable URL": (lambda f: None, 'file = "http://127.0.0.1:9/segments.csv"', [],
                       "could not download http://127.0.0.1:9/segments.csv"),
    "wrong SHA-256": (lambda f: own_table(f / "segments.csv"), f'file = "segments.csv"\n'
                      f'target = "{TARGET}"\nsha256 = "{"0" * 64}"', [], "SHA-256 does not match"),
    "no such dataset": (lambda f: None, 'name = "mnist"', [], "data.name: 'mnist' is no bundled"),
    "unknown key": (lambda f: None, 'label = "x"', [], "data.label: unknown key"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_data_settings_are_one_line_with_nothing_written(case: str, workdir: Path) -> None:
    make, table, options, message = BAD[case]
    make(workdir)
    profile = own_profile(workdir, table)
    if case == "too rare for the folds":  # 4 rows: 3 or 4 of them development rows
        text = profile.read_text().replace(
            "[methods.grid-search-cv]\ncv = 3", "[methods.grid-search-cv]\ncv = 5"
        )
        profile.write_text(text)
    before = sorted(p.name for p in workdir.iterdir())
    slug = "grid-search-cv" if case == "too rare for the folds" else "grid-loop"
    line = error_line(run_course("run", slug, "--config", "own.toml", *options, cwd=workdir))
    assert message in line
    assert sorted(p.name for p in workdir.iterdir()) == before  # no docs/, runs/ or data/

"""Dataset download, checksum, validation and the split, on the real telecust table."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from course import data, datasets
from course.errors import CourseError
from tests.conftest import dataset_path, error_line, run_course


def test_fetch_from_path_and_file_url_verifies_checksum(workdir: Path) -> None:
    for case, source in enumerate((str(dataset_path()), dataset_path().as_uri())):
        target = workdir / f"case{case}" / "telecust.csv"
        path = datasets.fetch(source, dest=target)
        assert path == target.resolve()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == datasets.SHA256


def test_fetch_replaces_a_corrupt_copy(workdir: Path) -> None:
    target = workdir / "data" / "telecust.csv"
    target.parent.mkdir()
    target.write_text("corrupted\n")
    datasets.fetch(str(dataset_path()), dest=target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == datasets.SHA256


def test_checksum_mismatch_leaves_nothing_behind(workdir: Path) -> None:
    tampered = workdir / "tampered.csv"
    tampered.write_bytes(dataset_path().read_bytes().replace(b"\n1,", b"\n2,", 1))
    line = error_line(run_course("data", "fetch", "--url", tampered.as_uri(), cwd=workdir))
    assert "SHA-256" in line
    leftovers = list((workdir / "data").iterdir()) if (workdir / "data").exists() else []
    assert leftovers == []


def test_missing_source_is_one_line(workdir: Path) -> None:
    line = error_line(run_course("data", "fetch", "--url", str(workdir / "nope.csv"), cwd=workdir))
    assert "nope.csv" in line


def _rewrite(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        lines = dataset_path().read_text().splitlines()
        path = folder / "bad.csv"
        path.write_text("\n".join(edit(lines)) + ("\n" if lines else ""))
        return path

    return make


def _cell(line: int, column: str, value: str) -> Callable[[list[str]], list[str]]:
    """Replace one cell, addressed by its file line (the header is line 1)."""

    def edit(lines: list[str]) -> list[str]:
        row = line - 1
        index = lines[0].split(",").index(column)
        cells = lines[row].split(",")
        cells[index] = value
        return [*lines[:row], ",".join(cells), *lines[row + 1 :]]

    return edit


MALFORMED = {
    "renamed column": (_rewrite(lambda ls: [ls[0].replace("income", "salary"), *ls[1:]]),
                       "column 'income' is missing"),
    "text in a number": (_rewrite(_cell(5, "age", "forty")), "line 5, column 'age': 'forty'"),
    "missing value": (_rewrite(_cell(7, "tenure", "")), "line 7, column 'tenure': missing value"),
    "label 5": (_rewrite(_cell(9, "custcat", "5")), "line 9, column 'custcat': 5 is not a class"),
    "infinity": (_rewrite(_cell(4, "income", "inf")), "line 4, column 'income': inf is not a fin"),
    "minus infinity": (_rewrite(_cell(4, "age", "-inf")), "line 4, column 'age': -inf is not a"),
    "overflow": (_rewrite(_cell(6, "income", "1e400")), "line 6, column 'income': inf is not a"),
    "empty file": (_rewrite(lambda ls: []), "empty file"),
    "header only": (_rewrite(lambda ls: ls[:1]), "0 data rows"),
    "a feature is the target": (_rewrite(lambda ls: [ls[0].replace("income", "custcat", 1),
                                                      *ls[1:]]), "column 'income' is missing"),
    "too few rows": (_rewrite(lambda ls: ls[:51]), "50 data rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_csv_is_rejected_by_load(case: str, tmp_path: Path) -> None:
    make, message = MALFORMED[case]
    with pytest.raises(CourseError) as info:
        data.load(make(tmp_path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", ["renamed column", "text in a number", "missing value",
                                  "label 5", "empty file", "header only"])  # fmt: skip
def test_malformed_csv_stops_a_run_with_nothing_written(case: str, workdir: Path) -> None:
    make, message = MALFORMED[case]
    bad = make(workdir)
    line = error_line(run_course("run", "grid-loop", "--profile", "quick", "--data", str(bad),
                                 cwd=workdir))  # fmt: skip
    assert message in line
    assert not (workdir / "docs").exists()
    assert not (workdir / "runs").exists()


def test_real_dataset_validates_and_splits_stratified() -> None:
    frame = data.load(dataset_path())
    assert frame.frame.shape == (1000, 12)
    assert frame.schema.labels == (1, 2, 3, 4) and frame.schema.inputs == 11
    split = data.split(frame, seed=42, test_size=0.2)
    assert len(split.y_test) == 200 and len(split.y_dev) == 800
    # stratified: every class keeps its share of rows in the test split (within one row)
    overall = np.bincount(split.y_dev, minlength=4) + np.bincount(split.y_test, minlength=4)
    assert np.all(np.abs(np.bincount(split.y_test, minlength=4) - overall * 0.2) <= 1)
    # deterministic for a seed, different for another
    again = data.split(frame, seed=42, test_size=0.2)
    assert np.array_equal(again.x_test, split.x_test)
    other = data.split(frame, seed=7, test_size=0.2)
    assert not np.array_equal(other.x_test, split.x_test)


def test_holdout_never_touches_test_rows() -> None:
    split = data.split(data.load(dataset_path()), seed=42, test_size=0.2)
    x_train, _, x_val, _ = data.holdout(split, seed=42, validation_size=0.2)
    test_rows = {row.tobytes() for row in split.x_test.to_numpy()}
    dev_rows = {row.tobytes() for row in np.vstack([x_train, x_val])}
    assert len(x_train) == 640 and len(x_val) == 160
    assert not test_rows & dev_rows

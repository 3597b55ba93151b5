"""The study's table: validation against its `[data]` shape, the one split, and the one
preprocessing step every method shares.

Any tabular classification CSV: numeric columns are scaled, text columns (and the columns a
profile calls categorical) one-hot encoded, and the target's labels, whatever they are, become
class indices 0..k-1 in sorted order (`Schema.labels` maps them back for every output).
Where the file comes from is `course.datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.datasets import DataSpec, resolve
from course.errors import CourseError
from course.space import plain

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MIN_ROWS = 100


@dataclass(frozen=True)
class Schema:
    """What the rows of a study look like: the feature columns (numeric, or categorical with
    every value they take), the target and its labels in class-index order. It is all a
    model needs to know of its data: `course predict` rebuilds it from a model file."""

    features: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]  # a categorical feature's values, sorted
    target: str
    labels: tuple[Any, ...]  # the user's labels; class index i is labels[i]
    names: tuple[str, ...]  # how pages show each label

    @property
    def numeric(self) -> list[str]:
        return [f for f in self.features if f not in self.categories]

    @property
    def inputs(self) -> int:
        """The model's input width: a column per numeric feature and per category."""
        return len(self.numeric) + sum(len(v) for v in self.categories.values())

    # --8<-- [start:preprocessor]
    def preprocessor(self):
        """The one preprocessing step of every method, unfitted: each method fits it on the
        rows its model learns from (the scikit-learn searches inside their pipeline, per
        fold). Numeric columns are standardised (telecust's `income` has a long tail);
        categorical ones one-hot encoded over every value the table holds, so each fold's
        model has the same inputs, and a value seen only at prediction time is all zeros."""
        import numpy as np
        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        steps = [("scale", StandardScaler(), self.numeric)] if self.numeric else []
        if self.categories:
            encode = OneHotEncoder(categories=[list(v) for v in self.categories.values()],
                                   handle_unknown="ignore", sparse_output=False,
                                   dtype=np.float32)  # fmt: skip
            steps.append(("one_hot", encode, list(self.categories)))
        return ColumnTransformer(steps)

    # --8<-- [end:preprocessor]

    def as_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "categories": {k: list(v) for k, v in
                self.categories.items()}, "target": self.target, "labels": list(self.labels),
                "names": list(self.names)}  # fmt: skip

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Schema:
        return cls(tuple(raw["features"]), {k: tuple(v) for k, v in raw["categories"].items()},
                   raw["target"], tuple(raw["labels"]), tuple(raw["names"]))  # fmt: skip

    def rows(self, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        """The feature columns of `frame` as the preprocessing takes them (numbers as float32,
        categories as text), or one line naming the first cell that does not fit."""
        for column in self.features:
            if column not in frame.columns:
                raise CourseError(f"{where}: column {column!r} is missing; expected "
                                  f"{', '.join(self.features)}")  # fmt: skip
        x = frame[list(self.features)].copy()
        for column in self.features:
            _no_missing(x[column], where)
            if column in self.categories:
                x[column] = x[column].astype(str)
            else:
                x[column] = _numbers(x[column], where).astype("float32")
        return x

    def label_of(self, index: np.ndarray) -> list[Any]:
        """The user's label of each class index (plain Python values, for CSV and JSON)."""
        return [self.labels[int(i)] for i in index]


def _line(index: int) -> int:  # file line of a data row: the header is line 1
    return int(index) + 2


def _no_missing(column: pd.Series, where: str) -> None:
    missing = column.index[column.isna()]
    if len(missing):
        raise CourseError(f"{where}: line {_line(missing[0])}, column {column.name!r}: "
                          "missing value")  # fmt: skip


def _numbers(column: pd.Series, where: str) -> pd.Series:
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    bad = column.index[numbers.isna() | numbers.isin([np.inf, -np.inf])]  # 1e400 is inf
    if len(bad):
        value = column[bad[0]]
        shown = repr(value) if isinstance(value, str) else f"{value:g}"
        raise CourseError(f"{where}: line {_line(bad[0])}, column {column.name!r}: {shown} is "
                          "not a finite number")  # fmt: skip
    return numbers


def _is_text(column: pd.Series) -> bool:
    """A column most of whose values are not numbers: categories (a number among them is
    one more category). One with a stray word among numbers is a typo, refused on load."""
    import pandas as pd

    return bool(pd.to_numeric(column, errors="coerce").isna().mean() > 0.5)


def _labels(target: pd.Series, where: str) -> pd.Series:
    """The target as the user's labels: integers where every label is a whole number (as
    telecust's 1..4), numbers where numeric, else text."""
    import numpy as np

    _no_missing(target, where)
    if _is_text(target):
        return target.astype(str)
    numbers = _numbers(target, where)
    return numbers.astype("int64") if np.all(numbers == np.round(numbers)) else numbers


@dataclass(frozen=True)
class Dataset:
    """A validated table: its rows (features and target) and their schema."""

    frame: pd.DataFrame
    schema: Schema
    path: Path


def load(path: Path, spec: DataSpec | None = None) -> Dataset:
    """Read and validate the table; the first violation is raised as one line naming its place."""
    import numpy as np
    import pandas as pd

    spec = spec or DataSpec()
    shape = spec.shape()
    if not path.is_file():
        raise CourseError(f"{path}: no such file; run `course data fetch` or pass --data")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CourseError(f"{path}: empty file; expected a header row and data rows") from None
    except pd.errors.ParserError as exc:
        raise CourseError(f"{path}: not a valid CSV ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise CourseError(f"{path}: not a UTF-8 text file") from None

    if shape.target not in frame.columns:
        raise CourseError(f"{path}: target column {shape.target!r} is missing; name the column "
                          "to predict with [data] target or --target (the file has "
                          f"{', '.join(map(str, frame.columns))})")  # fmt: skip
    features = shape.features or tuple(str(c) for c in frame.columns if c != shape.target)
    for column in (*features, *spec.categorical):
        if column not in frame.columns:
            raise CourseError(f"{path}: column {column!r} is missing; expected "
                              f"{', '.join((*features, shape.target))}")  # fmt: skip
        if column == shape.target:
            raise CourseError(f"{path}: column {column!r} is the target; it cannot be a feature")
    if not features:
        raise CourseError(f"{path}: no feature columns beside the target {shape.target!r}")
    if len(frame) < MIN_ROWS:
        raise CourseError(f"{path}: {len(frame)} data rows; at least {MIN_ROWS} expected")

    where = str(path)  # a feature's missing value is refused by `Schema.rows`
    categorical = {c for c in features if c in spec.categorical or _is_text(frame[c])}
    categories = {c: tuple(sorted(frame[c].astype(str).unique())) for c in features
                  if c in categorical}  # fmt: skip
    target = _labels(frame[shape.target], where)
    if shape.classes is not None:
        bad = frame.index[~target.isin(list(shape.classes))]
        if len(bad):
            raise CourseError(f"{path}: line {_line(bad[0])}, column {shape.target!r}: "
                              f"{plain(target[bad[0]])!r} is not a class; expected one of "
                              f"{', '.join(map(str, shape.classes))}")  # fmt: skip
    labels = tuple(plain(v) for v in np.sort(target.unique()))
    if len(labels) < 2:
        raise CourseError(f"{path}: column {shape.target!r} holds one class only "
                          f"({labels[0]!r}); a classifier needs at least two")  # fmt: skip
    names = tuple(str((shape.classes or {}).get(label, label)) for label in labels)
    schema = Schema(tuple(features), categories, shape.target, labels, names)
    rows = schema.rows(frame, where)
    rows[shape.target] = target
    return Dataset(rows, schema, path)


def load_dataset(spec: DataSpec | None = None) -> Dataset:
    """The validated table a profile's `[data]` names (downloaded or written as it needs)."""
    spec = spec or DataSpec()
    return load(resolve(spec), spec)


@dataclass(frozen=True)
class Split:
    """Development rows (for the searches) and the untouched test rows: features as the
    preprocessing takes them, labels as class indices (`schema.labels` names them)."""

    x_dev: pd.DataFrame
    y_dev: np.ndarray
    x_test: pd.DataFrame
    y_test: np.ndarray
    schema: Schema


def split(dataset: Dataset, seed: int, test_size: float) -> Split:
    """The one stratified development/test split every method shares."""
    import numpy as np

    schema = dataset.schema
    x = dataset.frame[list(schema.features)]
    y = np.searchsorted(np.asarray(schema.labels), dataset.frame[schema.target].to_numpy())
    x_dev, x_test, y_dev, y_test = _stratified(x, y, test_size, seed, "test_size", schema,
                                                 "the table's rows")  # fmt: skip
    return Split(x_dev, y_dev, x_test, y_test, schema)


def _stratified(x: pd.DataFrame, y: np.ndarray, size: float, seed: int, key: str,
                schema: Schema, rows: str) -> list:  # fmt: skip
    """train_test_split, stratified; a split too small for every class is one clear line."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y, minlength=len(schema.labels))
    if counts.min() < 2:
        rarest = schema.labels[int(counts.argmin())]
        raise CourseError(f"{key}: class {rarest!r} of {schema.target!r} has {counts.min()} "
                          f"of {rows} ({len(y)}); a stratified split needs at least 2 of "
                          "every class: add rows of it, or leave it out")  # fmt: skip
    try:
        return train_test_split(x, y, test_size=size, stratify=y, random_state=seed)
    except ValueError as exc:
        raise CourseError(f"{key}: {size} cannot split {len(y)} rows by class ({exc})") from None


def check_folds(folds: int, split: Split, where: str) -> None:
    """Refuse a k-fold scheme with more folds than the development rows of the smallest class."""
    import numpy as np

    counts = np.bincount(split.y_dev, minlength=len(split.schema.labels))
    fewest = int(counts.min())
    if folds > fewest:
        rarest = split.schema.labels[int(counts.argmin())]
        raise CourseError(f"{where}: {folds} folds, but class {rarest!r} has {fewest} "
                          f"development rows; use at most {fewest}")  # fmt: skip


def holdout(split: Split, seed: int, validation_size: float) -> tuple[Any, ...]:
    """A stratified train/validation split of the development rows (never the test rows):
    x_train, y_train, x_val, y_val."""
    x_train, x_val, y_train, y_val = _stratified(split.x_dev, split.y_dev, validation_size,
                                                 seed, "validation_size", split.schema,
                                                 "the development rows")  # fmt: skip
    return x_train, y_train, x_val, y_val


def holdout_preprocessing(split: Split, seed: int, validation_size: float,
                          protocol: str = "clean"):  # fmt: skip
    """The preprocessing `holdout_scaled` fits, on the same training rows: what a holdout
    method's final model is saved with (course.artefact)."""
    rows = split.x_dev if protocol == "seed" else holdout(split, seed, validation_size)[0]
    return split.schema.preprocessor().fit(rows)


def holdout_scaled(
    split: Split, seed: int, validation_size: float, protocol: str = "clean"
) -> tuple[np.ndarray, ...]:
    """Training, validation and test arrays, preprocessed with what the training rows alone
    teach (their means and spreads).

    `protocol="seed"` is the seed notebook's mistake, kept to measure it: train on the whole
    development set and validate on the test split itself.
    """
    # --8<-- [start:holdout]
    if protocol == "seed":  # the seed notebook: validate on the test split itself
        x_train, y_train, x_val, y_val = split.x_dev, split.y_dev, split.x_test, split.y_test
    else:  # clean: carve a validation set out of the development rows
        x_train, y_train, x_val, y_val = holdout(split, seed, validation_size)
    scale = split.schema.preprocessor().fit(x_train)  # the training rows' statistics only
    # --8<-- [end:holdout]
    return (
        scale.transform(x_train), y_train,
        scale.transform(x_val), y_val,
        scale.transform(split.x_test), split.y_test,
    )  # fmt: skip

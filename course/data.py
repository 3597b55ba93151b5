"""The telecust dataset: download (checksum-verified, atomic), validation, and the one split.

`fetch` uses pooch, which downloads into a temporary file beside the target, checks the SHA-256
and only then renames, so a failed or corrupt download leaves nothing behind. Local copies
(`file://` URLs or plain paths, for offline machines and CI) go through the same path.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from course.errors import CourseError
from course.paths import DATA_FILE

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CANONICAL_URL = (
    "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
    "IBMDeveloperSkillsNetwork-ML0101EN-SkillsNetwork/labs/Module%203/data/teleCust1000t.csv"
)
SHA256 = "157391eb147a4a83612db3a3162c43aaac0dcaae3601ab9aa13ebee3ff91ca29"
URL_ENV = "COURSE_DATA_URL"

FEATURES = (
    "region", "tenure", "age", "marital", "address", "income",
    "ed", "employ", "retire", "gender", "reside",
)  # fmt: skip
TARGET = "custcat"
COLUMNS = (*FEATURES, TARGET)
CLASSES = {1: "Basic", 2: "E-Service", 3: "Plus", 4: "Total service"}
MIN_ROWS = 100


def source(url: str | None = None) -> str:
    """Where to download from: `--url`, else `$COURSE_DATA_URL`, else the canonical URL."""
    return url or os.environ.get(URL_ENV) or CANONICAL_URL


def _local_path(url: str) -> Path | None:
    """The file a `file://` URL or plain path names; None for a remote URL."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("http", "https", "ftp", "sftp", "doi"):
        return None
    return Path(url)


def _copy_local(url: str, output_file: str, _pooch: object) -> None:
    """A pooch downloader for local copies: pooch still hashes the result before renaming."""
    path = _local_path(url)
    assert path is not None
    if not path.is_file():
        raise CourseError(f"{url}: no such file; point --url or ${URL_ENV} at the dataset")
    shutil.copyfile(path, output_file)


def fetch(url: str | None = None, dest: Path = DATA_FILE) -> Path:
    """Make sure `dest` holds the verified dataset, downloading it if missing or corrupt."""
    import pooch

    pooch.get_logger().setLevel("WARNING")
    src = source(url)
    downloader = _copy_local if _local_path(src) is not None else None
    try:
        path = pooch.retrieve(
            url=src,
            known_hash=f"sha256:{SHA256}",
            fname=dest.name,
            path=dest.parent,
            downloader=downloader,
            progressbar=False,
        )
    except ValueError:
        raise CourseError(
            f"{src}: SHA-256 does not match {SHA256[:8]}…{SHA256[-6:]}; the file was not saved"
        ) from None
    except OSError as exc:  # includes requests' connection errors
        raise CourseError(
            f"could not download {src} ({type(exc).__name__}); "
            f"set ${URL_ENV} to a local copy (a path or file:// URL)"
        ) from None
    Path(path).chmod(0o644)  # pooch's temporary file was private
    return Path(path)


def load(path: Path) -> pd.DataFrame:
    """Read and validate the table; the first violation is raised as one line naming its place."""
    import numpy as np
    import pandas as pd

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

    expected = ", ".join(COLUMNS)
    for column in COLUMNS:
        if column not in frame.columns:
            raise CourseError(f"{path}: column {column!r} is missing; expected {expected}")
    for column in frame.columns:
        if column not in COLUMNS:
            raise CourseError(f"{path}: unexpected column {column!r}; expected {expected}")

    def line(index: int) -> int:  # file line of a data row: header is line 1
        return int(index) + 2

    for column in COLUMNS:
        missing = frame.index[frame[column].isna()]
        if len(missing):
            raise CourseError(f"{path}: line {line(missing[0])}, column {column!r}: missing value")
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.index[numbers.isna() | numbers.isin([np.inf, -np.inf])]  # 1e400 is inf
        if len(bad):
            value = frame[column][bad[0]]
            shown = repr(value) if isinstance(value, str) else f"{value:g}"
            raise CourseError(
                f"{path}: line {line(bad[0])}, column {column!r}: {shown} is not a finite number"
            )
        frame[column] = numbers

    target = frame[TARGET]
    bad = frame.index[~target.isin(list(CLASSES))]
    if len(bad):
        raise CourseError(
            f"{path}: line {line(bad[0])}, column {TARGET!r}: {target[bad[0]]:g} is not a class; "
            f"expected one of {', '.join(map(str, CLASSES))}"
        )
    if len(frame) < MIN_ROWS:
        raise CourseError(f"{path}: {len(frame)} data rows; at least {MIN_ROWS} expected")
    return frame[list(COLUMNS)]


def load_dataset(data: Path | None = None) -> tuple[pd.DataFrame, Path]:
    """The validated table: an explicit `--data` file, else the verified download."""
    path = data if data is not None else fetch()
    return load(path), path


@dataclass(frozen=True)
class Split:
    """Development rows (for the searches) and the untouched test rows; labels are 0..3."""

    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split(frame: pd.DataFrame, seed: int, test_size: float) -> Split:
    """The one stratified development/test split every method shares."""
    x = frame[list(FEATURES)].to_numpy(dtype="float32")
    y = frame[TARGET].to_numpy(dtype="int64") - 1
    x_dev, x_test, y_dev, y_test = _stratified(x, y, test_size, seed, "test_size")
    return Split(x_dev, y_dev, x_test, y_test)


def _stratified(x: np.ndarray, y: np.ndarray, size: float, seed: int, key: str) -> list:
    """train_test_split, stratified; a split too small for every class is one clear line."""
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(x, y, test_size=size, stratify=y, random_state=seed)
    except ValueError as exc:
        raise CourseError(f"{key}: {size} cannot split {len(y)} rows by class ({exc})") from None


def smallest_class(y: np.ndarray) -> int:
    """Rows of the rarest class: no stratified split makes more folds than this."""
    import numpy as np

    return int(np.bincount(y, minlength=len(CLASSES)).min())


def check_folds(folds: int, split: Split, where: str) -> None:
    """Refuse a k-fold scheme with more folds than the development rows of the smallest class."""
    fewest = smallest_class(split.y_dev)
    if folds > fewest:
        raise CourseError(
            f"{where}: {folds} folds, but the smallest class has {fewest} development rows; "
            f"use at most {fewest}"
        )


def holdout(
    x: np.ndarray, y: np.ndarray, seed: int, validation_size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified train/validation split of the development rows (never the test rows)."""
    x_train, x_val, y_train, y_val = _stratified(x, y, validation_size, seed, "validation_size")
    return x_train, y_train, x_val, y_val


# --8<-- [start:preprocessor]
def preprocessor():
    """The one preprocessing step of every method, unfitted: each method fits it on the rows
    its model learns from (the scikit-learn searches inside their pipeline, per fold). Today
    it standardises every feature (income's long tail makes scaling matter)."""
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


# --8<-- [end:preprocessor]


def fitted_preprocessor(x_train: np.ndarray):
    """`preprocessor()` fitted on training rows only."""
    return preprocessor().fit(x_train)


def holdout_preprocessing(split: Split, seed: int, validation_size: float,
                          protocol: str = "clean"):  # fmt: skip
    """The preprocessing `holdout_scaled` fits, on the same training rows: what a holdout
    method's final model is saved with (course.artefact)."""
    rows = split.x_dev if protocol == "seed" else holdout(split.x_dev, split.y_dev, seed,
                                                          validation_size)[0]  # fmt: skip
    return fitted_preprocessor(rows)


def holdout_scaled(
    split: Split, seed: int, validation_size: float, protocol: str = "clean"
) -> tuple[np.ndarray, ...]:
    """Training, validation and test arrays, scaled with statistics of the training rows only.

    `protocol="seed"` is the seed notebook's mistake, kept to measure it: train on the whole
    development set and validate on the test split itself.
    """
    # --8<-- [start:holdout]
    if protocol == "seed":  # the seed notebook: validate on the test split itself
        x_train, y_train, x_val, y_val = split.x_dev, split.y_dev, split.x_test, split.y_test
    else:  # clean: carve a validation set out of the development rows
        x_train, y_train, x_val, y_val = holdout(split.x_dev, split.y_dev, seed, validation_size)
    scale = fitted_preprocessor(x_train)  # the training rows' statistics only
    # --8<-- [end:holdout]
    return (
        scale.transform(x_train), y_train,
        scale.transform(x_val), y_val,
        scale.transform(split.x_test), split.y_test,
    )  # fmt: skip

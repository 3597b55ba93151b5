"""Where a study's table comes from: the profile's `[data]` table, and the file it names.

The default is telecust, downloaded from its canonical URL (checksum-verified, atomic). An
instructor names a CSV of their own (a path or a URL, with an optional SHA-256), or one of the
classification datasets that ship inside scikit-learn, which need no download: `course` writes
it once to `data/<name>.csv`, so every study still trains on a file with a hash.

Downloads go through pooch, which writes into a temporary file beside the target, checks the
SHA-256 and only then renames, so a failed or corrupt download leaves nothing behind. Local
copies (`file://` URLs or plain paths, for offline machines and CI) take the same path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from course.errors import CourseError
from course.paths import DATA_DIR, DATA_FILE, write_atomic

CANONICAL_URL = (
    "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
    "IBMDeveloperSkillsNetwork-ML0101EN-SkillsNetwork/labs/Module%203/data/teleCust1000t.csv"
)
SHA256 = "157391eb147a4a83612db3a3162c43aaac0dcaae3601ab9aa13ebee3ff91ca29"
URL_ENV = "COURSE_DATA_URL"

TELECUST = "telecust"
FEATURES = (
    "region", "tenure", "age", "marital", "address", "income",
    "ed", "employ", "retire", "gender", "reside",
)  # fmt: skip
TARGET = "custcat"
CLASSES = {1: "Basic", 2: "E-Service", 3: "Plus", 4: "Total service"}


@dataclass(frozen=True)
class Shape:
    """What a named dataset's table holds: its target, its features (None: every other
    column) and, where only some labels are valid, those labels with their display names."""

    target: str
    features: tuple[str, ...] | None = None
    classes: dict[object, str] | None = None
    about: str = ""


# scikit-learn's bundled classification datasets, by their loader's name: the target column
# each is written with (its labels are the dataset's class names, where it has them)
NAMED = {
    TELECUST: Shape(TARGET, FEATURES, CLASSES, "customers of a telecoms provider, by the "
                    "service package they use (IBM's Machine Learning with Python labs)"),
    "wine": Shape("cultivar", about="wines from three cultivars, by their chemical analysis "
                  "(UCI; bundled with scikit-learn)"),
    "breast_cancer": Shape("diagnosis", about="breast tumours, malignant or benign, by 30 "
                           "measurements of their cell nuclei (UCI; bundled with scikit-learn)"),
    "digits": Shape("digit", about="8 x 8 images of handwritten digits, a pixel a column "
                    "(UCI; bundled with scikit-learn)"),
    "iris": Shape("species", about="iris flowers of three species, by four measurements "
                  "(Fisher; bundled with scikit-learn)"),
}  # fmt: skip


@dataclass(frozen=True)
class DataSpec:
    """A profile's `[data]` table. A `file` takes the named dataset's shape (telecust's, by
    default) unless `target` is set: then its features are every other column (or `features`)
    and its labels whatever the target holds."""

    name: str = TELECUST
    file: str | None = None  # a path, file:// URL or URL
    sha256: str | None = None
    target: str | None = None
    features: tuple[str, ...] | None = None
    categorical: tuple[str, ...] = ()  # numeric columns to one-hot encode as categories

    def shape(self) -> Shape:
        """The target, features and allowed classes this table is validated against."""
        named = NAMED[self.name]
        if self.target is None:
            return replace(named, features=self.features or named.features)
        return Shape(self.target, self.features, about=named.about if self.file is None else "")

    def with_options(self, file: Path | None, target: str | None) -> DataSpec:
        """`--data` and `--target` over the profile's table (a `--data` file is not checked
        against the profile's SHA-256, which belongs to the profile's file)."""
        spec = self
        if file is not None:
            spec = replace(spec, file=str(file), sha256=None)
        if target is not None:
            spec = replace(spec, target=target)
        return spec

    @property
    def title(self) -> str:
        """The dataset's name as pages show it: its file's name, or the bundled name."""
        return Path(urlparse(self.file).path).name if self.file else self.name


KEYS = {
    "name": "A bundled dataset: telecust (downloaded), or scikit-learn's wine, breast_cancer, "
    "digits or iris (no download).",
    "file": "A CSV of your own instead: a path (relative to where `course` runs), file:// URL "
    "or http(s) URL.",
    "sha256": "The file's SHA-256: a download is refused, and nothing saved, if it differs.",
    "target": "The column to predict (any labels, at least two classes). Default: the named "
    "dataset's target (telecust: custcat).",
    "features": "The columns to learn from. Default: every other column.",
    "categorical": "Numeric columns that are codes, one-hot encoded like text columns.",
}


def parse(raw: dict[str, object], where: str = "data.") -> DataSpec:
    """Validate a `[data]` table (types and names; the file itself is checked on load)."""
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise CourseError(f"{where}{unknown[0]}: unknown key; expected one of "
                          f"{', '.join(sorted(KEYS))}")  # fmt: skip
    for key, value in raw.items():
        listed = key in ("features", "categorical")
        ok = (isinstance(value, list) and all(isinstance(v, str) for v in value) and value
              if listed else isinstance(value, str) and value)  # fmt: skip
        if not ok:
            kind = "a non-empty list of column names" if listed else "a non-empty string"
            raise CourseError(f"{where}{key}: expected {kind}, got {value!r}")
    name = str(raw.get("name", TELECUST))
    if name not in NAMED:
        raise CourseError(f"{where}name: {name!r} is no bundled dataset; choose one of "
                          f"{', '.join(NAMED)}, or give a file")  # fmt: skip
    sha = raw.get("sha256")
    if sha is not None and (len(str(sha)) != 64 or set(str(sha).lower()) - set("0123456789abcdef")):
        raise CourseError(f"{where}sha256: {sha!r} is not a SHA-256 (64 hexadecimal digits)")
    if sha is not None and "file" not in raw:
        raise CourseError(f"{where}sha256: checks a file; give the file too")
    lists = {k: tuple(raw[k]) for k in ("features", "categorical") if k in raw}  # type: ignore[arg-type]
    return DataSpec(name=name, file=raw.get("file"), sha256=sha and str(sha).lower(),  # type: ignore[arg-type]
                    target=raw.get("target"), **lists)  # type: ignore[arg-type]  # fmt: skip


def source(url: str | None = None) -> str:
    """Where telecust comes from: `--url`, else `$COURSE_DATA_URL`, else the canonical URL."""
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


def download(src: str, dest: Path, sha256: str | None,
             fix: str = "point [data] file at a local copy") -> Path:  # fmt: skip
    """Make sure `dest` holds `src`'s file (with `sha256`, when given), downloading it if it
    is missing or differs."""
    import pooch

    pooch.get_logger().setLevel("WARNING")
    downloader = _copy_local if _local_path(src) is not None else None
    created = not dest.parent.exists()  # pooch makes the folder: a failure leaves none
    try:
        path = pooch.retrieve(url=src, known_hash=sha256 and f"sha256:{sha256}",
                              fname=dest.name, path=dest.parent, downloader=downloader,
                              progressbar=False)  # fmt: skip
    except (ValueError, OSError) as exc:  # OSError includes requests' connection errors
        if created and dest.parent.is_dir() and not any(dest.parent.iterdir()):
            dest.parent.rmdir()
        if isinstance(exc, ValueError):
            raise CourseError(f"{src}: SHA-256 does not match {sha256[:8]}…{sha256[-6:]}; "
                              "the file was not saved") from None  # fmt: skip
        raise CourseError(f"could not download {src} ({type(exc).__name__}); "
                          f"{fix}") from None  # fmt: skip
    Path(path).chmod(0o644)  # pooch's temporary file was private
    return Path(path)


def fetch(url: str | None = None, dest: Path = DATA_FILE) -> Path:
    """Make sure `dest` holds the verified telecust table, downloading it if missing or corrupt."""
    return download(source(url), dest, SHA256, f"set ${URL_ENV} to a local copy of telecust")


def bundled(name: str, folder: Path = DATA_DIR) -> Path:
    """scikit-learn's bundled dataset `name` as a CSV (written once, atomically): its target
    column named as `NAMED` says, with the dataset's class names as labels where it has them."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        frame = bunch.data.copy()
        names = list(bunch.target_names)
        labels = bunch.target.to_numpy()
        named = all(isinstance(n, str) for n in names)
        frame[NAMED[name].target] = [names[i] for i in labels] if named else labels
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, frame.to_csv(index=False))
    return path


def sha256_of(path: Path) -> str:
    """A file's SHA-256, as studies and `[data] sha256` identify a table."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve(spec: DataSpec) -> Path:
    """The local file of `spec`: downloaded, written or checked as it needs."""
    if spec.file is None:
        return fetch() if spec.name == TELECUST else bundled(spec.name)
    local = _local_path(spec.file)
    if local is None:  # a URL: downloaded into data/, under its own name
        return download(spec.file, DATA_DIR / (spec.title or "data.csv"), spec.sha256)
    if not local.is_file():
        raise CourseError(f"{spec.file}: no such file; check [data] file or --data")
    if spec.sha256 is not None and sha256_of(local) != spec.sha256:
        raise CourseError(f"{spec.file}: SHA-256 does not match {spec.sha256[:8]}…"
                          f"{spec.sha256[-6:]} ([data] sha256)")  # fmt: skip
    return local

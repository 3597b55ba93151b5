"""Where the course reads and writes, relative to the directory it is run from.

Everything is relative to the working directory (the repository root for `mkdocs serve`), so a
test can run the whole pipeline inside a temporary folder without touching the checkout.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DATA_FILE = Path("data") / "telecust.csv"
RUNS_DIR = Path("runs")
LEDGER_FILE = RUNS_DIR / "ledger.sqlite"
GENERATED_DIR = Path("docs") / "generated"
GENERATED_DATA_DIR = GENERATED_DIR / "data"


def checkpoint(run_dir: Path, trial: int, fold: int, rung: int, suffix: str) -> Path:
    """Where ModelCheckpoint keeps the best epoch of one fit (a whole model, or weights)."""
    budget = f"-rung-{rung}" if rung else ""  # a candidate trained at several budgets
    return run_dir / "checkpoints" / f"trial-{trial:04d}-fold-{fold}{budget}{suffix}"


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the site must be able to serve it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_changed(path: Path, content: str | bytes) -> bool:
    """`write_atomic`, unless `path` holds exactly `content` already (its time stamp stays, and
    nothing is written); returns whether it wrote."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True

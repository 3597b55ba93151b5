"""Where the course reads and writes, relative to the directory it is run from.

Everything is relative to the working directory (the repository root for `mkdocs serve`), so a
test can run the whole pipeline inside a temporary folder without touching the checkout.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DATA_DIR = Path("data")
DATA_FILE = DATA_DIR / "telecust.csv"
RUNS_DIR = Path("runs")
LEDGER_FILE = RUNS_DIR / "ledger.sqlite"
GENERATED_DIR = Path("docs") / "generated"
GENERATED_DATA_DIR = GENERATED_DIR / "data"


def checkpoint(run_dir: Path, trial: int, fold: int, rung: int, suffix: str) -> Path:
    """Where ModelCheckpoint keeps the best epoch of one fit (a whole model, or weights)."""
    budget = f"-rung-{rung}" if rung else ""  # a candidate trained at several budgets
    return run_dir / "checkpoints" / f"trial-{trial:04d}-fold-{fold}{budget}{suffix}"


TMP_SUFFIX = ".tmp"  # write_atomic's temporary files: `.<name>.<writer's pid>.<random>.tmp`


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep(folder: Path) -> list[Path]:
    """Remove the temporary files under `folder` whose writer is gone (killed between write
    and rename); a live writer's are left alone. Returns what it removed."""
    removed = []
    for tmp in folder.rglob(f".*{TMP_SUFFIX}") if folder.is_dir() else ():
        parts = tmp.name.split(".")
        pid = parts[-3] if len(parts) >= 4 else ""
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=TMP_SUFFIX)  # fmt: skip
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

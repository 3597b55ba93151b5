"""One owner at a time: a run is trained by one process, docs/generated written by one.

A lock is an exclusive `flock` on a small file that holds its owner's pid. The kernel releases
it when the owner ends, however it ends (SIGKILL included), so a lock is never stale: a pid left
in the file by a dead owner is only a note, and the next process takes the lock at once. A
second live process waits, saying once which pid it waits for.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _owner(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 32).decode(errors="replace").strip() or "unknown"


@contextmanager
def held(path: Path, what: str) -> Iterator[None]:
    """Hold the lock at `path` for the block, waiting for another process that holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"course: {what} is held by pid {_owner(fd)}; waiting for it", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def free(path: Path) -> bool:
    """Whether no live process holds the lock at `path` (a question only: nothing is held)."""
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True

"""One progress display for a study: a bar per method with fit k/N, elapsed, ETA and best-so-far."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Task:
    """A method's bar: `advance` after each fit, with the best validation score so far."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task
        self.best: float | None = None

    def advance(self, score: float | None = None, steps: int = 1) -> None:
        if score is not None and (self.best is None or score > self.best):
            self.best = score
        best = "–" if self.best is None else f"{self.best:.3f}"
        self._progress.update(self._task, advance=steps, best=best)


class StudyProgress:
    """Context manager around a rich `Progress` writing to stderr (stdout stays for results)."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("fits"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("best val acc {task.fields[best]}"),
            console=Console(stderr=True),
        )

    def __enter__(self) -> StudyProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def task(self, description: str, total: int, completed: int = 0) -> Task:
        """A new bar; `completed` counts fits resumed from the ledger (kept out of the ETA)."""
        task = self._progress.add_task(description, total=total, completed=completed, best="–")
        return Task(self._progress, task)

    def log(self, message: str) -> None:
        self._progress.console.print(message)

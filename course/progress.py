"""One progress display for a study: a bar per method with fit k/N, elapsed, ETA and best-so-far."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.markup import escape
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

    def __init__(self, progress: Progress, task: TaskID, best: float | None) -> None:
        self._progress, self._task = progress, task
        self.best = best
        self.advance(steps=0)

    def advance(self, score: float | None = None, steps: int = 1) -> None:
        if score is not None and (self.best is None or score > self.best):
            self.best = score
        best = "–" if self.best is None else f"{self.best:.3f}"
        self._progress.update(self._task, advance=steps, best=best)

    def finish(self) -> None:
        """Close the bar where the method stopped (a tuner may run fewer trials than planned)."""
        task = self._progress.tasks[self._task]
        self._progress.update(self._task, total=task.completed)


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

    def task(self, description: str, total: int, done: list[float] | None = None) -> Task:
        """A new bar; `done` holds the validation scores of fits resumed from the ledger."""
        done = done or []
        task = self._progress.add_task(
            escape(description), total=total, completed=len(done), best="–"
        )
        return Task(self._progress, task, max(done, default=None))


@contextmanager
def counter(description: str) -> Iterator[Callable[[int, int], None]]:
    """One bar for work counted in pieces (the lab's searches): call it with (done, total)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=Console(stderr=True)) as progress:  # fmt: skip
        task, started = progress.add_task(escape(description), total=None), []

        def update(done: int, total: int) -> None:
            if not started:  # what a resumed run found done: no part of the speed (the ETA)
                progress.reset(task, total=total, completed=done)
                started.append(True)
            progress.update(task, completed=done, total=total)

        yield update

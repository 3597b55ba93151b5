"""Beyond one machine (`--cluster ADDRESS`, `$COURSE_DASK_SCHEDULER`): a study's fits on the
workers of a Dask cluster, its ledger with the study process.

The study process keeps everything durable: the SQLite ledger and the run folders. A worker may
run on another machine with no share of the study's files, so it writes none of them: it trains
each fit in a folder of its own and sends the fit's record, with its best-epoch checkpoint, back
through a Dask queue named for the run (`Courier`); the study process alone writes them
(`Cluster.receiving`), so no SQLite file is ever shared over a network. A fit whose worker dies
is rescheduled by Dask and trained again from its start, and the ledger keeps one row per fit,
so a study keeps every fit once. Every fit is seeded on its own, so the fits are the ones one
process trains, whichever worker trains them.

Dask is imported here, and this module only where a study runs on a cluster, so `course --help`
and a study on one machine never load it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from distributed import Client, Queue, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from course.errors import CourseError
from course.fitting import Fitter
from course.ledger import Ledger, Recorder
from course.paths import write_atomic
from course.records import FitKey, FitRecord

CONNECT_SECONDS = 10  # for the scheduler to answer
WORKERS_SECONDS = 60  # for a first worker to join it
POLL_SECONDS = 0.2  # how often the study process collects what the workers sent


def _random_per_thread() -> None:
    """Give each thread of this process its own Python random generator. A worker's event loop
    draws from the process's one (heartbeat jitter, retries) while a fit runs in the task
    thread, and Keras draws its default seeds from it (`SeedGenerator`, the initial weights):
    shared, a fit would depend on when the loop last drew, and no two runs would agree."""
    import random

    if getattr(random, "per_thread", False):
        return
    local = threading.local()

    def mine() -> random.Random:
        if not hasattr(local, "generator"):
            local.generator = random.Random()
        return local.generator

    def forward(name: str) -> Callable[..., Any]:
        return lambda *args, **kwargs: getattr(mine(), name)(*args, **kwargs)

    for name in random.__all__:
        if callable(getattr(random.Random, name, None)):
            setattr(random, name, forward(name))
    random.per_thread = True


_refused: list[str] = []  # why this worker must not fit (`Prepare`), checked by every task


class Prepare(WorkerPlugin):
    """What every worker does before its first fit, whenever it joins: load the study's Keras
    backend (a worker started elsewhere may have another default), and refuse to fit in a worker
    of more than one thread. A refusal cannot stop a worker that joins later (Dask only logs a
    plugin's error), so every task checks it first (`_call`) and fails the study in one line.
    XLA keeps its threads: single-threaded XLA rounds some sums differently."""

    name = "course-prepare"

    def __init__(self, backend: str, preload: tuple[str, ...]) -> None:
        self.backend, self.preload = backend, preload

    def setup(self, worker: Any) -> None:
        from course import backend

        _refused.clear()
        _random_per_thread()
        if worker.state.nthreads != 1:
            _refused.append(f"worker {worker.address} runs {worker.state.nthreads} threads; fits "
                            "sharing a process would share Keras' seed: start each worker with "
                            "`--nthreads 1`")  # fmt: skip
            return
        if "keras" not in sys.modules:
            os.environ["KERAS_BACKEND"] = self.backend
        loaded = backend.load(self.preload)
        if loaded != self.backend:  # Keras was loaded before, on another backend
            _refused.append(f"worker {worker.address}: Keras runs on {loaded} there, the study "
                            f"on {self.backend}; restart the worker")  # fmt: skip


class Courier(Recorder):
    """A run's recorder on a worker: each record goes, with the fit's checkpoint, into the run's
    queue, for the study process to write; the worker's copy of the run's folder is local."""

    def __init__(self, recorder: Recorder, queue: str, folder: Path) -> None:
        super().__init__(recorder.run_id, recorder.ledger_path, recorder.seed,
                         recorder.training, done=set(recorder.done))  # fmt: skip
        self.queue, self.folder = queue, folder
        self.sender: Queue | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "sender": None}

    def write(self, record: FitRecord) -> None:
        path = record.key.checkpoint(self.folder)
        checkpoint = path.read_bytes() if path.exists() else None
        if self.sender is None:
            self.sender = Queue(self.queue)
        self.sender.put(pickle.dumps((record, checkpoint)))  # plain bytes to the scheduler

    def recorded(self, key: FitKey) -> dict[str, Any] | None:
        raise RuntimeError("a worker cannot read the ledger: the study process decides resumes")


_folders: dict[str, tempfile.TemporaryDirectory[str]] = {}  # queue -> this worker's run folder


class RemoteFitter(Fitter):
    """A run's fitter as the workers get it: recording through a `Courier` into a folder of the
    worker's own, with the checkpoints of the run's finished fits carried along, so that a
    resumed search (scikit-learn reloads a finished fit rather than train it again) finds them
    on any machine."""

    def __init__(self, fitter: Fitter, queue: str) -> None:
        courier = Courier(fitter.recorder, queue, fitter.run_dir)  # here: the run's own folder
        super().__init__(courier, fitter.run_dir, fitter.schema, checkpoints=False)
        found = {k: k.checkpoint(fitter.run_dir) for k in fitter.done}
        self.carried = {k: p.read_bytes() for k, p in found.items() if p.exists()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        queue = self.recorder.queue  # one per study's block: no checkpoint of an earlier run
        if queue not in _folders:
            _folders[queue] = tempfile.TemporaryDirectory(prefix=f"{queue}-")
        self.run_dir = self.recorder.folder = Path(_folders[queue].name)
        self.recorder.ledger_path = self.run_dir / "no-ledger"  # Fitter.begin checks its disk
        for key, checkpoint in self.carried.items():
            path = key.checkpoint(self.run_dir)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(checkpoint)


class RelayTrial:
    """A worker's stand-in for a trial of the study process (Optuna's): what a pruning callback
    reports goes to the study process, which hands it to the trial, asks the pruner and sends
    the answer back (`Cluster.relay`). Answers carry their step, so a fit restarted on another
    worker never reads an answer meant for the worker that died."""

    def __init__(self, number: int, name: str) -> None:
        self.number, self.name = number, name
        self.step = 0

    def report(self, value: float, step: int) -> None:
        self.step = step
        Queue(f"{self.name}-reports").put((value, step))

    def should_prune(self) -> bool:
        answers = Queue(f"{self.name}-answers")
        while True:
            try:
                step, prune = answers.get(timeout=POLL_SECONDS * 5)
            except TimeoutError:
                if _abandoned():  # the study process is gone: free this worker for its rerun
                    raise RuntimeError(f"{self.name}: the study stopped asking") from None
                continue
            if step == self.step:
                return prune


def _abandoned() -> bool:
    """Whether the task this thread runs is no longer wanted (its client went away)."""
    from distributed import get_worker
    from distributed.worker import thread_state

    task = get_worker().state.tasks.get(getattr(thread_state, "key", None))
    return task is None or task.state in ("cancelled", "released", "forgotten")


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """A task: `function(*args)`, on a worker that `Prepare` did not refuse."""
    if _refused:
        raise CourseError(_refused[0])
    return function(*args)


class Cluster:
    """A study's connection to a running Dask scheduler and its workers."""

    def __init__(self, where: str, backend: str, preload: tuple[str, ...] = ()) -> None:
        self.address = where
        self._writing: tuple[Recorder, list[BaseException]] | None = None  # `receiving`'s
        try:
            # the default client: joblib's Dask backend and a worker's queue find it
            self.client = Client(where, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: not an address
            raise CourseError(f"--cluster {where}: no Dask scheduler answers there "
                              f"({error}); start one with `dask scheduler`") from None  # fmt: skip
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            threads = self.client.nthreads()  # every worker's (scheduler_info may truncate)
            if set(threads.values()) != {1}:
                raise CourseError(f"--cluster {where}: a worker runs {max(threads.values())} "
                                  "threads; fits sharing a process would share Keras' seed, "
                                  "so start each worker with `--nthreads 1`")  # fmt: skip
            self.client.register_plugin(Prepare(backend, preload))
        except TimeoutError:
            self.client.close()
            raise CourseError(f"--cluster {where}: no worker joined the scheduler in "
                              f"{WORKERS_SECONDS} s; start one with `dask worker {where} "
                              "--nthreads 1`") from None  # fmt: skip
        except CourseError:
            self.client.close()
            raise
        except Exception as error:  # a worker that cannot import the course, say
            self.client.close()
            raise CourseError(f"--cluster {where}: preparing the workers failed: "
                              f"{type(error).__name__}: {error}") from None  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a scheduler already gone
            self.client.unregister_worker_plugin(Prepare.name)
        self.client.close()

    @property
    def size(self) -> int:
        """How many workers the scheduler has now."""
        return len(self.client.nthreads())

    @contextlib.contextmanager
    def receiving(self, fitter: Fitter) -> Iterator[RemoteFitter]:
        """While the block runs, the run's fits arrive from the workers (and from the study
        process itself, where a library fits there) and are written here, one thread, one
        SQLite connection; yields the fitter to send to them. Leaving the block collects the
        last ones: a worker's queue entry is in before its task ends."""
        recorder = fitter.recorder
        name = f"course-{recorder.run_id}-{uuid.uuid4().hex[:8]}"
        queue = Queue(name, client=self.client)
        stop, failed = threading.Event(), []

        def write(ledger: Ledger) -> None:
            for blob in queue.get(batch=True):
                record, checkpoint = pickle.loads(blob)
                if checkpoint is not None:  # a kill mid-write leaves the old file whole
                    write_atomic(record.key.checkpoint(fitter.run_dir), checkpoint)
                ledger.record(recorder.run_id, record)  # one row per fit, a repeat replaces it
                recorder.advance(record.key, record.outcome.val_accuracy)

        def collect() -> None:
            ledger = Ledger(recorder.ledger_path)  # this thread's own connection
            try:
                while True:
                    stopping = stop.wait(POLL_SECONDS)
                    write(ledger)
                    if stopping:
                        return
            except BaseException as error:  # raised in the study's thread (`_check`)
                failed.append(error)
            finally:
                ledger.close()

        thread = threading.Thread(target=collect, name=f"receive {name}", daemon=True)
        thread.start()
        self._writing = (recorder, failed)
        try:
            yield RemoteFitter(fitter, name)
        finally:
            stop.set()
            thread.join()
            self._writing = None
            with contextlib.suppress(Exception):
                queue.close()
        if failed:
            raise failed[0]

    def _check(self) -> None:
        """Stop at once if the records cannot be written, not after every fit has run."""
        if self._writing is not None and self._writing[1]:
            raise self._writing[1][0]

    def written(self, key: FitKey) -> None:
        """Wait until the fit under `key` is in the ledger (a task's record is queued before
        the task ends, and written here within a poll)."""
        assert self._writing is not None, "inside `receiving` only"
        while key not in self._writing[0].done:
            self._check()
            time.sleep(POLL_SECONDS / 4)

    def relay(self, trial: Any, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args, stand_in)` on a worker, where `stand_in` (a `RelayTrial`) relays
        to `trial` here: its reports, and `trial.should_prune()`'s answers back. A step
        reported again (the fit restarted on another worker) gets the answer it got before."""
        stand_in = RelayTrial(trial.number, f"course-trial-{uuid.uuid4().hex[:12]}")
        reports, answers = Queue(f"{stand_in.name}-reports"), Queue(f"{stand_in.name}-answers")
        future = self.client.submit(_call, function, *args, stand_in, pure=False)
        given: dict[int, bool] = {}
        try:
            while True:
                self._check()
                try:
                    value, step = reports.get(timeout=POLL_SECONDS)
                except TimeoutError:
                    if future.done():  # a fit that waits for an answer is never done
                        return future.result()
                    continue
                if step not in given:
                    trial.report(value, step)
                    given[step] = trial.should_prune()
                answers.put((step, given[step]))
        finally:
            for queue in (reports, answers):
                with contextlib.suppress(Exception):
                    queue.close()

    def map(self, function: Callable[[Any], Any], items: list[Any]) -> Iterator[tuple[Any, Any]]:
        """`function(item)` for every item, each a task of its own; yields (item, result) as
        each finishes, for the study process to record."""
        futures = {self.client.submit(_call, function, item, pure=False): item for item in items}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def fit(self, fitter: Fitter, function: Callable[..., None],
            calls: list[tuple[Any, ...]], shared: tuple[Any, ...] = ()) -> None:  # fmt: skip
        """`function(fitter, *shared, *call)` for every call, each a task of its own on the
        workers, `shared` sent once to every worker; returns when every fit is recorded here."""
        if not calls:
            return
        with self.receiving(fitter) as remote:
            sent = self.client.scatter(list(shared), broadcast=True) if shared else []
            run_id = fitter.recorder.run_id
            futures = [self.client.submit(_call, function, remote, *sent, *call, pure=False,
                                          key=f"{run_id}-{n}-{uuid.uuid4().hex[:6]}")
                       for n, call in enumerate(calls)]  # fmt: skip
            for future in as_completed(futures):
                self._check()
                future.result()  # a fit's error, raised here

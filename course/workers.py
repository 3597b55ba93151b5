"""What every worker process does first (`--workers`): die with the study, run XLA on one
thread (pinned to one core where that is known), and make its heavy imports quietly."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# XLA on one thread, set before JAX loads, so workers share the cores instead of fighting.
SINGLE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def setup(core: int | None = None, preload: tuple[str, ...] = ()) -> None:
    """Prepare this worker process before it imports Keras."""
    if sys.platform.startswith("linux"):
        # end with the study process, even a SIGKILLed one: a rerun never races a leftover
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SINGLE_THREAD_XLA}".strip()
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})
    from course import backend

    backend.load(preload)  # as the study process does


@contextmanager
def running(target: Callable[..., None], args: list[tuple[Any, ...]], what: str) -> Iterator[list]:
    """One spawned process per argument tuple (a fresh interpreter: no inherited JAX state),
    for the duration of the block. If the block fails, the workers are ended; otherwise it
    waits for them, and a worker that failed fails the run (its finished fits stay recorded)."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=a, daemon=True) for a in args]
    for process in processes:
        process.start()
    try:
        yield processes
    except BaseException:
        for process in processes:
            process.terminate()
            process.join()
        raise
    for process in processes:
        process.join()
    codes = [p.exitcode for p in processes if p.exitcode != 0]
    if codes:
        raise RuntimeError(f"{what} worker exited with code {codes[0]}")


def failed(processes: list[Any]) -> bool:
    """Whether a worker ended with an error (a chief waiting for it would wait forever)."""
    return any(p.exitcode not in (None, 0) for p in processes)

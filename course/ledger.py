"""The ledger: every run, fit and final result in one SQLite file (WAL) under `runs/`.

Each finished fit is committed before the next one starts, so an interrupted study loses
nothing, and rerunning the same configuration (same run id, derived from the config hash)
skips the fits that are already here. A changed configuration hashes to a new run id.

The file carries its schema version (`PRAGMA user_version`); a ledger written by an older
version of the course is migrated when it is opened, one newer than this code is refused.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import CourseError
from course.records import FitKey, FitOutcome, FitRecord

if TYPE_CHECKING:
    from course.config import Training
    from course.progress import Task

RUNS_TABLE = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    method TEXT NOT NULL,          -- label, e.g. grid-loop or grid-loop[seed-protocol]
    slug TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',  -- which of the method's runs under a profile ('' if one)
    kind TEXT NOT NULL DEFAULT 'search',  -- search, study or baseline (course.study)
    protocol TEXT NOT NULL,
    profile TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    config TEXT NOT NULL,
    data_path TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    backend TEXT NOT NULL,
    command TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    seconds REAL NOT NULL DEFAULT 0  -- wall time spent in this run, summed over invocations
)"""
FITS_TABLE = """
CREATE TABLE IF NOT EXISTS fits (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    trial INTEGER NOT NULL,
    fold INTEGER NOT NULL,          -- 0 for a holdout fit, 0..k-1 for CV folds, -1 for a refit
    rung INTEGER NOT NULL DEFAULT 0, -- which budget of a candidate trained at several
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    epochs_run INTEGER NOT NULL,
    best_epoch INTEGER NOT NULL,
    val_accuracy REAL,
    val_loss REAL,
    seconds REAL NOT NULL,
    status TEXT NOT NULL,
    history TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, trial, fold, rung)
)"""
RESULTS_TABLE = """
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    selection_score REAL NOT NULL,
    test_accuracy REAL NOT NULL,
    test_ci_low REAL NOT NULL,
    test_ci_high REAL NOT NULL,
    predictions TEXT NOT NULL,      -- predicted class per test row, for paired comparisons
    model_path TEXT NOT NULL,
    labels TEXT,                    -- true class per test row (NULL in ledgers from before)
    tied INTEGER                    -- configurations sharing the best selection score (or NULL)
)"""
LAB_TABLE = """
CREATE TABLE IF NOT EXISTS lab (
    key TEXT PRIMARY KEY,           -- benchmark|method|budget|seed: one search on a table
    evaluations TEXT NOT NULL,      -- JSON: what it observed, in order (course.lab.run)
    extra TEXT NOT NULL DEFAULT '{}',  -- JSON: what the search measured besides (importance)
    seconds REAL NOT NULL,
    finished_at REAL NOT NULL
)"""
# Version 0: every ledger from before versions were kept (fits keyed by trial and fold).
# Version 1 was never released: the number marks the rung's arrival as the second change.
# Version 3: a run's variant and kind in columns of their own (before, only in its label).
# Version 4: how many configurations tied at the best selection score (`results.tied`).
# Version 5: the lab's searches on lookup tables (`lab`).
SCHEMA_VERSION = 5
SEED_MARK = "seed-protocol"  # how version 2 labels marked the seed protocol (course.plan)
FIT_COLUMNS = ("run_id, trial, fold, rung, params, seed, epochs_run, best_epoch, val_accuracy, "
               "val_loss, seconds, status, history, extra, finished_at")  # fmt: skip


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _upgrade(db: sqlite3.Connection) -> None:
    """Create a new ledger, or bring an older one to SCHEMA_VERSION, in one transaction that
    re-reads the version: of two processes opening an old ledger at once, one migrates."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            fits = _columns(db, "fits")
            if fits and "rung" not in fits:  # version 0: every fit trained at one budget
                db.execute("ALTER TABLE fits RENAME TO fits_without_rung")
                db.execute(FITS_TABLE)
                old = FIT_COLUMNS.replace(" rung,", "")
                db.execute(f"INSERT INTO fits ({old}) SELECT {old} FROM fits_without_rung")
                db.execute("DROP TABLE fits_without_rung")
            runs = _columns(db, "runs")
            if runs and "variant" not in runs:  # version 2 or older
                _add_variant_and_kind(db)
            for table in (RUNS_TABLE, FITS_TABLE, RESULTS_TABLE, LAB_TABLE):
                db.execute(table)
            if "labels" not in _columns(db, "results"):  # from before results kept labels
                db.execute("ALTER TABLE results ADD COLUMN labels TEXT")
            if "tied" not in _columns(db, "results"):  # version 3 or older
                db.execute("ALTER TABLE results ADD COLUMN tied INTEGER")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _add_variant_and_kind(db: sqlite3.Connection) -> None:
    """Version 2 kept a run's variant only inside its label (`slug[variant,seed-protocol]`):
    read it out of the label this once. Every method of those versions but the CV study was
    a search."""
    db.execute("ALTER TABLE runs ADD COLUMN variant TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'search'")
    for run_id, label, slug in db.execute("SELECT run_id, method, slug FROM runs").fetchall():
        marks = label[len(slug) :].strip("[]").split(",")
        variant = next((m for m in marks if m and m != SEED_MARK), "")
        db.execute("UPDATE runs SET variant = ? WHERE run_id = ?", (variant, run_id))
    db.execute("UPDATE runs SET kind = 'study' WHERE slug = 'cv-study'")


@dataclass(frozen=True)
class Run:
    """One method run as stored: `config` is the profile as JSON, `method` its display label."""

    run_id: str
    method: str
    slug: str
    variant: str
    kind: str
    protocol: str
    profile: str
    seed: int
    config_hash: str
    config: str
    data_path: str
    data_sha256: str
    backend: str
    command: str
    started_at: float
    finished_at: float | None
    seconds: float


@contextmanager
def _opening(path: Path) -> Iterator[None]:
    """Hold an flock beside the ledger while a process opens it. Two processes creating one
    ledger at once both ask to switch it to WAL, which needs its exclusive lock: SQLite answers
    the second "database is locked" at once, without waiting out the busy timeout."""
    fd = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Ledger:
    """A thin layer over sqlite3: a connection per process, short transactions."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        emptied = path.exists() and path.stat().st_size == 0
        if emptied and any(p.is_dir() for p in path.parent.iterdir()):
            raise CourseError(  # an emptied ledger would silently retrain every run
                f"{path}: empty, but {path.parent} holds runs' checkpoints; restore the "
                f"ledger, or move {path.parent} aside to start again"
            )
        self.path = path
        with _opening(path):
            self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
            try:
                self.db.row_factory = sqlite3.Row
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the schema
            except sqlite3.DatabaseError as exc:  # truncated, overwritten, not SQLite at all
                self.db.close()
                raise CourseError(
                    f"{path}: damaged ledger ({exc}); restore it, or move {path.parent} aside "
                    "to start again"
                ) from None
            if version > SCHEMA_VERSION:
                self.db.close()
                raise CourseError(
                    f"{path}: ledger schema {version} is newer than this course's "
                    f"({SCHEMA_VERSION}); upgrade hpo-course or move {path.parent} aside"
                )
            if version < SCHEMA_VERSION:  # new, or from an older course (read-only otherwise)
                _upgrade(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # runs ---------------------------------------------------------------------------------
    def open_run(self, run: Run, fresh: bool = False) -> Run:
        """Start `run`, or resume it if this run id exists (unless `fresh` discards it)."""
        with self.transaction() as db:
            if fresh:
                db.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run.run_id,)).fetchone()
            if row is None:
                fields = run.__dict__
                db.execute(
                    f"INSERT INTO runs ({', '.join(fields)}) "
                    f"VALUES ({', '.join('?' for _ in fields)})",
                    tuple(fields.values()),
                )
                return run
            db.execute("UPDATE runs SET command = ? WHERE run_id = ?", (run.command, run.run_id))
        return Run(**{**dict(row), "command": run.command})

    def add_seconds(self, run_id: str, seconds: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET seconds = seconds + ? WHERE run_id = ?", (seconds, run_id))

    def finish_run(self, run_id: str) -> None:
        """Mark a run complete: a later invocation of the same run skips it."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), run_id))

    def forget_fits(self, run_id: str) -> None:
        """Remove a run's fits (a run that must start over)."""
        with self.transaction() as db:
            db.execute("DELETE FROM fits WHERE run_id = ?", (run_id,))

    def forget(self, run_id: str) -> None:
        """Remove a run, its fits and its result."""
        with self.transaction() as db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def drop_if_empty(self, run_id: str) -> None:
        """Forget a run that recorded no fit (it failed before its first): nothing to resume."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM fits WHERE run_id = ? LIMIT 1", (run_id,)).fetchone():
                return
            if db.execute("SELECT 1 FROM results WHERE run_id = ?", (run_id,)).fetchone():
                return
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def runs(self) -> list[Run]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY started_at, run_id").fetchall()
        return [Run(**dict(row)) for row in rows]

    # the lab ------------------------------------------------------------------------------
    def lab(self) -> dict[str, dict[str, Any]]:
        """Every finished lab search, by key: its evaluations, extra and seconds."""
        rows = self.db.execute("SELECT key, evaluations, extra, seconds FROM lab").fetchall()
        return {row["key"]: {"evaluations": json.loads(row["evaluations"]),
                             "extra": json.loads(row["extra"]), "seconds": row["seconds"]}
                for row in rows}  # fmt: skip

    def record_lab(self, key: str, evaluations: list[Any], extra: dict[str, Any],
                   seconds: float) -> None:  # fmt: skip
        """One finished lab search, committed at once: an interrupted lab keeps it."""
        with self.transaction() as db:
            row = (key, json.dumps(evaluations), json.dumps(extra), seconds, time.time())
            db.execute("INSERT OR REPLACE INTO lab VALUES (?, ?, ?, ?, ?)", row)

    # fits ---------------------------------------------------------------------------------
    def fit(self, run_id: str, key: FitKey) -> dict[str, Any] | None:
        """One recorded fit, or None if it has not finished."""
        found = [f for f in self.fits(run_id, key.trial) if key_of(f) == key]
        return found[0] if found else None

    def record(self, run_id: str, record: FitRecord) -> None:
        """Commit one finished fit at once: this is what makes an interrupted run resumable."""
        outcome = record.outcome
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO fits ({FIT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, *record.key, json.dumps(record.params), record.seed,
                    outcome.epochs_run, outcome.best_epoch, outcome.val_accuracy,
                    outcome.val_loss, outcome.seconds, outcome.status,
                    json.dumps(outcome.history), json.dumps(record.extra), time.time(),
                ),
            )  # fmt: skip

    def add_extra(self, run_id: str, key: FitKey, extra: dict[str, Any]) -> None:
        """Merge columns learned after a fit (e.g. its cross-validation score) into its row."""
        where = "WHERE run_id = ? AND trial = ? AND fold = ? AND rung = ?"
        with self.transaction() as db:
            row = db.execute(f"SELECT extra FROM fits {where}", (run_id, *key)).fetchone()
            merged = {**json.loads(row["extra"]), **extra}
            db.execute(f"UPDATE fits SET extra = ? {where}", (json.dumps(merged), run_id, *key))

    def fits(self, run_id: str, trial: int | None = None) -> list[dict[str, Any]]:
        """Fits of a run (or of one of its trials) in trial, fold order, JSON decoded."""
        rows = self.db.execute(
            "SELECT * FROM fits WHERE run_id = ? AND (? IS NULL OR trial = ?) "
            "ORDER BY trial, fold, rung",
            (run_id, trial, trial),
        ).fetchall()
        decoded = []
        for row in rows:
            fit = dict(row)
            for key in ("params", "history", "extra"):
                fit[key] = json.loads(fit[key])
            decoded.append(fit)
        return decoded

    # results ------------------------------------------------------------------------------
    def record_result(self, run_id: str, **result: Any) -> None:
        result = {**result, "params": json.dumps(result["params"])}
        for key in ("predictions", "labels"):
            result[key] = json.dumps([int(p) for p in result[key]])
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO results (run_id, {', '.join(result)}) "
                f"VALUES (?, {', '.join('?' for _ in result)})",
                (run_id, *result.values()),
            )

    def result(self, run_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM results WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        result = dict(row)
        result["params"] = json.loads(result["params"])
        result["predictions"] = json.loads(result["predictions"])
        result["labels"] = None if result["labels"] is None else json.loads(result["labels"])
        return result


@contextmanager
def _polling(path: Path, every: float, step: Callable[[Ledger], None]) -> Iterator[None]:
    """Call `step(ledger)` every `every` seconds while the block runs, from a thread with a
    connection of its own, and once more after it."""
    stop = threading.Event()

    def poll() -> None:
        ledger = Ledger(path)
        try:
            stopped = False
            while not stopped:
                stopped = stop.wait(every)
                step(ledger)
        finally:
            ledger.close()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def following(
    path: Path, run_id: str, on_fit: Callable[[dict[str, Any]], None]
) -> AbstractContextManager[None]:
    """While worker processes write fits of `run_id`, hand every fit to `on_fit` (a fit may be
    handed over more than once; one last read after the block leaves none out)."""

    def step(ledger: Ledger) -> None:
        rows = ledger.db.execute(  # scores only: a full fit decodes its history
            "SELECT trial, fold, rung, val_accuracy FROM fits WHERE run_id = ?", (run_id,)
        ).fetchall()
        for row in rows:
            on_fit(dict(row))

    return _polling(path, 0.5, step)


def clock(path: Path, run_id: str, every: float = 1.0) -> AbstractContextManager[None]:
    """Add the wall time the block takes to the run's seconds as it passes, every `every`
    seconds, so a killed invocation (SIGKILL skips every `finally`) loses at most that much."""
    last = [time.perf_counter()]

    def step(ledger: Ledger) -> None:
        now = time.perf_counter()
        ledger.add_seconds(run_id, now - last[0])
        last[0] = now

    return _polling(path, every, step)


class Recorder:
    """Where one run's fits go, from the study process or a worker process.

    Picklable, for workers: a worker's copy opens its own connection (SQLite in WAL mode) and
    leaves the progress bar to the study, which advances it once per fit, whether the fit is
    its own or one it follows in the ledger (`following`). `write` is the one place a record
    leaves the fit: a backend whose workers cannot reach the file overrides it.
    """

    def __init__(self, run_id: str, ledger_path: Path, seed: int, training: Training,
                 ledger: Ledger | None = None, task: Task | None = None,
                 done: set[FitKey] | None = None) -> None:  # fmt: skip
        self.run_id, self.ledger_path = run_id, ledger_path
        self.seed, self.training = seed, training  # what every fit of the run is trained with
        self.ledger, self.task = ledger, task
        self.done = done or set()  # fits already on the progress bar
        self.lock = threading.Lock()  # the study's own fits and the ledger poll both advance

    def __getstate__(self) -> dict[str, Any]:  # into a worker: no connection, no display
        return {**self.__dict__, "ledger": None, "task": None, "lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, lock=threading.Lock())

    def connect(self) -> Ledger:
        if self.ledger is None:
            self.ledger = Ledger(self.ledger_path)
        return self.ledger

    def record(self, key: FitKey, params: dict[str, Any], outcome: FitOutcome,
               extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.write(FitRecord(key, params, self.seed, outcome, extra or {}))
        self.advance(key, outcome.val_accuracy)

    def write(self, record: FitRecord) -> None:
        self.connect().record(self.run_id, record)

    def recorded(self, key: FitKey) -> dict[str, Any] | None:
        """The fit under `key`, if a run before an interruption finished it."""
        return self.connect().fit(self.run_id, key)

    def advance(self, key: FitKey, score: float) -> None:
        with self.lock:
            if key not in self.done and self.task is not None:
                self.task.advance(score)
            self.done.add(key)

    def follow(self, fit: dict[str, Any]) -> None:
        """A fit a worker process recorded, as the study sees it in the ledger."""
        self.advance(key_of(fit), fit["val_accuracy"])

    def following(self) -> AbstractContextManager[None]:
        """Advance the bar with the workers' fits while the block runs."""
        return following(self.ledger_path, self.run_id, self.follow)


def key_of(fit: dict[str, Any]) -> FitKey:
    """A ledger row's key."""
    return FitKey(fit["trial"], fit["fold"], fit["rung"])

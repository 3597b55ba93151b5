"""Profiles: which search space, budgets and seeds a study uses, validated on load.

A profile is a TOML file. `quick`, `standard` (the default) and `full` ship inside the package
and differ only in sizes; an instructor can pass a file of their own with `--config`.
Every validation error is one line naming the key, so the CLI can print it and exit 2.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from course import datasets
from course.datasets import DataSpec
from course.errors import CourseError
from course.space import (
    BATCH_SIZE,
    DROPOUT,
    EPOCHS,
    HYPERPARAMETERS,
    LAYERS,
    LEARNING_RATE,
    UNITS,
    Space,
)

DEFAULT_PROFILE = "standard"
MONITORS = ("val_loss", "val_accuracy")  # validation scores a fit's callbacks can watch

# What each key of a profile means: name -> (default, meaning). `parse` applies these defaults,
# and the generated profile-format reference prints them.
KEYS: dict[str, tuple[Any, str]] = {
    "description": ("", "One line shown in provenance."),
    "seed": (
        42,
        "The study's seed: the default of each of `seeds.split`, `seeds.init` and "
        "`seeds.search`, and what `--seed` and the repeats (seed, seed + 1, ...) move.",
    ),
    "seeds.split": (
        None,
        "Seeds the data: the test split, the holdout and every method's CV folds.",
    ),
    "seeds.init": (
        None,
        "Seeds the training: every fit's initial weights, dropout masks and batch order.",
    ),
    "seeds.search": (
        None,
        "Seeds the search: the samplers, the tuners and the configurations a study draws.",
    ),
    "repeats": (
        1,
        "How many seeds the study runs (seed, seed + 1, ...): each repeats every method on "
        "its own split, and the site reports mean and standard deviation across them.",
    ),
    "test_size": (0.2, "Fraction of rows in the untouched, stratified test split."),
    "validation_size": (
        0.2,
        "Fraction held out for validation inside training data "
        "(the holdout split; EarlyStopping's data inside each CV fold).",
    ),
    "selection": (
        "val_accuracy",
        "The validation score every method ranks configurations by (val_accuracy or val_loss, "
        "at each fit's checkpointed epoch; the mean over folds for CV). Ties go to the better "
        "other score, then to the earlier trial, in every method.",
    ),
    "training.monitor": (
        "val_loss",
        "What EarlyStopping and ModelCheckpoint watch in every fit (val_loss or val_accuracy): "
        "loss moves with every row's confidence, accuracy only when a row changes class.",
    ),
    "training.patience": (5, "Epochs without improvement before EarlyStopping ends a fit."),
    "training.max_epochs": (
        100,
        "The epoch budget of every fit (EarlyStopping usually ends it sooner), unless "
        "`space.epochs` tunes the budget. Hyperband has its own max_epochs.",
    ),
}


@dataclass(frozen=True)
class Setting:
    """One key of a method's `[methods.<slug>]` table, as the method declares it.

    `check`, when given, validates (and may normalise) a value of the right type; it raises a
    `CourseError` naming `where`, the key's dotted name.
    """

    key: str
    kind: type
    default: Any
    meaning: str
    minimum: int | None = None  # the smallest allowed value of an int
    check: Callable[[Any, str], Any] | None = None
    rule: str = ""  # what `check` allows, in words, for the profile-format reference

    @property
    def described(self) -> str:
        return self.rule or ("" if self.minimum is None else f"≥ {self.minimum}")


# The lab's curves (`[lab.curves]`): a grid of telecust configurations trained to the full
# epoch budget, for the multi-fidelity methods to replay. Seven learning rates on a log scale
# (a slow one looks bad early and good late: what multi-fidelity methods risk), dropout, depth
# and width: 126 configurations, enough for two of Hyperband's iterations at the default
# budget, few enough that three seeds of them train in about four minutes on two cores.
CURVES_SPACE = {
    LEARNING_RATE: {"low": 1e-4, "high": 1e-1, "log": True, "grid_points": 7},
    DROPOUT: [0.0, 0.5], LAYERS: [1, 2, 3], UNITS: [8, 32, 128], BATCH_SIZE: 32,
}  # fmt: skip
MAX_CURVE_VALUES = 10  # values per hyperparameter: a table's row id is one digit each


def _curves_space(value: dict[str, Any], where: str) -> dict[str, Any]:
    """A space whose grid is the curves' table: every range gridded, at most ten values each."""
    space = Space.from_mapping(value, where)
    grid = space.grid_values(where)
    for name, values in grid.items():
        if len(values) > MAX_CURVE_VALUES:
            raise CourseError(f"{where}.{name}: {len(values)} values; the curves take at most "
                              f"{MAX_CURVE_VALUES} of a hyperparameter")  # fmt: skip
    if space.size < 2:
        raise CourseError(f"{where}: one configuration; the curves need at least two")
    return value


CURVES_SETTINGS = (
    Setting("space", dict, CURVES_SPACE, "The configurations trained (their grid, as in "
            "`[space]`; epochs and patience are the curves' own).", check=_curves_space,
            rule="a `[space]` table, at most 10 grid values each"),
    Setting("max_epochs", int, 27, "Epochs every configuration trains, without EarlyStopping "
            "(the most a multi-fidelity method gives one).", minimum=2),
    Setting("seeds", int, 3, "Initialisation seeds each configuration trains under (the "
            "profile's init seed, + 1, ...).", minimum=1),
    Setting("methods", list, [], "Searchers replayed on the curves (`course lab --list`); "
            "empty: all."),
    Setting("budget", int, 30, "Epochs per replayed search, in full trainings (budget × "
            "max_epochs epochs).", minimum=1),
    Setting("repeats", int, 20, "Replayed searches per method (each its own seed).", minimum=1),
    Setting("factor", int, 3, "Hyperband and successive halving keep the best 1/factor at "
            "each rung.", minimum=2),
)  # fmt: skip


def _curves(value: dict[str, Any], where: str) -> dict[str, Any]:
    return settings(value, CURVES_SETTINGS, f"{where}.")


# The lab's `[lab]` table (course/lab): searchers on lookup tables, no training. Names of
# tables and methods are checked by the lab itself, which knows them.
LAB_SETTINGS = (
    Setting("benchmarks", list, [], "Tables to search, as `suite/dataset` (`course lab --list`); "
            "empty: all twelve."),
    Setting("methods", list, [], "Searchers to run (`course lab --list`); empty: all but "
            "`kt-bayesian`, KerasTuner's Gaussian process, minutes per search."),
    Setting("budget", int, 100, "Evaluations per search.", minimum=1),
    Setting("repeats", int, 20, "Searches per table and method (each its own seed).", minimum=1),
    Setting("cheap_repeats", int, 40, "Searches per table for random and quasi-random search, "
            "which cost milliseconds.", minimum=1),
    Setting("grid_budgets", list, [16, 32, 64], "Smaller budgets the grid also runs at, to set "
            "random search beside a grid of equal size."),
    Setting("importance_trials", list, [20, 50, 100], "Random-search trials fANOVA estimates "
            "importance from, against the table's true importance."),
    Setting("importance_repeats", int, 3, "Random searches per table that estimate importance.",
            minimum=1),
    Setting("seed", int, 0, "The first repeat's seed (repeat r uses seed + r, mixed with each "
            "table's name).", minimum=0),
    Setting("curves", dict, {}, "The multi-fidelity curves and their replays: the "
            "`[lab.curves]` table below.", check=_curves, rule="see `[lab.curves]`"),
)  # fmt: skip

SEED_KEYS = ("split_seed", "init_seed", "search_seed")  # Profile fields; `[seeds]` keys less
# the suffix

MAX_PATIENCE = 1000  # epochs; more waits for ever on any budget this course trains


@dataclass(frozen=True)
class Training:
    """How every fit is run: the callbacks' settings."""

    monitor: str = KEYS["training.monitor"][0]
    patience: int = KEYS["training.patience"][0]
    max_epochs: int = KEYS["training.max_epochs"][0]

    @property
    def mode(self) -> str:
        """Keras callbacks' mode for the monitored quantity."""
        return "min" if self.monitor.endswith("loss") else "max"


@dataclass(frozen=True)
class Profile:
    """A validated profile. `digest` changes whenever anything that shapes results changes."""

    name: str
    description: str
    seed: int
    repeats: int
    test_size: float
    validation_size: float
    space: Space
    training: Training
    selection: str = KEYS["selection"][0]
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each defaults to `seed` (see `KEYS`): today's studies keep their runs.
    split_seed: int | None = None
    init_seed: int | None = None
    search_seed: int | None = None
    lab: dict[str, Any] = field(default_factory=dict)  # `[lab]`, defaults filled in
    data: DataSpec = field(default_factory=DataSpec)  # `[data]`

    def __post_init__(self) -> None:
        for key in SEED_KEYS:
            if getattr(self, key) is None:
                object.__setattr__(self, key, self.seed)

    def as_dict(self) -> dict[str, Any]:
        """The profile as plain data (what provenance.json records)."""
        return {**asdict(self), "space": self.space.as_data()}

    def digest(self, **extra: Any) -> str:
        """Hash of what shapes a run's results: the profile's shared settings plus `extra`
        (method, protocol, that method's own settings). Other methods' settings stay out, so
        changing Hyperband's budget does not restart the grid loop."""
        payload = self.as_dict()
        # the data's content is hashed apart (`extra`'s data: its SHA-256); how it is read
        # counts where it is not telecust's default, so today's studies keep their runs
        read = {k: v for k, v in payload.pop("data").items() if k not in ("file", "sha256")
                and v != getattr(DataSpec(), k)}  # fmt: skip
        payload |= extra | ({"read": read} if read else {})
        for key in ("description", "methods", "repeats", "lab"):  # not what shapes one run
            payload.pop(key)
        for key in SEED_KEYS:  # a seed left at its default hashes as before it had a name
            if payload[key] == payload["seed"]:
                payload.pop(key)
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_seed(self, seed: int | None, repeats: int | None = None) -> Profile:
        """The same profile with another seed or number of repeats (`--seed`, `--repeats`)."""
        changed = replace(self.seeded(self.seed if seed is None else seed),
                          repeats=repeats or self.repeats)  # fmt: skip
        for key in ("seed", *SEED_KEYS):
            start, named = getattr(changed, key), key.replace("_", " ")  # "init seed"
            _check_seed(start, f"--seed (the {named})")
            _check_seed(start + changed.repeats - 1, f"--seed plus --repeats (the {named})")
        return changed

    def with_data(self, file: Path | None, target: str | None) -> Profile:
        """The same profile on another file or target (`--data`, `--target`)."""
        return replace(self, data=self.data.with_options(file, target))

    def seeded(self, seed: int, **seeds: int) -> Profile:
        """The profile of one repeat: `seed`, and the split, init and search seeds moved with
        it (each keeps its distance from the seed); `seeds` sets any of them outright
        (`init_seed=...`: the variance command's retraining)."""
        shift = seed - self.seed
        moved = {key: getattr(self, key) + shift for key in SEED_KEYS}
        return replace(self, seed=seed, **(moved | seeds))

    @property
    def seeds(self) -> list[int]:
        """The seeds of the study's repeats; the first is the profile's own seed."""
        return [self.seed + i for i in range(self.repeats)]


def builtin_profiles() -> list[str]:
    """Names of the profiles that ship with the package."""
    folder = resources.files("course") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load(
    methods: Mapping[str, Sequence[Setting]], name: str | None = None, path: Path | None = None
) -> Profile:
    """Load a built-in profile by name, or an instructor's TOML file by path (`methods`: as
    for `parse`; `course.registry.load_profile` passes the registered methods')."""
    if name is not None and path is not None:
        raise CourseError("give either --profile or --config, not both")
    if path is not None:
        if not path.is_file():
            raise CourseError(f"{path}: no such profile file")
        try:
            text, label = path.read_text(encoding="utf-8"), path.stem
        except UnicodeDecodeError:
            raise CourseError(f"{path}: not a UTF-8 text file") from None
    else:
        label = name or DEFAULT_PROFILE
        if label not in builtin_profiles():
            raise CourseError(
                f"unknown profile {label!r}; choose one of {', '.join(builtin_profiles())} "
                "or pass a file with --config"
            )
        text = (resources.files("course") / "profiles" / f"{label}.toml").read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path or label}: invalid TOML: {exc}") from None
    return parse(raw, label, methods)


def _check_seed(seed: int, where: str) -> int:
    """NumPy and scikit-learn take seeds from 0 to 2**32 - 1."""
    if not 0 <= seed < 2**32:
        raise CourseError(f"{where}: {seed} must be between 0 and {2**32 - 1}")
    return seed


def get_value(
    raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any, where: str
) -> Any:
    """`raw[key]` (or `default`) if it has type `kind` (a bool is no int); else one line."""
    value = raw.get(key, default)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CourseError(f"{where}{key}: expected {names}, got {value!r}")
    return value


def check_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """One line naming the first key of `raw` that is not `allowed`."""
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise CourseError(
            f"{where}{unknown[0]}: unknown key; expected one of {', '.join(sorted(allowed))}"
        )


def settings(section: Mapping[str, Any], schema: Sequence[Setting], where: str) -> dict[str, Any]:
    """Validate one method's `[methods.<slug>]` table against its schema, defaults filled in."""
    check_keys(section, {s.key for s in schema}, where)
    values = {}
    for setting in schema:
        default = copy.deepcopy(setting.default)  # a list default: each profile its own
        value = get_value(section, setting.key, setting.kind, default, where)
        if setting.minimum is not None and value < setting.minimum:
            raise CourseError(f"{where}{setting.key}: {value} must be at least {setting.minimum}")
        if setting.check is not None:
            value = setting.check(value, f"{where}{setting.key}")
        values[setting.key] = value
    return values


def _score(raw: Mapping[str, Any], key: str, default: str, where: str) -> str:
    """A validation score's name (what callbacks monitor, what methods select by)."""
    value = get_value(raw, key, str, default, where)
    if value not in MONITORS:
        raise CourseError(f"{where}{key}: {value!r}; expected one of {', '.join(MONITORS)}")
    return value


def parse(raw: Mapping[str, Any], name: str, methods: Mapping[str, Sequence[Setting]]) -> Profile:
    """Validate a parsed TOML document into a `Profile`; `methods` holds each registered
    method's settings schema, by slug, and gets that method's `[methods.<slug>]` table."""
    top = {"description", "seed", "repeats", "test_size", "validation_size", "selection",
           "space", "training", "methods", "seeds", "lab", "data"}  # fmt: skip
    check_keys(raw, top, "")
    seed = _check_seed(get_value(raw, "seed", int, KEYS["seed"][0], ""), "seed")
    repeats = get_value(raw, "repeats", int, KEYS["repeats"][0], "")
    if repeats < 1:
        raise CourseError(f"repeats: {repeats} must be at least 1")
    _check_seed(seed + repeats - 1, "seed + repeats - 1")
    seeds_raw = get_value(raw, "seeds", dict, {}, "")
    check_keys(seeds_raw, {key.removesuffix("_seed") for key in SEED_KEYS}, "seeds.")
    named = {}
    for key in SEED_KEYS:
        short = key.removesuffix("_seed")
        named[key] = _check_seed(get_value(seeds_raw, short, int, seed, "seeds."), f"seeds.{short}")
        _check_seed(named[key] + repeats - 1, f"seeds.{short} + repeats - 1")
    test_size = get_value(raw, "test_size", (int, float), KEYS["test_size"][0], "")
    validation_size = get_value(
        raw, "validation_size", (int, float), KEYS["validation_size"][0], ""
    )
    for key, value in (("test_size", test_size), ("validation_size", validation_size)):
        if not 0 < value < 1:
            raise CourseError(f"{key}: {value} must be a fraction between 0 and 1")

    training_raw = get_value(raw, "training", dict, {}, "")
    check_keys(training_raw, {"monitor", "patience", "max_epochs"}, "training.")
    monitor = _score(training_raw, "monitor", Training.monitor, "training.")
    patience = get_value(training_raw, "patience", int, Training.patience, "training.")
    if not 0 <= patience <= MAX_PATIENCE:
        raise CourseError(f"training.patience: {patience} must be between 0 and {MAX_PATIENCE}")
    max_epochs = HYPERPARAMETERS[EPOCHS].check(
        get_value(training_raw, "max_epochs", int, Training.max_epochs, "training."),
        "training.max_epochs",
    )
    selection = _score(raw, "selection", KEYS["selection"][0], "")

    space_raw = get_value(raw, "space", dict, {}, "")
    space = Space.from_mapping(space_raw, defaults={EPOCHS: max_epochs})

    methods_raw = get_value(raw, "methods", dict, {}, "")
    unknown = sorted(set(methods_raw) - set(methods))
    if unknown:
        raise CourseError(
            f"methods.{unknown[0]}: unknown key; no method has that slug (`course methods`)"
        )
    chosen = {
        slug: settings(
            get_value(methods_raw, slug, dict, {}, "methods."), schema, f"methods.{slug}."
        )
        for slug, schema in methods.items()
    }

    return Profile(
        name=name,
        description=get_value(raw, "description", str, KEYS["description"][0], ""),
        seed=seed,
        repeats=repeats,
        test_size=float(test_size),
        validation_size=float(validation_size),
        space=space,
        training=Training(monitor=monitor, patience=patience, max_epochs=max_epochs),
        selection=selection,
        methods=chosen,
        **named,
        lab=settings(get_value(raw, "lab", dict, {}, ""), LAB_SETTINGS, "lab."),
        data=datasets.parse(get_value(raw, "data", dict, {}, "")),
    )

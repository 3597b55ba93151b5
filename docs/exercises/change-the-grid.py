# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.0
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 1: change the grid
#
# A grid search trains **every combination** of the grid values. The number of configurations is
# therefore the *product* of the number of grid values of each hyperparameter, and the cost of a
# grid grows multiplicatively: one more value for one hyperparameter can double the bill.
#
# In this exercise you
#
# 1. copy the `quick` profile that ships with the package,
# 2. change its search space, a log-scale range included, and let
#    `course.registry.parse_profile` validate it,
# 3. **predict** how many configurations the grid loop will train, and check your prediction,
# 4. let the real grid loop train them, exactly as `course run grid-loop --config my.toml` would,
# 5. see why opening the optimiser without the learning rate is a trap.
#
# The training runs in a temporary folder, so your checkout is not touched. It needs the
# dataset: `course.datasets.fetch` puts it in `data/telecust.csv` (under the checkout, or under the
# folder you run this in), from `$COURSE_DATA_URL` if you set it, else from its canonical URL,
# and checks its SHA-256, as `course data fetch` does.

# %%
import copy
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from course.datasets import fetch
from course.errors import CourseError
from course.lessons import checkout
from course.paths import DATA_FILE
from course.registry import load_profile, parse_profile

# %% [markdown]
# ## The starting point: the `quick` profile
#
# A profile is a TOML file. Here is the `[space]` table of `quick`, read with the standard
# library's `tomllib`. Each hyperparameter has a *domain* in one of three forms:
#
# * a **list** of values, `units = [16, 32]`;
# * a **range**, `learning_rate = { low = 1e-3, high = 1e-2, log = true, grid_points = 2 }`: every
#   number from `low` to `high` (on a log scale with `log`), which the random methods sample
#   whole and the grid methods try only at its grid points (`grid_points` evenly spaced ones, or
#   your own `grid = [...]`);
# * **one value**, `batch_size = 32`: fixed. A hyperparameter left out is fixed at its default.
#
# The epoch budget is not in the space: it is `[training] max_epochs`, and EarlyStopping usually
# ends a fit before it.

# %%
quick_text = (resources.files("course") / "profiles" / "quick.toml").read_text("utf-8")
quick = tomllib.loads(quick_text)
for name, domain in quick["space"].items():
    print(f"{name} = {domain}")
print(f"training = {quick['training']}")

# %% [markdown]
# The grid loop sees each domain through its grid values, `Space.grid_values()`: a list's values,
# a range's grid points, a fixed value alone. Note the learning rate's points.

# %%
for name, values in parse_profile(quick, "quick").space.grid_values().items():
    print(f"{name}: {values}")

# %% [markdown]
# ## Your turn
#
# **Task.** Edit the `mine["space"].update(...)` line below to make your own space, then write
# in `MY_PREDICTION` how many configurations its grid has *before* you run the check cell.
#
# Keep it tiny, because a later cell really trains it: at most four configurations, and a budget
# of at most five epochs (`max_epochs`). Keep at least two hyperparameters tuned (two or more
# grid values), because the report draws the grid as a heatmap over two of them.
#
# <details class="tip"><summary>Hint</summary>
#
# Count the grid values of every hyperparameter, including the ones you did not touch, and
# multiply: a list contributes its length, a range its number of grid points, a fixed
# hyperparameter a factor of one. `itertools.product` is exactly what the grid loop iterates
# over.
#
# </details>

# %%
mine = copy.deepcopy(quick)
mine["description"] = "Exercise 1: a tiny grid of my own."
mine["training"].update(max_epochs=5, patience=2)
mine["space"].update(  # <- your edit, for example units=[8, 16]
)
MY_PREDICTION = ...  # <- how many configurations does your grid have?

# %% tags=["solution"]
mine["space"].update(
    learning_rate={"low": 1e-4, "high": 1e-2, "log": True, "grid_points": 2},
    units=[8, 16],
    input_activation="relu",
)
MY_PREDICTION = 4  # 2 learning rates x 2 widths, every other hyperparameter fixed

# %% [markdown]
# ## Check
#
# The check compares your prediction with the course's own count of your grid. `parse_profile`
# validates the profile (it raises a one-line `CourseError` naming the key if something is
# wrong), `Space.grid_values()` gives what the grid methods try of each hyperparameter, and
# `Space.size` counts the grid.

# %%
assert MY_PREDICTION is not ..., "write your prediction in MY_PREDICTION"
profile = parse_profile(mine, "my-grid")
grid = profile.space.grid_values()
counted = math.prod(len(values) for values in grid.values())
configurations = list(itertools.product(*grid.values()))

assert profile.space.size == counted == len(configurations) == len(profile.space.grid())
assert profile.space.size == MY_PREDICTION, (
    f"the grid has {profile.space.size} configurations, not {MY_PREDICTION}"
)
on_the_grid = [name for name, values in grid.items() if len(values) > 1]
assert set(on_the_grid) <= set(profile.space.tuned)
assert len(on_the_grid) >= 2, "tune at least two hyperparameters on the grid"
assert profile.space.size <= 4 and profile.training.max_epochs <= 5, "keep the grid tiny"
assert grid["epochs"] == (profile.training.max_epochs,), "epochs are the budget, not tuned"
print(f"{profile.space.size} configurations; on the grid: {', '.join(on_the_grid)}")
for configuration in profile.space.grid():
    print({name: configuration[name] for name in on_the_grid})

# %% [markdown]
# Validation is strict on purpose: a typo in a profile is a clear error, not a silent surprise.
# The next cell breaks the profile three ways and shows the message the command line would
# print for each: a value out of bounds, a range whose ends are the wrong way round, and a
# range without grid points, which only the grid methods refuse (they cannot try every number).


# %%
def error_of(change: dict) -> str:
    """The one-line error a changed space gives, or '' if it is valid."""
    broken = copy.deepcopy(mine)
    broken["space"].update(change)
    try:
        parse_profile(broken, "broken").space.grid_values()
    except CourseError as error:
        return str(error)
    return ""


messages = [
    error_of({"units": [0, 16]}),
    error_of({"learning_rate": {"low": 1e-2, "high": 1e-3, "log": True}}),
    error_of({"learning_rate": {"low": 1e-3, "high": 1e-2, "log": True}}),
]
for message in messages:
    print(message)
assert messages[0].startswith("space.units"), "the error names the offending key"
assert all(m.startswith("space.learning_rate") for m in messages[1:])

# %% [markdown]
# ## Train it
#
# Now run the real grid loop on your grid. We write your profile to a TOML file and call the
# command line, `course run grid-loop --config my-grid.toml`, inside a temporary folder; the
# run writes its ledger and its evidence (`docs/generated/data/trials.csv`) there.


# %%
def toml_value(value: object) -> str:
    """A value in TOML: a dict is an inline table; JSON's strings, numbers, booleans and lists
    are valid TOML too."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def to_toml(document: dict) -> str:
    """Enough TOML for this profile: top-level keys, then one table per dict."""
    lines = [f"{key} = {toml_value(value)}" for key, value in document.items()
             if not isinstance(value, dict)]  # fmt: skip
    for table, values in document.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]", *(f"{k} = {toml_value(v)}" for k, v in values.items())]
    return "\n".join(lines) + "\n"


runnable = {key: value for key, value in mine.items() if key != "methods"}  # grid loop only
print(to_toml(runnable))

# %%
dataset = fetch(dest=(checkout() or Path.cwd()) / DATA_FILE)  # downloaded once, then verified
env = {**os.environ, "COURSE_DATA_URL": str(dataset.resolve())}  # the run copies it from here

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "my-grid.toml"
    path.write_text(to_toml(runnable), encoding="utf-8")
    assert load_profile(path=path).space == profile.space, "the file holds the same space"
    command = [sys.executable, "-m", "course", "run", "grid-loop", "--config", str(path)]
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    print(done.stdout)
    trials = pd.read_csv(Path(tmp) / "docs" / "generated" / "data" / "trials.csv")

# %% [markdown]
# ## Check the run
#
# The check compares what the run recorded with the grid you predicted. One row of
# `trials.csv` per fit: the grid loop fits every configuration once, at exactly the grid's
# values; EarlyStopping may end a fit before its budget, and the checkpointed best epoch is
# never later than the last epoch trained.

# %%
assert len(trials) == profile.space.size, "one fit per configuration"
for name, values in grid.items():
    if isinstance(values[0], float):
        tried = np.sort(trials[name].unique())
        assert np.allclose(tried, sorted(values)), (name, tried, values)
assert (trials["epochs"] == profile.training.max_epochs).all(), "every fit has the one budget"
assert (trials["epochs_run"] <= trials["epochs"]).all()
assert (trials["best_epoch"] <= trials["epochs_run"]).all()
columns = [*on_the_grid, "epochs_run", "best_epoch", "val_accuracy", "val_loss"]
print(trials[columns].to_string(index=False))

# %% [markdown]
# ## Going further: the optimiser trap
#
# A tempting edit is to open the optimiser, `optimizer = ["adam", "sgd"]`, "to see whether it
# matters". With the learning rate fixed, as in the seed notebook, that compares Adam and SGD
# each at one untuned step size: whichever wins, you have compared two learning rates as much as
# two optimisers. The optimiser is the *scientific* hyperparameter of that question and the
# learning rate its *nuisance*: it must be tuned for each optimiser, over a range wide enough
# for both, and each optimiser judged at its own best rate.
#
# **Task.** Predict the size of both grids below, then check. (Nothing is trained here; train
# the fair one with the cells above if you have a few minutes.)

# %%
unfair = copy.deepcopy(mine)
unfair["space"].update(optimizer=["adam", "sgd"], learning_rate=1e-3, units=16)
fair = copy.deepcopy(unfair)
fair["space"]["learning_rate"] = {"low": 1e-4, "high": 1e-1, "log": True, "grid_points": 4}

MY_UNFAIR, MY_FAIR = ..., ...  # <- your predictions

# %% tags=["solution"]
MY_UNFAIR, MY_FAIR = 2, 8  # with the solution's grid: 2 optimisers x 1 rate, then x 4 rates

# %%
unfair_space = parse_profile(unfair, "unfair").space
fair_space = parse_profile(fair, "fair").space
assert (unfair_space.size, fair_space.size) == (MY_UNFAIR, MY_FAIR), "count both grids again"
assert "learning_rate" not in unfair_space.tuned, "one step size for both optimisers"
assert {"optimizer", "learning_rate"} <= set(fair_space.tuned)
print("unfair:", unfair_space.tuned, unfair_space.size, "configurations")
print("fair:  ", fair_space.tuned, fair_space.size, "configurations")
print("learning rates the fair grid tries:", fair_space.grid_values()["learning_rate"])

# %% [markdown]
# In the fair grid, compare the *best* Adam fit with the *best* SGD fit (`trials.csv` holds
# both columns), not two fits at one shared learning rate. Then double one list and predict the
# new count and the new run time before you run again. Which hyperparameter would you *not*
# tune, given what the heatmap on the Grid loop page shows? The "Designing the search space"
# page says why the learning rate comes first.

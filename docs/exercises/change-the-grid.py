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
# A grid search trains **every combination** of the candidate values. The number of
# configurations is therefore the *product* of the number of candidates of each hyperparameter,
# and the cost of a grid grows multiplicatively: one more value for one hyperparameter can double
# the bill.
#
# In this exercise you
#
# 1. copy the `quick` profile that ships with the package,
# 2. change its search space and let `course.registry.parse_profile` validate it,
# 3. **predict** how many configurations the grid loop will train, and check your prediction,
# 4. let the real grid loop train them, exactly as `course run grid-loop --config my.toml` would.
#
# Everything runs in a temporary folder, so your checkout is not touched.

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

import pandas as pd

from course.errors import CourseError
from course.registry import load_profile, parse_profile

# %% [markdown]
# ## The starting point: the `quick` profile
#
# A profile is a TOML file. Here is the `[space]` table of `quick`, read with the standard
# library's `tomllib`: one list of candidate values per hyperparameter. A list with a single value
# fixes that hyperparameter.

# %%
quick_text = (resources.files("course") / "profiles" / "quick.toml").read_text("utf-8")
quick = tomllib.loads(quick_text)
for name, candidates in quick["space"].items():
    print(f"{name} = {candidates}")

# %% [markdown]
# ## Your turn
#
# **Task.** Edit the `mine["space"].update(...)` line below to make your own grid, then write in
# `MY_PREDICTION` how many configurations it has *before* you run the check cell.
#
# Keep it tiny, because the last cell really trains it: at most four configurations and at most
# five epochs. Keep at least two hyperparameters tuned (two or more candidates), because the
# report draws the grid as a heatmap over two of them.
#
# The cell ships with our own edit and prediction so that the site builds; change both.
#
# <details class="tip"><summary>Hint</summary>
#
# Count the candidates of every hyperparameter, including the ones you did not touch, and
# multiply. A fixed hyperparameter contributes a factor of one. `itertools.product` is exactly
# what the grid loop iterates over.
#
# </details>

# %%
mine = copy.deepcopy(quick)
mine["description"] = "Exercise 1: a tiny grid of my own."
mine["space"].update(layers=[1], units=[8, 16], epochs=[5])  # <- your edit
mine["training"]["patience"] = 2

MY_PREDICTION = 4  # <- how many configurations does your grid have?

# %% [markdown]
# ## Check
#
# `parse_profile` validates the profile (it raises a one-line `CourseError` naming the key if
# something is wrong), and `Space.size` counts the grid.

# %%
profile = parse_profile(mine, "my-grid")
counted = math.prod(len(values) for values in mine["space"].values())
configurations = list(itertools.product(*profile.space.values.values()))

assert profile.space.size == counted == len(configurations)
assert profile.space.size == MY_PREDICTION, (
    f"the grid has {profile.space.size} configurations, not {MY_PREDICTION}"
)
assert set(profile.space.tuned) == {n for n, v in mine["space"].items() if len(v) > 1}
assert len(profile.space.tuned) >= 2, "tune at least two hyperparameters"
assert profile.space.size <= 4 and max(mine["space"]["epochs"]) <= 5, "keep the grid tiny"
print(f"{profile.space.size} configurations; tuned: {', '.join(profile.space.tuned)}")
for configuration in configurations:
    chosen = dict(zip(profile.space.values, configuration, strict=True))
    print({name: chosen[name] for name in profile.space.tuned})

# %% [markdown]
# Validation is strict on purpose: a typo in a profile is a clear error, not a silent surprise.
# Try it: the next cell breaks the profile and shows the message the command line would print.

# %%
broken = copy.deepcopy(mine)
broken["space"]["units"] = [0, 16]
try:
    parse_profile(broken, "broken")
except CourseError as error:
    message = str(error)
    print(message)
else:
    message = ""
assert message.startswith("space.units"), "the error names the offending key"

# %% [markdown]
# ## Train it
#
# Now run the real grid loop on your grid. We write your profile to a TOML file and call the
# command line, `course run grid-loop --config my-grid.toml`, inside a temporary folder; the
# run writes its ledger and its evidence (`docs/generated/data/trials.csv`) there.
#
# The dataset comes from `$COURSE_DATA_URL` if it is set, else from the repository's
# `data/telecust.csv` if you have fetched it, else from its canonical URL.


# %%
def to_toml(document: dict) -> str:
    """Enough TOML for this profile: JSON's strings, numbers and lists are valid TOML too."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in document.items()
             if not isinstance(value, dict)]  # fmt: skip
    for table, values in document.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]", *(f"{k} = {json.dumps(v)}" for k, v in values.items())]
    return "\n".join(lines) + "\n"


runnable = {key: value for key, value in mine.items() if key != "methods"}  # grid loop only
print(to_toml(runnable))

# %%
root = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "mkdocs.yml").is_file()), None)
env = dict(os.environ)
if "COURSE_DATA_URL" not in env and root is not None and (root / "data/telecust.csv").is_file():
    env["COURSE_DATA_URL"] = str(root / "data" / "telecust.csv")

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "my-grid.toml"
    path.write_text(to_toml(runnable), encoding="utf-8")
    assert load_profile(path=path).space == profile.space, "the file holds the same grid"
    command = [sys.executable, "-m", "course", "run", "grid-loop", "--config", str(path)]
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    print(done.stdout)
    trials = pd.read_csv(Path(tmp) / "docs" / "generated" / "data" / "trials.csv")

# %% [markdown]
# ## Check the run
#
# One row of `trials.csv` per fit: the grid loop fits every configuration once, EarlyStopping
# may end a fit before its budget, and the checkpointed best epoch is never later than the last
# epoch trained.

# %%
assert len(trials) == profile.space.size, "one fit per configuration"
assert (trials["epochs_run"] <= trials["epochs"]).all()
assert (trials["best_epoch"] <= trials["epochs_run"]).all()
columns = [*profile.space.tuned, "epochs_run", "best_epoch", "val_accuracy"]
print(trials[columns].to_string(index=False))

# %% [markdown]
# **Going further.** Double one list and predict the new count and the new run time before you
# run again. Which hyperparameter would you *not* tune, given what the heatmap on the
# Grid loop page shows?

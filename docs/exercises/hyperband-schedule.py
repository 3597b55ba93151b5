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
# # Exercise 3: predict the Hyperband schedule
#
# Hyperband does not decide *which* configurations are good; it decides *how many epochs* each
# one deserves. It is fully determined by two settings, `max_epochs` and `factor`, so you can
# work out its whole schedule with pencil and paper before a single epoch is trained. That is
# what this exercise asks.
#
# KerasTuner's arithmetic, which `course.hyperband.plan` reproduces:
#
# * **Brackets.** Count how many times you can divide `max_epochs` by `factor` and still have at
#   least one epoch (count the undivided `max_epochs` too). Brackets are numbered from that count
#   minus one down to 0, and played in that order: the most aggressive bracket first, bracket 0
#   (plain random search at the full budget) last.
# * **Rounds.** Bracket b has b + 1 rounds, r = 0 … b. Round r trains
#   `ceil(max_epochs / factor ** (b - r))` epochs per trial.
# * **Trials.** With `end = ceil(1 + log(max_epochs, factor))`, round r of bracket b runs
#   `ceil(end / (b + 1) * factor ** (b - r))` trials. Round 0 draws fresh random
#   configurations; every later round takes the best of the round before and *continues* its
#   training from the epoch where it stopped (`initial_epoch`), it does not start again.

# %%
import json

import pandas as pd

from course.hyperband import plan
from course.lessons import evidence

SITE_URL = None  # where a downloaded copy fetches its evidence; the site build writes it here

# %% [markdown]
# ## Your prediction
#
# **Task.** For `max_epochs = 9` and `factor = 3`, predict with pencil and paper:
#
# 1. the number of brackets,
# 2. the epochs per trial in each round of the most aggressive bracket,
# 3. the total number of trials Hyperband runs.
#
# Write them in the cell below, replacing each `...`, then run the check.
#
# <details class="tip"><summary>Hint</summary>
#
# Nine divided by three is three, divided again is one, and once more is less than one: how
# many values did you write down? Here `end` is `ceil(1 + 2)`. In the most aggressive bracket
# (b = 2), round 0 runs `ceil(3 / 3 * 3 ** 2)` trials for `ceil(9 / 3 ** 2)` epochs each.
#
# </details>

# %%
MAX_EPOCHS, FACTOR = 9, 3
MY_BRACKETS = ...  # <- a number
MY_FIRST_BRACKET_EPOCHS = ...  # <- a list, one number per round
MY_TRIALS = ...  # <- a number

# %% tags=["solution"]
MY_BRACKETS = 3
MY_FIRST_BRACKET_EPOCHS = [1, 3, 9]
MY_TRIALS = 23

# %% [markdown]
# ## Check your prediction
#
# The check compares your three numbers with `course.hyperband.plan(9, 3)`, the course's
# reproduction of KerasTuner's arithmetic (the course's tests hold it to what KerasTuner runs).

# %%
assert ... not in (MY_BRACKETS, MY_FIRST_BRACKET_EPOCHS, MY_TRIALS), "write your predictions"
schedule = pd.DataFrame(plan(MAX_EPOCHS, FACTOR))
print(schedule.to_string(index=False))

first = schedule[schedule["bracket"] == schedule["bracket"].max()]
assert schedule["bracket"].nunique() == MY_BRACKETS, "count the brackets again"
assert first["epochs"].tolist() == MY_FIRST_BRACKET_EPOCHS, "epochs per round, bracket b = 2"
assert schedule["trials"].sum() == MY_TRIALS, "add up the trials of every round"
print(f"{MY_TRIALS} trials: your prediction is right.")

# %% [markdown]
# ## The schedule of the latest study
#
# Now compare the plan with what KerasTuner really did in the latest study. The
# `kt-hyperband` rows of `docs/generated/data/trials.csv` carry each trial's `bracket`,
# `round`, epoch budget (`epochs`) and the epoch it resumed from (`initial_epoch`).
#
# KerasTuner can run *fewer* trials than planned: round 0 needs fresh configurations, and when
# a small search space runs out of unseen ones it stops drawing. So the check below asks for
# "at most the planned number" per round, and for exactly the planned epochs.

# %%
provenance = json.loads(evidence("provenance.json", SITE_URL).read_text(encoding="utf-8"))
settings = provenance["config"]["methods"].get("kt-hyperband", {})
print(f"Evidence from the `{provenance['profile']}` profile: kt-hyperband {settings}")
trials = pd.read_csv(evidence("data/trials.csv", SITE_URL))
observed = trials[trials["method"] == "kt-hyperband"]
if observed.empty:
    print("The latest study did not run kt-hyperband: its profile has no such method.")

# %%
if not observed.empty:
    study = pd.DataFrame(
        plan(settings["max_epochs"], settings["factor"], settings["hyperband_iterations"])
    )
    planned = study.groupby(["bracket", "round"]).agg(planned=("trials", "sum"),
                                                      epochs=("epochs", "first"))  # fmt: skip
    ran = observed.astype({"bracket": int, "round": int}).groupby(["bracket", "round"])
    comparison = planned.join(ran.size().rename("ran")).fillna({"ran": 0}).astype(int)
    comparison = comparison.sort_index(ascending=[False, True])
    print(comparison.to_string())

# %% [markdown]
# ### Check the study
#
# This check compares the plan with one run: the trials KerasTuner's Hyperband ran in the
# latest study, under its seed, round by round (how many, how many epochs, resumed from where).

# %%
if not observed.empty:
    assert (comparison["ran"] <= comparison["planned"]).all(), "never more than planned"
    for _, trial in observed.iterrows():
        bracket, round_ = int(trial["bracket"]), int(trial["round"])
        assert trial["epochs"] == planned.loc[(bracket, round_), "epochs"]
        resumed = planned.loc[(bracket, round_ - 1), "epochs"] if round_ > 0 else 0
        assert trial["initial_epoch"] == resumed, "a later round resumes its parent's training"
    print(f"{len(observed)} trials, each with exactly the epochs the plan gives its round.")

# %% [markdown]
# **Going further.** Hyperband's budget is `max_epochs`, not a number of trials. Double
# `MAX_EPOCHS` in your head: how many brackets and trials now? Check with `plan(18, 3)`. Then
# compare the total epochs Hyperband *budgets* (`(epochs - initial epoch) x trials`, summed over
# rounds) with what the grid loop would spend on the same space, and look at the `epochs` column
# of the scoreboard on the Comparison page.

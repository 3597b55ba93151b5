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
# # Exercise template: what each search spent
#
# Copy this file to start an exercise of your own (`docs/exercises/<name>.py`); *Your own
# exercise* on the instructors' page lists the rules the site build enforces. The template is
# itself a working exercise, built and checked with the others.
#
# A search's cost is not its number of configurations: cross-validation fits every
# configuration once per fold, successive halving and Hyperband fit some configurations for a
# few epochs only, and EarlyStopping ends most fits before their epoch budget. In this
# exercise you count, from the ledger's export of every fit (`docs/generated/data/trials.csv`),
# what each search of the latest study really trained. Nothing is trained: the notebook reads
# files only.

# %%
import json

import pandas as pd

from course.lessons import evidence

SITE_URL = None  # where a downloaded copy fetches its evidence; the site build writes it here

provenance = json.loads(evidence("provenance.json", SITE_URL).read_text(encoding="utf-8"))
print(f"Evidence from the `{provenance['profile']}` profile, seed {provenance['config']['seed']}.")
trials = pd.read_csv(evidence("data/trials.csv", SITE_URL))
results = pd.read_csv(evidence("data/results.csv", SITE_URL)).set_index("method")
searches = trials[trials["kind"] == "search"]
searches[["method", "trial", "fold", "epochs_run"]].head()

# %% [markdown]
# ## Fits and epochs by method
#
# Each row of `trials.csv` is one fit: one configuration (`trial`) trained on one fold (`fold`)
# for `epochs_run` epochs.
#
# **Task.** Complete `spent(searches)`: a table indexed by `method` with two columns, `fits`
# (how many fits the method trained) and `epochs` (how many epochs they trained in all).
#
# <details class="tip"><summary>Hint</summary>
#
# `DataFrame.groupby("method").agg(...)` with one named aggregation per column.
#
# </details>


# %%
def spent(searches: pd.DataFrame) -> pd.DataFrame:
    """Fits and epochs trained by each method."""
    raise NotImplementedError("complete spent")  # <- your code


# %% tags=["solution"]
def spent(searches: pd.DataFrame) -> pd.DataFrame:  # noqa: F811
    """Fits and epochs trained by each method."""
    return searches.groupby("method").agg(fits=("trial", "size"), epochs=("epochs_run", "sum"))


# %% [markdown]
# **Check.** The ledger also recorded each search's totals when it finished (`results.csv`):
# your counts must agree with them.

# %%
table = spent(searches)
assert list(table.columns) == ["fits", "epochs"], "two columns: fits and epochs"
assert set(table.index) == set(searches["method"]), "one row per method"
recorded = results.loc[table.index]
assert (table["fits"] == recorded["n_fits"]).all(), "fits differ from results.csv's n_fits"
assert (table["epochs"] == recorded["epochs_run"]).all(), "epochs differ from results.csv"
table.assign(configurations=recorded["n_trials"]).sort_values("epochs")

# %% [markdown]
# ## What to take away
#
# Compare `fits` with `configurations` (the configurations a search scored): a CV search pays
# for each configuration once per fold, while a holdout search pays once. The epochs column is
# what the compute bill follows; EarlyStopping and the multi-fidelity methods shrink it below
# the budget.

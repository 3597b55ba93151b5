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
# # Exercise 2: three folds or five?
#
# k-fold cross-validation scores every configuration k times, each time on a different held-out
# fold, and averages. Two things change with k:
#
# * **how much data each model learns from**: more folds, larger training parts;
# * **how noisy the estimate is**: more folds, more scores to average (but each one on fewer
#   rows).
#
# In this exercise you compute the first from the protocol, and measure the second in the
# committed evidence of the latest study, `docs/generated/data/trials.csv`, which holds every
# fold of every configuration. Nothing is trained: the notebook reads files only.

# %%
import json
import math
import re
from pathlib import Path

import pandas as pd

root = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "mkdocs.yml").is_file()), None)
generated = root / "docs" / "generated" if root is not None else None
if generated is None or not (generated / "provenance.json").is_file():
    print("Run this notebook inside the repository, after `course run-all`: no evidence found.")
    generated = None
else:
    provenance = json.loads((generated / "provenance.json").read_text(encoding="utf-8"))
    config = provenance["config"]
    print(f"Evidence from the `{provenance['profile']}` profile, seed {config['seed']}.")

# %% [markdown]
# ## Part A: how much does a model learn from?
#
# The course first sets aside a test split (`test_size` of all rows). Cross-validation works on
# the rest, the development set: with k folds, each model trains on k - 1 of them. Inside those,
# Keras holds out a further `validation_size` for EarlyStopping to watch, so the weights learn
# from what remains.
#
# **Task.** Complete `learns_from(k, test_size, validation_size)`: the fraction of *all* rows
# whose labels the weights of one CV model are fitted on. (It ships solved so the site builds;
# cover the body and write your own.)
#
# <details class="tip"><summary>Hint</summary>
#
# Multiply three fractions: the development share, the share of the development set in the
# training folds, and the share of those rows left after the validation split.
#
# </details>


# %%
def learns_from(k: int, test_size: float, validation_size: float) -> float:
    """Fraction of all rows that train the weights of one model in k-fold CV."""
    development = 1 - test_size
    training_folds = development * (k - 1) / k
    return training_folds * (1 - validation_size)


# %% [markdown]
# ### Check A
#
# The first asserts use the course's default fractions (a fifth for test, a fifth for
# validation). The last ones compare your formula with the table the report generated for the
# Cross-validation trade-offs page (`docs/generated/cv-fractions.md`), rounded as it is.

# %%
assert math.isclose(learns_from(5, 0.2, 0.2), 0.512)
assert math.isclose(learns_from(5, 0.2, 0.0), 0.64)  # before EarlyStopping's validation split
assert learns_from(3, 0.2, 0.2) < learns_from(5, 0.2, 0.2) < learns_from(10, 0.2, 0.2) < 0.8

if generated is not None:
    table = (generated / "cv-fractions.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+)-fold CV \| (\d+)%", table, flags=re.MULTILINE)
    for k, percent in rows:
        mine = learns_from(int(k), config["test_size"], config["validation_size"])
        assert round(100 * mine) == int(percent), (k, mine, percent)
        print(f"{k}-fold: each model learns from {mine:.1%} of all rows (table: {percent}%)")

# %% [markdown]
# ## Part B: how noisy is the estimate?
#
# Each row of `trials.csv` with a `cv_fold_score` is one fold of one configuration (in one
# round, for the halving search); `cv_score` is the mean over its folds, the number the search
# ranks configurations by.
#
# **Task.** Complete `fold_spread(rows)`: for one CV run, return per configuration the number of
# folds, the mean and the standard deviation of the fold scores, and the *standard error* of the
# mean. Then compare the runs with three and with five folds.
#
# <details class="tip"><summary>Hint</summary>
#
# Group by `trial` and `rung` (a halving search scores a configuration once per round, its
# rung). The standard error of a mean of k scores is their standard deviation divided by the
# square root of k. The final refit (fold -1) is not a fold: leave it out.
#
# </details>


# %%
def fold_spread(rows: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (and round): folds, mean and spread of the held-out fold scores."""
    folds = rows[rows["fold"] >= 0].groupby(["trial", "rung"])
    summary = folds["cv_fold_score"].agg(folds="count", mean="mean", std="std")
    summary["stderr"] = summary["std"] / summary["folds"] ** 0.5
    summary["cv_score"] = folds["cv_score"].first()
    return summary


# %%
runs = {}
if generated is not None:
    trials = pd.read_csv(generated / "data" / "trials.csv")
    if "cv_fold_score" in trials:
        cv_trials = trials[trials["cv_fold_score"].notna()]
        runs = {
            method: fold_spread(rows)
            for method, rows in cv_trials.groupby("method")
            if rows["fold"].max() > 0  # the CV study's holdout scheme has a single "fold"
        }
if not runs:
    print("The latest study has no cross-validated run (grid-search-cv, randomized-search-cv).")

overview = pd.DataFrame.from_dict(
    {
        method: {
            "folds": int(spread["folds"].max()),
            "configurations": len(spread),
            "mean fold std": spread["std"].mean(),
            "mean standard error": spread["stderr"].mean(),
        }
        for method, spread in runs.items()
    },
    orient="index",
)
print(overview.to_string(float_format="{:.4f}".format) if runs else "")

# %% [markdown]
# ### Check B
#
# Every configuration of a run is scored on the same number of folds, and the CV score the
# search ranked by is exactly the mean of its fold scores (to the six decimals of the CSV).

# %%
for method, spread in runs.items():
    assert spread["folds"].nunique() == 1, method
    assert ((spread["mean"] - spread["cv_score"]).abs() < 1e-5).all(), method
    assert (spread["std"] >= 0).all() and (spread["stderr"] <= spread["std"]).all(), method

cv3 = [m for m in runs if m.startswith("randomized-search-cv[cv3-")]
cv5 = [m for m in runs if m.startswith("randomized-search-cv[cv5-")]
if cv3 and cv5:
    print(overview.loc[[cv3[0], cv5[0]]].to_string(float_format="{:.4f}".format))
else:
    print(
        "This study has no pair of randomized-search-cv runs with three and five folds "
        "(the standard profile has them); compare the runs above instead."
    )

# %% [markdown]
# **Think about it.** More folds give more scores to average, but each score is measured on
# fewer rows, so each one is noisier. Which effect wins in the table above? Is the difference
# between the two runs' standard errors itself larger than you would expect by chance with so few
# configurations? And what does a fifth fold cost? (Look at the `fits` column on the Comparison
# page.)

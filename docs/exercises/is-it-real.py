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
# # Exercise 4: is the difference real?
#
# Two searches' final models score a few points apart on the test set. Is the first one better,
# or luckier? Each final model is *one fitted model*: one search, run once, under one seed, on
# one split of the data. Both predicted the *same* test rows, and
# `docs/generated/data/predictions.csv` holds every prediction. On most rows the two models
# agree (both right or both wrong); those rows say nothing about which model is better. Only the
# rows where exactly one of them is right carry evidence, and McNemar's test asks whether they
# split more unevenly than coin flips would.
#
# What the test compares, exactly: **two fitted models on one test split**, not two methods.
# A small p says that *these two models* differ in accuracy on data like these test rows; it
# says nothing about whether the other search would win again under another seed or split
# (that question needs repeats, and the site answers it with Nadeau and Bengio's corrected
# t-test over seeds when the study has them). Nothing is trained: the notebook reads files only.

# %%
import json
import math

import numpy as np
import pandas as pd

from course.lessons import evidence
from course.stats import mcnemar

SITE_URL = None  # where a downloaded copy fetches its evidence; the site build writes it here

provenance = json.loads(evidence("provenance.json", SITE_URL).read_text(encoding="utf-8"))
print(f"Evidence from the `{provenance['profile']}` profile, seeds {provenance['seeds']}.")
predictions = pd.read_csv(evidence("data/predictions.csv", SITE_URL))
results = pd.read_csv(evidence("data/results.csv", SITE_URL))
# the clean searches and the untuned baseline: not the CV study (an experiment), nor the seed
# protocol's run (it selected on these very test rows)
kept = results[results["kind"].isin(["search", "baseline"]) & (results["protocol"] == "clean")]
predictions = predictions[predictions["method"].isin(kept["method"])].copy()

# %% [markdown]
# ## Part A: McNemar's exact test by hand
#
# **Task.** Complete `mcnemar_p(a_only, b_only)`: the two-sided p-value of the exact test, given
# the number of test rows only model a gets right and the number only model b gets right.
#
# <details class="tip"><summary>Hint</summary>
#
# If neither model were better, each of the n = a_only + b_only disagreeing rows would be a coin
# flip. The p-value is the probability of a split at least as uneven as the one seen, on either
# side: twice the binomial tail P(X <= min(a_only, b_only)) for X ~ Binomial(n, 1/2), capped at
# 1. `math.comb(n, k)` counts the ways to pick k rows of n.
#
# </details>


# %%
def mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the two counts of disagreeing rows."""
    raise NotImplementedError("complete mcnemar_p")  # <- your code


# %% tags=["solution"]
def mcnemar_p(a_only: int, b_only: int) -> float:  # noqa: F811 (replaces the task's stub)
    """Two-sided exact McNemar p-value from the two counts of disagreeing rows."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1)) / 2**n
    return min(1.0, 2 * tail)


# %% [markdown]
# ### Check A
#
# Hand-made counts first. Then two fitted models of the latest study: the final models of the
# two runs (searches, or the untuned baseline) whose test accuracies lie furthest apart, on the
# test rows they both predicted. Your p-value must match the course's own (`course/stats.py`),
# which the Conclusions page prints in its table of pairs.
#
# A warning before you read the p-value: this pair was *chosen* for lying furthest apart, out
# of dozens of pairs. The most extreme of many comparisons is small by selection, so its raw p
# overstates the evidence; the table of pairs on the Conclusions page also gives each p after
# Holm's adjustment for the number of pairs, and that is the one to judge it by.

# %%
assert mcnemar_p(0, 0) == 1.0
assert abs(mcnemar_p(15, 0) - 2 * 0.5**15) < 1e-12, "15 of 15 rows on one side"
assert abs(mcnemar_p(7, 3) - mcnemar_p(3, 7)) < 1e-12, "the test is two-sided"

predictions["right"] = predictions["label"] == predictions["predicted"]
accuracy = predictions.groupby("method")["right"].mean().sort_values()
worst, best = accuracy.index[0], accuracy.index[-1]
right = {m: predictions[predictions["method"] == m].sort_values("row") for m in (best, worst)}
assert (right[best]["row"].to_numpy() == right[worst]["row"].to_numpy()).all(), "same rows"
a, b = right[best]["right"].to_numpy(), right[worst]["right"].to_numpy()
a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
rows = len(a)  # test rows both models predicted
p = mcnemar_p(a_only, b_only)
theirs = mcnemar(
    right[best]["label"].to_numpy(),
    right[best]["predicted"].to_numpy(),
    right[worst]["predicted"].to_numpy(),
)
print(
    f"{best} {accuracy[best]:.3f} vs {worst} {accuracy[worst]:.3f} on {rows} test rows: "
    f"{a_only} rows only the first model gets right, {b_only} only the second; p = {p:.3f}"
)
assert (a_only, b_only) == (theirs.a_only, theirs.b_only)
assert np.isclose(p, theirs.p_value), "compare your tail sum with the hint"
print("Your test agrees with the course's.")

# %% [markdown]
# ## Part B: how lopsided must the disagreements be?
#
# The two models above disagree on n = a_only + b_only test rows; on the other rows they agree,
# and those rows add the same to both accuracies. Keep n as it is and ask: of those n rows, how
# many must the more accurate model win (be right where the other is wrong) for McNemar's p to
# drop below 0.05? Call that number k. Winning k rows and losing n - k puts the two accuracies
# (2k - n) / N apart, N being the number of test rows both models predicted.
#
# **Task.** Complete `smallest_win(n)`: the smallest k, out of n disagreeing rows, with
# `mcnemar_p(k, n - k) < 0.05` (None if even k = n is not enough). The check then turns it into
# the smallest accuracy difference these two models could have shown with their n
# disagreements, and sets it beside the difference they did show, (a_only - b_only) / N.
#
# <details class="tip"><summary>Hint</summary>
#
# Try k = n, n - 1, ... downwards, or k = 0, 1, ... upwards keeping only k > n - k: the p-value
# falls as the split gets more uneven.
#
# </details>


# %%
def smallest_win(n: int) -> int | None:
    """The fewest of n disagreeing rows the better model must win for p < 0.05."""
    raise NotImplementedError("complete smallest_win")  # <- your code


# %% tags=["solution"]
def smallest_win(n: int) -> int | None:  # noqa: F811 (replaces the task's stub)
    """The fewest of n disagreeing rows the better model must win for p < 0.05."""
    return next((k for k in range(n + 1) if k > n - k and mcnemar_p(k, n - k) < 0.05), None)


# %% [markdown]
# ### Check B

# %%
assert smallest_win(5) is None, "with 5 disagreements even 5 to 0 gives p = 0.0625"
assert smallest_win(6) == 6 and smallest_win(20) == 15

n = a_only + b_only
k = smallest_win(n)
if k is None:
    print(f"With only {n} disagreeing rows, no split reaches p < 0.05.")
else:
    assert mcnemar_p(k, n - k) < 0.05 <= mcnemar_p(k - 1, n - k + 1)
    print(
        f"Of the {n} rows on which the two models disagree, the better one must win at least "
        f"{k} for p < 0.05: accuracies {(2 * k - n) / rows:.3f} apart on {rows} rows. "
        f"It won {a_only}: {(a_only - b_only) / rows:.3f} apart."
    )

# %% [markdown]
# **Think about it.** Two models that disagree on few rows cannot be told apart, however their
# accuracies compare; this is why so many verdicts on this site read "too close to call". And
# even a small p is about these two fitted models: rerun both searches under another seed and
# the ranking of the *methods* may turn.

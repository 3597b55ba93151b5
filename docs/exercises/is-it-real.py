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
# Two searches score a few points apart on the test set. Is the first one better, or luckier? Both
# final models predicted the *same* 200 test rows, and `docs/generated/data/predictions.csv`
# holds every prediction. On most rows the two models agree (both right or both wrong); those
# rows say nothing about which model is better. Only the rows where exactly one of them is
# right carry evidence, and McNemar's test asks whether they split more unevenly than coin
# flips would. Nothing is trained: the notebook reads files only.

# %%
import json
import math
from pathlib import Path

import pandas as pd

root = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "mkdocs.yml").is_file()), None)
generated = root / "docs" / "generated" if root is not None else None
predictions = pd.DataFrame()
if generated is not None and (generated / "data" / "predictions.csv").is_file():
    provenance = json.loads((generated / "provenance.json").read_text(encoding="utf-8"))
    print(f"Evidence from the `{provenance['profile']}` profile, seeds {provenance['seeds']}.")
    predictions = pd.read_csv(generated / "data" / "predictions.csv")
    # the searches and the untuned baseline: not the CV study, nor the seed protocol (it
    # selected on the test rows)
    searches = ~predictions["method"].str.contains("cv-study|seed-protocol")
    predictions = predictions[searches]
if predictions.empty:
    print("Run this notebook inside the repository, after `course run-all`: no evidence found.")

# %% [markdown]
# ## Part A: McNemar's exact test by hand
#
# **Task.** Complete `mcnemar_p(a_only, b_only)`: the two-sided p-value of the exact test, given
# the number of rows only model a gets right and the number only model b gets right. (It ships
# solved so the site builds; cover the body and write your own.)
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
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1)) / 2**n
    return min(1.0, 2 * tail)


# %% [markdown]
# ### Check A
#
# A hand-made case first, then the two runs of the latest study (searches, or the baseline)
# whose test accuracies lie furthest apart: your p-value must match the course's own
# (`course/stats.py`), which the Conclusions page prints in its table of pairs.

# %%
assert mcnemar_p(0, 0) == 1.0
assert abs(mcnemar_p(15, 0) - 2 * 0.5**15) < 1e-12, "15 of 15 rows on one side"
assert abs(mcnemar_p(7, 3) - mcnemar_p(3, 7)) < 1e-12, "the test is two-sided"

if not predictions.empty:
    import numpy as np

    from course.stats import mcnemar

    predictions["right"] = predictions["label"] == predictions["predicted"]
    accuracy = predictions.groupby("method")["right"].mean().sort_values()
    worst, best = accuracy.index[0], accuracy.index[-1]
    right = {m: predictions[predictions["method"] == m].sort_values("row") for m in (best, worst)}
    a, b = right[best]["right"].to_numpy(), right[worst]["right"].to_numpy()
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    mine = mcnemar_p(a_only, b_only)
    labels = right[best]["label"].to_numpy()
    theirs = mcnemar(
        labels, right[best]["predicted"].to_numpy(), right[worst]["predicted"].to_numpy()
    )
    print(
        f"{best} {accuracy[best]:.3f} vs {worst} {accuracy[worst]:.3f}: {a_only} rows only "
        f"the first gets right, {b_only} only the second; p = {mine:.3f}"
    )
    assert (a_only, b_only) == (theirs.a_only, theirs.b_only)
    assert np.isclose(mine, theirs.p_value), "compare your tail sum with the hint"
    print("Your test agrees with the course's.")

# %% [markdown]
# ## Part B: how big would a real difference have to be?
#
# With n disagreeing rows, the split must be quite uneven before p drops below 0.05. **Task.**
# For the pair above, find the smallest number of those n rows that the better model must win
# for p < 0.05, and what accuracy difference that is on 200 test rows. Compare it with the
# difference the study found: this is why so many verdicts on this site read "too close to
# call".

# %%
if not predictions.empty:
    n = a_only + b_only
    needed = next(k for k in range(n + 1) if mcnemar_p(k, n - k) < 0.05 and k > n - k)
    rows = right[best]["row"].nunique()
    print(
        f"Of {n} disagreeing rows, the better model must win at least {needed} "
        f"(a difference of {(2 * needed - n) / rows:.3f} in accuracy); "
        f"it won {a_only} ({(a_only - b_only) / rows:.3f})."
    )
    assert mcnemar_p(needed, n - needed) < 0.05 <= mcnemar_p(needed - 1, n - needed + 1)

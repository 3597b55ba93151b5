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
#   rows, and from models trained on ever more similar data).
#
# In this exercise you compute the first from the protocol, measure the spread of fold scores
# in the evidence of the latest study (`docs/generated/data/trials.csv` holds every fold of
# every configuration), and see why the usual standard error of a CV score, sd/√k, is too
# optimistic. Nothing is trained: the notebook reads files only.

# %%
import json
import math

import pandas as pd

from course.lessons import evidence
from course.space import NAMES

SITE_URL = None  # where a downloaded copy fetches its evidence; the site build writes it here

provenance = json.loads(evidence("provenance.json", SITE_URL).read_text(encoding="utf-8"))
config = provenance["config"]
print(f"Evidence from the `{provenance['profile']}` profile, seed {config['seed']}.")
trials = pd.read_csv(evidence("data/trials.csv", SITE_URL))
rows_total = int(pd.read_csv(evidence("data/classes.csv", SITE_URL))["rows"].sum())

# %% [markdown]
# ## Part A: how much does a model learn from?
#
# The course first sets aside a test split (`test_size` of all rows). Cross-validation works on
# the rest, the development set: with k folds, each model trains on k - 1 of them. Inside those,
# Keras holds out a further `validation_size` for EarlyStopping to watch, so the weights learn
# from what remains.
#
# **Task.** Complete `learns_from(k, test_size, validation_size)`: the fraction of *all* rows
# whose labels the weights of one CV model are fitted on.
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
    raise NotImplementedError("complete learns_from")  # <- your code


# %% tags=["solution"]
def learns_from(k: int, test_size: float, validation_size: float) -> float:  # noqa: F811
    """Fraction of all rows that train the weights of one model in k-fold CV."""
    development = 1 - test_size
    training_folds = development * (k - 1) / k
    return training_folds * (1 - validation_size)


# %% [markdown]
# ### Check A
#
# The first asserts use the course's default fractions (a fifth for test, a fifth for
# validation). The last ones compare your formula, at the study's own fractions, with what the
# study's CV experiment (`cv-study` in `trials.csv`) recorded: the rows each of its fits really
# trained on (`train_rows`), out of all the dataset's rows.

# %%
assert math.isclose(learns_from(5, 0.2, 0.2), 0.512)
assert math.isclose(learns_from(5, 0.2, 0.0), 0.64)  # before EarlyStopping's validation split
assert learns_from(3, 0.2, 0.2) < learns_from(5, 0.2, 0.2) < learns_from(10, 0.2, 0.2) < 0.8

study = trials[trials["method"].str.startswith("cv-study[cv") & (trials["fold"] >= 0)]
for method, fits in study.groupby("method"):
    k = int(fits["fold"].nunique())
    mine = learns_from(k, config["test_size"], config["validation_size"])
    measured = fits["train_rows"].mean() / rows_total
    assert abs(mine - measured) < 1 / rows_total, (method, mine, measured)  # within one row
    print(f"{k}-fold CV: each model learns from {mine:.1%} of all rows (measured {measured:.1%})")
if study.empty:
    print("This study has no CV experiment (the standard profile runs one).")

# %% [markdown]
# ## Part B: how spread out are the fold scores?
#
# Each row of `trials.csv` with a `cv_fold_score` is one fold of one configuration (in one
# round, for the halving search); `cv_score` is the mean over its folds, the number the search
# ranks configurations by.
#
# **Task.** Complete `fold_spread(rows)`: for one CV run, return per configuration the number of
# folds, the mean and the standard deviation of the fold scores, and the *naive* standard error
# of the mean, sd/√k. It is naive because it treats the k fold scores as k independent
# measurements; Part C shows why they are not.
#
# <details class="tip"><summary>Hint</summary>
#
# Group by `trial` and `rung` (a halving search scores a configuration once per round, its
# rung). The final refit (fold -1) is not a fold: leave it out.
#
# </details>


# %%
def fold_spread(rows: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (and round): folds, mean, sd and naive standard error of the fold
    scores; columns folds, mean, std, naive_se, cv_score."""
    raise NotImplementedError("complete fold_spread")  # <- your code


# %% tags=["solution"]
def fold_spread(rows: pd.DataFrame) -> pd.DataFrame:  # noqa: F811
    """Per configuration (and round): folds, mean, sd and naive standard error of the fold
    scores; columns folds, mean, std, naive_se, cv_score."""
    folds = rows[rows["fold"] >= 0].groupby(["trial", "rung"])
    summary = folds["cv_fold_score"].agg(folds="count", mean="mean", std="std")
    summary["naive_se"] = summary["std"] / summary["folds"] ** 0.5
    summary["cv_score"] = folds["cv_score"].first()
    return summary


# %%
cv_trials = trials[trials["cv_fold_score"].notna() & ~trials["method"].str.startswith("cv-study")]
runs = {method: fold_spread(rows) for method, rows in cv_trials.groupby("method")}
if not runs:
    print("The latest study has no cross-validated search (grid-search-cv, randomized-search-cv).")

overview = pd.DataFrame.from_dict(
    {
        method: {
            "folds": int(spread["folds"].max()),
            "configurations": len(spread),
            "mean fold sd": spread["std"].mean(),
            "mean naive SE (sd/√k)": spread["naive_se"].mean(),
        }
        for method, spread in runs.items()
    },
    orient="index",
)
print(overview.to_string(float_format="{:.4f}".format) if runs else "")

# %% [markdown]
# ### Check B
#
# Within each run: every configuration is scored on the same number of folds, and the CV score
# the search ranked by is exactly the mean of its fold scores (to the six decimals of the CSV).
# Then the comparison: a three-fold and a five-fold run of `randomized-search-cv` with the same
# number of samples (`cv3-n8` and `cv5-n8`). Under one seed they draw the same configurations,
# which the check verifies, so the two rows below score the *same configurations* on one
# partition of the development set into three folds and one into five.

# %%
for method, spread in runs.items():
    assert spread["folds"].nunique() == 1, method
    assert ((spread["mean"] - spread["cv_score"]).abs() < 1e-5).all(), method
    assert (spread["std"] >= 0).all() and (spread["naive_se"] <= spread["std"]).all(), method

twin = {m: m.replace("[cv3-", "[cv5-") for m in runs if m.startswith("randomized-search-cv[cv3-")}
pairs = [(three, five) for three, five in twin.items() if five in runs]
for three, five in pairs:
    drawn = [cv_trials[cv_trials["method"] == m].groupby("trial")[list(NAMES)].first()
             for m in (three, five)]  # fmt: skip
    assert drawn[0].reset_index(drop=True).equals(drawn[1].reset_index(drop=True)), "same draws"
    print(overview.loc[[three, five]].to_string(float_format="{:.4f}".format))
if not pairs:
    print(
        "This study has no pair of randomized-search-cv runs with three and five folds and the "
        "same number of samples (the standard profile has one); compare the runs above instead."
    )

# %% [markdown]
# ## Part C: why sd/√k is too optimistic
#
# sd/√k is the standard error of a mean of k *independent* measurements. Fold scores are not
# independent. The held-out folds are disjoint, but the k models are trained on overlapping
# data: with k folds, any two training sets share k - 2 of their k - 1 folds (for k = 5, three
# quarters of their rows), so the k models are alike and their scores do not vary
# independently of each other.
#
# Say each fold score has variance σ² and any two correlate with ρ > 0 (equal variances and
# correlations: a simplification). Then
#
# * the variance of their mean, the CV score, is σ²/k · (1 + (k - 1)ρ), larger than σ²/k;
# * the sample variance of the k scores estimates only σ²(1 - ρ), smaller than σ²: the scores
#   agree with each other *because* they are correlated.
#
# Both errors shrink sd/√k. Read it as a lower bound of the CV score's uncertainty, not as its
# size. Nor can a single CV run do better: Bengio and Grandvalet (2004, *No unbiased estimator
# of the variance of K-fold cross-validation*) proved that no estimator computed from one k-fold
# run's errors is unbiased for that variance under every distribution: the errors cannot tell
# their variance from their covariance. Nadeau and Bengio (2003, *Inference for the
# generalization error*) showed that overlapping training sets make naive variance estimates
# too small, so naive resampled t-tests find differences that are not there, and proposed the
# corrected test this site uses across seeds (`course.stats.corrected_t`).
#
# **Task.** Complete `true_over_naive(k, rho)`: by what factor the true standard error of the
# mean of k fold scores exceeds what sd/√k estimates, on average, when any two of them
# correlate with `rho`. Use the two formulas above.
#
# <details class="tip"><summary>Hint</summary>
#
# The true standard error is σ √((1 + (k - 1)ρ) / k); sd/√k estimates σ √((1 - ρ) / k). Divide:
# σ and k cancel out, except in (k - 1)ρ.
#
# </details>


# %%
def true_over_naive(k: int, rho: float) -> float:
    """True standard error of a k-fold mean over the naive sd/√k, at fold correlation rho."""
    raise NotImplementedError("complete true_over_naive")  # <- your code


# %% tags=["solution"]
def true_over_naive(k: int, rho: float) -> float:  # noqa: F811
    """True standard error of a k-fold mean over the naive sd/√k, at fold correlation rho."""
    return math.sqrt((1 + (k - 1) * rho) / (1 - rho))


# %% [markdown]
# ### Check C
#
# The check compares your factor with the two formulas at hand-picked values, then applies it
# to the naive figures of Part B, for a few correlations you cannot measure from one run.

# %%
assert true_over_naive(5, 0.0) == 1.0, "independent folds: sd/√k is right"
assert math.isclose(true_over_naive(5, 0.2), 1.5), "(1 + 4 x 0.2) / 0.8 = 2.25"
assert true_over_naive(10, 0.2) > true_over_naive(5, 0.2) > true_over_naive(3, 0.2) > 1

if runs:
    rhos = (0.1, 0.2, 0.4)
    corrected = pd.DataFrame(
        {
            f"SE if ρ = {rho}": [
                overview.loc[m, "mean naive SE (sd/√k)"]
                * true_over_naive(int(overview.loc[m, "folds"]), rho)
                for m in overview.index
            ]
            for rho in rhos
        },
        index=overview.index,
    )
    print(
        overview[["mean naive SE (sd/√k)"]].join(corrected).to_string(float_format="{:.4f}".format)
    )

# %% [markdown]
# **Think about it.** More folds give more scores to average, but each score is measured on
# fewer rows, and the models behind them overlap more (for k = 10, in eight ninths of their
# training rows): the naive standard error falls with k faster than the real uncertainty does.
# Which run has the smaller naive figure above, and would it still be smaller if the five-fold
# scores correlated more than the three-fold ones? What does a fifth fold cost? (Look at the
# `fits` column on the Comparison page.) And what *would* measure the uncertainty? Repeating
# the whole CV under other seeds, as `course run-all --repeats` does.

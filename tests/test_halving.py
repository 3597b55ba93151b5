"""The successive-halving schedule the course prints and plans is scikit-learn's own."""

from __future__ import annotations

import pytest

from course.hyperband import halving


@pytest.mark.parametrize(
    ("candidates", "min_epochs", "max_epochs", "factor"),
    [(9, 2, 18, 3), (3, 2, 6, 3), (10, 1, 40, 3), (27, 1, 9, 3), (5, 3, 50, 2), (8, 2, 7, 2)],
)
def test_halving_is_the_schedule_scikit_learn_runs(
    candidates: int, min_epochs: int, max_epochs: int, factor: int
) -> None:
    """A real HalvingRandomSearchCV, with a decision tree's depth standing in for epochs as
    the resource: its rounds are the ones `halving` computes."""
    from sklearn.datasets import make_classification
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV
    from sklearn.tree import DecisionTreeClassifier

    x, y = make_classification(n_samples=60, random_state=0)
    search = HalvingRandomSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"min_samples_split": list(range(2, 2 + candidates))},
        n_candidates=candidates, resource="max_depth", min_resources=min_epochs,
        max_resources=max_epochs, factor=factor, cv=2, random_state=0,
    ).fit(x, y)  # fmt: skip
    rows = halving(candidates, min_epochs, max_epochs, factor)
    assert [r["candidates"] for r in rows] == search.n_candidates_
    assert [r["epochs"] for r in rows] == search.n_resources_
    assert [r["round"] for r in rows] == list(range(search.n_iterations_))

"""Searchers that decide every candidate up front (a grid, a random sample): what the grid
loop and the scikit-learn searches evaluate, as ask/tell objects the lab can drive too."""

from __future__ import annotations

from collections.abc import Iterable

from course.study import Candidate, Params


class FixedSearcher:
    """Asks for each configuration in turn; scores change nothing (that is what makes it a
    grid or a random search, not an adaptive one)."""

    def __init__(self, configurations: Iterable[Params]) -> None:
        self._candidates = [Candidate(t, dict(p)) for t, p in enumerate(configurations)]
        self._next = 0

    def ask(self) -> Candidate | None:
        if self._next == len(self._candidates):
            return None
        self._next += 1
        return self._candidates[self._next - 1]

    def tell(self, candidate: Candidate, score: float, pruned: bool = False) -> None:
        """Nothing to learn: every candidate was fixed before the first score."""


def drain(searcher: FixedSearcher) -> list[Candidate]:
    """Every candidate of a searcher that does not adapt, in the order it asks for them."""
    candidates = []
    while (candidate := searcher.ask()) is not None:
        candidates.append(candidate)
    return candidates


def kt_seed(seed: int) -> int:
    """The seed to give a KerasTuner oracle. Its constructor takes `seed or random.randint(1,
    10000)`, so seed 0 would mean no seed, a different search on every run: 0 goes as 2**32,
    a seed no other reaches (profiles' seeds are below it)."""
    return seed or 2**32

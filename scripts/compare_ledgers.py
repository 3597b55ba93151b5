"""Compare every fit and result of two ledgers: did a change of code train the same fits?

    python scripts/compare_ledgers.py OLD/runs/ledger.sqlite NEW/runs/ledger.sqlite

Fits are matched by (run id, trial, fold, rung), results by run id. A fit must agree in its
configuration, epochs run, best epoch, validation accuracy and loss, status, history and extra
columns; a result in its configuration, scores and predictions. Seconds are not compared. Exits
1 if anything differs, so it can gate a refactoring.
"""

from __future__ import annotations

import json
import sqlite3
import sys

FIT_COLUMNS = ("params", "epochs_run", "best_epoch", "val_accuracy", "val_loss", "status",
               "history", "extra")  # fmt: skip
RESULT_COLUMNS = ("params", "selection_score", "test_accuracy", "test_ci_low", "test_ci_high",
                  "predictions")  # fmt: skip
JSON_COLUMNS = {"params", "history", "extra", "predictions"}


def _load(path: str) -> tuple[dict, dict]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        fits = {(r["run_id"], r["trial"], r["fold"], r["rung"]): dict(r)
                for r in db.execute("SELECT * FROM fits")}  # fmt: skip
        results = {r["run_id"]: dict(r) for r in db.execute("SELECT * FROM results")}
    finally:
        db.close()
    return fits, results


def _differs(a: dict, b: dict, columns: tuple[str, ...]) -> str | None:
    for column in columns:
        left, right = a[column], b[column]
        if column in JSON_COLUMNS:
            left, right = json.loads(left), json.loads(right)
        if left != right:
            return column
    return None


def main() -> int:
    (old_fits, old_results), (new_fits, new_results) = map(_load, sys.argv[1:3])
    shared = old_fits.keys() & new_fits.keys()
    bad = [(k, c) for k in sorted(shared) if (c := _differs(old_fits[k], new_fits[k], FIT_COLUMNS))]
    runs = old_results.keys() & new_results.keys()
    worse = [(r, c) for r in sorted(runs)
             if (c := _differs(old_results[r], new_results[r], RESULT_COLUMNS))]  # fmt: skip
    for key, column in bad[:20]:
        print(f"fit {key}: {column} differs")
    for run_id, column in worse:
        print(f"result {run_id}: {column} differs")
    print(f"{len(shared) - len(bad)} of {len(shared)} shared fits identical "
          f"({len(old_fits)} old, {len(new_fits)} new); {len(runs) - len(worse)} of {len(runs)} "
          "shared results identical")  # fmt: skip
    return 1 if bad or worse or old_fits.keys() != new_fits.keys() else 0


if __name__ == "__main__":
    sys.exit(main())

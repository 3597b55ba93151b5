"""grid-loop: the hand-written grid search every course starts with.

Every configuration of the grid is trained once on the training part of the development set
and scored on a holdout validation part (never the test set). The fit with the best validation
accuracy wins; its checkpoint (the best epoch) is the final model, scored once on the test set.

`protocol="seed"` reproduces the seed notebook instead: it trains on the whole development set
and validates (and checkpoints) on the test split itself, so its "test accuracy" is optimistic.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

from course.data import holdout_scaled
from course.model import FitOutcome, ModelPool, build_model, callbacks, seed_everything
from course.space import split_params

if TYPE_CHECKING:
    from course.runner import Context

FOLD = 0  # a single holdout fit per trial


def run(ctx: Context) -> None:
    profile, ledger, run_id = ctx.profile, ctx.ledger, ctx.run.run_id
    x_train, y_train, x_val, y_val, x_test, _ = holdout_scaled(
        ctx.split, profile.seed, profile.validation_size, ctx.protocol
    )
    space = profile.space.values
    done = {fit["trial"]: fit["val_accuracy"] for fit in ledger.fits(run_id)}
    task = ctx.progress.task(ctx.run.method, profile.space.size, list(done.values()))
    pool = ModelPool()  # one compiled model per architecture: no recompiling on every fit

    # --8<-- [start:loop]
    for trial, values in enumerate(itertools.product(*space.values())):
        if trial in done:
            continue  # finished in an earlier, interrupted invocation
        params = dict(zip(space, values, strict=True))
        model_params, fit_params = split_params(params)  # epochs and batch size go to fit()
        seed_everything(profile.seed)  # seeded per fit: a result never depends on fit order
        model = pool.model(len(x_train), **model_params)  # as fresh as build_model(...)
        start = time.perf_counter()
        history = model.fit(
            x_train, y_train,
            validation_data=(x_val, y_val),
            callbacks=callbacks(profile.training, ctx.checkpoint(trial)),
            verbose=0,
            **fit_params,
        )  # fmt: skip
        outcome = FitOutcome.from_history(
            history.history, profile.training, time.perf_counter() - start
        )
        ledger.record_fit(run_id, trial, FOLD, params, profile.seed, outcome)
        task.advance(outcome.val_accuracy)
    # --8<-- [end:loop]

    # --8<-- [start:final]
    fits = ledger.fits(run_id)
    best = max(fits, key=lambda f: (f["val_accuracy"], -f["val_loss"], -f["trial"]))
    final = build_model(**split_params(best["params"])[0])
    final.load_weights(ctx.checkpoint(best["trial"]))  # the best epoch of the best configuration
    best_path = ctx.run_dir / "best.keras"
    final.save(best_path)
    y_pred = final.predict(x_test, verbose=0).argmax(axis=1)
    # --8<-- [end:final]
    ctx.finish(best["params"], best["val_accuracy"], best_path, y_pred)

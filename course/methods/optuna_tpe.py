"""optuna-tpe: Optuna's TPE sampler, with a pruner stopping unpromising trials epoch by epoch.

TPE (the Tree-structured Parzen Estimator) splits the trials so far into the good and the
rest by score, models the density of each, and proposes where good configurations are dense
and the rest are not; `multivariate` models the hyperparameters jointly. The first
`startup_trials` are random. Every epoch, a Keras callback reports the monitored score to the
trial and asks the pruner (successive halving, i.e. ASHA, by default) whether to go on; a
pruned trial stops there, and its fit is recorded with status `pruned` and the epochs it ran.

The study lives in Optuna's own journal file under the run's folder, so Optuna resumes too: a
trial that was running when the run was killed is failed on resume and its configuration
trained again (a fit recorded before the kill is told to Optuna instead). The sampler's random
state is not saved, so after a resume it is seeded anew, and proposals may differ from an
uninterrupted run's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.config import Profile, Setting
from course.errors import CourseError
from course.study import Context, Method, Outcome

if TYPE_CHECKING:
    import numpy as np
    import optuna

    from course.cluster import Cluster
    from course.fitting import Fitter
    from course.records import FitOutcome

PRUNERS = ("successive-halving", "hyperband", "median", "none")
JOURNAL = "optuna.journal"  # the study's storage, in the run's folder


def _pruner_name(value: str, where: str) -> str:
    if value not in PRUNERS:
        raise CourseError(f"{where}: {value!r}; expected one of {', '.join(PRUNERS)}")
    return value


def pruner(settings: dict[str, Any], max_epochs: int) -> optuna.pruners.BasePruner:
    """The profile's pruner; its steps are epochs (1 after the first)."""
    import optuna

    name, first, factor = settings["pruner"], settings["min_epochs"], settings["factor"]
    # --8<-- [start:pruner]
    if name == "successive-halving":  # asynchronous (ASHA): each trial judged as it reaches
        return optuna.pruners.SuccessiveHalvingPruner(  # a rung, against those there before
            min_resource=first, reduction_factor=factor
        )
    if name == "hyperband":  # several successive-halving brackets, as KerasTuner's Hyperband
        return optuna.pruners.HyperbandPruner(
            min_resource=first, max_resource=max_epochs, reduction_factor=factor
        )
    if name == "median":  # stop a trial worse than the median of earlier trials at this epoch
        return optuna.pruners.MedianPruner(n_warmup_steps=first)
    return optuna.pruners.NopPruner()
    # --8<-- [end:pruner]


def sampler(settings: dict[str, Any], seed: int) -> optuna.samplers.TPESampler:
    import optuna

    with warnings.catch_warnings():  # multivariate and constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # --8<-- [start:sampler]
        return optuna.samplers.TPESampler(
            n_startup_trials=settings["startup_trials"],  # random trials first
            multivariate=True,  # one joint density over every hyperparameter
            constant_liar=True,  # with --workers: a running trial counts as a bad one
            seed=seed,
        )
        # --8<-- [end:sampler]


def pruning_callback(trial: optuna.Trial, monitor: str) -> Any:
    """A Keras callback that reports the monitored score to the trial after every epoch and
    stops training when the pruner says so (the fit ends as an early-stopped one would, and
    is recorded); its `pruned` says whether it did."""
    import keras

    class Pruning(keras.callbacks.Callback):
        pruned = False

        # --8<-- [start:callback]
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            trial.report(float((logs or {})[monitor]), step=epoch + 1)  # epochs so far
            if trial.should_prune():
                self.pruned = True
                self.model.stop_training = True

        # --8<-- [end:callback]

    return Pruning()


@dataclass(frozen=True)
class Job:
    """What a process needs to run trials of the study (picklable into `--workers`)."""

    profile: Profile
    settings: dict[str, Any]
    fitter: Fitter
    arrays: tuple[np.ndarray, ...]  # x_train, y_train, x_val, y_val

    @property
    def storage_path(self) -> Path:
        return self.fitter.run_dir / JOURNAL

    def clear_stale_lock(self) -> None:
        """A study killed while it wrote leaves Optuna's journal lock behind (a symlink beside
        the journal), and a rerun waits on it: for Optuna's grace period at best, for ever
        when the link's target is missing. Called by the run's own process before it opens
        the study and before any worker starts: the run's lock (course.locks) keeps every other
        writer out, so a lock found then is stale."""
        Path(f"{self.storage_path}.lock").unlink(missing_ok=True)  # Optuna's LOCK_FILE_SUFFIX

    def study(self, seed: int) -> optuna.Study:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says it all
        self.storage_path.parent.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(self.storage_path))
        )
        training = self.profile.training
        return optuna.create_study(
            storage=storage,
            study_name=self.fitter.recorder.run_id,
            sampler=sampler(self.settings, seed),
            pruner=pruner(self.settings, training.max_epochs),
            direction="minimize" if training.mode == "min" else "maximize",
            load_if_exists=True,  # a rerun resumes the study
        )

    def objective(self, trial: optuna.Trial) -> float:
        """Train one trial's configuration on the holdout split, recording it (pruned or not)."""
        import optuna

        # --8<-- [start:objective]
        params = self.profile.space.suggest(trial)  # suggest_float(..., log=True) and so on
        outcome, pruned = self.train(trial, params)  # in the ledger first
        if pruned:
            raise optuna.TrialPruned()  # Optuna keeps the scores it was told
        return getattr(outcome, self.profile.training.monitor)  # the best epoch's score
        # --8<-- [end:objective]

    def train(self, trial: Any, params: dict[str, Any]) -> tuple[FitOutcome, bool]:
        """Fit `params` as trial `trial.number`, reporting every epoch to `trial` (Optuna's,
        or on a cluster worker its `RelayTrial`); return the recorded outcome and whether the
        pruner stopped it."""
        from course.records import FitKey
        from course.space import split_params
        from course.speed import VALIDATION_BATCH_SIZE

        x_train, y_train, x_val, y_val = self.arrays
        # --8<-- [start:train]
        fit = self.fitter.begin(FitKey(trial.number), params)
        model = self.fitter.model(params, len(x_train))
        pruning = pruning_callback(trial, self.profile.training.monitor)
        history = model.fit(
            x_train, y_train,
            validation_data=(x_val, y_val),
            validation_batch_size=VALIDATION_BATCH_SIZE,
            callbacks=[*fit.callbacks(), pruning],  # EarlyStopping, ModelCheckpoint, pruning
            verbose=0,
            **split_params(params)[1],  # epochs and batch size
        )  # fmt: skip
        return fit.end(history.history, pruned=pruning.pruned), pruning.pruned
        # --8<-- [end:train]

    def optimize(self, study: optuna.Study, trials: int | None, total: int,
                 threads: int = 1) -> None:  # fmt: skip
        """Run trials until the study holds `total` finished ones (`trials`: at most this
        many in this process; None: until the shared study is full), `threads` at once."""
        import optuna

        done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        study.optimize(self.objective, n_trials=trials, n_jobs=threads,
                       callbacks=[optuna.study.MaxTrialsCallback(total, states=done)])  # fmt: skip


def resume(study: optuna.Study, fitter: Fitter, monitor: str) -> int:
    """Settle the trials a killed run left RUNNING, then return how many trials are finished.

    A trial whose fit the ledger recorded is told its score (or that it was pruned); one
    without is failed, and its configuration queued to be trained first."""
    import optuna

    from course.records import PRUNED, FitKey

    state = optuna.trial.TrialState
    for trial in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        recorded = fitter.recorder.recorded(FitKey(trial.number))
        if recorded is None:
            study.tell(trial.number, state=state.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=True)
        elif recorded["status"] == PRUNED:
            study.tell(trial.number, state=state.PRUNED)
        else:
            study.tell(trial.number, recorded[monitor])
    return len(study.get_trials(deepcopy=False, states=(state.COMPLETE, state.PRUNED)))


class OptunaTPE(Method):
    slug = "optuna-tpe"
    title = "Optuna TPE with pruning"
    summary = "Optuna TPESampler (multivariate) with a pruner (ASHA by default), holdout"
    settings = (
        Setting("trials", int, 24, "Trials to finish (pruned ones count).", minimum=1),
        Setting("startup_trials", int, 8, "Random trials before TPE models the scores.",
                minimum=1),
        Setting("pruner", str, "successive-halving", "Which pruner stops trials early.",
                check=_pruner_name, rule="one of " + ", ".join(f"`{p}`" for p in PRUNERS)),
        Setting("min_epochs", int, 1, "Epochs before the pruner first judges a trial.",
                minimum=1),
        Setting("factor", int, 3, "Successive halving and Hyperband keep the best 1/factor "
                "at each rung.", minimum=2),
    )  # fmt: skip
    preload = ("optuna",)
    order = 48

    def run(self, ctx: Context) -> Outcome:
        from course.data import holdout_preprocessing, holdout_scaled
        from course.fitting import keep_final
        from course.ledger import key_of
        from course.records import PRUNED, FitKey
        from course.selection import pick

        profile, trials = ctx.profile, ctx.settings["trials"]
        x_train, y_train, x_val, y_val, _, _ = holdout_scaled(
            ctx.split, profile.split_seed, profile.validation_size
        )
        fitter = ctx.fitter(trials)
        job = Job(profile, ctx.settings, fitter, (x_train, y_train, x_val, y_val))
        job.clear_stale_lock()
        study = job.study(profile.search_seed)
        finished = resume(study, fitter, profile.training.monitor)
        if finished:  # the sampler's state is not stored: seed it anew, not as at the start
            study = job.study(profile.search_seed + finished)
        if finished < trials:
            if ctx.cluster is not None:
                optimize_on_cluster(job, study, trials - finished, trials, ctx.cluster)
            elif ctx.workers > 1:
                optimize_in_workers(job, trials, ctx.workers)
            else:
                job.optimize(study, trials - finished, trials)

        # --8<-- [start:final]
        fits = [f for f in ctx.fits() if key_of(f) in fitter.done]  # checkpoints at hand
        finished_fits = [f for f in fits if f["status"] != PRUNED] or fits  # pruned: rejected
        chosen = pick(finished_fits, profile.selection)  # the same rule as every method's
        final = fitter.best(FitKey(chosen.trial), chosen.row["params"])  # its best epoch
        # --8<-- [end:final]
        assert fitter.recorder.task is not None
        fitter.recorder.task.finish()
        preprocessing = holdout_preprocessing(ctx.split, profile.split_seed,
                                              profile.validation_size)  # fmt: skip
        path, y_pred = keep_final(final, preprocessing, ctx.split, ctx.run_dir)
        return Outcome(chosen.row["params"], chosen.row[profile.selection], path, y_pred,
                       chosen.tied)  # fmt: skip


def optimize_on_cluster(job: Job, study: optuna.Study, trials: int, total: int,
                        cluster: Cluster) -> None:  # fmt: skip
    """On a Dask cluster: this process asks Optuna for trials, as many at once as the cluster
    has workers (a thread each; TPE's constant liar counts the running ones), sends each fit
    to a worker and relays its epoch reports to the trial, and the pruner's answers back. The
    journal, the ledger and every tell stay here, so a rerun resumes as on one machine."""
    from dataclasses import replace

    with cluster.receiving(job.fitter) as remote:
        relayed = RelayedJob(job.profile, job.settings, job.fitter, job.arrays, cluster,
                             replace(job, fitter=remote))  # fmt: skip
        relayed.optimize(study, trials, total, threads=max(1, cluster.size))


@dataclass(frozen=True)
class RelayedJob(Job):
    """The study process's job on a cluster: each trial's training is a Dask task, `sent`
    (the job with the workers' fitter) training it against a stand-in for the trial."""

    cluster: Cluster | None = None
    sent: Job | None = None

    def train(self, trial: Any, params: dict[str, Any]) -> tuple[FitOutcome, bool]:
        """The fit on a worker, then its ledger row here: Optuna hears of it after the ledger,
        as on one machine, so a resume finds every told trial's fit."""
        from course.records import FitKey

        assert self.cluster is not None and self.sent is not None
        result = self.cluster.relay(trial, _train, self.sent, params)
        self.cluster.written(FitKey(trial.number))
        return result


def _train(job: Job, params: dict[str, Any], trial: Any) -> tuple[FitOutcome, bool]:
    return job.train(trial, params)


def optimize_in_workers(job: Job, trials: int, workers: int) -> None:
    """`workers` processes share the study's journal file, each asking Optuna for trials until
    the study holds `trials` finished ones (a few more may finish that were already running)."""
    from course.workers import running

    args = [(job, trials, index) for index in range(workers)]
    with job.fitter.recorder.following(), running(_worker, args, "Optuna"):
        pass


def _worker(job: Job, trials: int, index: int) -> None:
    """A worker process: one core, single-threaded XLA, a sampler seeded of its own."""
    from course import workers

    workers.setup(core=index, preload=("optuna",))
    job.optimize(job.study(job.profile.search_seed + 1000 * (index + 1)), None, trials)

"""Dask workers as Slurm jobs (dask-jobqueue), for `course run-all --cluster ADDRESS`.

Run it on a login node, in the environment the course is installed in (`pip install -c
constraints.txt -e .`, the same on every node), then start the study from another shell with
the address it prints. Each job is one worker with one thread, as the course needs.

    pip install dask-jobqueue
    python docs/examples/cluster/slurm.py --jobs 16
"""

import argparse

from dask_jobqueue import SLURMCluster

parser = argparse.ArgumentParser()
parser.add_argument("--jobs", type=int, default=8, help="Slurm jobs: one worker each")
jobs = parser.parse_args().jobs

cluster = SLURMCluster(
    cores=1,  # one thread per worker: fits must not share a process
    processes=1,
    memory="4GB",  # the MLP needs far less; JAX and Keras need about 1 GB
    walltime="02:00:00",
    scheduler_options={"dashboard_address": "127.0.0.1:8787"},  # the dashboard on loopback
)
cluster.scale(jobs=jobs)
print(f"course run-all --cluster {cluster.scheduler_address}")
input("Workers are starting; press Enter to stop them.\n")
cluster.close()

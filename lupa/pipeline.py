"""The audit's tasks run one after another in this process, without Airflow.

The DAG (``dags/lupa_audit.py``) is how runs are made; this is for tests, benchmarks and
development, where a second run on a testbed should not cost an Airflow start.
"""

from __future__ import annotations

from pathlib import Path

from lupa.config import Settings


def run_in_process(params: dict, run_id: str, settings: Settings | None = None) -> dict:
    """prepare → harvest → audit → load for ``params`` (the DAG's params); the load summary."""
    from lupa.tasks import audit_shard, harvest_shard, load_run, prepare_run, run_dir_of

    shard_dirs = prepare_run(params, run_id, settings)
    audited = [audit_shard(harvest_shard(shard)) for shard in shard_dirs]
    return load_run(str(run_dir_of(Path(audited[0]))), audited)

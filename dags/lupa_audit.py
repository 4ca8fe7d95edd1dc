"""
### lupa_audit — auditoría de portales de transparencia

Harvests every obligated subject of a registry, decides for each applicable obligation
whether it is published, and loads the findings into the DuckDB warehouse.

`prepare` reads the registry, splits the subjects into shards and extracts what each
subject's previous run received → `harvest` (mapped, one task per shard) crawls the portals
with conditional requests, archives every response as WARC evidence and reads only the
files that changed → `audit` (mapped) applies the presence and usefulness rules and the
expectations → `load`, the single writer, adds the history findings (REMOVED_EARLY,
SILENT_EDIT), merges every shard into the warehouse and scores the run in one
transaction, then updates the `lupa_warehouse` Asset (its event names the warehouse and
the run), which schedules the `lupa_reports` DAG.

Scheduled each quarter, after the publication window closes (5 Feb, May, Aug, Nov;
`LUPA_AUDIT_SCHEDULE` sets another cron, or `none`). Harvest tasks take their slots from
the pool `LUPA_HARVEST_POOL` names (default `default_pool`), at most
`LUPA_HARVEST_TASKS` (default 4) per run: that times `LUPA_HARVEST_THREADS` bounds the
portals crawled at once across all workers.
Trigger by hand with params: `registry` (CSV path), `subjects` (ids to audit, empty =
all), `law`, `as_of` (YYYY-MM-DD, "today" for freshness rules), `shard_size` (subjects per
shard, about) or `shard_count` (shards; wins over `shard_size`), `allow_private_networks`,
`delay_seconds`, `warehouse`. Shards are balanced by expected work (the requests each
subject's previous run made) and never more than Airflow's `[core] max_map_length` (nor
1000): the shards grow instead.

All logic lives in `lupa.tasks`; tasks pass paths, never data. A run that cannot finish is
recorded in the warehouse with status `failed`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from lupa.assets import WAREHOUSE_ASSET
from lupa.config import Settings

MEXICO = "America/Mexico_City"
# LUPA_AUDIT_SCHEDULE, LUPA_HARVEST_POOL and LUPA_HARVEST_TASKS, read at parse time
SETTINGS = Settings.from_env()


def record_failed_run(context) -> None:
    from lupa.tasks import record_failure

    dag_run = context["dag_run"]
    reason = str(context.get("reason") or "the run failed")
    task_id = getattr(context.get("ti"), "task_id", None)  # the task instance that failed
    if task_id:
        reason = f"{reason} ({task_id}); see its log"
    record_failure(dict(context.get("params") or dag_run.conf or {}), dag_run.run_id, reason)


default_args = {
    "owner": "lupa",
    "retries": 2,
    "retry_delay": timedelta(seconds=SETTINGS.retry_delay_seconds),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id="lupa_audit",
    doc_md=__doc__,
    schedule=SETTINGS.audit_schedule,
    start_date=pendulum.datetime(2025, 1, 1, tz=MEXICO),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["lupa", "audit", "transparencia"],
    on_failure_callback=record_failed_run,
    params={
        "registry": Param("", type="string", description="Registry CSV (DESIGN section 4)"),
        "subjects": Param([], type="array", description="Subject ids to audit; empty = all"),
        "law": Param(None, type=["null", "string"], description="empty = LUPA_LAW"),
        "as_of": Param("", type="string",
                       description="YYYY-MM-DD; empty = the run's logical date"),
        "shard_size": Param(None, type=["null", "integer"], minimum=1,
                            description="subjects per shard; empty = LUPA_SHARD_SIZE"),
        "shard_count": Param(None, type=["null", "integer"], minimum=1,
                             description="number of shards, wins over shard_size; "
                                         "empty = LUPA_SHARD_COUNT, else by shard_size"),
        "allow_private_networks": Param(
            None, type=["null", "boolean"],
            description="only honoured where LUPA_ALLOW_PRIVATE_NETWORKS allows it"),
        "delay_seconds": Param(None, type=["null", "number"], minimum=0),
        "warehouse": Param("", type="string", description="DuckDB file; empty = default"),
    },
)
def lupa_audit():
    @task
    def prepare(**context) -> list[str]:
        from airflow.sdk.exceptions import AirflowFailException

        from lupa.tasks import RunConfigurationError, prepare_run

        dag_run = context["dag_run"]
        when = dag_run.logical_date or dag_run.run_after
        as_of = pendulum.instance(when).in_tz(MEXICO).date() if when else None
        try:
            return prepare_run(dict(context["params"]), context["run_id"], default_as_of=as_of)
        except RunConfigurationError as exc:  # retrying cannot fix a missing registry
            raise AirflowFailException(str(exc)) from exc

    @task(max_active_tis_per_dagrun=SETTINGS.harvest_tasks,
          execution_timeout=timedelta(hours=6), pool=SETTINGS.harvest_pool)
    def harvest(shard_dir: str) -> str:
        from lupa.tasks import harvest_shard

        return harvest_shard(shard_dir)

    @task
    def audit(shard_dir: str) -> str:
        from lupa.tasks import audit_shard

        return audit_shard(shard_dir)

    @task(outlets=[WAREHOUSE_ASSET], retries=3)
    def load(shard_dirs: list[str], **context) -> dict:
        from lupa.tasks import load_run, run_dir_of

        # Indexing (not iterating) the lazy XCom sequence avoids a probe past its end
        # that Airflow logs as an error.
        shard_dirs = [shard_dirs[i] for i in range(len(shard_dirs))]
        summary = load_run(str(run_dir_of(shard_dirs[0])), shard_dirs)
        # the reports DAG reads which warehouse and run to report on from the event
        context["outlet_events"][WAREHOUSE_ASSET].extra = {
            "warehouse": summary["warehouse"], "run_id": summary["run_id"]}
        return summary

    load(audit.expand(shard_dir=harvest.expand(shard_dir=prepare())))


lupa_audit()

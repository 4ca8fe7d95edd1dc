"""
### lupa_reports — informes de auditoría

Builds the Spanish audit reports (national overview, one page per subject, CSV/Parquet
exports) from the warehouse, each time the `lupa_warehouse` Asset is updated by a
`lupa_audit` run: the asset event names the warehouse and the run. The reports are served
inside the Airflow UI (Browse → Informes Lupa, plugin `lupa_reports`).

Trigger by hand with params: `warehouse` (DuckDB file; empty = the event's or the
default), `run_id` (empty = the event's or the latest successful run), `out` (directory;
empty = LUPA_REPORTS_DIR). All logic lives in `lupa.tasks.build_report`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from lupa.assets import WAREHOUSE_ASSET

default_args = {
    "owner": "lupa",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
}


@dag(
    dag_id="lupa_reports",
    doc_md=__doc__,
    schedule=[WAREHOUSE_ASSET],
    start_date=pendulum.datetime(2025, 1, 1, tz="America/Mexico_City"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["lupa", "reports", "transparencia"],
    params={
        "warehouse": Param("", type="string", description="DuckDB file; empty = default"),
        "run_id": Param("", type="string", description="empty = latest successful run"),
        "out": Param("", type="string", description="report directory; empty = default"),
    },
)
def lupa_reports():
    @task(execution_timeout=timedelta(hours=2))
    def build(**context) -> dict:
        from lupa.tasks import build_report

        events = context.get("triggering_asset_events") or {}
        latest = [e for evs in events.values() for e in evs][-1:]
        return build_report(dict(context["params"]), latest[0].extra if latest else None)

    build()


lupa_reports()

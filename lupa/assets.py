"""Airflow Assets shared by the DAGs: the warehouse the audit writes and the reports read."""

from airflow.sdk import Asset

WAREHOUSE_ASSET = Asset(name="lupa_warehouse", uri="file://lupa/warehouse")

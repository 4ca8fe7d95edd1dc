"""Lupa's DuckDB warehouse: versioned schema (``schema``), Parquet shards written by parallel
tasks (``shards``) and the one writer that loads them per run (``loader``).

Submodules are imported explicitly so that importing the package stays cheap at DAG parse
time.
"""

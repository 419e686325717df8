"""Parquet tables of a dump, for DuckDB, Spark and Trino (``--export DIR``)."""

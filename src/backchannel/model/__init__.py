"""Pydantic data types and file formats (no I/O beyond parsing)."""

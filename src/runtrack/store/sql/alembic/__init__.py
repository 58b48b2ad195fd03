"""Alembic environment of runtrack's SQL store (driven by ``migrations.py``)."""

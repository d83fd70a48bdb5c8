"""Alembic migrations for kanal's schema (run them with `kanal db upgrade`)."""

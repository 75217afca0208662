"""Alembic migrations of the store, shipped in the package so ``xinyong init`` works anywhere."""

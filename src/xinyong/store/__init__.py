"""The store: SQLAlchemy 2 tables, engine from a URL, Alembic migrations, queries.

- ``engine.connect(url)`` → Engine (SQLite WAL + foreign keys; PostgreSQL via psycopg);
  ``engine.database_errors()`` turns driver errors into ``UnusableInput``.
- ``schema.upgrade(engine)`` creates or migrates (what ``xinyong init`` runs);
  ``schema.require_current(engine)`` refuses an uninitialised database.
- ``tables``: subjects, identifiers, names, relations, records, provenance, batches, rejects,
  link leads.
- ``queries.records_for(conn, subject_id, at=None, known_at=None)``: the bitemporal read.
"""

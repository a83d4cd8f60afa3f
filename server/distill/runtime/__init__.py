"""Running a plan on a database: lock, transactions, version and history tables.

``migrate`` runs the steps online (``execute`` one revision, ``lock`` the
migration lock, ``version`` the version and history rows, ``resume`` a run
that was killed) or writes their SQL offline (``offline_catalog`` for SQLite
rebuilds); ``plan`` holds the step and progress types; ``database`` makes
engines and connections with masked errors; ``quickread`` reads a SQLite
version table without SQLAlchemy.  Arrows: ``runtime`` uses ``scripts``,
``ops``, ``ddl``, ``schema``.
"""

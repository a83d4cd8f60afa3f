"""Migration safety: what a revision does to a live database, read before it runs.

``engine.lint`` replays the revisions already applied (their tables are the
live ones), records each pending revision's ops with the schema before each,
and runs the ``rules`` over them; ``locks`` says which lock each op takes on
PostgreSQL and whether it scans or rewrites the table (checked against the
real server by the tests); ``fixes`` rewrites a revision's source where a safe
form exists.  Arrows: ``lint`` uses ``replay``, ``ops``, ``schema``, ``scripts``.
"""

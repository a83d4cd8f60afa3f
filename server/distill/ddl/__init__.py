"""Per-dialect DDL, from plain values and SQLAlchemy objects (never an op).

``context.OpContext`` is where statements go: a connection, or with ``--sql``
a writer.  ``common`` quotes and compiles; ``sqlite`` has the rebuild helpers,
``mysql`` the ``MODIFY`` restatements, ``postgresql`` enum creation and type
changes; ``alteration.ColumnAlteration`` is what an ``ALTER COLUMN`` changes;
``statements`` tells whether raw SQL changes structure.  The bottom layer: it
imports nothing of Distill but the leaves.
"""

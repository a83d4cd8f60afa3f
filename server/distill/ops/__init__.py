"""Migration operations as data, and the ``op`` that revision scripts call.

Each op (``base.Op``) runs (``execute``), becomes script source (``render``)
and may give its inverse (``reverse``); ``replay`` applies it to a schema.
``api.Operations`` is ``op`` (and ``BatchOperations`` is ``batch_op``);
``proxy`` binds ``from distill import op`` to the running one.  The SQLite
table rebuild is ``rebuild`` over a ``table_model``.  Arrows: ``ops`` uses
``ddl`` and ``schema``.
"""

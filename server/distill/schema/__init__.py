"""The neutral, frozen schema model, and the ways to build one.

``model`` is the schema as plain data (what is compared, cached and sent
between processes); ``from_metadata`` builds it from a SQLAlchemy
``MetaData``, ``reflect`` from a live database; ``types`` and ``ddl_facts``
normalise types and constraint names; ``catalog_facts`` reads the catalog's
table sizes and unvalidated checks.  Depends on SQLAlchemy only.
"""

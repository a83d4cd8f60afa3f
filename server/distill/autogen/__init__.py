"""Autogenerate: compare two schemas and write the revision that turns one into the other.

``compare`` yields ``Change``s between neutral schemas (``equivalence`` says
which type and default spellings are the same); ``renames`` spots drop+add
pairs; ``plan`` turns changes into ops in dependency order (``build``,
``layout``); ``render`` writes them as ``op.*`` source, and
``alembic_runnable`` keeps an Alembic project's revision to what Alembic can
run.  ``generate`` gathers a project's models and migrations schemas for it;
``baseline`` writes the first revision of a database made with ``create_all``.
Arrows: ``autogen`` uses ``replay``, ``compat``, ``runtime``, ``ops``, ``schema``.
"""

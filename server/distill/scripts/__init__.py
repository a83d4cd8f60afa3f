"""The project's Python files: revision scripts, their graph, and importing project code.

``header`` reads a revision's header without running it, ``script`` scans the
version folders (with a header cache) and loads a file as a module, ``graph``
is the pure revision DAG, ``resolve`` the identifier language (``head``,
``+1``, ``label@base``), ``plans`` the upgrade/downgrade steps, ``writing``
(with ``mako_subset``) writes new revisions.  ``alembic_modules`` and
``project_modules`` answer ``import alembic`` in project files with Distill's
``op`` and ``context``; ``user_metadata`` imports the models a setting names.
Arrows: ``scripts`` uses ``ops`` (the ``op`` it hands to scripts).
"""

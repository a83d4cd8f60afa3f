"""Running existing Alembic projects unchanged.

- ``alembic_modules``: what ``import alembic`` / ``from alembic import op, context``
  give a revision script or an ``env.py`` while Distill runs it;
- ``alembic_env``: reading ``env.py``'s ``context.configure(...)`` without
  migrating anything, and turning it into Distill settings;
- ``env_config``: ``context.config`` for env.py, answering from ``alembic.ini``;
- ``env_text``: the version table env.py names, read as text (no code runs);
- ``doctor``: what of a project's ``env.py`` Distill cannot honour.

The real ``alembic`` package is never imported by these modules.
"""

"""Errors a user can cause and fix.

Each one is printed by the CLI as a single line ``distill: error: <message>``
with exit code 1 and no traceback, so every message names what went wrong,
where (file, revision, table, URL with its password masked) and what to do.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class DistillError(Exception):
    """Base of every user-fixable failure."""


class ConfigError(DistillError):
    """The configuration is missing, unreadable or has a bad value."""


class ScriptError(DistillError):
    """A revision file cannot be read, parsed, imported or written."""


class RevisionError(DistillError):
    """The revision graph is broken or an identifier does not resolve."""


class MultipleHeadsError(RevisionError):
    """One head was needed and several exist."""


class DatabaseError(DistillError):
    """The database cannot be reached, or refused what was asked of it."""


class LockTimeout(DatabaseError):
    """Another migrator held the migration lock for too long."""


class MigrationFailed(DistillError):
    """A revision raised while running; the database state is described."""

    #: A statement gave up waiting for a table's lock (``ddl_lock_timeout``): worth retrying.
    lock_wait = False


class LockWaitFailed(MigrationFailed):
    lock_wait = True


class OperationError(DistillError):
    """An ``op.*`` call that cannot be carried out as written."""

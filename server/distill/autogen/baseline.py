"""Adopting a database that was built without migrations (``create_all``).

The usual starting point of a team: a live database made by the application
itself and no revisions.  ``distill baseline`` writes a first revision that
creates what the models describe, but only when the database already is
exactly that, so that afterwards all three schemas agree and drift is zero:

- models vs migrations: the revision was generated from the models;
- migrations vs database: checked by replaying the new revision and comparing
  it with the live schema before the database is stamped.

A project that already has revisions is adopted by stamping: a database with
no version rows whose schema is what the revisions build at their heads.
"""

from __future__ import annotations

from collections.abc import Sequence

from distill.autogen.compare import Change, Options, compare
from distill.errors import DistillError
from distill.schema.model import Schema

_SHOWN = 3  # differences worth naming in one line


class NotAdoptable(DistillError):
    """The database cannot be adopted as it is; the message says what to do."""


def empty_like(schema: Schema) -> Schema:
    return Schema(schema.dialect, flavour=schema.flavour)


def require_models_match(database: Schema, models: Schema, options: Options, url: str) -> None:
    """The first revision describes the models: the database must already be them."""
    if not database.tables:
        raise NotAdoptable(
            f"the database {url} has no tables to adopt; write the first revision with "
            "'distill revision --autogenerate -m \"...\"' and run 'distill upgrade head'"
        )
    differences = compare(database, models, options)
    if differences:
        raise NotAdoptable(
            f"the models and the database {url} differ, so no first revision can describe "
            f"both: {_listed(differences, 'database', 'models')}; make them agree first "
            "(a revision made from the models would not be what the database has), "
            "then run 'distill baseline' again"
        )


def require_revisions_match(
    database: Schema, migrations: Schema, options: Options, url: str, heads: Sequence[str]
) -> None:
    """A project with revisions adopts a database that is what they build at head."""
    at = ", ".join(heads)
    if not database.tables:
        raise NotAdoptable(
            f"the database {url} is empty; build it with 'distill upgrade head' "
            f"(the revisions already describe the schema, up to {at})"
        )
    differences = compare(database, migrations, options)
    if differences:
        raise NotAdoptable(
            f"the database {url} is not what the revisions build at {at}: "
            f"{_listed(differences, 'database', 'migrations')}; if it matches an earlier "
            "revision, set it there with 'distill stamp REV' and upgrade"
        )


def rebuilt_differences(database: Schema, rebuilt: Schema, options: Options) -> str | None:
    """What the new revision fails to rebuild of the database, or None when nothing."""
    differences = compare(database, rebuilt, options)
    return _listed(differences, "database", "baseline revision") if differences else None


def _listed(differences: Sequence[Change], now: str, wanted: str) -> str:
    shown = "; ".join(d.describe(now, wanted) for d in differences[:_SHOWN])
    more = len(differences) - _SHOWN
    counted = f"{len(differences)} difference(s)"
    return f"{counted} ({shown}{f'; and {more} more' if more > 0 else ''})"

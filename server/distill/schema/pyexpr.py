"""A SQLAlchemy type as the Python expression a careful person writes in a revision.

``sa.String(length=255)``, ``postgresql.JSONB()``, ``mysql.TINYINT(display_width=1)``,
``MyType(length=40)`` with ``from app.types import MyType``: the constructor call
that builds an equal type, keyword arguments only where they differ from the
constructor's defaults, strings in double quotes as ruff format writes them.

The arguments are found the way the constructor takes them: each ``__init__`` up
the class hierarchy that forwards ``**kw`` to its base contributes its
parameters, and the value of a parameter is the attribute of the same name.  A
value that cannot be written as source (a callable, an object) is left out —
the expression stays valid, only less specific.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

_SA_PREFIXES = ("sqlalchemy.sql.", "sqlalchemy.types")


def dialect_class(dialect: str, name: str) -> type | None:
    """``sqlalchemy.dialects.<dialect>.<name>`` when that package was imported, else None
    (then no object of it exists)."""
    package = sys.modules.get(f"sqlalchemy.dialects.{dialect}")
    found = getattr(package, name, None) if package is not None else None
    return found if isinstance(found, type) else None


class _Unrenderable(Exception):
    """A value with no source form; the argument holding it is skipped."""


def type_expression(type_: sa.types.TypeEngine[Any], imports: set[str]) -> str:
    """Source for ``type_``; adds the import lines it needs (beyond ``sa``) to ``imports``."""
    head = _class_reference(type(type_), imports)
    if isinstance(type_, sa.Enum):
        args, kwargs = _enum_arguments(type_)
    else:
        args, kwargs = _constructor_arguments(type_)
    parts = [_positional(a, imports) for a in args]
    for key, value in kwargs:
        try:
            parts.append(f"{key}={_literal(value, imports)}")
        except _Unrenderable:
            continue
    expression = f"{head}({', '.join(parts)})"
    for dialect_name, variant in sorted(_variants(type_).items()):
        inner = type_expression(variant, imports)
        expression += f".with_variant({inner}, {_string(dialect_name)})"
    return expression


def _variants(type_: sa.types.TypeEngine[Any]) -> dict[str, sa.types.TypeEngine[Any]]:
    # with_variant() keeps its mapping on this attribute; no public accessor exists.
    mapping: dict[str, sa.types.TypeEngine[Any]] = getattr(type_, "_variant_mapping", {})
    return dict(mapping)


def _class_reference(cls: type, imports: set[str]) -> str:
    module = cls.__module__
    name = cls.__name__
    if module.startswith(_SA_PREFIXES) and getattr(sa, name, None) is cls:
        return f"sa.{name}"
    if module.startswith(_SA_PREFIXES) and getattr(sa.types, name, None) is cls:
        return f"sa.types.{name}"
    if module.startswith("sqlalchemy.dialects."):
        dialect = module.split(".")[2]
        if dialect in ("postgresql", "mysql", "sqlite") and dialect_class(dialect, name) is cls:
            imports.add(f"from sqlalchemy.dialects import {dialect}")
            return f"{dialect}.{name}"
    # A user's type (or an unexported SQLAlchemy one): import it from where it lives.
    # A nested class imports its outermost owner and is reached by attribute.
    if "<locals>" in cls.__qualname__:
        # Defined inside a function: not importable at all; name it as the user did.
        imports.add(f"from {module} import {name}")
        return name
    outer = cls.__qualname__.split(".")[0]
    imports.add(f"from {module} import {outer}")
    return cls.__qualname__


def _enum_arguments(type_: sa.Enum) -> tuple[list[Any], list[tuple[str, Any]]]:
    # Enum's constructor takes everything through **kw, so its signature says
    # nothing; these are the arguments that change what the database holds.
    kwargs: list[tuple[str, Any]] = []
    if type_.name:
        kwargs.append(("name", type_.name))
    if type_.schema:
        kwargs.append(("schema", type_.schema))
    if not type_.native_enum:
        kwargs.append(("native_enum", False))
    if type_.create_constraint:
        kwargs.append(("create_constraint", True))
    longest = max((len(v) for v in type_.enums), default=0)
    if type_.length is not None and type_.length != longest and not type_.native_enum:
        kwargs.append(("length", type_.length))
    pg_enum = dialect_class("postgresql", "ENUM")
    if pg_enum is not None and isinstance(type_, pg_enum) and not type_.create_type:
        kwargs.append(("create_type", False))
    return list(type_.enums), kwargs


def _constructor_arguments(type_: Any) -> tuple[list[Any], list[tuple[str, Any]]]:
    args: list[Any] = []
    kwargs: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for source, parameter in _parameters(type_):
        if parameter.name in seen or parameter.name.startswith("_"):
            continue
        seen.add(parameter.name)
        if not hasattr(source, parameter.name):
            continue
        value = getattr(source, parameter.name)
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif parameter.default is inspect.Parameter.empty:
            args.append(value)
        elif not _same(value, parameter.default) and not _implied(type_, parameter.name, value):
            kwargs.append((parameter.name, value))
    return args, kwargs


def _parameters(type_: Any) -> Iterator[tuple[Any, inspect.Parameter]]:
    """(object to read the value from, parameter) for every constructor argument."""
    source = type_
    for cls in type(type_).__mro__:
        if cls is sa.types.TypeDecorator:
            # A TypeDecorator passes its arguments to its impl; read them there.
            source = type_.impl_instance
            yield from _parameters_of_chain(source)
            return
        if "__init__" not in vars(cls) or cls in (sa.types.TypeEngine, object):
            continue
        forwards = False
        for parameter in _signature(cls):
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                forwards = True
            elif parameter.name != "self":
                yield source, parameter
        if not forwards:
            return


def _parameters_of_chain(impl: Any) -> Iterator[tuple[Any, inspect.Parameter]]:
    for source, parameter in _parameters(impl):
        if parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            yield source, parameter


@functools.cache
def _signature(cls: type) -> tuple[inspect.Parameter, ...]:
    # Cached per class: inspect.signature was a quarter of converting a
    # thousand tables' columns, and a class's signature never changes.
    try:
        return tuple(inspect.signature(vars(cls)["__init__"]).parameters.values())
    except (TypeError, ValueError):
        return ()


def _same(value: Any, default: Any) -> bool:
    try:
        return bool(value == default)
    except Exception:  # an exotic __eq__ that refuses comparison: treat as different
        return False


def _implied(type_: Any, name: str, value: Any) -> bool:
    """True for values the constructor fills in itself when not given."""
    # JSON types on PostgreSQL substitute Text() for astext_type=None.
    return name == "astext_type" and type(value) is sa.Text and value.length is None


def _positional(value: Any, imports: set[str]) -> str:
    # A required argument cannot be left out; repr() is the best remaining guess.
    try:
        return _literal(value, imports)
    except _Unrenderable:
        return repr(value)


def _literal(value: Any, imports: set[str]) -> str:
    if isinstance(value, sa.types.TypeEngine):
        return type_expression(value, imports)
    if isinstance(value, type) and issubclass(value, sa.types.TypeEngine):
        return type_expression(value(), imports)
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v, imports) for v in value)
        return (
            f"({inner},)"
            if isinstance(value, tuple) and len(value) == 1
            else (f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
        )
    raise _Unrenderable(repr(value))


def _string(value: str) -> str:
    if '"' in value or "\\" in value or "\n" in value:
        return repr(value)
    return f'"{value}"'

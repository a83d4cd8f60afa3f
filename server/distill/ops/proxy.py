"""The ``op`` object revision scripts import (``from distill import op``).

It holds no state of its own: a context variable names the ``Operations`` of
the migration being run, so two runs in one process (tests, the language
server) never see each other's operations.  This is the only module-level
state in ``distill.ops``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from distill.errors import OperationError

if TYPE_CHECKING:
    from distill.ops.api import Operations

_current: ContextVar[Operations | None] = ContextVar("distill_operations", default=None)


@contextmanager
def operations_in_effect(ops: Operations) -> Iterator[Operations]:
    token = _current.set(ops)
    try:
        yield ops
    finally:
        _current.reset(token)


def current_operations() -> Operations | None:
    return _current.get()


class _OpProxy:
    """Forwards ``op.<name>`` to the Operations of the running migration."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        ops = _current.get()
        if ops is None:
            raise OperationError(
                f"op.{name}() was called outside a migration; revision scripts run through "
                "`distill upgrade`/`downgrade`"
            )
        return getattr(ops, name)

    def __dir__(self) -> list[str]:
        from distill.ops.api import Operations

        return [n for n in dir(Operations) if not n.startswith("_")]

    def __repr__(self) -> str:
        return "<distill op proxy>"


# Type checkers and editors (Pyright, Pylance, Jedi, mypy) see the Operations it
# forwards to, so ``op.`` completes with every method, its signature and its docstring.
if TYPE_CHECKING:
    op: Operations
else:
    op = _OpProxy()

"""Which revisions an upgrade, downgrade or stamp touches, and in what order.

Targets are read in the identifier language (``resolve``); the order comes
from the graph: prerequisites first on the way up, dependents first on the way
down, and a branch kept together (depth first), as Alembic runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from distill.errors import RevisionError
from distill.scripts.graph import RevisionGraph
from distill.scripts.resolve import downgrade_bounds, resolve, stamp_rows


def upgrade_steps(graph: RevisionGraph, current: Sequence[str], target: str) -> list[str]:
    """Ids to apply, prerequisites first, to bring ``current`` up to ``target``."""
    applied = graph.applied(current)
    targets = resolve(graph, target, current)
    needed = graph.closure(
        tuple(t for t in targets if t not in applied),
        lambda i: (p for p in graph.prerequisites(i) if p not in applied),
    )
    return _plan_order(graph, targets, needed)


def downgrade_steps(graph: RevisionGraph, current: Sequence[str], target: str) -> list[str]:
    """Ids to revert, dependents first, to bring ``current`` down to ``target``.

    Only what stands on the target is reverted: other branches stay as they are,
    and so do revisions that merely depend on the target.
    """
    applied = graph.applied(current)
    bounds = downgrade_bounds(graph, target, tuple(current))
    keep, remove = bounds.keep, bounds.remove
    if not keep and not remove:  # plain "base": everything goes
        revert = set(applied)
    else:
        not_applied = [k for k in keep if k not in applied]
        if not_applied:
            raise RevisionError(
                f"cannot downgrade to {target!r}: revision {', '.join(not_applied)} is not "
                f"applied (current: {', '.join(current) or 'base'}); "
                "use 'distill upgrade' to move forward"
            )
        # What stands on the target's lineage children goes; revisions that
        # merely depend on the target stay, as it stays (Alembic does the same).
        first = [c for k in keep for c in graph.children(k)]
        if bounds.within is not None:  # label@...: only that branch steps down
            first = [c for c in first if c in bounds.within]
        above = graph.closure(first, graph.standing_on)
        revert = {i for i in above | graph.closure(remove, graph.standing_on) if i in applied}
    tops = [c for c in current if c in revert]
    order = _plan_order(graph, [*tops, *graph.in_order(revert)], frozenset(revert))
    return list(reversed(order))


def heads_after_stamp(
    graph: RevisionGraph, current: Sequence[str], target: str, *, purge: bool = False
) -> frozenset[str]:
    """Version rows after ``stamp target`` (``purge``: the old rows deleted first)."""
    return stamp_rows(graph, target, tuple(current), purge=purge)


def _plan_order(graph: RevisionGraph, roots: Sequence[str], wanted: frozenset[str]) -> list[str]:
    """``wanted`` prerequisites first, depth first from ``roots`` so a branch stays together."""
    order: list[str] = []
    done: set[str] = set()
    for root in roots:
        if root not in wanted or root in done:
            continue
        path = [root]
        pending = [iter(graph.prerequisites(root))]
        while pending:
            for nxt in pending[-1]:
                if nxt in wanted and nxt not in done:
                    path.append(nxt)
                    pending.append(iter(graph.prerequisites(nxt)))
                    break
            else:
                done.add(path[-1])
                order.append(path.pop())
                pending.pop()
    return order

"""The revision graph: validation, ancestry and version rows; a pure DAG.

What identifiers mean is ``resolve``; which steps an upgrade or downgrade
takes is ``plans``.  Both read the graph; it knows neither.

Two kinds of edge link revisions: ``down_revision`` (lineage: it decides
heads, bases, branches and history) and ``depends_on`` (a prerequisite that
must be applied first and reverted after, without joining the lineage).
Whether something is *applied* follows both kinds, as Alembic does.

The version table holds the applied revisions no other applied revision
stands on.  ``heads_after_upgrade``/``heads_after_downgrade`` reproduce, row
for row, what Alembic 1.20 keeps in ``alembic_version``, so both tools can share
a database; ``tests/scripts/test_graph.py`` checks this against Alembic itself.

Every walk is iterative: a 5,000-revision chain must not meet the recursion limit.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from distill.errors import RevisionError
from distill.scripts.script import Revision

MIN_PREFIX = 1  # as in Alembic, any unique prefix of an id names that revision
RESERVED = frozenset({"head", "heads", "base", "current"})

_Step = Callable[[str], Iterable[str]]


class RevisionGraph:
    def __init__(self, revisions: Iterable[Revision]) -> None:
        self._revisions: dict[str, Revision] = {}
        for rev in revisions:
            earlier = self._revisions.get(rev.id)
            if earlier is not None:
                raise RevisionError(
                    f"revision id {rev.id} is declared twice, in {earlier.path} and {rev.path}; "
                    "give one of them a new id (and update what revises it)"
                )
            self._revisions[rev.id] = rev
        self.revisions: Mapping[str, Revision] = MappingProxyType(self._revisions)
        self._sorted_ids = sorted(self._revisions)
        self._labels = self._collect_labels()
        self._check_down_revisions()
        self._deps = {rev.id: self._resolve_depends_on(rev) for rev in self._revisions.values()}
        self._children: dict[str, list[str]] = {i: [] for i in self._revisions}
        self._dependents: dict[str, list[str]] = {i: [] for i in self._revisions}
        for rev in self._revisions.values():
            for parent in rev.down_revisions:
                self._children[parent].append(rev.id)
            for dep in self._deps[rev.id]:
                self._dependents[dep].append(rev.id)
        self.heads: tuple[str, ...] = tuple(i for i, c in self._children.items() if not c)
        self.bases: tuple[str, ...] = tuple(r.id for r in self._revisions.values() if r.is_base)
        self._order = self._topological_order()
        self._rank = {rev_id: n for n, rev_id in enumerate(self._order)}
        self._normalized: dict[str, tuple[str, ...]] = {}

    # -- construction checks ----------------------------------------------------------

    def _collect_labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for rev in self._revisions.values():
            for label in rev.branch_labels:
                if label in labels:
                    other = self._revisions[labels[label]]
                    raise RevisionError(
                        f"branch label {label!r} is used by both {other.id} ({other.path}) and "
                        f"{rev.id} ({rev.path}); "
                        "a label names one branch: rename one of them"
                    )
                if label in self._revisions or label in RESERVED or set(label) & set("@:+"):
                    raise RevisionError(
                        f"{rev.path}: branch label {label!r} cannot be used: it is a revision id, "
                        "a keyword (head, heads, base, current) or contains @ : +; rename it"
                    )
                labels[label] = rev.id
        return labels

    def _check_down_revisions(self) -> None:
        for rev in self._revisions.values():
            for parent in rev.down_revisions:
                if parent not in self._revisions:
                    raise RevisionError(
                        f"{rev.path}: down_revision {parent!r} names no revision; restore the "
                        "missing file or fix down_revision in this one"
                    )

    def _resolve_depends_on(self, rev: Revision) -> tuple[str, ...]:
        resolved: list[str] = []
        for name in rev.depends_on:
            try:
                target = self.get(name).id
            except RevisionError as error:
                raise RevisionError(f"{rev.path}: depends_on {name!r}: {error}") from None
            if target not in resolved:
                resolved.append(target)
        return tuple(resolved)

    def _topological_order(self) -> list[str]:
        """Prerequisites before dependents; each branch kept together (depth first).

        Roots are the heads first so history reads branch by branch; then every
        revision, which only finds revisions left over when a cycle hides them.
        """
        done: set[str] = set()
        on_path: dict[str, int] = {}
        order: list[str] = []
        for root in (*self.heads, *self._revisions):
            if root in done:
                continue
            path = [root]
            pending = [iter(self.prerequisites(root))]
            on_path[root] = 0
            while pending:
                for nxt in pending[-1]:
                    if nxt in done:
                        continue
                    if nxt in on_path:
                        self._raise_cycle(path[on_path[nxt] :])
                    on_path[nxt] = len(path)
                    path.append(nxt)
                    pending.append(iter(self.prerequisites(nxt)))
                    break
                else:
                    node = path.pop()
                    pending.pop()
                    del on_path[node]
                    done.add(node)
                    order.append(node)
        return order

    def _raise_cycle(self, cycle: list[str]) -> None:
        # ``cycle`` runs from a revision down through its prerequisites back to it.
        shown = " -> ".join([*cycle, cycle[0]])
        files = ", ".join(str(self._revisions[i].path) for i in cycle)
        raise RevisionError(
            f"revisions form a cycle ({shown}, each revising or depending on the next); "
            f"break it by fixing down_revision/depends_on in one of: {files}"
        )

    # -- looking revisions up -----------------------------------------------------------

    def get(self, identifier: str) -> Revision:
        """A revision by full id, unique prefix (any length, as in Alembic) or branch label."""
        rev = self._revisions.get(identifier)
        if rev is not None:
            return rev
        if identifier in self._labels:
            return self._revisions[self._labels[identifier]]
        return self._revisions[self.one_of(identifier, self.with_prefix(identifier))]

    def one_of(self, identifier: str, matches: Sequence[str]) -> str:
        """The single revision a prefix matched, or why there is not one."""
        if not matches:
            raise RevisionError(
                f"unknown revision {identifier!r}; run 'distill history' to list revisions"
            )
        if len(matches) > 1:
            listed = ", ".join(f"{m} ({self._revisions[m].path})" for m in matches[:10])
            more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
            raise RevisionError(
                f"revision {identifier!r} is ambiguous: it matches {listed}{more}; "
                "give more characters"
            )
        return matches[0]

    def with_prefix(self, prefix: str) -> list[str]:
        """Ids starting with ``prefix``, sorted."""
        if len(prefix) < MIN_PREFIX:
            return []
        ids = self._sorted_ids
        start = bisect_left(ids, prefix)
        end = start
        while end < len(ids) and ids[end].startswith(prefix):
            end += 1
        return ids[start:end]

    def label_owner(self, label: str) -> str | None:
        return self._labels.get(label)

    # -- structure ---------------------------------------------------------------------------

    def children(self, rev_id: str) -> tuple[str, ...]:
        """Revisions whose down_revision names ``rev_id``."""
        return tuple(self._children[rev_id])

    def dependencies(self, rev_id: str) -> tuple[str, ...]:
        """``depends_on`` of ``rev_id`` resolved to full ids."""
        return self._deps[rev_id]

    def prerequisites(self, rev_id: str) -> tuple[str, ...]:
        """What must be applied before ``rev_id``: its down_revisions, then its dependencies."""
        rev = self._revisions[rev_id]
        deps = self._deps[rev_id]
        if not deps:
            return rev.down_revisions
        return rev.down_revisions + tuple(d for d in deps if d not in rev.down_revisions)

    def branch_points(self) -> tuple[str, ...]:
        return tuple(i for i, c in self._children.items() if len(c) > 1)

    def ancestors(self, rev_id: str) -> frozenset[str]:
        """Everything ``rev_id`` needs applied: down_revisions and depends_on, transitively."""
        return self.closure((rev_id,), self.prerequisites) - {rev_id}

    def descendants(self, rev_id: str) -> frozenset[str]:
        """Everything that needs ``rev_id`` applied."""
        return self.closure((rev_id,), self.standing_on) - {rev_id}

    def lineage_ancestors(self, rev_id: str) -> frozenset[str]:
        """Ancestors through down_revision only (what history and branches follow)."""
        return self.closure((rev_id,), lambda i: self._revisions[i].down_revisions) - {rev_id}

    def lineage_descendants(self, rev_id: str) -> frozenset[str]:
        return self.closure((rev_id,), self.children) - {rev_id}

    def applied(self, current: Iterable[str]) -> frozenset[str]:
        """The revisions applied when the version table holds ``current``."""
        return self.closure(tuple(c for c in current if c in self._revisions), self.prerequisites)

    def applied_tips(self, current: Iterable[str]) -> list[str]:
        """Applied revisions with no applied child: the version rows, plus a revision
        another one only depends on (which stands at the top of its own branch)."""
        applied = self.applied(current)
        return self.in_order(
            rev for rev in applied if not any(c in applied for c in self._children[rev])
        )

    def standing_on(self, rev_id: str) -> Iterator[str]:
        """Revisions that need ``rev_id`` directly: its children and its dependents."""
        yield from self._children[rev_id]
        yield from self._dependents[rev_id]

    @staticmethod
    def closure(start: Sequence[str], step: _Step) -> frozenset[str]:
        """``start`` and everything reachable from it by ``step``."""
        seen = set(start)
        todo = list(start)
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)

    def in_order(self, ids: Iterable[str]) -> list[str]:
        """``ids`` sorted prerequisites first (the graph's fixed topological order)."""
        return sorted(ids, key=self._rank.__getitem__)

    # -- the version table -----------------------------------------------------------------

    def normalized_prerequisites(self, rev_id: str) -> tuple[str, ...]:
        """Prerequisites without a dependency another prerequisite already brings in.

        These are the rows an upgrade of ``rev_id`` replaces and a downgrade may
        put back; a redundant dependency would otherwise reappear as an extra row.
        """
        cached = self._normalized.get(rev_id)
        if cached is not None:
            return cached
        rev = self._revisions[rev_id]
        prereqs = self.prerequisites(rev_id)
        if len(prereqs) > len(rev.down_revisions):
            covered: set[str] = set()
            for p in prereqs:
                covered |= self.ancestors(p)
            prereqs = rev.down_revisions + tuple(
                d for d in prereqs[len(rev.down_revisions) :] if d not in covered
            )
        self._normalized[rev_id] = prereqs
        return prereqs

    def heads_after_upgrade(self, current: frozenset[str], rev: str) -> frozenset[str]:
        """Version rows after applying ``rev`` to rows ``current``.

        The new revision replaces the rows it stands on (one row for a plain step,
        several for a merge or a dependency) or is added when it stands on none.
        """
        return (current - set(self.normalized_prerequisites(rev))) | {rev}

    def heads_after_downgrade(self, current: frozenset[str], rev: str) -> frozenset[str]:
        """Version rows after reverting ``rev`` (which must be one of ``current``).

        Its prerequisites come back as rows, except those another remaining row
        still stands on: a merge splits back into its branches, a branch that
        forked from a still-applied revision just disappears.
        """
        if rev not in current:
            raise RevisionError(
                f"cannot revert {rev}: the version table ({', '.join(sorted(current)) or 'empty'}) "
                "does not list it; revert the revisions above it first"
            )
        rest = current - {rev}
        still_needed = self.applied(rest)
        back = {p for p in self.normalized_prerequisites(rev) if p not in still_needed}
        # A row another returning row stands on is implied by it, as on upgrade
        # (a down_revision may also be what a dependency stands on).
        implied = {a for p in back for a in self.ancestors(p)}
        return frozenset(rest | (back - implied))

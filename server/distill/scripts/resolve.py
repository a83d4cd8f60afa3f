"""The identifier language users know from Alembic, turned into revision ids.

Forms: ``head``, ``heads``, ``base``, ``current``, a full id, a unique prefix
(any length, as in Alembic), a branch label; ``+N``/``-N`` relative to the
current revisions; ``X+N``/``X-N`` relative to any of the former (``head-1``,
``ab12+2``, ``heads-1``); and ``B@...`` where B is a branch label (or a
revision naming its branch): ``B@head``, ``B@heads``, ``B@base``, ``B@+N``,
``B@-N``, ``B@head-N``, ``B@<rev>`` (a prefix there is looked up among the
branch's revisions only).  ``B@base`` means "none of this branch", as in
Alembic: upgrading to it runs nothing, stamping it removes the branch's rows.

A relative step walks the down_revision lineage.  Walking down through a merge
continues on all of its parents (so ``-1`` from a merge reverts just the
merge); walking up must find exactly one next revision, because upgrading
"one step" into two branches at once is rarely what was meant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from distill.errors import MultipleHeadsError, RevisionError

if TYPE_CHECKING:
    from distill.scripts.graph import RevisionGraph
    from distill.scripts.script import Revision

_RELATIVE = re.compile(r"^(?P<anchor>[^+-]*)(?P<sign>[+-])(?P<count>\d+)$")


@dataclass(frozen=True)
class _Target:
    ids: tuple[str, ...]  # the revisions meant; () is base
    below: tuple[str, ...] = ()  # revisions a downgrade to this target removes too
    # With ``label@...``: the branch's revisions, the only ones a downgrade steps
    # through (others standing on the target stay, as in Alembic).
    within: frozenset[str] | None = None
    # ``label@base``: the labelled revision of the branch none of which is meant.
    base_of_branch: str | None = None


def resolve(graph: RevisionGraph, identifier: str, current: Sequence[str] = ()) -> tuple[str, ...]:
    """Revision ids an identifier means (``head``, ``heads``, ``base``, ``+1``, ...)."""
    return _target(graph, identifier, tuple(current)).ids


@dataclass(frozen=True)
class DowngradeBounds:
    keep: tuple[str, ...]  # revisions that stay applied
    remove: tuple[str, ...]  # revisions removed with all they carry
    within: frozenset[str] | None  # a branch's revisions, when the target named one


def downgrade_bounds(
    graph: RevisionGraph, identifier: str, current: tuple[str, ...]
) -> DowngradeBounds:
    target = _target(graph, identifier, current)
    keep = tuple(i for i in target.ids if i not in target.below)
    return DowngradeBounds(keep, target.below, target.within)


def stamp_rows(
    graph: RevisionGraph, identifier: str, current: tuple[str, ...], *, purge: bool
) -> frozenset[str]:
    """The version rows ``stamp identifier`` leaves when the table holds ``current``.

    Rows of other branches stay; rows the target stands on or that stand on it
    are replaced by it.  These are Alembic 1.20's rows, except where its
    ``stamp heads`` drops a head already recorded (docs/alembic.md).
    """
    if _is_step(graph, identifier.strip()):
        # A step would be taken from where the table says the database is,
        # which is what a stamp is there to correct; Alembic refuses these too.
        raise RevisionError(
            f"stamp {identifier!r}: stamp records the revision you name and takes no steps "
            "(+N, -N, REV-N, label@+N) and not 'current'; give the revision itself: an id, "
            "a branch label, head, heads, base or label@head ('distill history' lists them)"
        )
    target = _target(graph, identifier, current)
    # A target another target depends on (``heads`` may hold such a head) is implied.
    implied = {a for t in target.ids for a in graph.ancestors(t)}
    targets = [t for t in target.ids if t not in implied]
    if purge:
        return frozenset(targets)
    known = [h for h in current if h in graph.revisions]
    if target.base_of_branch is not None:
        # None of the branch: its rows go, and so do rows that need any of it.
        owner = target.base_of_branch
        branch = graph.ancestors(owner) | graph.descendants(owner) | {owner}
        return frozenset(h for h in known if h not in branch)
    if not targets:
        return frozenset()
    kept = {
        h
        for h in known
        if not any(h in graph.ancestors(t) or t in graph.ancestors(h) for t in targets)
    }
    return frozenset(kept | set(targets))


def _is_step(graph: RevisionGraph, ident: str) -> bool:
    """``current`` or a step from something (``+1``, ``head-1``, ``label@-1``)."""
    if ident in graph.revisions or graph.label_owner(ident) is not None:
        return False
    rest = ident.partition("@")[2] if "@" in ident else ident
    return rest == "current" or _RELATIVE.match(rest) is not None


def _target(graph: RevisionGraph, identifier: str, current: tuple[str, ...]) -> _Target:
    ident = identifier.strip()
    if not ident:
        raise RevisionError(
            "an empty revision identifier; give a revision id, a branch label, head, heads or base"
        )
    if ident == "base":
        return _Target(())
    if ident == "heads":
        return _Target(graph.heads)
    if ident == "head":
        return _Target(_one_head(graph, graph.heads, None))
    if ident == "current":
        return _Target(current)
    if ident in graph.revisions or graph.label_owner(ident) is not None:
        return _Target((graph.get(ident).id,))
    if "@" in ident:
        branch, _, rest = ident.partition("@")
        return _on_branch(graph, branch, rest, ident, current)
    relative = _RELATIVE.match(ident)
    if relative:
        return _relative(graph, relative, ident, current, None)
    return _Target((graph.get(ident).id,))


# -- branches ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Branch:
    label: str
    owner: str
    members: frozenset[str]  # the owner, its lineage ancestors and descendants


def _branch(graph: RevisionGraph, label: str) -> _Branch:
    owner = graph.get(label).id
    members = graph.lineage_ancestors(owner) | graph.lineage_descendants(owner) | {owner}
    return _Branch(label, owner, members)


def _on_branch(
    graph: RevisionGraph, label: str, rest: str, ident: str, current: tuple[str, ...]
) -> _Target:
    if not label or not rest:
        raise RevisionError(f"{ident!r} is incomplete; write e.g. 'mybranch@head'")
    branch = _branch(graph, label)
    if rest in ("head", "heads"):
        tops = [h for h in graph.heads if h in branch.members and h not in _below(graph, branch)]
        return _Target(tuple(tops) if rest == "heads" else _one_head(graph, tops, label))
    if rest == "base":
        # No revision of the branch; a downgrade to it reverts the branch from its roots.
        return _Target((), below=_branch_bases(graph, branch), base_of_branch=branch.owner)
    relative = _RELATIVE.match(rest)
    if relative:
        found = _relative(graph, relative, ident, current, branch)
        return _Target(found.ids, found.below, branch.members)
    return _Target((_branch_revision(graph, branch, rest),), within=branch.members)


def _branch_revision(graph: RevisionGraph, branch: _Branch, name: str) -> str:
    """The revision ``name`` means on ``branch``: a prefix only matches the branch's revisions."""
    if name in graph.revisions or graph.label_owner(name) is not None:
        rev = graph.get(name).id
    else:
        matches = graph.with_prefix(name)
        on_branch = [m for m in matches if m in branch.members]
        if matches and not on_branch:
            raise RevisionError(
                f"no revision of branch {branch.label!r} starts with {name!r} (it matches "
                f"{', '.join(matches[:10])} on other branches); name a revision of that branch "
                f"or drop '{branch.label}@'"
            )
        rev = graph.one_of(name, on_branch)
    if rev not in branch.members:
        raise RevisionError(
            f"revision {rev} is not on branch {branch.label!r}; drop '{branch.label}@' or "
            "name a revision of that branch"
        )
    return rev


def _below(graph: RevisionGraph, branch: _Branch) -> frozenset[str]:
    # Members under the labelled revision are shared with other branches; a
    # head that only descends from them belongs to another branch.
    return graph.lineage_ancestors(branch.owner)


def _branch_bases(graph: RevisionGraph, branch: _Branch) -> tuple[str, ...]:
    return tuple(b for b in graph.bases if b in branch.members)


def _one_head(
    graph: RevisionGraph, heads: tuple[str, ...] | list[str], label: str | None
) -> tuple[str, ...]:
    if len(heads) <= 1:
        return tuple(heads)
    listed = ", ".join(f"{h} ({graph.revisions[h].path})" for h in heads)
    where = f"branch {label!r} has" if label else "there are"
    raise MultipleHeadsError(
        f"{where} {len(heads)} heads: {listed}; join them with "
        "'distill merge heads -m \"...\"', apply all with 'upgrade heads', "
        "or name one (a revision id or label@head)"
    )


# -- relative steps ------------------------------------------------------------------------


def _relative(
    graph: RevisionGraph,
    match: re.Match[str],
    ident: str,
    current: tuple[str, ...],
    branch: _Branch | None,
) -> _Target:
    anchor = match.group("anchor")
    steps = int(match.group("count"))
    up = match.group("sign") == "+"
    if anchor in ("", "current"):
        start = _current_position(graph, current, branch)
        if not up and len(start) > 1:
            raise RevisionError(
                f"{ident!r} is ambiguous: several revisions are current ({', '.join(start)}); "
                "say which branch to step down, e.g. 'mylabel@-1' or a revision id"
            )
    elif anchor == "base":
        start = ()
    elif anchor in ("head", "heads"):
        tops = graph.heads if branch is None else _target(graph, f"{branch.label}@{anchor}", ()).ids
        start = tuple(tops) if anchor == "heads" else _one_head(graph, tops, None)
    elif branch is not None:
        start = (_branch_revision(graph, branch, anchor),)
    else:
        start = (graph.get(anchor).id,)
    if up:
        return _Target(_walk_up(graph, start, steps, ident, branch))
    return _walk_down(graph, start, steps, ident)


def _current_position(
    graph: RevisionGraph, current: tuple[str, ...], branch: _Branch | None
) -> tuple[str, ...]:
    if branch is None:
        return current
    # The highest applied revisions of the branch, which need not be rows
    # themselves (the row may sit on another branch above a shared part).
    applied = graph.applied(current) & branch.members
    covered: set[str] = set()
    for rev in applied:
        if rev not in covered:
            covered |= graph.lineage_ancestors(rev)
    return tuple(graph.in_order(applied - covered))


def _walk_up(
    graph: RevisionGraph,
    start: tuple[str, ...],
    steps: int,
    ident: str,
    branch: _Branch | None,
) -> tuple[str, ...]:
    position = start
    for done in range(steps):
        # From base, the first step lands on a base revision.
        nexts = {c for p in position for c in graph.children(p)} if position else set(graph.bases)
        if branch is not None:
            nexts &= branch.members
        where = ", ".join(position) or "base"
        if not nexts:
            raise RevisionError(
                f"{ident!r} goes past the head: only {done} revision(s) above {where}"
            )
        if len(nexts) > 1:
            choices = ", ".join(graph.in_order(nexts))
            raise RevisionError(
                f"{ident!r} is ambiguous: after {where} come {choices} on separate branches; "
                "name one, e.g. a revision id or 'mylabel@+1'"
            )
        position = (nexts.pop(),)
    return position


def _walk_down(graph: RevisionGraph, start: tuple[str, ...], steps: int, ident: str) -> _Target:
    position = start
    dropped: list[str] = []
    for done in range(steps):
        if not position:
            where = ", ".join(start) or "base"
            raise RevisionError(
                f"{ident!r} goes below base: only {done} revision(s) at or below {where}"
            )
        parents: set[str] = set()
        for rev in position:
            down = graph.revisions[rev].down_revisions
            parents.update(down)
            if not down:
                dropped.append(rev)
        if len(parents) > 1:
            # Keep only the highest of parents on the same line (a merge of a
            # branch and its own ancestor), so each line steps down once.
            shadowed: set[str] = set()
            for rev in parents:
                shadowed |= graph.lineage_ancestors(rev)
            parents -= shadowed
        position = tuple(graph.in_order(parents))
    return _Target(position, below=tuple(dropped))


# -- history ranges ---------------------------------------------------------------------------


def revisions_in_range(
    graph: RevisionGraph, range_: str | None, current: Sequence[str]
) -> list[Revision]:
    """Revisions newest first, optionally limited by ``A:B`` (either side may be empty)."""
    ids = history_ids(graph, range_, tuple(current))
    return [graph.revisions[i] for i in reversed(graph.in_order(ids))]


def history_ids(
    graph: RevisionGraph, range_: str | None, current: tuple[str, ...]
) -> frozenset[str]:
    """Ids a ``history -r`` range covers: ``A:B``, ``A:``, ``:B`` (both ends included).

    As in Alembic, the upper end brings everything it needs (``depends_on``
    too: what ``upgrade B`` would run), and a lower end given as ``label@...``
    keeps the range on that branch: ``label@base:`` ends at the branch's heads.
    """
    if range_ is None or not range_.strip():
        return frozenset(graph.revisions)
    lower_text, sep, upper_text = (part.strip() for part in range_.strip().partition(":"))
    if not sep:
        raise RevisionError(
            f"history range {range_!r} needs a ':' — write A:B, A: (from A up) or :B (up to B)"
        )
    label = lower_text.partition("@")[0] if "@" in lower_text else ""
    branch = _branch(graph, label) if label else None
    if branch is not None and upper_text in ("", "head", "heads"):
        upper = resolve(graph, f"{branch.label}@{upper_text or 'heads'}", current)
    else:
        upper = resolve(graph, upper_text, current) if upper_text else graph.heads
    if branch is not None:
        off = [u for u in upper if u not in branch.members]
        if off:
            raise RevisionError(
                f"history range {range_!r}: {', '.join(off)} is not on branch "
                f"{branch.label!r}, where the range starts; end it on that branch (e.g. "
                f"'{lower_text}:{branch.label}@head') or start it without '{branch.label}@'"
            )
    ids: set[str] = set(upper)
    for rev in upper:
        ids |= graph.ancestors(rev)
    lower = resolve(graph, lower_text, current) if lower_text else ()
    if not lower:  # base, label@base, or nothing current yet: from the very bottom
        return frozenset(ids)
    # Up to the heads, only along down_revision (as Alembic lists "A:"); up to a
    # named revision, also through depends_on: what 'upgrade A:B' would run.
    to_named = upper_text not in ("", "head", "heads") and not upper_text.endswith("@heads")
    climb = graph.descendants if to_named else graph.lineage_descendants
    above: set[str] = set(lower)
    for rev in lower:
        above |= climb(rev)
    if not ids & above:
        raise RevisionError(
            f"history range {range_!r} is empty: {', '.join(lower)} is not below "
            f"{', '.join(upper) or 'base'}; swap the ends or check the ids"
        )
    return frozenset(ids & above)

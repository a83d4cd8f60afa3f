"""Random edit sequences against one long-running language server.

One ``distill lsp`` process per test receives, example after example, bursts of
1-6 whole-buffer edits of the shop's models, drawn by Hypothesis from a small
grammar.  Lasting edits add, remove, retype, make nullable or index a column, or
bring the original text back; passing ones (typing in progress) show that text
with a syntax error, a NameError line, a duplicated class line, or a line
duplicated or deleted anywhere, and the next lasting edit fixes them.  Some edits
go back to back, some while the analysis of an earlier one runs.  After each
burst the server must settle (``Probe``), answer ``distill/status`` consistently
with what it shows, and show for the models file what a freshly started server
shows for the same unsaved text:

* a text whose models load: exactly the fresh server's diagnostics (code, range,
  severity, message);
* a text whose models do not load: the fresh server's error diagnostic and
  database drift (``drift.database-*``: where the database stands is known all
  the same), and, by design, the model drift of the last text that did load
  (``convert.diagnostics``), a fresh server having none of its own.  That text
  is one of those sent, so that drift must be what the server showed, settled,
  for one of them; texts it never settled on are sent again to learn that, then
  the failing text once more, which must then show exactly that drift.

Fresh servers are slow to start, so one is used every ``SAMPLE``-th example and
the others are compared with the results cached by text.  The database is
SQLite, at base (the Base line always shows ``drift.database-behind``) or at head.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

from tests.lsp.lsp_client import (
    ENV,
    Probe,
    PublishLog,
    command,
    edit,
    open_file,
    running_server,
    server_command,
    start,
    stop_server,
)
from tests.projects import copy_shop

EXAMPLES = 100  # per test; two tests (database at base, at head)
SAMPLE = 10  # a fresh server for every SAMPLE-th example
SEEDS = {"base": 20261124, "head": 4242}
OPTIONS = {"debounceMs": 20, "timeout": 15}  # a generous build timeout: CI machines are slow
HEAD = "3c4d5e6f7081"

# -- the edit grammar ---------------------------------------------------------------------------

CLASSES = ("Customer", "Order")
NAMES = ("phone", "note", "age", "name", "名前")  # "name" duplicates Customer.name
TYPES = ("sa.String(30)", "sa.String(200)", "sa.Text()", "sa.Integer()", "sa.BigInteger()",
         "sa.Boolean()")  # fmt: skip
PYTHON = {"String": "str", "Text": "str", "Integer": "int", "BigInteger": "int", "Boolean": "bool"}
BROKEN = ("oops = (", "class Broken(Base)", "x = = 1", "    return 1", "def f(:")
COLUMN = re.compile(r"^    (\w+): Mapped\[")
TYPE = re.compile(r"sa\.(String|Text|Integer|BigInteger|Boolean)\([^()]*\)")
ANNOTATION = re.compile(r"Mapped\[([^\]]*)\]")

Op = tuple[Any, ...]

LASTING = (
    st.tuples(st.just("add"), st.sampled_from(CLASSES), st.sampled_from(NAMES),
              st.sampled_from(TYPES), st.booleans()),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("retype"), st.integers(0, 9), st.sampled_from(TYPES)),
    st.tuples(st.just("nullable"), st.integers(0, 9)),
    st.tuples(st.just("index"), st.integers(0, 9)),
    st.tuples(st.just("restore")),
)  # fmt: skip
PASSING = (
    st.tuples(st.just("syntax"), st.integers(0, 60), st.integers(0, len(BROKEN) - 1)),
    st.tuples(st.just("name_error"), st.integers(0, 60)),
    st.tuples(st.just("dup_class"), st.sampled_from(CLASSES)),
    st.tuples(st.just("dup_line"), st.integers(0, 60)),
    st.tuples(st.just("delete_line"), st.integers(0, 60)),
)
OPS = st.one_of(*LASTING, *PASSING)
# Seconds to wait after an edit: mostly none (one burst), sometimes into the analysis.
PAUSES = st.sampled_from((0.0, 0.0, 0.0, 0.02, 0.05))
SEQUENCES = st.lists(st.tuples(OPS, PAUSES), min_size=1, max_size=6)


def statements(lines: list[str]) -> list[tuple[int, int]]:
    """[start, end) line ranges of the column declarations (some span lines)."""
    found, i = [], 0
    while i < len(lines):
        if not COLUMN.match(lines[i]):
            i += 1
            continue
        j, depth = i, 0
        while j < len(lines):
            depth += lines[j].count("(") - lines[j].count(")")
            j += 1
            if depth <= 0:
                break
        found.append((i, j))
        i = j
    return found


def apply(op: Op, text: str, original: str) -> tuple[str, str]:
    """The lasting text after ``op`` and the text to send (the same for a lasting op)."""
    changed = _change(op, text, original)
    passing = op[0] in {"syntax", "name_error", "dup_class", "dup_line", "delete_line"}
    return (text, changed) if passing else (changed, changed)


def _change(op: Op, text: str, original: str) -> str:
    """``text`` after ``op``; an op with nothing to act on leaves it as it is."""
    kind, args = op[0], op[1:]
    if kind == "restore":
        return original
    lines = text.split("\n")
    columns = statements(lines)
    if kind == "add":
        cls, name, type_, nullable = args
        at = next((n for n, line in enumerate(lines) if line == f"class {cls}(Base):"), None)
        if at is None:
            return text
        after = next((n for n in range(at + 1, min(at + 4, len(lines)))
                      if lines[n].startswith("    __tablename__")), at)  # fmt: skip
        python = PYTHON[type_[3:].partition("(")[0]] + (" | None" if nullable else "")
        lines.insert(after + 1, f"    {name}: Mapped[{python}] = mapped_column({type_})")
    elif kind == "remove" and columns:
        start, end = columns[args[0] % len(columns)]
        del lines[start:end]
    elif kind == "retype":
        typed = [n for n, _ in columns if TYPE.search(lines[n])]
        if typed:
            n = typed[args[0] % len(typed)]
            lines[n] = TYPE.sub(args[1], lines[n], count=1)
    elif kind == "nullable" and columns:
        n = columns[args[0] % len(columns)][0]
        inner = ANNOTATION.search(lines[n])
        if inner:
            value = inner.group(1)
            value = value[: -len(" | None")] if value.endswith(" | None") else value + " | None"
            lines[n] = lines[n][: inner.start(1)] + value + lines[n][inner.end(1) :]
    elif kind == "index":
        single = [start for start, end in columns if end == start + 1]
        if single:
            n = single[args[0] % len(single)]
            line = lines[n]
            if "index=True" in line:
                line = line.replace(", index=True", "").replace("index=True", "")
            elif line.endswith("()"):
                line = line[:-1] + "index=True)"
            elif line.endswith(")"):
                line = line[:-1] + ", index=True)"
            lines[n] = line
    elif kind == "syntax":
        lines.insert(args[0] % (len(lines) + 1), BROKEN[args[1]])
    elif kind == "name_error":
        at = args[0] % (len(lines) + 1)
        following = lines[at] if at < len(lines) else ""
        indent = following[: len(following) - len(following.lstrip())]
        lines.insert(at, f"{indent}oops = undefined_name")
    elif kind == "dup_class":
        at = next((n for n, line in enumerate(lines) if line == f"class {args[0]}(Base):"), None)
        if at is not None:
            lines.insert(at, lines[at])
    elif kind == "dup_line":
        at = args[0] % len(lines)
        lines.insert(at, lines[at])
    elif kind == "delete_line" and len(lines) > 1:
        del lines[args[0] % len(lines)]
    return "\n".join(lines)


# -- what is compared -----------------------------------------------------------------------------

Item = tuple[str, int, int, int, int, int, str]  # code, range, severity, message
Key = tuple[Item, ...]


def key(diagnostics: Any) -> Key:
    return tuple(sorted(
        (str(d.code), d.range.start.line, d.range.start.character, d.range.end.line,
         d.range.end.character, int(d.severity or 0), d.message)
        for d in diagnostics or ()
    ))  # fmt: skip


def errors(found: Key) -> Key:
    return tuple(item for item in found if item[0].startswith("models."))


def now(found: Key) -> Key:
    """What reflects the current text and database even while the models fail: the
    error itself and where the database stands (``drift.database-*``).  Text that does
    not parse has no lines to place the database's drift on: it keeps the line of the
    last text that loaded (``database``), so only what it says is compared here."""
    unparsed = any(item[0] == "models.syntax" for item in found)
    return tuple(
        (item[0], -1, -1, -1, -1, *item[5:]) if unparsed and is_database(item) else item
        for item in found
        if item[0].startswith("models.") or is_database(item)
    )


def is_database(item: Item) -> bool:
    return item[0].startswith("drift.database-")


def database(found: Key) -> Key:
    return tuple(item for item in found if is_database(item))


def kept(found: Key) -> Key:
    """The model drift: while the models fail, the last text that loaded shows it."""
    return tuple(
        item for item in found if not item[0].startswith("models.") and not is_database(item)
    )


def inside(where: types.Range, text: str) -> bool:
    """Whether ``where`` lies in ``text`` (characters in UTF-16 code units, as LSP counts)."""
    lines = text.split("\n")

    def fits(at: types.Position) -> bool:
        return at.line < len(lines) and at.character <= len(lines[at.line].encode("utf-16-le")) // 2

    return fits(where.start) and fits(where.end) and where.start <= where.end


def shown(found: Key) -> str:
    return "\n".join(f"  {item}" for item in found) or "  (none)"


# -- one long-running server, many examples ------------------------------------------------------


@dataclass
class Lab:
    database_at: str  # "base" or "head"
    root: Path
    loop: asyncio.AbstractEventLoop
    client: LanguageClient
    probe: Probe
    uri: str
    original: str
    lasting: str  # the text without the passing edit, if any
    last_good: Key  # the model drift it keeps showing while the models do not load
    last_database: Key = ()  # where the database drift was on the last text that loaded
    fresh: dict[str, Key] = field(default_factory=dict)  # text -> a fresh server's diagnostics
    settled: dict[str, Key] = field(default_factory=dict)  # text -> ours, for texts that load
    stats: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    spare: asyncio.Task[tuple[LanguageClient, Probe]] = field(init=False)  # for fresh_run
    stopping: list[asyncio.Task[None]] = field(default_factory=list)
    broken: str | None = None
    codes: Counter[str] = field(default_factory=Counter)  # codes shown when settled

    def __post_init__(self) -> None:
        self.spare = self.loop.create_task(spare_server(self.root))

    def run(self, steps: list[tuple[Op, float]]) -> None:
        # A server that stopped answering stays so: fail at once, not after a timeout each
        # time Hypothesis tries a smaller example.
        assert self.broken is None, f"the server stopped answering earlier: {self.broken}"
        started = time.perf_counter()
        try:
            self.loop.run_until_complete(asyncio.wait_for(self._run(steps), 300))
        except (TimeoutError, AssertionError) as error:
            if "never matched" in str(error) or isinstance(error, TimeoutError):
                self.broken = f"after {[op for op, _ in steps]}: {error}"
            raise
        finally:
            self.seconds["examples"] += time.perf_counter() - started

    async def _run(self, steps: list[tuple[Op, float]]) -> None:
        sampled = self.stats["examples"] % SAMPLE == 0
        self.stats["examples"] += 1
        self.stats["edits"] += len(steps)
        sent = []
        for op, pause in steps:
            self.lasting, text = apply(op, self.lasting, self.original)
            sent.append(text)
            edit(self.client, self.uri, text)
            if pause:
                await asyncio.sleep(pause)
        final = sent[-1]
        where = f"after {[op for op, _ in steps]}; final text:\n{final}\n"
        ours = await self.settle(final, where)

        # What a fresh server shows for the same text.
        if final not in self.fresh and sampled:
            await self.fresh_run(final)
        expected = self.fresh.get(final)
        if expected is None:
            self.stats["not compared with a fresh server"] += 1
        elif not errors(expected):
            self.stats["compared"] += 1
            assert ours == expected, f"{where}fresh server:\n{shown(expected)}\nthis one:\n" \
                f"{shown(ours)}"  # fmt: skip
        else:  # a fresh server has no model drift to keep (a spare: that of the files)
            self.stats["compared (models fail)"] += 1
            assert now(ours) == now(expected), f"{where}fresh server:\n" \
                f"{shown(now(expected))}\nthis one:\n{shown(now(ours))}"  # fmt: skip
        if errors(ours):
            await self.check_last_good(ours, sent, where)

    async def settle(self, text: str, where: str) -> Key:
        """Wait for the analysis of ``text``; check the status; what is shown, remembered."""
        status = await self.probe.settle()
        published = self.client.diagnostics.get(self.uri, ())
        ours = key(published)
        self.codes.update(item[0] for item in ours)
        loads = not errors(ours)
        about = f"{where}status: {status}\nshown:\n{shown(ours)}"
        assert status.project == str(self.root) and status.trusted is True, about
        assert list(status.heads) == [HEAD] and status.databaseReachable is True, about
        at_head = self.database_at == "head"
        assert status.current == ([HEAD] if at_head else []), about
        assert status.pending == (0 if at_head else 3), about
        assert (status.lastError is None) == loads, about
        if loads:
            counted = [d for d in published if (d.data or {}).get("pair") != "migrations-database"]
            assert status.drift == len(counted), about
            assert all(inside(d.range, text) for d in published), about
            if text in self.settled:
                self.stats["texts seen settled before"] += 1
                assert ours == self.settled[text], f"{where}was:\n{shown(self.settled[text])}"
            self.settled[text] = ours
            self.last_good = kept(ours)
            self.last_database = database(ours)
        return ours

    async def check_last_good(self, ours: Key, sent: list[str], where: str) -> None:
        """While the models fail, the model drift shown is the last loading text's;
        while they do not parse, the database drift keeps that text's lines too."""
        before = self.last_good
        candidates = {before}
        placements = {self.last_database}
        unknown = []
        for text in dict.fromkeys(sent):
            found = self.fresh[text] if text in self.fresh else self.settled.get(text)
            if found is None:
                unknown.append(text)
            elif not errors(found):
                candidates.add(kept(found))
                placements.add(database(found))
        unparsed = any(item[0] == "models.syntax" for item in ours)

        def problem() -> str:
            choices = "\n--\n".join(shown(c) for c in candidates)
            return f"{where}model drift shown:\n{shown(kept(ours))}\nthe texts that loaded " \
                f"showed:\n{choices}"  # fmt: skip

        if kept(ours) in candidates and (not unparsed or database(ours) in placements):
            self.stats["last good drift checked"] += 1
            self.last_good = kept(ours)
            return
        assert unknown, problem()
        # Learn what it shows for the texts not seen settled, then the failing one again.
        self.last_good = before
        for text in unknown:
            edit(self.client, self.uri, text)
            self.stats["texts sent again"] += 1
            found = await self.settle(text, where)
            if not errors(found):
                candidates.add(kept(found))
                placements.add(database(found))
        assert kept(ours) in candidates, problem()
        assert not unparsed or database(ours) in placements, (
            f"{where}database drift shown:\n{shown(database(ours))}\nthe texts that loaded "
            f"placed it:\n{placements}"
        )
        edit(self.client, self.uri, sent[-1])
        again = await self.settle(sent[-1], where)
        assert (now(again), kept(again)) == (now(ours), self.last_good), (
            f"{where}after settling on a text that showed:\n{shown(self.last_good)}\n"
            f"the failing one shows:\n{shown(again)}"
        )
        self.stats["last good drift checked"] += 1

    async def fresh_run(self, text: str) -> Key:
        """What a freshly started server publishes for ``text`` unsaved.

        Servers are started ahead (one spare, while the examples run) and stopped in
        the background: a spare has seen nothing but the files on disk, which is all
        a new server sees, so it answers as one started now would.
        """
        started = time.perf_counter()
        self.stats["fresh servers"] += 1
        client, probe = await self.spare
        self.spare = self.loop.create_task(spare_server(self.root))
        try:
            uri = open_file(client, self.root / "shop" / "models.py", text)
            await probe.settle()
            self.fresh[text] = key(client.diagnostics.get(uri, ()))
        finally:
            self.stopping.append(self.loop.create_task(stop_server(client)))
        self.seconds["fresh servers"] += time.perf_counter() - started
        return self.fresh[text]

    async def close(self) -> None:
        try:
            client, _ = await self.spare
        finally:
            await asyncio.gather(*self.stopping)
        await stop_server(client)


async def spare_server(root: Path) -> tuple[LanguageClient, Probe]:
    """A server started on ``root`` and done with its first analysis, for ``fresh_run``."""
    client = make_test_lsp_client()
    client.diagnostics = PublishLog()
    await client.start_io(*server_command(), env=ENV)
    await asyncio.wait_for(start(client, root, **OPTIONS), 60)
    probe = Probe(client, root)
    await probe.settle()
    return client, probe


@pytest.fixture(params=["base", "head"])
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lab]:
    root = copy_shop(tmp_path / "shop")
    models = root / "shop" / "models.py"
    original = models.read_text()
    loop = asyncio.new_event_loop()
    server = running_server(root, **OPTIONS)
    client = loop.run_until_complete(server.__aenter__())
    lab = None
    try:
        uri = open_file(client, models, original)
        probe = Probe(client, root)
        if request.param == "head":
            loop.run_until_complete(command(client, "distill.upgrade", "head"))
        lab = Lab(request.param, root, loop, client, probe, uri, original, original, ())
        first = loop.run_until_complete(lab.settle(original, "at the start"))
        assert not errors(first) and (request.param == "head") == (first == ())
        assert loop.run_until_complete(lab.fresh_run(original)) == first
        yield lab
    finally:
        try:
            if lab is not None:
                loop.run_until_complete(lab.close())
        finally:
            loop.run_until_complete(server.__aexit__(None, None, None))
            loop.close()


def test_random_edit_sequences_settle_as_a_fresh_server_would(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fixed seed for each variant (and no example database): the same examples on
    # every run, different ones for the two variants.
    @seed(SEEDS[lab.database_at])
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(steps=SEQUENCES)
    def example(steps: list[tuple[Op, float]]) -> None:
        lab.run(steps)

    example()
    seconds = {k: round(v, 1) for k, v in lab.seconds.items()}
    with capsys.disabled():
        print(f"\nrandom edits, database at {lab.database_at}: {dict(lab.stats)}")
        print(f"  seconds: {seconds}; codes shown: {dict(lab.codes)}")
    assert lab.stats["examples"] >= EXAMPLES
    assert lab.stats["compared"] + lab.stats["compared (models fail)"] >= EXAMPLES // SAMPLE


# -- an edit racing the end of the session --------------------------------------------------


async def test_nothing_is_published_after_shutdown(tmp_path: Path) -> None:
    """An analysis running (or due) when the client shuts down is not news any more.

    It used to publish ``models.crash: the model worker is closed`` (the worker was
    closed under it), or, when still due, start a new model host and publish.
    """
    root = copy_shop(tmp_path / "shop")
    path = root / "shop" / "models.py"
    client = make_test_lsp_client()
    client.diagnostics = PublishLog()
    await client.start_io(*server_command(), env=ENV)
    process = client._server
    assert process is not None
    try:
        await asyncio.wait_for(start(client, root, **OPTIONS), 60)
        uri = open_file(client, path)
        await Probe(client, root).settle()
        future = "from __future__ import annotations\n"
        edit(client, uri, path.read_text().replace(future, future + "import time\ntime.sleep(1)\n"))
        await asyncio.sleep(0.3)  # its analysis is building the (slow) models now
        history = client.diagnostics.history  # type: ignore[attr-defined]
        asked = len(history)
        await asyncio.wait_for(client.shutdown_async(None), 30)
        answered = len(history)
        await asyncio.sleep(2.0)  # long enough for that analysis (or a pending one) to end
        crashes = [d.message for _, found in history[asked:] for d in found
                   if d.code == "models.crash"]  # fmt: skip
        assert crashes == []
        assert [where for where, _ in history[answered:]] == []
    finally:
        with contextlib.suppress(Exception):
            client.exit(None)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
        await client.stop()

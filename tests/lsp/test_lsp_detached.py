"""Processes the models start and detach from (a new session, a double fork) end with the build.

The models here start a ``sleep 300`` that leaves the build's process group and
session: a double fork with ``setsid``, or ``subprocess.Popen(start_new_session=True)``.
Killing the worker's process group does not reach it; the worker host, as the
subreaper of everything below it (Linux), must end it after each build and when
the worker is closed.  Each sleeper carries a token in its environment, so the
test finds exactly its own processes in ``/proc``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_lsp import make_test_lsp_client

from distill.sandbox.client import ModelWorker
from tests.lsp.lsp_client import (
    ENV,
    codes,
    edit,
    open_file,
    server_command,
    start,
    until,
)
from tests.projects import copy_shop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: subreaper")

DOUBLE_FORK = """
import os

def _detach():
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            os.environ["DISTILL_TEST_TOKEN"] = {token!r}
            os.execvp("sleep", ["sleep", "300"])
        os._exit(0)
    os.waitpid(first, 0)

_detach()
"""

NEW_SESSION = """
import os, subprocess
subprocess.Popen(["sleep", "300"], start_new_session=True,
                 env={{**os.environ, "DISTILL_TEST_TOKEN": {token!r}}})
"""

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def sleepers(token: str) -> list[int]:
    """Live (not zombie) processes whose environment holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if f"DISTILL_TEST_TOKEN={token}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def gone(token: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while sleepers(token):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def token() -> Iterator[str]:
    value = uuid.uuid4().hex
    try:
        yield value
    finally:
        for pid in sleepers(value):  # what the worker failed to end: not left behind
            os.kill(pid, 9)


def project(root: Path, spawner: str, token: str, *, hang: bool = False) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    tail = "\nimport time\ntime.sleep(60)\n" if hang else ""
    text = spawner.format(token=token) + MODELS + tail
    (root / "app" / "models.py").write_text(text)
    (root / "distill.toml").write_text('metadata = "app.models:metadata"\n')
    return root.resolve()


@pytest.mark.parametrize("spawner", [DOUBLE_FORK, NEW_SESSION], ids=["double-fork", "new-session"])
def test_a_detached_process_ends_after_the_build(tmp_path: Path, token: str, spawner: str) -> None:
    worker = ModelWorker(project(tmp_path, spawner, token), "app.models:metadata", "sqlite")
    try:
        first = worker.build()
        assert first.error is None, first.error
        assert gone(token), sleepers(token)
        host = worker.host_pid
        second = worker.build()  # and the host that ended it lives on
        assert second.error is None and worker.host_pid == host
        assert gone(token), sleepers(token)
    finally:
        worker.close()


@pytest.mark.parametrize("fork", [True, False], ids=["warm-host", "one-shot"])
def test_a_detached_process_ends_when_the_worker_closes_mid_build(
    tmp_path: Path, token: str, fork: bool
) -> None:
    root = project(tmp_path, DOUBLE_FORK, token, hang=True)
    worker = ModelWorker(root, "app.models:metadata", "sqlite", timeout=60, fork=fork)
    building = threading.Thread(target=worker.build)
    building.start()
    try:
        deadline = time.monotonic() + 30
        while not sleepers(token):  # the models are running, their sleeper started
            assert time.monotonic() < deadline, "the sleeper never started"
            time.sleep(0.05)
    finally:
        worker.close()
        building.join(30)
    assert gone(token), sleepers(token)


def test_a_detached_process_ends_when_the_build_times_out(tmp_path: Path, token: str) -> None:
    root = project(tmp_path, DOUBLE_FORK, token, hang=True)
    worker = ModelWorker(root, "app.models:metadata", "sqlite", timeout=2)
    try:
        result = worker.build()
        assert result.error is not None and result.error.kind == "timeout"
        assert gone(token), sleepers(token)
    finally:
        worker.close()


# -- through the language server ---------------------------------------------------------------


def shop_that_detaches(tmp_path: Path, token: str) -> Path:
    root = copy_shop(tmp_path / "shop")
    models = root / "shop" / "models.py"
    models.write_text(models.read_text() + DOUBLE_FORK.format(token=token))
    return root


@pytest.mark.parametrize("ending", ["shutdown", "server-killed"])
async def test_no_detached_process_outlives_the_server(
    tmp_path: Path, token: str, ending: str
) -> None:
    root = shop_that_detaches(tmp_path, token)
    client = make_test_lsp_client()
    await client.start_io(*server_command(), env=ENV)
    try:
        await asyncio.wait_for(start(client, root), 60)
        uri = open_file(client, root / "shop" / "models.py")
        await until(client, uri, lambda ds: "drift.database-behind" in codes(client, uri), 60)
        assert gone(token), sleepers(token)  # ended with the analysis that started it
        edit(client, uri, (root / "shop" / "models.py").read_text() + "\n")
        deadline = time.monotonic() + 30
        while not sleepers(token) and time.monotonic() < deadline:  # the next analysis's
            await asyncio.sleep(0.01)
        if ending == "shutdown":
            await asyncio.wait_for(client.shutdown_session(), 30)
        else:
            assert client._server is not None
            client._server.kill()
    finally:
        process = client._server
        if process is not None and process.returncode is None:
            await asyncio.sleep(1)
            if process.returncode is None:
                process.kill()
        await asyncio.wait_for(client.stop(), 30)
    assert gone(token, within=20), sleepers(token)

"""No password in anything the language server writes to stderr (the editor's server log).

A whole session on a real PostgreSQL database (which trusts local connections and
ignores the password the URL carries): initialize with a ``databaseUrl`` holding
a password, open and edit the models, let the analysis run (its model worker
logs to the same stderr), run commands, shut down, then grep every byte the
server process wrote.  Masking must hold at the default INFO level, where pygls
logs the ``InitializeParams`` and every message it sends, and at DEBUG.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_lsp import LanguageClient, make_test_lsp_client

from tests.conftest import create_scratch_database, require_server
from tests.lsp.lsp_client import ENV, codes, command, edit, open_file, start, until
from tests.projects import copy_shop

PLAIN = "Hunter2-n0t-in-any-log"
ESCAPED = "p@ss/w:rd%Hunter3 zyx-w0rd"  # in the URL: p%40ss%2Fw%3Ard%25Hunter3 zyx-w0rd
LOGGING_MODEL = (
    "import logging\nlogging.getLogger('shop.models').warning('models use %s', {url!r})\n"
)


def _server(stderr_file: Path, level: str | None) -> list[str]:
    """``distill lsp`` with its stderr, the worker's included, going to ``stderr_file``."""
    levels = ["--log-level", level] if level else []  # None: the default, INFO
    return [
        "/bin/sh", "-c", 'exec "$@" 2>"$0"', str(stderr_file),
        sys.executable, "-m", "distill", "lsp", *levels,
    ]  # fmt: skip


async def _session(root: Path, url: str, stderr_file: Path, level: str | None) -> None:
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(*_server(stderr_file, level), env=ENV, cwd=root)
    try:
        await asyncio.wait_for(start(client, root, databaseUrl=url), 60)
        path = root / "shop" / "models.py"
        uri = open_file(client, path)
        await until(client, uri, lambda ds: "drift.database-behind" in [d.code for d in ds], 60)
        # The models log the URL (user code, in the worker): its log is masked too.
        edit(client, uri, path.read_text() + LOGGING_MODEL.format(url=url))
        await command(client, "distill.upgrade", "head")
        await until(client, uri, lambda ds: "drift.database-behind" not in codes(client, uri), 60)
        await command(client, "distill.current")
        await command(client, "distill.check")
        with pytest.raises(Exception):  # noqa: B017 - whatever the error, it is logged
            await command(client, "distill.stamp", "no-such-revision", False)
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        process = client._server
        if process is not None and process.returncode is None:
            await asyncio.sleep(1)
            if process.returncode is None:
                process.kill()
        await asyncio.wait_for(client.stop(), 30)


@pytest.mark.parametrize(
    "password, level",
    [(PLAIN, None), (ESCAPED, None), (ESCAPED, "DEBUG")],
    ids=["plain-INFO", "escaped-INFO", "escaped-DEBUG"],
)
async def test_no_password_in_any_byte_of_the_server_log(
    tmp_path: Path, password: str, level: str | None
) -> None:
    require_server("postgresql")
    base, drop = create_scratch_database("postgresql", tmp_path)
    url = sa.make_url(base).set(password=password).render_as_string(hide_password=False)
    in_url = url.partition("://")[2].rpartition("@")[0].partition(":")[2]
    assert in_url == password or "%40" in in_url
    root = copy_shop(tmp_path / "shop")
    stderr_file = tmp_path / "server-stderr.log"
    try:
        await _session(root, url, stderr_file, level)
    finally:
        drop()  # type: ignore[operator]
    written = stderr_file.read_bytes()
    # The log is there, and it is the one that would have shown the URL.
    assert b"initialized" in written and b"databaseUrl" in written, written[-2000:]
    assert b"models use postgresql" in written  # the worker's log reached it
    forms = {password, in_url, urllib.parse.quote(password, safe=""), url.split("@")[0]}
    forms |= {urllib.parse.quote_plus(password), "Hunter3", "zyx-w0rd"}
    for form in forms:
        assert form.encode() not in written, (form, _around(written, form.encode()))
    assert os.fsencode(PLAIN) not in written


def _around(data: bytes, needle: bytes) -> bytes:
    at = data.find(needle)
    return data[max(0, at - 300) : at + 300]


MASKED_PROCESS = """
import logging, sys, threading, warnings
from distill.sandbox.log_mask import LOG_MASK, mask_logging

logging.basicConfig(level=logging.DEBUG)
mask_logging()
LOG_MASK.add_password_of(sys.argv[1])
url = sys.argv[1]
logging.getLogger("pygls.protocol").info("initialized %s", {"databaseUrl": url})
late = logging.StreamHandler(sys.stderr)  # a handler added later, as a library might
own = logging.getLogger("user.code")
own.propagate = False
own.addHandler(late)
own.warning("the url is " + url)
try:
    raise RuntimeError("cannot connect with " + url)
except RuntimeError:
    logging.getLogger("distill.lsp").exception("analysis failed")
warnings.warn("deprecated: " + url)
thread = threading.Thread(target=lambda: 1 / 0 if url else None, name="worker")
thread.start()
thread.join()
raise SystemError("the end of " + url)
"""


def test_every_record_of_a_masked_process_is_masked() -> None:
    url = sa.URL.create(
        "postgresql", username="u", password=ESCAPED, host="h", database="d"
    ).render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", MASKED_PROCESS, url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    for needle in ("initialized", "the url is", "cannot connect with", "deprecated:",
                   "ZeroDivisionError", "the end of"):  # fmt: skip
        assert needle in done.stderr, done.stderr
    assert "Hunter3" not in done.stderr and "zyx-w0rd" not in done.stderr, done.stderr
    assert "u:***@h" in done.stderr

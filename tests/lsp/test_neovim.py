"""Neovim without plugins (docs/language-server.md), on a real Neovim, headless.

The test runs the ``lua`` block the docs give for Neovim 0.7 to 0.10, as it is,
against the real ``distill lsp`` on the example project: the drift appears in
``vim.diagnostic`` and the quick fixes come back from ``textDocument/codeAction``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.projects import copy_shop

DOCS = Path(__file__).parents[2] / "docs" / "language-server.md"
PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"

# Opens the models, waits for Distill's diagnostics, asks for the quick fixes on
# the Base line's, writes what it saw as JSON and quits.
PROBE = """
vim.cmd("edit " .. vim.fn.fnameescape(MODELS))
local ok = vim.wait(60000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.source == "distill" and d.code == "drift.column-not-migrated" then return true end
  end
  return false
end, 200)
local seen, behind = {}, nil
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(seen, { code = d.code, line = d.lnum, message = d.message })
  if d.code == "drift.database-behind" then behind = d end
end
local titles = {}
if behind ~= nil then
  -- Neovim keeps the server's own diagnostic (its data, for the fixes) in user_data.lsp.
  local lsp = vim.tbl_extend("keep", behind.user_data and behind.user_data.lsp or {}, {
    range = { start = { line = behind.lnum, character = behind.col },
              ["end"] = { line = behind.end_lnum, character = behind.end_col } },
    message = behind.message, source = behind.source, severity = behind.severity,
  })
  local answers = vim.lsp.buf_request_sync(0, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    range = lsp.range,
    context = { diagnostics = { lsp } },
  }, 30000) or {}
  for _, answer in pairs(answers) do
    for _, action in ipairs(answer.result or {}) do table.insert(titles, action.title) end
  end
end
vim.fn.writefile({ vim.fn.json_encode({ ok = ok, diagnostics = seen, actions = titles }) }, OUT)
vim.cmd("qa!")
"""


def _documented_config() -> str:
    text = DOCS.read_text()
    start = text.index("Neovim 0.7 to 0.10 with no plugins")
    block = re.search(r"```lua\n(.*?)```", text[start:], re.DOTALL)
    assert block is not None
    return block[1]


def test_the_documented_neovim_config_shows_drift_and_quick_fixes(tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    if nvim is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nvim is not installed (.ci/run installs neovim)")
        pytest.skip("nvim is not installed (apt-get install neovim)")
    shop = copy_shop(tmp_path / "shop")
    models = shop / "shop" / "models.py"
    models.write_text(models.read_text().replace(EMAIL, EMAIL + PHONE))
    out = tmp_path / "seen.json"
    init = tmp_path / "init.lua"
    init.write_text(
        _documented_config()
        + f"\nMODELS = {json.dumps(str(models))}\nOUT = {json.dumps(str(out))}\n"
        + "vim.defer_fn(function()\n"
        + PROBE
        + "\nend, 100)\n"
    )
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")])}  # fmt: skip
    env.pop("DISTILL_URL", None)
    done = subprocess.run(
        [nvim, "--headless", "--clean", "-u", str(init)],
        cwd=shop, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.exists(), done.stderr + done.stdout
    seen = json.loads(out.read_text())
    assert seen["ok"] is True, seen
    lines = models.read_text().splitlines()
    codes = {d["code"]: d["line"] for d in seen["diagnostics"]}
    assert lines[codes["drift.column-not-migrated"]].lstrip().startswith("phone:")
    assert lines[codes["drift.database-behind"]].startswith("class Base(")
    assert seen["actions"] == ["Upgrade database to head"]

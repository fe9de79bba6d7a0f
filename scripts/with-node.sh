#!/usr/bin/env bash
# Run a command with another Node.js major first on PATH, e.g. the e2e tests on Node 22:
#   bash scripts/with-node.sh 22 bash test/run-with-keyring.sh vitest run --project e2e
# The binary comes from the npm package node-<os>-<cpu>@<major>, which ships it (no other download), installed once
# into .tmp/node-<major>/. Linux and macOS, x64 and arm64.
set -euo pipefail
major=${1:?usage: with-node.sh <major> <command> [args...]}
shift
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "with-node: Linux or macOS only (use actions/setup-node elsewhere)" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) cpu=x64 ;;
  aarch64 | arm64) cpu=arm64 ;;
  *) echo "with-node: no node-$os package for $(uname -m)" >&2; exit 2 ;;
esac
prefix="$(cd "$(dirname "$0")/.." && pwd)/.tmp/node-$major"
bin="$prefix/node_modules/node-$os-$cpu/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$prefix"
  npm install --no-save --no-package-lock --no-audit --no-fund --silent --prefix "$prefix" "node-$os-$cpu@$major"
fi
export PATH="$bin:$PATH"
echo "with-node: $(command -v node) $(node --version)" >&2
exec "$@"

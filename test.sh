#!/usr/bin/env bash
# The test command. From a fresh clone it installs whatever the tests need and is missing,
# then runs pytest; arguments are passed to pytest (./test.sh tests/unit -x -q).
#
# 1. Debian packages, only those missing (apt-get as root; otherwise it stops at once and
#    prints the command to run as root):
#    - chromium: the board's browser tests, through Playwright (browsers are never downloaded);
#    - prometheus (promtool) and prometheus-alertmanager (amtool): the operations tests;
#    - docker-compose: validates deploy/compose.yaml (no Docker engine needed);
#    - nodejs and npm: the official AsyncAPI parser that validates docs/asyncapi.json;
#    - python3-venv: the virtual environment.
# 2. The AsyncAPI parser's Node packages (npm ci in tools/asyncapi, from its lockfile).
# 3. The virtual environment .venv with the project and its embedded and dev extras.
# 4. pytest. PostgreSQL at 127.0.0.1:5432 is expected to be running (docs/tests.md).
set -euo pipefail
cd "$(dirname "$0")"

# Each Debian package and a command that shows it is installed.
packages=(
  chromium:chromium
  prometheus:promtool
  prometheus:prometheus
  prometheus-alertmanager:amtool
  prometheus-alertmanager:prometheus-alertmanager
  docker-compose:docker-compose
  nodejs:node
  npm:npm
)
missing=()
add_missing() {
  local package
  for package in "${missing[@]}"; do [[ $package == "$1" ]] && return; done
  missing+=("$1")
}
for entry in "${packages[@]}"; do
  command -v "${entry#*:}" >/dev/null 2>&1 || add_missing "${entry%%:*}"
done
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || add_missing python3-venv

if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    {
      echo "./test.sh: the tests need Debian packages that are not installed: ${missing[*]}"
      echo "Install them as root, then run ./test.sh again:"
      echo
      echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    } >&2
    exit 1
  fi
  echo "./test.sh: installing Debian packages: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# The AsyncAPI parser, installed again only when its lockfile has changed.
lock=tools/asyncapi/package-lock.json
stamp=tools/asyncapi/node_modules/.installed-from-package-lock.json
if ! cmp -s "$lock" "$stamp"; then
  (cd tools/asyncapi && npm ci --no-audit --no-fund --loglevel=error)
  cp "$lock" "$stamp"
fi

# The virtual environment, installed again only when pyproject.toml has changed.
[[ -x .venv/bin/python ]] || python3 -m venv .venv
if ! cmp -s pyproject.toml .venv/.installed-from-pyproject.toml; then
  .venv/bin/python -m pip install -q -e '.[embedded,dev]'
  cp pyproject.toml .venv/.installed-from-pyproject.toml
fi

exec .venv/bin/python -m pytest "$@"

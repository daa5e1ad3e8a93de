#!/usr/bin/env bash
# Installs everything kframe and its test suite need on a fresh machine, idempotently:
# system packages (etcd, iptables, iproute2) when running as root, and a virtualenv in .venv
# with kframe, its dev tools and the contrib packages installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(etcd-server iptables iproute2)
if [ "$(id -u)" = 0 ]; then
  if ! dpkg -s "${SYSTEM_PACKAGES[@]}" >/dev/null 2>&1; then
    echo "install: apt-get install ${SYSTEM_PACKAGES[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${SYSTEM_PACKAGES[@]}" >/dev/null
  fi
else
  echo "install: not root, skipping system packages (${SYSTEM_PACKAGES[*]});" \
    "tests that need them skip, or fail under KFRAME_REQUIRE_ALL=1" >&2
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools 2>&1 \
  | grep -v '^WARNING: Location' || true
contrib=()
for d in contrib/*/; do
  [ -f "$d/pyproject.toml" ] && contrib+=(-e "$d")
done
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' "${contrib[@]}" 2>&1 \
  | grep -v '^WARNING: Location' || true

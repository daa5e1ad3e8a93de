#!/usr/bin/env bash
# Installs what is needed, then runs the whole test suite: lint, types, generated-code freshness
# and pytest. Extra arguments go to pytest (for example: scripts/test.sh -k quantity).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff" >&2
ruff check kframe plugins contrib tests tools examples
ruff format --check kframe plugins contrib tests tools examples
echo "== mypy --strict" >&2
mypy kframe plugins tools examples contrib/*/
echo "== generated models are current" >&2
python tools/gen_models.py --check
python tools/gen_openapi.py --check
echo "== pytest" >&2
python -m pytest "$@"

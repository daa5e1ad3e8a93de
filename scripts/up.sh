#!/usr/bin/env bash
# The main job: install, then show kframe on its demo workload.
# Until `kframe up` lands (issue 4), the demo decodes every example manifest through kframe's
# typed models and lists the installed plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
kframe plugins
kframe validate --strict -f examples/manifests

#!/usr/bin/env bash
# The type check of `make lint`: mypy over backend/ and integrations/ as [tool.mypy] in pyproject.toml
# says (a baseline everywhere, --strict's flags on backend/lib/ and every services.py), then a check that
# every `# type: ignore[code]` says why on the same line: `# type: ignore[code]  # the reason`.
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY=${MYPY:-.venv/bin/mypy}

"$MYPY"

unexplained=$(grep -rnE --include='*.py' '#[[:space:]]*type:[[:space:]]*ignore' backend integrations \
    | grep -v '/piccolo_migrations/' \
    | grep -vE '#[[:space:]]*type:[[:space:]]*ignore\[[^]]+\][[:space:]]+#[[:space:]]*[^[:space:]]' || true)
if [ -n "$unexplained" ]; then
    echo "A '# type: ignore[code]' needs its reason on the same line ('# type: ignore[code]  # why'):" >&2
    echo "$unexplained" >&2
    exit 1
fi

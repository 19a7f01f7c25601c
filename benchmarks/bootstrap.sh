#!/usr/bin/env bash
# Create the benchmark environment .venv-bench at the repository root:
# supportkit in editable mode plus the peers of requirements-peers.txt
# (django-helpdesk and what it pulls in). The project's .venv is not touched.
#
#   bash benchmarks/bootstrap.sh          # create or update .venv-bench
#   .venv-bench/bin/python benchmarks/bench_lifecycle.py --quick
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/.venv-bench"
python="${PYTHON:-python3}"
stamp="$venv/.installed"

if [ -f "$stamp" ] && [ "$stamp" -nt "$here/requirements-peers.txt" ] \
    && [ "$stamp" -nt "$root/pyproject.toml" ]; then
  echo "bootstrap: $venv is up to date"
  exit 0
fi

test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e "$root[all,rabbitmq,redis]"
"$venv/bin/python" -m pip install --quiet -r "$here/requirements-peers.txt"
touch "$stamp"
echo "bootstrap: $venv ready ($("$venv/bin/python" -c 'import django, helpdesk; print("django", django.get_version())'))"

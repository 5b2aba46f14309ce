#!/usr/bin/env bash
# Regenerates the single initial migration from the models (allowed until the first release).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f kb_service/migrations/versions/0001_initial.py
tmp=$(mktemp -d)
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $(pwd)/kb_service/migrations
sqlalchemy.url = sqlite:///$tmp/empty.db
INI
.venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
mv kb_service/migrations/versions/0001_initial_schema.py kb_service/migrations/versions/0001_initial.py
.venv/bin/ruff format -q kb_service/migrations/versions/0001_initial.py || true
rm -rf "$tmp"
echo "regenerated kb_service/migrations/versions/0001_initial.py"

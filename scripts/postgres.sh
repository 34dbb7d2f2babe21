#!/usr/bin/env bash
# Installs (if missing) and starts a PostgreSQL server on 127.0.0.1:5432 with a
# role and database `inbox` (password `inbox`), for the inbox's PostgreSQL
# tests. Prints the DATABASE_URL to use. Needs root (apt, and su to postgres).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$version main 5432 online"; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
  sleep 1
done
# Over the Unix socket, as the postgres superuser (peer authentication).
if ! su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_roles WHERE rolname='inbox'\"" | grep -q 1; then
  su postgres -c "psql -q -c \"CREATE ROLE inbox LOGIN PASSWORD 'inbox'\""
fi
if ! su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_database WHERE datname='inbox'\"" | grep -q 1; then
  su postgres -c "createdb -O inbox inbox"
fi
echo "postgres://inbox:inbox@127.0.0.1:5432/inbox"

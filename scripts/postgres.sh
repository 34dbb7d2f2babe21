#!/usr/bin/env bash
# Installs (if missing) and starts a PostgreSQL server on 127.0.0.1:5432 with a
# role and database `inbox` (password `inbox`), for the inbox's PostgreSQL
# tests. Prints the DATABASE_URL to use. Needs root (apt, and su to postgres).
#
# TLS: a test CA (self-signed) and a server certificate it signs, for
# 127.0.0.1 and localhost, made once with openssl under $TLS_DIR; the CA is
# $TLS_DIR/ca.crt, for `sslmode=verify-full&sslrootcert=…` (the tests read it
# from DATABASE_SSLROOTCERT).
set -euo pipefail
TLS_DIR=/var/lib/postgresql/webhook-signature-tls
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
if [ ! -s "$TLS_DIR/server.crt" ]; then
  mkdir -p "$TLS_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=webhook-signature test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    > "$TLS_DIR/server.ext"
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -days 3650 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.crt" 2>/dev/null
  chown -R postgres:postgres "$TLS_DIR"
  chmod 600 "$TLS_DIR/server.key" "$TLS_DIR/ca.key"
  chmod 644 "$TLS_DIR/ca.crt"
fi
conf="/etc/postgresql/$version/main/conf.d/webhook-signature-tls.conf"
wanted="ssl = on
ssl_cert_file = '$TLS_DIR/server.crt'
ssl_key_file = '$TLS_DIR/server.key'"
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$wanted" > "$conf"
  if pg_lsclusters -h | grep -q "^$version main 5432 online"; then
    pg_ctlcluster "$version" main restart
  fi
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

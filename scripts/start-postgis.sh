#!/usr/bin/env bash
# Start Debian's PostgreSQL 15 on 127.0.0.1 with a PostGIS test database, for the PostGIS tests.
# Prints the database URL to use as PLACEINTEL_TEST_POSTGRES. Needs root (apt, pg_ctlcluster).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null || [ ! -d /usr/share/postgresql/15/extension ] \
   || ! ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-15-postgis-3 >&2
fi
pg_ctlcluster 15 main start >&2 2>&1 || true  # "already running" is fine
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" >&2 && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'placeintel') THEN
    CREATE ROLE placeintel LOGIN PASSWORD 'placeintel';
  END IF;
END $$;
SELECT 'CREATE DATABASE placeintel_test OWNER placeintel'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'placeintel_test')\gexec
\c placeintel_test
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
echo "postgresql://placeintel:placeintel@127.0.0.1:5432/placeintel_test"

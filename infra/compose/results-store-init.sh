#!/bin/sh
# Runs once, on the fleet stack's first PostgreSQL start (docker-entrypoint-initdb.d): the results
# store's database and owner, and a read-only role for Grafana's SQL panels.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v store_password="$ZFSLAB_STORE_PASSWORD" -v grafana_password="$ZFSLAB_GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE zfslab LOGIN PASSWORD :'store_password';
CREATE DATABASE zfslab OWNER zfslab;
CREATE ROLE zfslab_grafana LOGIN PASSWORD :'grafana_password';
\connect zfslab
ALTER DEFAULT PRIVILEGES FOR ROLE zfslab IN SCHEMA public GRANT SELECT ON TABLES TO zfslab_grafana;
GRANT CONNECT ON DATABASE zfslab TO zfslab_grafana;
GRANT USAGE ON SCHEMA public TO zfslab_grafana;
SQL

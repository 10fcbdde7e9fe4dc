#!/usr/bin/env bash
# Start gunicorn (production settings, a migrated SQLite database in a temporary folder), the
# stream gateway and nginx with deploy/nginx/ci.conf in front of them, all on loopback, run
# scripts/check_nginx.py through nginx, and stop all three. Exit 0 when every check passes, 1 when one fails, 0 with a
# note when nginx is not installed (NGINX_REQUIRED=1 makes that a failure).
#   bash scripts/check_nginx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ -x .venv/bin/python ]; then PYTHON=${PYTHON:-$repo/.venv/bin/python}; else PYTHON=${PYTHON:-python3}; fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
  echo "=== nginx is not installed: the nginx check is skipped ==="
  [ "${NGINX_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

work=$(mktemp -d)
chmod 755 "$work"
app_pid="" stream_pid="" nginx_pid=""
stop() {
  # Only the processes this script started, by their ids.
  for pid in $nginx_pid $stream_pid $app_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $nginx_pid $stream_pid $app_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop EXIT

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
app_port=$(free_port)
stream_port=$(free_port)
nginx_port=$(free_port)
web=$("$PYTHON" -c 'import cryptolens, pathlib; print(pathlib.Path(cryptolens.__file__).resolve().parent / "web")')

export CRYPTOLENS_ENV=production
SECRET_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')
export SECRET_KEY
export INSTANCE_DIR="$work/instance" DATABASE_URL="sqlite:///$work/instance/cryptolens.sqlite"
export PUBLIC_URL=http://localhost TRUSTED_PROXIES=1 METRICS_ALLOW=127.0.0.2/32 WEB_WORKERS=2 LOG_LEVEL=WARNING
export PROMETHEUS_MULTIPROC_DIR="$work/metrics" STREAM_HEARTBEAT_SECONDS=1
unset REDIS_URL METRICS_TOKEN TRUSTED_HOSTS
mkdir -p "$INSTANCE_DIR" "$PROMETHEUS_MULTIPROC_DIR"
"$PYTHON" -m cryptolens db upgrade >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }

# An administrator with a read:stream key: the stream check authenticates with it.
"$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$work/password"
"$PYTHON" -m cryptolens users create-admin --email ci@example.com --password-stdin <"$work/password" >/dev/null
"$PYTHON" -m cryptolens api-keys create --email ci@example.com --scopes read:stream | tail -n 1 >"$work/stream-key"

"$PYTHON" -m cryptolens serve --production --host 127.0.0.1 --port "$app_port" >"$work/gunicorn.log" 2>&1 &
app_pid=$!
"$PYTHON" -m cryptolens stream --host 127.0.0.1 --port "$stream_port" >"$work/stream.log" 2>&1 &
stream_pid=$!

sed -e "s|@APP_PORT@|$app_port|; s|@STREAM_PORT@|$stream_port|; s|@NGINX_PORT@|$nginx_port|; s|@WEB@|$web|; s|@DEPLOY@|$repo/deploy/nginx|" \
  deploy/nginx/ci.conf >"$work/ci.conf"
mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $work/nginx-access.log;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    include $work/ci.conf;
}
CONF
"$NGINX" -t -q -p "$work" -c "$work/nginx.conf"
"$NGINX" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!

status=0
"$PYTHON" scripts/check_nginx.py --nginx "127.0.0.1:$nginx_port" --app "127.0.0.1:$app_port" \
  --static-root "$web/static" --stream-key-file "$work/stream-key" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- gunicorn log ---"; tail -n 40 "$work/gunicorn.log"
  echo "--- stream gateway log ---"; tail -n 40 "$work/stream.log"
  echo "--- nginx error log ---"; tail -n 40 "$work/nginx-error.log" 2>/dev/null || true
fi
exit "$status"

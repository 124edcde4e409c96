#!/usr/bin/env bash
# KDCS CI stage "multihost": the deployment of README's "Deployment" section, on one machine.
#
#   bash .ci/multihost.sh PG_PORT       # a PostgreSQL server on 127.0.0.1:PG_PORT, user postgres, trust auth
#
# Starts redis-server (Debian package), creates a database on the given PostgreSQL server,
# runs the README's setup commands in order with the environment file the systemd units
# read, then starts TWO gunicorn app servers on two ports (one database, one instance
# folder standing for the shared mount), ONE task worker on Redis, waitress once, and nginx
# (Debian package, deploy/nginx-kdcs.conf) in front of both, and drives them over HTTP
# (tests/multihost). Everything it started is stopped and removed on
# exit, whatever happens (trap). Exit status: pytest's, or non-zero when a step fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PG_PORT=${1:?usage: .ci/multihost.sh PG_PORT}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
VENV=$ROOT/.venv/bin
WORK=$(mktemp -d /tmp/kdcs-multihost.XXXXXX)
DB_NAME=kdcs_multihost_$$
declare -a PIDS=()
REDIS_STARTED=0
DB_CREATED=0

log() { printf '\n--> [%s] %s\n' "$(date +%T)" "$*"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
  local rc=$?
  set +e
  if [[ $rc -ne 0 ]]; then
    for f in "$WORK"/*.log; do
      [[ -f $f ]] || continue
      echo "---- last lines of $(basename "$f")"
      tail -n 40 "$f"
    done
  fi
  log "stopping what the multihost stage started"
  for pid in "${PIDS[@]}"; do
    if [[ $pid == "${WORKER_PID:-}" ]]; then kill -s "${WORKER_STOP:-SIGINT}" "$pid" 2>/dev/null  # as systemd stops it
    else kill -TERM "$pid" 2>/dev/null; fi
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "pid $pid still running after 15 s: killed"; kill -KILL "$pid"; }
    wait "$pid" 2>/dev/null
    echo "pid $pid stopped ($(date +%T))"
  done
  if [[ $REDIS_STARTED -eq 1 ]]; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 ||
      kill -TERM "$(cat "$WORK/redis.pid" 2>/dev/null)" 2>/dev/null
  fi
  if [[ $DB_CREATED -eq 1 ]]; then
    "$PG_BIN/dropdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres --force "$DB_NAME" 2>/dev/null
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
[[ -x $VENV/gunicorn && -x $VENV/waitress-serve ]] || { echo "gunicorn/waitress missing in .venv" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || { echo "nginx is not installed (apt-get install nginx)" >&2; exit 1; }

# ---------------------------------------------------------------- Redis and the database
REDIS_PORT=$(free_port)
log "redis-server on 127.0.0.1:$REDIS_PORT"
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$WORK/redis" \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --save "" --appendonly no
REDIS_STARTED=1
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping | grep -q PONG

log "database $DB_NAME on 127.0.0.1:$PG_PORT"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME"
DB_CREATED=1

# ---------------------------------------------------------------- the environment file
# deploy/kdcs.env.example (README: /etc/kdcs/kdcs.env, read by the systemd units) with this
# machine's values; every variable CI sets must be one the example has, and the reverse.
python3 - deploy/kdcs.env.example "$WORK/kdcs.env" <<PY
import secrets, sys
ours = {
    "KDCS_ENV": "production",
    "KDCS_SECRET_KEY": secrets.token_hex(32),
    "KDCS_DATABASE_URL": "postgresql://postgres@127.0.0.1:$PG_PORT/$DB_NAME",
    "KDCS_INSTANCE_PATH": "$WORK/instance",
    "KDCS_TASK_URL": "redis://127.0.0.1:$REDIS_PORT/0",
    "KDCS_COOKIE_SECURE": "0",  # CI talks plain HTTP to the app servers (no nginx, no TLS here)
    "KDCS_TRUSTED_PROXIES": "1",
}
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
keys = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
assert sorted(keys) == sorted(ours), f"deploy/kdcs.env.example has {sorted(keys)}, CI sets {sorted(ours)}"
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in lines:
        key = line.split("=", 1)[0]
        out.write(f"{key}={ours[key]}\n" if key in ours and not line.startswith("#") else line + "\n")
PY
set -a
# shellcheck disable=SC1091
. "$WORK/kdcs.env"
set +a
mkdir -p "$KDCS_INSTANCE_PATH"

# ---------------------------------------------------------------- README's commands, in order
log "setup commands (README: Deployment)"
"$VENV/flask" --app kdcs db upgrade
"$VENV/flask" --app kdcs tickets seed-reference
ADMIN_PASSWORD="Ci-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
printf '%s\n%s\n' "$ADMIN_PASSWORD" "$ADMIN_PASSWORD" |
  "$VENV/flask" --app kdcs create-user opsadmin --role admin --name 运维管理员
"$VENV/flask" --app kdcs compile-translations
# CI only: the demo company (users with the demo password, outlets, tickets) to act on.
"$VENV/flask" --app kdcs seed-demo >/dev/null

# ---------------------------------------------------------------- two app servers, one worker, waitress
PORT_A=$(free_port); PORT_B=$(free_port); PORT_W=$(free_port)
start() {  # start NAME COMMAND...: in the background, output to $WORK/NAME.log
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  echo "$name: pid $! ($*)"
}
# The ExecStart lines of deploy/kdcs-web.service and deploy/kdcs-worker.service (README), with
# this checkout for /srv/kdcs/app and a free port for 8000; the units' WorkingDirectory is $ROOT.
exec_start() {  # exec_start UNIT PORT: the unit's command as words
  local line
  line=$(grep -m1 '^ExecStart=' "deploy/$1")
  line=${line#ExecStart=}
  line=${line//\/srv\/kdcs\/app/$ROOT}
  echo "${line//127.0.0.1:8000/127.0.0.1:$2}"
}
read -r -a WEB_A <<<"$(exec_start kdcs-web.service "$PORT_A")"
read -r -a WEB_B <<<"$(exec_start kdcs-web.service "$PORT_B")"
read -r -a WORKER <<<"$(exec_start kdcs-worker.service 0)"
WORKER_STOP=$(grep -m1 '^KillSignal=' deploy/kdcs-worker.service | cut -d= -f2)
log "starting gunicorn A :$PORT_A, gunicorn B :$PORT_B, the worker, waitress :$PORT_W"
start gunicorn-a "${WEB_A[@]}"
start gunicorn-b "${WEB_B[@]}"
start worker "${WORKER[@]}"
WORKER_PID=$!
start waitress "$VENV/waitress-serve" --threads 4 --listen="127.0.0.1:$PORT_W" wsgi:app

ready() {  # ready PORT: /healthz answers 200 with the worker reporting
  curl_json=$(python3 - "$1" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
        body = json.load(r)
    print("ok" if body["database"] == "ok" and body["worker"]["state"] == "ok" else json.dumps(body))
except Exception as exc:  # not up yet
    print(type(exc).__name__)
PY
)
  [[ $curl_json == ok ]]
}
for port in "$PORT_A" "$PORT_B" "$PORT_W"; do
  for i in $(seq 1 120); do
    ready "$port" && break
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "pid $pid exited early" >&2; exit 1; }; done
    [[ $i -eq 120 ]] && { echo "127.0.0.1:$port not ready after 60 s: $curl_json" >&2; exit 1; }
    sleep 0.5
  done
  echo "127.0.0.1:$port ready (database and worker ok)"
done

# ---------------------------------------------------------------- nginx in front of A and B
# deploy/nginx-kdcs.conf (README) with both app servers in the upstream, free ports for 80/443
# and a self-signed certificate; its own nginx.conf around it (no system service is touched).
PORT_H=$(free_port); PORT_S=$(free_port)
mkdir -p "$WORK/nginx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kdcs.example.internal \
  -keyout "$WORK/nginx/privkey.pem" -out "$WORK/nginx/fullchain.pem" 2>/dev/null
python3 - deploy/nginx-kdcs.conf "$WORK/nginx/kdcs.conf" <<PY
import sys
text = open(sys.argv[1], encoding="utf-8").read()
for old, new in [
    ("    server 127.0.0.1:8000;\n", "    server 127.0.0.1:$PORT_A;\n    server 127.0.0.1:$PORT_B;\n"),
    ("listen 80;", "listen 127.0.0.1:$PORT_H;"),
    ("listen 443 ssl;", "listen 127.0.0.1:$PORT_S ssl;"),
    ("/etc/ssl/kdcs/fullchain.pem", "$WORK/nginx/fullchain.pem"),
    ("/etc/ssl/kdcs/privkey.pem", "$WORK/nginx/privkey.pem"),
]:
    assert text.count(old) == 1, f"deploy/nginx-kdcs.conf no longer has {old!r} once: update .ci/multihost.sh"
    text = text.replace(old, new)
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
NGINX_USER=""
[[ $(id -u) -eq 0 ]] && NGINX_USER="user root;"  # its workers read the files in $WORK
cat >"$WORK/nginx/nginx.conf" <<CONF
$NGINX_USER
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/nginx/kdcs.conf;
}
CONF
log "nginx -t, then nginx on :$PORT_H (http) and :$PORT_S (https) in front of A and B"
"$NGINX" -t -c "$WORK/nginx/nginx.conf" 2>&1
start nginx "$NGINX" -c "$WORK/nginx/nginx.conf" -g "daemon off;"
for i in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT_S), 1)" 2>/dev/null && break
  [[ $i -eq 50 ]] && { echo "nginx did not start" >&2; exit 1; }
  sleep 0.1
done

# ---------------------------------------------------------------- drive them over HTTP
log "tests/multihost against A, B, waitress and nginx"
env -u KDCS_ENV -u KDCS_SECRET_KEY -u KDCS_DATABASE_URL -u KDCS_TASK_URL -u KDCS_INSTANCE_PATH \
  KDCS_MULTIHOST_REQUIRED=1 \
KDCS_MULTIHOST_A="http://127.0.0.1:$PORT_A" \
KDCS_MULTIHOST_B="http://127.0.0.1:$PORT_B" \
KDCS_MULTIHOST_WAITRESS="http://127.0.0.1:$PORT_W" \
KDCS_MULTIHOST_NGINX="https://127.0.0.1:$PORT_S" \
KDCS_MULTIHOST_NGINX_HTTP="http://127.0.0.1:$PORT_H" \
  "$VENV/python" -m pytest -p no:cacheprovider -v tests/multihost

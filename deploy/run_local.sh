#!/usr/bin/env bash
# Two app processes on loopback behind Debian's nginx as a sticky proxy: the compose deployment
# without Docker, for trying it and for benchmarks/bench_load.py against a running stack.
#
#   deploy/run_local.sh              # apps on 127.0.0.1:8501 and :8502, nginx on 127.0.0.1:8080
#   APPS=3 PROXY_PORT=9000 APP_PORT=9501 deploy/run_local.sh
#
# nginx runs deploy/nginx.conf itself, adapted to loopback (its upstream, listen, pid, logs and
# temp paths; the same function as the benchmark's). Ctrl-C stops everything it started.
# Needs nginx (Debian: apt-get install -y nginx-light, or nginx).
set -euo pipefail
cd "$(dirname "$0")/.."

APPS="${APPS:-2}"
APP_PORT="${APP_PORT:-8501}"
PROXY_PORT="${PROXY_PORT:-8080}"
NGINX="${NGINX:-nginx}"
PYTHON="${PYTHON:-python}"

if ! command -v "$NGINX" >/dev/null 2>&1 && [ ! -x "$NGINX" ]; then
    echo "nginx not found: apt-get install -y nginx-light (or set NGINX=/path/to/nginx)" >&2
    exit 1
fi

WORK="$(mktemp -d -t optirace-local-XXXXXX)"
PIDS=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

PORTS=()
for ((i = 0; i < APPS; i++)); do
    port=$((APP_PORT + i))
    PORTS+=("$port")
    "$PYTHON" -m streamlit run app.py --server.address 127.0.0.1 --server.port "$port" \
        --server.headless true --browser.gatherUsageStats false >"$WORK/app$i.log" 2>&1 &
    PIDS+=("$!")
done

for port in "${PORTS[@]}"; do
    for _ in $(seq 1 300); do
        if "$PYTHON" - "$port" <<'EOF' 2>/dev/null; then break; fi
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"http://127.0.0.1:{sys.argv[1]}/_stcore/health", timeout=2) as r:
    sys.exit(0 if r.read().strip() == b"ok" else 1)
EOF
        sleep 0.2
    done
done

mkdir -p "$WORK/nginx"
"$PYTHON" - "$WORK/nginx" "$PROXY_PORT" "${PORTS[@]}" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from bench_load import NGINX_CONF, local_nginx_conf
prefix, listen, ports = Path(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
(prefix / "nginx.conf").write_text(local_nginx_conf(NGINX_CONF.read_text(), listen, ports, prefix))
EOF
"$NGINX" -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off;" &
PIDS+=("$!")

echo "apps: ${PORTS[*]/#/127.0.0.1:}  (pids ${PIDS[*]:0:$APPS}; logs in $WORK)"
echo "proxy: http://127.0.0.1:$PROXY_PORT  (nginx pid ${PIDS[-1]})"
SERVER_PIDS=""
for pid in "${PIDS[@]:0:$APPS}"; do SERVER_PIDS+=" --server-pid $pid"; done
echo "benchmark it:  $PYTHON benchmarks/bench_load.py --url http://127.0.0.1:$PROXY_PORT$SERVER_PIDS --proxy-pid ${PIDS[-1]}"
echo "Ctrl-C stops them."
wait -n "${PIDS[@]}" || true
echo "a process exited; stopping the rest" >&2

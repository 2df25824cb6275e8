#!/usr/bin/env bash
# Compatibility check of the gateway emulator with plain curl and the PyPI client ibind.
#
#   bash backtest/gateway/scripts/compat.sh target/debug/tickline          # `tickline gateway`
#   bash backtest/gateway/scripts/compat.sh target/debug/examples/gateway  # the crate's example
#
# Builds nothing: $1 is an already built binary. Starts the emulator over TLS (like the real
# Client Portal Gateway) on a free port with a fast timed market and the default prompt
# rules, runs curl checks and ibind_compat.py, stops it; then starts it in OAuth 1.0a mode
# (`--oauth DIR`, plain http: ibind verifies TLS in OAuth mode) and runs ibind's own OAuth
# mode with the variables the emulator wrote to DIR/ibind.env. Exits non-zero on any failure.
set -euo pipefail

BIN="${1:?usage: compat.sh PATH_TO_tickline_OR_gateway_BINARY}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
GW_PID=""
cleanup() {
    if [[ -n "$GW_PID" ]] && kill -0 "$GW_PID" 2>/dev/null; then
        kill -INT "$GW_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$GW_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [[ -f "$WORK/gateway.log" ]] && sed 's/^/  gateway: /' "$WORK/gateway.log" >&2; exit 1; }
ok() { echo "ok   $*"; }

# --- ibind, in its own virtualenv ------------------------------------------------------
PY="${PYTHON:-python3}"
"$PY" -m venv "$WORK/venv" || fail "python3 -m venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check "ibind[oauth]==0.2.2" || fail "pip install ibind"
ok "ibind installed"

# --- start the emulator ----------------------------------------------------------------
cat >"$WORK/gateway.toml" <<'TOML'
seed = 7
[market]
mode = "timed"
step_ms = 1000
speed = 10.0
history_days = 2
[faults]
session_timeout_secs = 0
TOML
start_gateway() { # extra arguments → sets GW_PID and BASE
    local args=(--config "$WORK/gateway.toml" --port 0 "$@") cmd
    case "$(basename "$BIN")" in
        tickline*) cmd=("$BIN" gateway "${args[@]}") ;;
        *) cmd=("$BIN" "${args[@]}") ;;
    esac
    "${cmd[@]}" >"$WORK/gateway.log" 2>&1 &
    GW_PID=$!
    BASE=""
    for _ in $(seq 100); do
        BASE="$(grep -o 'https\?://127\.0\.0\.1:[0-9]*/v1/api' "$WORK/gateway.log" | head -n1 || true)"
        [[ -n "$BASE" ]] && break
        kill -0 "$GW_PID" 2>/dev/null || fail "the gateway exited"
        sleep 0.1
    done
    [[ -n "$BASE" ]] || fail "no base URL printed"
}
stop_gateway() {
    kill -INT "$GW_PID"
    for _ in $(seq 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$GW_PID" 2>/dev/null; then fail "the gateway did not stop on SIGINT"; fi
    wait "$GW_PID" || fail "the gateway exited with an error"
    GW_PID=""
    ok "gateway stopped"
}
start_gateway --tls
HOSTPORT="${BASE#https://}"; HOSTPORT="${HOSTPORT%/v1/api}"
ok "gateway up at $BASE"

# --- curl ------------------------------------------------------------------------------
JAR="$WORK/cookies"
api() { # METHOD PATH [BODY] → body on stdout; fails on a non-2xx status
    local out code
    if [[ $# -ge 3 ]]; then
        out="$(curl -sk -b "$JAR" -c "$JAR" -X "$1" -H 'Content-Type: application/json' -d "$3" -w '\n%{http_code}' "$BASE$2")"
    else
        out="$(curl -sk -b "$JAR" -c "$JAR" -X "$1" -w '\n%{http_code}' "$BASE$2")"
    fi
    code="${out##*$'\n'}"
    [[ "$code" == 2* ]] || fail "$1 $2 → HTTP $code: ${out%$'\n'*}"
    printf '%s' "${out%$'\n'*}"
}
expect() { # WHAT BODY PATTERN
    grep -q -- "$3" <<<"$2" || fail "$1: expected /$3/ in $2"
    ok "$1"
}
expect "curl auth status" "$(api POST /iserver/auth/status '{}')" '"authenticated":true'
expect "curl tickle" "$(api GET /tickle)" '"session":"[0-9a-f]\{32\}"'
expect "curl accounts" "$(api GET /iserver/accounts)" '"selectedAccount":"DU1234567"'
expect "curl secdef search" "$(api GET '/iserver/secdef/search?symbol=AAPL')" '"conid":"265598"'
api GET '/iserver/marketdata/snapshot?conids=265598&fields=31,84,86' >/dev/null
sleep 0.3
expect "curl snapshot" "$(api GET '/iserver/marketdata/snapshot?conids=265598&fields=31,84,86')" '"31":"[0-9.]*"'
expect "curl history" "$(api GET '/iserver/marketdata/history?conid=265598&period=1d&bar=1h&outsideRth=true')" '"data":\[{'
Q="$(api POST /iserver/account/DU1234567/orders '{"orders":[{"conid":265598,"orderType":"LMT","price":1.00,"side":"BUY","tif":"GTC","quantity":1}]}')"
expect "curl order question (price far from the market)" "$Q" '"messageIds":\["o163"\]'
REPLY="$(grep -o '"id":"[0-9a-f-]*"' <<<"$Q" | head -n1 | cut -d'"' -f4)"
ACK="$(api POST "/iserver/reply/$REPLY" '{"confirmed":true}')"
expect "curl reply confirms" "$ACK" '"order_status":"Submitted"'
OID="$(grep -o '"order_id":"[0-9]*"' <<<"$ACK" | cut -d'"' -f4)"
expect "curl cancel" "$(api DELETE "/iserver/account/DU1234567/order/$OID")" '"msg":"Request was submitted"'
api GET /portfolio/accounts >/dev/null
expect "curl positions" "$(api GET /portfolio/DU1234567/positions/0)" '^\['
expect "curl control state" "$(curl -sk "https://$HOSTPORT/control/state")" '"state":"ready"'

# --- ibind -----------------------------------------------------------------------------
"$WORK/venv/bin/python" "$HERE/ibind_compat.py" "$BASE/" "wss://$HOSTPORT/v1/api/ws" DU1234567 \
    || fail "ibind compatibility"

stop_gateway

# --- OAuth 1.0a: ibind's own OAuth mode -------------------------------------------------
start_gateway --oauth "$WORK/oauth"
ok "OAuth gateway up at $BASE"
[[ -f "$WORK/oauth/ibind.env" && -f "$WORK/oauth/ibkr_oauth.toml" ]] || fail "no ibind.env / ibkr_oauth.toml written"
UNSIGNED="$(curl -s -w '\n%{http_code}' "$BASE/iserver/accounts")"
[[ "${UNSIGNED##*$'\n'}" == 401 ]] || fail "an unsigned request was not refused: $UNSIGNED"
ok "an unsigned request gets 401 (${UNSIGNED%$'\n'*})"
(set -a; . "$WORK/oauth/ibind.env"; set +a; exec "$WORK/venv/bin/python" "$HERE/ibind_compat.py" --oauth DU1234567) \
    || fail "ibind OAuth compatibility"
stop_gateway
echo "compat: all checks passed"

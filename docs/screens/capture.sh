#!/usr/bin/env bash
# Regenerates the text captures in docs/screens/ from the real CLI: the proxy in a
# detached tmux (120x40, and 80x24 with NO_COLOR), traffic from `wsscope demo --mask
# 37fa213d` (RFC 6455 §5.7's masking key) and friends, keys sent with send-keys, screens
# read with capture-pane. Run from anywhere after `npm run build`. Only 127.0.0.1, port 0.
# (Short pauses after keys are for a human-paced session; the tests in test/tui poll.)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=docs/screens
SOCK="wsscope-screens-$$"
T="tmux -L $SOCK"
BACKEND_PID=""

cleanup() {
  local path
  path=$($T display-message -p '#{socket_path}' 2>/dev/null || true)
  $T kill-server 2>/dev/null || true
  [ -n "$path" ] && rm -f "$path"
  [ -n "$BACKEND_PID" ] && kill "$BACKEND_PID" 2>/dev/null || true
}
trap cleanup EXIT

key() { $T send-keys -t m "$@"; sleep 0.3; }
text() { $T send-keys -t m -l "$1"; sleep 0.3; }
shot() { $T capture-pane -p -t m > "$OUT/$1"; }

# start COLS ROWS [ENV=VALUE...] -- CLI ARGS: runs the CLI in a fresh session, prints the proxy address.
start() {
  local cols=$1 rows=$2; shift 2
  local env=(-e LANG=C.UTF-8)
  while [ "$1" != "--" ]; do env+=(-e "$1"); shift; done; shift
  $T kill-session -t m 2>/dev/null || true
  $T new-session -d -x "$cols" -y "$rows" "${env[@]}" -s m "node bin/wsscope.js $*; exec cat"
  for _ in $(seq 100); do
    local addr
    addr=$($T capture-pane -p -t m | grep -o '127\.0\.0\.1:[0-9]* →' | head -1 | cut -d' ' -f1 || true)
    if [ -n "$addr" ]; then echo "$addr"; return; fi
    sleep 0.1
  done
  echo "the UI did not start" >&2; exit 1
}
quit() { key q; }

PROXY="proxy --listen 127.0.0.1:0 --backend --backend-listen 127.0.0.1:0 --ui tui"

# The demo session: overview, Fields, Handshake, a fragment's Payload.
ADDR=$(start 120 40 -- $PROXY)
node bin/wsscope.js demo --url "ws://$ADDR/json" --mask 37fa213d > /dev/null
sleep 0.5
key BTab; key k; key Tab; key g
shot overview.txt
key Enter; key 1; shot fields.txt
key 4; shot handshake.txt
key Escape; key /; text ents; key Enter; key 3; shot payload.txt
quit

# A client frame sent unmasked (wsscope send sends the bytes as given): Violations.
ADDR=$(start 120 40 -- $PROXY)
node bin/wsscope.js send --url "ws://$ADDR/json" --hex "81 05 48 65 6c 6c 6f" --timeout 1000 > /dev/null || true
sleep 0.5
key g; key 5; shot violations.txt
quit

# permessage-deflate: the backend with --deflate, a client offering it (wsscope demo --deflate).
node bin/wsscope.js backend --deflate --listen 127.0.0.1:0 > /tmp/$SOCK.backend 2>&1 &
BACKEND_PID=$!
for _ in $(seq 100); do grep -q 'listening on' /tmp/$SOCK.backend && break; sleep 0.1; done
BACKEND=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' /tmp/$SOCK.backend | head -1 | cut -d' ' -f3)
rm -f /tmp/$SOCK.backend
ADDR=$(start 120 40 -- proxy --listen 127.0.0.1:0 --target "ws://$BACKEND/json" --ui tui)
node bin/wsscope.js demo --url "ws://$ADDR/json" --mask 37fa213d --deflate > /dev/null || true
sleep 0.5
key BTab; key k; key Tab; key g; key j; key Enter; key 3; shot deflate.txt
quit

# 80x24 without colours.
ADDR=$(start 80 24 NO_COLOR=1 -- $PROXY)
node bin/wsscope.js demo --url "ws://$ADDR/json" --mask 37fa213d > /dev/null
sleep 0.5
key BTab; key k; key Tab; key /; text 'between 2'; key Enter
shot small-80x24.txt
quit
echo "captures written to $OUT"

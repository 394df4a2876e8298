#!/usr/bin/env bash
# conclusions.sh MAILTLS FILE…: what mailtls concludes on each log file, in the canonical
# form of the break matrix (tests/fixtures/real/expected.tsv, tests/e2e/README.md):
#
#   local    our own incidents by kind, summed over hosts   private_key=1,unsafe_file=1 | -
#   in, out  over all peers: tls_sessions/tls_messages/plaintext_messages/deferred
#   perr     incidents blamed on peers, direction:kind=count   in:handshake=6 | -
#   windows  silent-downgrade windows, direction@start-end   in@12:35:10-end;out@… | -
#   grades   grade per peer                                  vm.example.test=A | -
#   alerts   `mailtls follow` alert records, in order        tls_disabled,tls_resumed | -
#   advice   the cause: and fix: lines of the Markdown report, joined by " | "
#
# For each FILE: a "== FILE" line, then `key<TAB>value` lines. tests/it/real_fixtures.rs
# computes the same fields the same way (keep the two in step). The followers run in
# parallel, each until it has read its whole file (checked in its --state file).
set -uo pipefail
M=$1
shift
export TZ=UTC NO_COLOR=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Followers first (in parallel): a copy each, stopped once the state file says the whole
# copy was read (or after 20 s).
i=0
for f in "$@"; do
  i=$((i + 1))
  cp "$f" "$tmp/$i.log"
  "$M" follow --from-start --json --loopback --utc --state "$tmp/$i.state" "$tmp/$i.log" \
    >"$tmp/$i.ndjson" 2>/dev/null &
  echo $! >"$tmp/$i.pid"
done

one() {
  local f=$1 j=$2 d
  "$M" scan --format json --loopback --utc --year 2026 "$f" >"$tmp/s.json" 2>/dev/null
  "$M" scan --format csv --loopback --utc --year 2026 "$f" >"$tmp/s.csv" 2>/dev/null
  "$M" scan --format md --loopback --utc --year 2026 "$f" >"$tmp/s.md" 2>/dev/null
  printf '== %s\n' "$f"
  printf 'local\t%s\n' "$(jq -r '[.local_errors // {} | to_entries[] | .value | to_entries[] | {k: .key, n: .value.count}]
    | group_by(.k) | map("\(.[0].k)=\(map(.n) | add)") | join(",") | if . == "" then "-" else . end' "$tmp/s.json")"
  for d in inbound outbound; do
    printf '%s\t%s\n' "${d%bound}" "$(jq -r --arg d "$d" 'def n($k): [.peers[] | .[$d][$k] // 0] | add // 0;
      "\(n("tls_sessions"))/\(n("tls_messages"))/\(n("plaintext_messages"))/\(n("deferred"))"' "$tmp/s.json")"
  done
  printf 'perr\t%s\n' "$(jq -r '[.peers[] | {d: "in", e: (.inbound.errors // {})}, {d: "out", e: (.outbound.errors // {})}
    | .d as $d | .e | to_entries[] | {k: "\($d):\(.key)", n: .value.count}]
    | group_by(.k) | map("\(.[0].k)=\(map(.n) | add)") | join(",") | if . == "" then "-" else . end' "$tmp/s.json")"
  printf 'windows\t%s\n' "$(sed -n '/^## Silent downgrade windows/,/^## [^S]/p' "$tmp/s.md" |
    sed -n -E 's/^\* [^ ]+ (in|out): from [0-9-]+ ([0-9]{2}:[0-9]{2}:[0-9]{2}) until (the end|[0-9-]+ ([0-9]{2}:[0-9]{2}:[0-9]{2})).*/\1@\2-\4/p' |
    sed -E 's/-$/-end/' | paste -sd';' - | sed 's/^$/-/')"
  printf 'grades\t%s\n' "$(tail -n +2 "$tmp/s.csv" | awk -F, '{print $1 "=" $3}' | sort -u | paste -sd, - | sed 's/^$/-/')"
  # The follower of this file: wait until it has read everything, then stop it.
  local size off
  size=$(wc -c <"$tmp/$j.log")
  for _ in $(seq 200); do
    off=$(jq -r '.offset // 0' "$tmp/$j.state" 2>/dev/null || echo 0)
    [ "${off:-0}" -ge "$size" ] && break
    sleep 0.1
  done
  kill -TERM "$(cat "$tmp/$j.pid")" 2>/dev/null
  wait "$(cat "$tmp/$j.pid")" 2>/dev/null
  printf 'alerts\t%s\n' "$(jq -r 'select(.type == "alert") | .alert' "$tmp/$j.ndjson" | paste -sd, - | sed 's/^$/-/')"
  printf 'advice\t%s\n' "$(sed -n -E 's/^\* (cause|fix): //p' "$tmp/s.md" | awk 'NR > 1 { printf " | " } { printf "%s", $0 } END { if (NR == 0) printf "-" }')"
}

i=0
for f in "$@"; do
  i=$((i + 1))
  one "$f" "$i"
done

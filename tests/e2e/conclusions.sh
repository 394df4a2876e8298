#!/usr/bin/env bash
# conclusions.sh MAILTLS FILE: what mailtls concludes on one log file, in the canonical
# one-line form of the break matrix (tests/e2e/README.md, tests/fixtures/real/expected.tsv):
#
#   local    local incidents by kind, summed over hosts    private_key=1,unsafe_file=1 | -
#   in, out  inbound/outbound over all peers: tls_sessions/tls_messages/plaintext/deferred
#   perr     peer errors by direction and kind             in:handshake=6 | -
#   windows  downgrade windows, direction@start-end        in@12:35:10-end;out@… | -
#   grades   grade per peer                                vm.example.test=A | -
#   alerts   `mailtls follow` alerts, in order             tls_disabled,tls_resumed | -
#   fix      every "fix:" line of the Markdown report, joined by " | "
#
# Printed as `key<TAB>value` lines. tests/real_fixtures.rs computes the same fields the
# same way (one definition per field: keep the two in step).
set -uo pipefail
M=$1
F=$2
export TZ=UTC NO_COLOR=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$M" scan --format json --loopback --utc --year 2026 "$F" >"$tmp/s.json" 2>/dev/null
"$M" scan --format csv --loopback --utc --year 2026 "$F" >"$tmp/s.csv" 2>/dev/null
"$M" scan --format md --loopback --utc --year 2026 "$F" >"$tmp/s.md" 2>/dev/null

printf 'local\t%s\n' "$(jq -r '[.local_errors // {} | to_entries[] | .value | to_entries[] | {k: .key, n: .value.count}]
  | group_by(.k) | map("\(.[0].k)=\(map(.n) | add)") | join(",") | if . == "" then "-" else . end' "$tmp/s.json")"
for d in inbound outbound; do
  printf '%s\t%s\n' "${d%bound}" "$(jq -r --arg d "$d" 'def n($k): [.peers[] | .[$d][$k] // 0] | add // 0;
    "\(n("tls_sessions"))/\(n("tls_messages"))/\(n("plaintext_messages"))/\(n("deferred"))"' "$tmp/s.json")"
done
printf 'perr\t%s\n' "$(jq -r '[.peers[] | {d: "in", e: (.inbound.errors // {})}, {d: "out", e: (.outbound.errors // {})}
    | .d as $d | .e | to_entries[] | {k: "\($d):\(.key)", n: .value.count}]
    | group_by(.k) | map("\(.[0].k)=\(map(.n) | add)") | join(",") | if . == "" then "-" else . end' "$tmp/s.json")"
printf 'windows\t%s\n' "$(sed -n '/^## Silent downgrade windows/,/^## /p' "$tmp/s.md" |
  sed -n -E 's/^\* [^ ]+ (in|out): from [0-9-]+ ([0-9]{2}:[0-9]{2}:[0-9]{2}) until (the end|[0-9-]+ ([0-9]{2}:[0-9]{2}:[0-9]{2})).*/\1@\2-\4/p' |
  sed -E 's/-$/-end/' | paste -sd';' - | sed 's/^$/-/')"
printf 'grades\t%s\n' "$(tail -n +2 "$tmp/s.csv" | awk -F, '{print $1 "=" $3}' | sort -u | paste -sd, - | sed 's/^$/-/')"
cp "$F" "$tmp/follow.log"
timeout 3 "$M" follow --from-start --json --loopback --utc "$tmp/follow.log" 2>/dev/null >"$tmp/f.ndjson"
printf 'alerts\t%s\n' "$(jq -r 'select(.type == "alert") | .alert' "$tmp/f.ndjson" | paste -sd, - | sed 's/^$/-/')"
printf 'fix\t%s\n' "$(sed -n -E 's/^\* fix: //p' "$tmp/s.md" | paste -sd'|' - | sed 's/|/ | /g; s/^$/-/')"

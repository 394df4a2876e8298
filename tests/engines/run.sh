#!/usr/bin/env bash
# mailtls on the engines fleets already run (issue 24, point 5), tested with the real
# thing: Debian 12's Prometheus 2.42 and ClickHouse 18.16, started here on 127.0.0.1.
#
# prometheus: two `mailtls follow --metrics` (one per log, half of each log read at start,
#   the rest appended while they run, plus a key failure on the first), scraped by a real
#   Prometheus with the scrape config and alert rules of docs/follow.md (extracted from the
#   doc, only the targets and the intervals changed). `promtool check rules` passes, the
#   server loads the rules, the doc's PromQL returns the fleet's totals = `mailtls scan` of
#   both logs, and MailTlsBroken fires for the host whose key broke and not for the other.
# clickhouse: a real clickhouse-server with a minimal config; the table, the load command
#   and the queries of docs/clickhouse.md (extracted from the doc); `mailtls events` NDJSON
#   loaded as is with JSONEachRow; the per-peer query gives the same TLS sessions, TLS and
#   plaintext messages as `mailtls scan --format json` of the same logs.
#
# Every server is started here as the current user, in a temporary directory, on free
# ports of 127.0.0.1, and stopped by its PID at exit. Missing packages are installed with
# apt-get (root only). Outside CI a missing prerequisite prints SKIPPED and exits 0; with
# CI=true it is a failure. Prints PASS/FAIL per check and a total; exits 1 on any failure.
#
# Environment: MAILTLS (the binary; default: cargo build, target/debug), ENGINES_STAGES
# (default "prometheus clickhouse"), ENGINES_KEEP=1 keeps the work directory.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CI=${CI:-false}
ENGINES_STAGES=${ENGINES_STAGES:-prometheus clickhouse}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
# No settings file of this machine (/etc/mailtls/mailtls.toml) changes what is tested.
export MAILTLS_CONFIG=
SUITE=engines
SKIP_HINT=("They need Debian 12's prometheus and clickhouse-server (apt-get as root);"
  "CI runs them with CI=true.")
# shellcheck source=../sh/checks.sh
source "$ROOT/tests/sh/checks.sh"

# ---------------------------------------------------------------------------------------
# Servers: started here, stopped by PID at exit.

W=$(mktemp -d "${TMPDIR:-/tmp}/mailtls-engines.XXXXXX")
PIDS=()
cleanup() {
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "${ENGINES_KEEP:-0}" = 1 ] || [ "$FAILED" -gt 0 ]; then
    say "engines: work directory kept: $W"
  else
    rm -rf "$W"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME LOG CMD…: runs CMD in the background (stdout and stderr to LOG), remembers
# its PID for the exit trap and in the variable NAME_PID.
start() {
  local name=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  PIDS+=("$!")
  printf -v "${name}_PID" '%s' "$!"
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on (the kernel's choice).
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 20); do
    p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    case $USED_PORTS in *" $p "*) continue ;; esac
    USED_PORTS="$USED_PORTS$p "
    echo "$p"
    return 0
  done
  return 1
}

# wait_for SECONDS CMD…: until CMD succeeds (polled every 0.2 s); 1 when time ran out.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  while [ "$(date +%s)" -le "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# doc_block FILE LANG FIRSTLINE: the fenced ```LANG block of FILE whose first line is
# FIRSTLINE (without the fences); empty when there is none.
doc_block() {
  awk -v lang="$2" -v first="$3" '
    !inb && $0 == "```" lang { inb = 1; n = 0; next }
    inb && $0 == "```" { if (buf_first == first) { printf "%s", buf; found = 1; exit } inb = 0; buf = ""; next }
    inb { if (n == 0) buf_first = $0; buf = buf $0 "\n"; n++ }
  ' "$1"
}

# doc_block_prefix FILE LANG PREFIX: the first ```LANG block whose first line starts with PREFIX.
doc_block_prefix() {
  awk -v lang="$2" -v pre="$3" '
    !inb && $0 == "```" lang { inb = 1; n = 0; buf = ""; next }
    inb && $0 == "```" { if (index(buf_first, pre) == 1) { printf "%s", buf; exit } inb = 0; next }
    inb { if (n == 0) buf_first = $0; buf = buf $0 "\n"; n++ }
  ' "$1"
}

# ---------------------------------------------------------------------------------------
# Prerequisites.

command -v python3 >/dev/null 2>&1 || NEED_PY=python3
PKGS=()
for stage_name in $ENGINES_STAGES; do
  case $stage_name in
    prometheus) command -v prometheus >/dev/null && command -v promtool >/dev/null || PKGS+=(prometheus) ;;
    clickhouse)
      command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || PKGS+=(clickhouse-server)
      command -v clickhouse-client >/dev/null || PKGS+=(clickhouse-client)
      ;;
    *) say "FAIL  unknown stage $stage_name"; exit 1 ;;
  esac
done
command -v curl >/dev/null || PKGS+=(curl)
command -v jq >/dev/null || PKGS+=(jq)
[ -n "${NEED_PY:-}" ] && PKGS+=(python3)
if [ ${#PKGS[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || prereq_missing "missing ${PKGS[*]} and not root"
  command -v apt-get >/dev/null 2>&1 || prereq_missing "missing ${PKGS[*]} and no apt-get"
  say "engines: installing ${PKGS[*]}"
  # No package may start its daemon: every server here is started and stopped by this script.
  policy_added=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=true
  fi
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${PKGS[@]}"; } >"$W/apt.log" 2>&1
  rc=$?
  [ "$policy_added" = true ] && rm -f /usr/sbin/policy-rc.d
  if [ $rc -ne 0 ]; then
    tail -20 "$W/apt.log"
    prereq_missing "apt-get install ${PKGS[*]} failed"
  fi
fi
export PATH=$PATH:/usr/sbin

find_mailtls
say "engines: mailtls = $MAILTLS ($("$MAILTLS" --version)), work directory $W"

LOGS=$ROOT/sample-logs

# scan_totals JSON: "inbound tls_sessions tls_messages plaintext_messages" and the same for
# outbound, summed over the peers of a mailtls.posture/2 document, as JSON.
scan_totals() {
  jq -c '[.peers[] | {d: "inbound", v: .inbound}, {d: "outbound", v: .outbound}]
    | group_by(.d) | map({key: .[0].d, value: {
        tls_sessions: (map(.v.tls_sessions) | add),
        tls: (map(.v.tls_messages) | add),
        plaintext: (map(.v.plaintext_messages) | add)}}) | from_entries' "$1"
}

# ---------------------------------------------------------------------------------------
stage_prometheus() {
  stage "prometheus: two mailtls follow --metrics, the scrape config and rules of docs/follow.md"
  local P=$W/prometheus D=$ROOT/docs/follow.md
  mkdir -p "$P/data"
  say "engines: $(prometheus --version 2>&1 | head -1)"

  # The doc's two files, verbatim, then only what a test must change.
  doc_block "$D" yaml "# prometheus.yml" >"$P/doc-prometheus.yml"
  doc_block "$D" yaml "# mailtls.rules.yml" >"$P/mailtls.rules.yml"
  doc_block "$D" promql "sum by (direction, encryption) (mailtls_messages_total{job=\"mailtls\"})" >"$P/queries.promql"
  if [ ! -s "$P/doc-prometheus.yml" ] || [ ! -s "$P/mailtls.rules.yml" ] || [ ! -s "$P/queries.promql" ]; then
    fail "prometheus: docs/follow.md has the prometheus.yml, mailtls.rules.yml and PromQL blocks"
    return
  fi
  pass "prometheus: docs/follow.md has the prometheus.yml, mailtls.rules.yml and PromQL blocks"
  if promtool check rules "$P/mailtls.rules.yml" >"$P/promtool.out" 2>&1; then
    pass "prometheus: promtool check rules on the doc's mailtls.rules.yml ($(grep -o 'SUCCESS: [0-9]* rules found' "$P/promtool.out"))"
  else
    fail "prometheus: promtool check rules on the doc's mailtls.rules.yml" "$(cat "$P/promtool.out")"
  fi

  # Two hosts: the Sendmail log and a Postfix log. Each follower starts on the first half
  # of its log; the second half is appended while it runs (and, on host A, a restart of
  # sendmail whose key fails to load, in Sendmail's words as in sample-logs/maillog).
  local A=$P/a.log B=$P/b.log na nb
  na=$(wc -l <"$LOGS/maillog")
  nb=$(wc -l <"$LOGS/postfix/mail.log")
  head -n $((na / 2)) "$LOGS/maillog" >"$A"
  head -n $((nb / 2)) "$LOGS/postfix/mail.log" >"$B"
  local pa pb pp
  pa=$(free_port) && pb=$(free_port) && pp=$(free_port) || { fail "prometheus: free ports"; return; }
  start FA "$P/follow-a.log" "$MAILTLS" follow --no-config --from-start --quiet --json --metrics "127.0.0.1:$pa" "$A"
  start FB "$P/follow-b.log" "$MAILTLS" follow --no-config --from-start --quiet --json --metrics "127.0.0.1:$pb" "$B"

  # The scrape config: the doc's text with the targets line rewritten to the two
  # followers and a global block of 1 s intervals in front.
  local targets_lines
  targets_lines=$(grep -c "^ *- targets: \[.*\]$" "$P/doc-prometheus.yml")
  expect "prometheus: the doc's scrape config has one targets line" "$targets_lines" 1
  {
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    sed -E "s/^( *- targets: )\[.*\]$/\1['127.0.0.1:$pa', '127.0.0.1:$pb']/" "$P/doc-prometheus.yml"
  } >"$P/prometheus.yml"
  if promtool check config "$P/prometheus.yml" >"$P/promtool-config.out" 2>&1; then
    pass "prometheus: promtool check config (the doc's scrape config, targets rewritten)"
  else
    fail "prometheus: promtool check config" "$(cat "$P/promtool-config.out")"
  fi
  start PROM "$P/prometheus.out" prometheus --config.file="$P/prometheus.yml" \
    --storage.tsdb.path="$P/data" --web.listen-address="127.0.0.1:$pp"
  local api="http://127.0.0.1:$pp/api/v1"
  if wait_for 60 curl -sf "http://127.0.0.1:$pp/-/ready"; then
    pass "prometheus: server ready on 127.0.0.1:$pp (pid $PROM_PID)"
  else
    fail "prometheus: server ready on 127.0.0.1:$pp" "$(tail -20 "$P/prometheus.out")"
    return
  fi

  # promq EXPR: the instant query's result vector as JSON.
  promq() { curl -sf -G --data-urlencode "query=$1" "$api/query" | jq -ce 'select(.status == "success") | .data.result'; }
  up_both() { [ "$(promq 'count(up{job="mailtls"} == 1)' | jq -r '.[0].value[1] // 0')" = 2 ]; }
  if wait_for 60 up_both; then
    pass "prometheus: both followers scraped (up == 1 for 2 targets of job mailtls)"
  else
    fail "prometheus: both followers scraped" "$(curl -s "$api/targets" | jq -c '.data.activeTargets[] | {scrapeUrl, health, lastError}')"
    return
  fi

  # The rules the server loaded: the doc's group, every rule, evaluated without error.
  local want_rules got_rules
  want_rules=$(grep -E '^ *- alert: ' "$P/mailtls.rules.yml" | sed -E 's/^ *- alert: //' | sort | paste -sd, -)
  rules_evaluated() {
    curl -sf "$api/rules" | jq -e '[.data.groups[] | select(.name == "mailtls") | .rules[]]
      | length > 0 and all(.health != "unknown" and .lastEvaluation != "0001-01-01T00:00:00Z")' >/dev/null
  }
  wait_for 30 rules_evaluated
  got_rules=$(curl -sf "$api/rules" | jq -r '.data.groups[] | select(.name == "mailtls") | .rules[]
    | select(.health == "ok") | .name' | sort | paste -sd, -)
  expect "prometheus: /api/v1/rules has the group mailtls with the doc's rules, health ok" "$got_rules" "$want_rules"

  # The rest of both logs arrives while they run.
  tail -n +$((na / 2 + 1)) "$LOGS/maillog" >>"$A"
  local last_stamp
  last_stamp=$(tail -n 1 "$A" | cut -c1-15)
  printf '%s mail sm-mta[24100]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00\n' "$last_stamp" >>"$A"
  printf '%s mail sm-mta[24100]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed\n' "$last_stamp" >>"$A"
  tail -n +$((nb / 2 + 1)) "$LOGS/postfix/mail.log" >>"$B"
  local lines_all
  lines_all=$(($(wc -l <"$A") + $(wc -l <"$B")))
  lines_scraped() { [ "$(promq 'sum(mailtls_follow_lines_total{job="mailtls"})' | jq -r '.[0].value[1] // 0')" = "$lines_all" ]; }
  if wait_for 60 lines_scraped; then
    pass "prometheus: the appended lines are read and scraped (sum of mailtls_follow_lines_total = $lines_all lines)"
  else
    fail "prometheus: the appended lines are read and scraped" "expected $lines_all lines" \
      "actual: $(promq 'mailtls_follow_lines_total')"
    return
  fi

  # What mailtls scan says about the same two files, per host and for the fleet.
  "$MAILTLS" scan --no-config --format json "$A" "$B" >"$P/scan-fleet.json" 2>"$P/scan-fleet.err"
  "$MAILTLS" scan --no-config --format json "$A" >"$P/scan-a.json" 2>/dev/null
  "$MAILTLS" scan --no-config --format json "$B" >"$P/scan-b.json" 2>/dev/null
  local fleet q1 q2 q3
  fleet=$(scan_totals "$P/scan-fleet.json")
  say "      scan of both logs: $fleet"
  q1=$(sed -n 1p "$P/queries.promql")
  q2=$(sed -n 2p "$P/queries.promql")
  q3=$(sed -n 3p "$P/queries.promql")
  local r1 r2 r3 d e want got
  r1=$(promq "$q1")
  r2=$(promq "$q2")
  r3=$(promq "$q3")
  [ -n "$r1" ] && [ -n "$r2" ] && [ -n "$r3" ] || { fail "prometheus: the doc's PromQL queries run" "$q1 -> $r1" "$q2 -> $r2" "$q3 -> $r3"; return; }
  say "      $q1 -> $(jq -c 'map({(.metric.direction + "/" + .metric.encryption): .value[1]}) | add' <<<"$r1")"
  for d in inbound outbound; do
    for e in tls plaintext; do
      want=$(jq -r --arg d "$d" --arg e "$e" '.[$d][$e] // 0' <<<"$fleet")
      got=$(jq -r --arg d "$d" --arg e "$e" 'map(select(.metric.direction == $d and .metric.encryption == $e) | .value[1]) | .[0] // "0"' <<<"$r1")
      expect "prometheus: fleet $d $e messages, PromQL over both followers = scan of both logs" "$got" "$want"
    done
    want=$(jq -r --arg d "$d" '.[$d].tls_sessions // 0' <<<"$fleet")
    got=$(jq -r --arg d "$d" 'map(select(.metric.direction == $d) | .value[1]) | .[0] // "0"' <<<"$r2")
    expect "prometheus: fleet $d TLS sessions, PromQL over both followers = scan of both logs" "$got" "$want"
  done
  local host port
  for host in a b; do
    [ $host = a ] && port=$pa || port=$pb
    want=$(scan_totals "$P/scan-$host.json" | jq -r '[.[].plaintext] | add // 0')
    got=$(jq -r --arg i "127.0.0.1:$port" 'map(select(.metric.instance == $i) | .value[1]) | .[0] // "0"' <<<"$r3")
    expect "prometheus: host $host plaintext messages (instance 127.0.0.1:$port) = scan of its log" "$got" "$want"
  done

  # The key failure appended on host A: MailTlsBroken fires for A, not for B.
  firing_a() {
    curl -sf "$api/alerts" | jq -e --arg i "127.0.0.1:$pa" '[.data.alerts[]
      | select(.labels.alertname == "MailTlsBroken" and .labels.instance == $i and .state == "firing")] | length == 1' >/dev/null
  }
  if wait_for 30 firing_a; then
    pass "prometheus: MailTlsBroken fires for host A after its key failed to load"
  else
    fail "prometheus: MailTlsBroken fires for host A after its key failed to load" \
      "alerts: $(curl -s "$api/alerts" | jq -c '.data.alerts')" "follow A: $(grep -c '"alert"' "$P/follow-a.log") alert lines"
  fi
  got=$(curl -sf "$api/alerts" | jq -r --arg i "127.0.0.1:$pb" '[.data.alerts[]
      | select(.labels.alertname == "MailTlsBroken" and .labels.instance == $i)] | length')
  expect "prometheus: no MailTlsBroken for host B (its TLS works)" "$got" 0
  got=$(curl -sf "$api/rules" | jq -r '[.data.groups[] | select(.name == "mailtls") | .rules[] | select(.health != "ok")] | length')
  expect "prometheus: every rule of the doc evaluated without error on real series" "$got" 0
}

# ---------------------------------------------------------------------------------------
stage_clickhouse() {
  stage "clickhouse: mailtls events NDJSON, the table and queries of docs/clickhouse.md"
  local C=$W/clickhouse D=$ROOT/docs/clickhouse.md
  mkdir -p "$C/data" "$C/tmp" "$C/user_files" "$C/format_schemas"
  local http tcp
  http=$(free_port) && tcp=$(free_port) || { fail "clickhouse: free ports"; return; }
  cat >"$C/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$C/server.log</log><errorlog>$C/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$C/data/</path>
  <tmp_path>$C/tmp/</tmp_path>
  <user_files_path>$C/user_files/</user_files_path>
  <format_schema_path>$C/format_schemas/</format_schema_path>
  <users_config>$C/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <timezone>UTC</timezone>
</yandex>
EOF
  cat >"$C/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
  start CH "$C/server.out" clickhouse-server --config-file="$C/config.xml"
  if wait_for 60 curl -sf "http://127.0.0.1:$http/?query=SELECT%201"; then
    pass "clickhouse: server ready on 127.0.0.1:$tcp (pid $CH_PID, version $(curl -sf "http://127.0.0.1:$http/?query=SELECT%20version()"))"
  else
    fail "clickhouse: server ready" "$(tail -20 "$C/server.out" "$C/server.err.log" 2>/dev/null)"
    return
  fi
  # The real client, on our server only (it reads no stdin unless given).
  chc() { command clickhouse-client --host 127.0.0.1 --port "$tcp" "$@"; }

  # The doc's text: the table, the load command, the queries.
  doc_block_prefix "$D" sql "-- mailtls_events:" >"$C/table.sql"
  doc_block_prefix "$D" sql "-- per_peer:" >"$C/per_peer.sql"
  doc_block_prefix "$D" sql "-- per_host_day:" >"$C/per_host_day.sql"
  doc_block_prefix "$D" sh "mailtls events " | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' >"$C/load.sh"
  local load
  load=$(sed -n 's/^mailtls events [^|]*| *//p' "$C/load.sh")
  if [ -s "$C/table.sql" ] && [ -s "$C/per_peer.sql" ] && [ -s "$C/per_host_day.sql" ] && [ "${load%% *}" = clickhouse-client ]; then
    pass "clickhouse: docs/clickhouse.md has the table, the load command and the queries"
  else
    fail "clickhouse: docs/clickhouse.md has the table, the load command and the queries" "load: $load"
    return
  fi
  if chc --multiquery <"$C/table.sql" >"$C/create.out" 2>&1; then
    pass "clickhouse: CREATE TABLE of the doc"
  else
    fail "clickhouse: CREATE TABLE of the doc" "$(cat "$C/create.out")"
    return
  fi

  # The logs: every MTA and host of sample-logs (plain, rotated .gz, directories).
  local logs=("$LOGS/maillog" "$LOGS/postfix" "$LOGS/exim/mainlog" "$LOGS/oldrelay" "$LOGS/relay2" "$LOGS/chain" "$LOGS/tlsrpt/maillog")
  "$MAILTLS" events --no-config --year 2026 --utc "${logs[@]}" >"$C/events.ndjson" 2>"$C/events.err"
  "$MAILTLS" scan --no-config --year 2026 --utc --format json "${logs[@]}" >"$C/scan.json" 2>"$C/scan.err"
  local n_events
  n_events=$(wc -l <"$C/events.ndjson")
  # The doc's load command, run as written (clickhouse-client pointed at our server).
  clickhouse-client() { chc "$@"; }
  if eval "$load" <"$C/events.ndjson" >"$C/load.out" 2>&1; then
    pass "clickhouse: the doc's load command: $n_events mailtls.event/1 lines, FORMAT JSONEachRow"
  else
    fail "clickhouse: the doc's load command" "$load" "$(cat "$C/load.out")"
    unset -f clickhouse-client
    return
  fi
  unset -f clickhouse-client
  expect "clickhouse: rows = NDJSON lines" "$(chc --query 'SELECT count() FROM mailtls_events')" "$n_events"
  expect "clickhouse: peer.key and tls.version read from the nested objects" \
    "$(chc --query "SELECT countIf(\`peer.key\` != ''), countIf(\`tls.version\` != '') FROM mailtls_events" | tr '\t' ' ')" \
    "$(jq -s '[map(select(.peer.key)) | length, map(select(.tls.version)) | length] | join(" ")' -r "$C/events.ndjson")"
  expect "clickhouse: ts is the event's instant (max over all rows)" \
    "$(chc --query "SELECT formatDateTime(max(ts), '%Y-%m-%dT%H:%M:%SZ') FROM mailtls_events")" \
    "$(jq -r 'select(.time) | .time' "$C/events.ndjson" | python3 -c 'import sys, datetime; print(max(datetime.datetime.fromisoformat(l.strip()) for l in sys.stdin).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))')"

  # The per-peer query against scan.
  if chc --format JSONEachRow --multiquery <"$C/per_peer.sql" >"$C/per_peer.ndjson" 2>"$C/per_peer.err" &&
    python3 "$ROOT/tests/engines/compare_peers.py" "$C/scan.json" "$C/per_peer.ndjson" >"$C/compare.out" 2>&1; then
    pass "clickhouse: per_peer query = scan --format json ($(tail -1 "$C/compare.out"))"
  else
    fail "clickhouse: per_peer query = scan --format json" "$(cat "$C/per_peer.err" "$C/compare.out")"
  fi

  # The per-day query: its sums are the totals of scan, its errors the error events.
  local want got
  if chc --format JSONEachRow --multiquery <"$C/per_host_day.sql" >"$C/per_host_day.ndjson" 2>"$C/per_host_day.err"; then
    want=$(scan_totals "$C/scan.json" | jq -r '[([.[].tls_sessions] | add), ([.[].plaintext] | add)] | join(" ")')
    got=$(jq -rs '[(map(.tls_sessions | tonumber) | add), (map(.plaintext_messages | tonumber) | add)] | join(" ")' "$C/per_host_day.ndjson")
    expect "clickhouse: per_host_day sums (TLS sessions, plaintext messages) = scan totals" "$got" "$want"
    want=$(jq -r 'select(.type == "error" and .direction) | "\(.time[0:10])/\(.host // "")/\(.direction)"' "$C/events.ndjson" | sort | uniq -c | awk '{print $2 "/" $1}' | sort | paste -sd' ' -)
    got=$(jq -r 'select(.tls_errors != "0") | "\(.day)/\(.host)/\(.direction)/\(.tls_errors)"' "$C/per_host_day.ndjson" | sort | paste -sd' ' -)
    expect "clickhouse: per_host_day TLS errors per day, host and direction = error events of the NDJSON" "$got" "$want"
  else
    fail "clickhouse: per_host_day query runs" "$(cat "$C/per_host_day.err")"
  fi
}

# ---------------------------------------------------------------------------------------
STAGE_TIMES=()
for s in $ENGINES_STAGES; do
  t=$(date +%s)
  "stage_$s"
  STAGE_TIMES+=("$s=$(($(date +%s) - t))s")
done
stage "summary"
say "engines: seconds per stage: ${STAGE_TIMES[*]}"
say "engines: $PASSED passed, $FAILED failed, $(($(date +%s) - START_TIME)) s"
for n in "${FAILED_NAMES[@]}"; do say "      failed: $n"; done
[ "$FAILED" -eq 0 ]

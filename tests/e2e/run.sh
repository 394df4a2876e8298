#!/usr/bin/env bash
# End-to-end test of mailtls against real MTAs on 127.0.0.1 (issues 10 and 18).
#
# Installs (when absent) Debian's sendmail (+ m4), rsyslog, swaks, jq, openssl and
# iproute2; starts rsyslog and two sendmail daemons on free loopback ports; sends mail with
# and without STARTTLS, with client certificates from our CA and from another CA, relays
# one message to the second sendmail (so STARTTLS=client is logged) and delivers to mbox
# files; then asserts that `mailtls` reads exactly that from the real logs and mboxes.
# Then it breaks the key the ways the seed warns about. The Postfix stages do the same
# with postfix, the Exim stages with Debian's exim4-daemon-light (the packages conflict,
# so the stages run in turn). The *_matrix stages run the break matrix (issue 18) on each
# MTA, capture the real lines and assert tests/fixtures/real/expected.tsv on them. See
# tests/e2e/README.md.
#
# Every daemon is started here and stopped by its PID at exit. Only 127.0.0.1 is used.
# Outside CI, without root or apt-get, the script prints SKIPPED and exits 0; with
# CI=true a missing prerequisite is a failure.
#
# Environment: MAILTLS (path of the mailtls binary; default: cargo build, target/debug),
# E2E_DIR (work directory, default /var/lib/mailtls-e2e; wiped at start, kept at exit for
# inspection), E2E_STAGES (default "sendmail sendmail_break sendmail_matrix postfix
# postfix_break postfix_matrix exim exim_matrix exim_setup"), E2E_FIXTURES_OUT (copy each matrix
# scenario's captured lines there, e.g. tests/fixtures/real).
set -uo pipefail

ROOT=${E2E_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CI=${CI:-false}
E2E_DIR=${E2E_DIR:-/var/lib/mailtls-e2e}
E2E_STAGES=${E2E_STAGES:-sendmail sendmail_break sendmail_matrix postfix postfix_break postfix_matrix exim exim_matrix exim_setup}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
# The daemons, rsyslog and mailtls all in UTC: the matrix compares the windows mailtls
# reports with the stamps of the captured lines (conclusions.sh reads in UTC too), which a
# TZ of the machine's (RFC 5424 stamps carry their offset) would shift.
export TZ=UTC
# No settings file of this machine (/etc/mailtls/mailtls.toml) changes what is tested.
export MAILTLS_CONFIG=

# ---------------------------------------------------------------------------------------
# Reporting: every scenario step is one check; the run fails if any check fails.

SUITE=e2e
SKIP_HINT=("It needs root and apt-get (Debian 12); CI runs it with CI=true.")
# shellcheck source=../sh/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../sh/checks.sh"

# notrun WHAT: a step whose mailtls command has not landed on this branch yet: said
# loudly, counted, listed in the summary (not a failure: the step runs once it lands).
NOT_RUN=()
notrun() {
  NOT_RUN+=("$1")
  printf 'N/A   %s\n' "$1"
}

# check NAME CMD…: passes when CMD exits 0; shows its output when it does not.
check() {
  local name=$1
  shift
  # Not in a subshell: a step may set variables for the next ones.
  if "$@" >"$W/check.out" 2>&1; then
    pass "$name"
    grep -h '^      ' "$W/check.out" || true
  else
    fail "$name" "command: $*" "$(tail -20 "$W/check.out")"
  fi
}

# expect_grep NAME FILE ERE: FILE has a line matching ERE; prints the first such line.
expect_grep() {
  local line
  if line=$(grep -E -m1 -- "$3" "$2"); then
    pass "$1"
    printf '      log: %s\n' "$line"
  else
    fail "$1" "no line matching /$3/ in $2"
  fi
}

# ---------------------------------------------------------------------------------------
# Daemons: started here, stopped by PID at exit.

PIDFILES=()
stop_pidfile() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(head -n1 "$f" | tr -d ' \t')
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
CLEANUP_HOOKS=()
cleanup() {
  local i h
  for ((i = ${#PIDFILES[@]} - 1; i >= 0; i--)); do stop_pidfile "${PIDFILES[$i]}"; done
  for h in "${CLEANUP_HOOKS[@]}"; do "$h"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: a TCP port on 127.0.0.1 nobody listens on (checked by connecting).
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    case $USED_PORTS in *" $p "*) continue ;; esac
    if ! listening "$p"; then
      USED_PORTS="$USED_PORTS$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}

# listening PORT: something listens on 127.0.0.1:PORT. With ss, without connecting (a
# probe connection would leave "did not issue MAIL" lines in the log under test).
listening() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (20 s).
wait_port() {
  for _ in $(seq 200); do
    listening "$1" && return 0
    sleep 0.1
  done
  return 1
}

# wait_log FILE ERE [N]: until FILE has at least N (default 1) lines matching ERE (30 s).
wait_log() {
  local n=${3:-1}
  for _ in $(seq 300); do
    [ "$(grep -E -c -- "$2" "$1" 2>/dev/null || true)" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------------
# Prerequisites.

[ "$(id -u)" = 0 ] || prereq_missing "not root"
command -v apt-get >/dev/null 2>&1 || prereq_missing "no apt-get"
command -v dpkg >/dev/null 2>&1 || prereq_missing "no dpkg"

apt_updated=false
# install PKG…: installs the packages that are not installed yet.
install() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" = false ]; then
    apt-get update -qq || return 1
    apt_updated=true
  fi
  # No package may start its daemon: we start and stop every daemon ourselves.
  local policy_added=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=true
  fi
  apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >"$E2E_DIR/apt-${missing[0]}.log" 2>&1
  local rc=$?
  [ "$policy_added" = true ] && rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || tail -20 "$E2E_DIR/apt-${missing[0]}.log"
  return $rc
}

# The host name must be fully qualified or every sendmail run sleeps 60 s.
ensure_fqdn() {
  local h
  h=$(hostname)
  if ! hostname -f 2>/dev/null | grep -q '\.'; then
    say "e2e: adding '127.0.0.1 $h.example.test $h' to /etc/hosts (sendmail needs an FQDN)"
    { printf '127.0.0.1 %s.example.test %s\n' "$h" "$h"; cat /etc/hosts; } >/etc/hosts.e2e-new &&
      cat /etc/hosts.e2e-new >/etc/hosts && rm -f /etc/hosts.e2e-new
  fi
  hostname -f | grep -q '\.'
}

rm -rf "$E2E_DIR"
mkdir -p "$E2E_DIR"
chmod 755 "$E2E_DIR"
W=$E2E_DIR
LOG=$W/log
mkdir -p "$LOG"

# The binary under test.
find_mailtls
say "e2e: mailtls = $MAILTLS ($("$MAILTLS" --version))"

has_cmd() { "$MAILTLS" "$@" --help >/dev/null 2>&1; }

stage "prerequisites"
check "install rsyslog swaks jq openssl iproute2 sslscan" install rsyslog swaks jq openssl ca-certificates iproute2 sslscan
command -v python3 >/dev/null 2>&1 || check "install python3 (the TLS-breaking test receiver)" install python3
check "host name fully qualified" ensure_fqdn
for c in rsyslogd swaks jq openssl; do
  command -v "$c" >/dev/null 2>&1 || prereq_missing "$c not installed"
done

# ---------------------------------------------------------------------------------------
# Syslog: our own rsyslogd (no imklog: there is no /proc/kmsg in a sandbox), writing the
# mail facility twice: RFC 3339 high-precision stamps (Debian 12's default) and the
# traditional "Nov 28 17:54:54 host prog[pid]:" form.

start_rsyslog() {
  [ -s "$W/rsyslogd.pid" ] && kill -0 "$(cat "$W/rsyslogd.pid")" 2>/dev/null && return 0
  cat >"$W/rsyslog.conf" <<EOF
global(workDirectory="$W/rsyslog")
module(load="imuxsock")
mail.* action(type="omfile" file="$LOG/mail.log" template="RSYSLOG_FileFormat")
mail.* action(type="omfile" file="$LOG/mail-traditional.log" template="RSYSLOG_TraditionalFileFormat")
EOF
  mkdir -p "$W/rsyslog"
  PIDFILES+=("$W/rsyslogd.pid")
  rsyslogd -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" || return 1
  for _ in $(seq 50); do [ -S /dev/log ] && [ -s "$W/rsyslogd.pid" ] && break; sleep 0.1; done
  logger -p mail.info -t mailtls-e2e "syslog ready $W"
  wait_log "$LOG/mail.log" "mailtls-e2e.*syslog ready" && wait_log "$LOG/mail-traditional.log" "mailtls-e2e.*syslog ready"
}

# ---------------------------------------------------------------------------------------
# JSON helpers over a mailtls.posture/2 snapshot: sums over every peer (all are loopback).

# dir_sum FILE DIR FIELD: sum of peers[].DIR.FIELD
dir_sum() { jq -r --arg d "$2" --arg f "$3" '[.peers[] | .[$d][$f] // 0] | add // 0' "$1"; }
# hist FILE DIR HIST: the histogram summed over peers, as sorted "k=v,k=v"
hist() {
  jq -r --arg d "$2" --arg h "$3" '
    [.peers[] | .[$d][$h] // {} | to_entries[]] | group_by(.key)
    | map("\(.[0].key)=\(map(.value) | add)") | join(",")' "$1"
}
# local_err FILE KIND FIELD: local_errors summed over hosts
local_err() { jq -r --arg k "$2" --arg f "$3" '[.local_errors[]? | .[$k][$f] // empty] | if length == 0 then "" else (if $f == "count" then add else .[-1] end) end' "$1"; }
# counts_only FILE: the snapshot without times, for comparing the two log formats
counts_only() { jq -S 'del(.generator, .summary, .identity) | walk(if type == "object" then del(.first_seen, .last_seen) else . end)' "$1"; }

# ---------------------------------------------------------------------------------------
# Certificates: our CA with the server pair (SANs mx/rx.example.test and 127.0.0.1) and a
# client pair, plus a second, unrelated CA with its own client pair.

CERTS=$W/certs
ROGUE=$W/rogue

openssl_ca() { # DIR CN
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=mailtls e2e/CN=$2" \
    -keyout "$1/cakey.pem" -out "$1/cacert.pem" 2>/dev/null
}
openssl_pair() { # CADIR OUTDIR NAME CN [SAN]
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  [ -n "${5:-}" ] && printf 'subjectAltName=%s\n' "$5" >>"$ext"
  openssl req -new -newkey rsa:2048 -nodes -subj "/O=mailtls e2e/CN=$4" \
    -keyout "$2/$3-key.pem" -out "$2/$3.csr" 2>/dev/null &&
    openssl x509 -req -in "$2/$3.csr" -CA "$1/cacert.pem" -CAkey "$1/cakey.pem" \
      -CAcreateserial -days 30 -extfile "$ext" -out "$2/$3-cert.pem" 2>/dev/null
  local rc=$?
  rm -f "$ext" "$2/$3.csr"
  chmod 600 "$2/$3-key.pem"
  return $rc
}

make_certs() {
  mkdir -p "$CERTS" "$ROGUE" "$W/ca" "$W/rogue-ca"
  if has_cmd config certs; then
    CERTS_BY="mailtls config certs"
    "$MAILTLS" config certs --dir "$CERTS" --ca-dir "$W/ca" --name mx \
      --san mx.example.test --san rx.example.test --san 127.0.0.1 --client client &&
      "$MAILTLS" config certs --dir "$ROGUE" --ca-dir "$W/rogue-ca" --name rogue \
        --san rogue.example.test --client rogueclient --org "Another Org" --key-type ecdsa-p256
  else
    CERTS_BY="openssl (mailtls config certs not on this branch yet)"
    openssl_ca "$W/ca" "mailtls e2e CA" && cp "$W/ca/cacert.pem" "$CERTS/" &&
      openssl_pair "$W/ca" "$CERTS" mx mx.example.test "DNS:mx.example.test,DNS:rx.example.test,IP:127.0.0.1" &&
      openssl_pair "$W/ca" "$CERTS" client client.example.test &&
      ln -sf cacert.pem "$CERTS/$(openssl x509 -noout -hash -in "$CERTS/cacert.pem").0" &&
      openssl_ca "$W/rogue-ca" "another CA" && cp "$W/rogue-ca/cacert.pem" "$ROGUE/" &&
      openssl_pair "$W/rogue-ca" "$ROGUE" rogueclient rogueclient.example.test
  fi
}

# ---------------------------------------------------------------------------------------
# Sendmail: two daemons built from our own .mc (own queue, pid file, aliases, ports), so
# nothing of the system's /etc/mail is used or changed.
#   MX  mx.example.test on $SM_MX: receives from swaks, delivers e2e@mx to an mbox file,
#       relays e2e@rx.example.test to RX over the relay mailer (TLS client).
#   RX  rx.example.test on $SM_RX: the second loopback listener; delivers to its mbox.

write_mc() { # NAME DOMAIN PORT
  local d=$W/$1
  mkdir -p "$d/mqueue" "$W/mbox"
  chmod 700 "$d/mqueue"
  cat >"$d/sendmail.mc" <<MC
divert(-1)dnl
divert(0)dnl
include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`mailtls e2e $1')dnl
OSTYPE(\`debian')dnl
define(\`confDOMAIN_NAME', \`$2')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`STATUS_FILE', \`$d/sendmail.st')dnl
undefine(\`confHOST_STATUS_DIRECTORY')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confSERVICE_SWITCH_FILE', \`/etc/mail/service.switch-nodns')dnl
define(\`confCW_FILE', \`-o $d/local-host-names')dnl
define(\`confCT_FILE', \`-o $d/trusted-users')dnl
define(\`confCR_FILE', \`-o $d/relay-domains')dnl
define(\`confDEAD_LETTER_DROP', \`$d/dead.letter')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_RX')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`mailertable', \`hash -o $d/mailertable')dnl
FEATURE(\`access_db', \`hash -o $d/access')dnl
RELAY_DOMAIN(\`rx.example.test')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-$1, Port=$3, Addr=127.0.0.1')dnl
LOCAL_CONFIG
Cw$2
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MC
  : >"$d/local-host-names"
  : >"$d/trusted-users"
  : >"$d/relay-domains"
  printf 'postmaster: root\nMAILER-DAEMON: postmaster\ne2e: %s\n' "$W/mbox/$1.mbox" >"$d/aliases"
  : >"$W/mbox/$1.mbox"
  chown mail:mail "$W/mbox" "$W/mbox/$1.mbox"
  chmod 660 "$W/mbox/$1.mbox"
  if [ "$1" = mx ]; then
    printf 'rx.example.test relay:[127.0.0.1]\n' >"$d/mailertable.src"
  else
    : >"$d/mailertable.src"
  fi
  : >"$d/access.src"
  makemap hash "$d/access" <"$d/access.src" &&
    makemap hash "$d/mailertable" <"$d/mailertable.src" &&
    m4 "$d/sendmail.mc" >"$d/sendmail.cf" &&
    sendmail -C "$d/sendmail.cf" -bi >/dev/null
}

# The seed's sendmail.cf TLS options, by `mailtls config sendmail --apply`.
apply_tls() { # NAME
  local cf=$W/$1/sendmail.cf
  if has_cmd config sendmail; then
    CONFIG_BY="mailtls config sendmail --apply"
    "$MAILTLS" config sendmail --dir "$CERTS" --name mx --client client --apply "$cf"
  else
    CONFIG_BY="sed (mailtls config sendmail not on this branch yet)"
    cat >>"$cf" <<CF
O CACertPath=$CERTS
O CACertFile=$CERTS/cacert.pem
O ServerCertFile=$CERTS/mx-cert.pem
O ServerKeyFile=$CERTS/mx-key.pem
O ClientCertFile=$CERTS/client-cert.pem
O ClientKeyFile=$CERTS/client-key.pem
CF
  fi
}

start_sendmail() { # NAME PORT
  PIDFILES+=("$W/$1/sendmail.pid")
  setsid /usr/sbin/sendmail -C "$W/$1/sendmail.cf" -L "sm-mta-$1" -bd -q10m </dev/null >/dev/null 2>&1 &&
    wait_port "$2" && wait_log "$W/$1/sendmail.pid" '^[0-9]+$'
}
stop_sendmail() { stop_pidfile "$W/$1/sendmail.pid"; }

# swaks to MX; extra args as given. Output kept in $W/swaks/NAME.txt.
send() { # NAME ARGS…
  local n=$1
  shift
  mkdir -p "$W/swaks"
  swaks --server 127.0.0.1 --port "$SM_MX" --helo client.example.test \
    --from "sender@client.example.test" --header "Subject: e2e $n" \
    --header "X-E2E: $n" "$@" >"$W/swaks/$n.txt" 2>&1
}

# ---------------------------------------------------------------------------------------
stage_sendmail() {
  stage "sendmail: install"
  # Installing sendmail removes postfix (and the other way round): stages run in turn.
  check "install sendmail (8.17) and m4" install sendmail m4
  local v
  v=$(sendmail -d0.1 -bt </dev/null 2>/dev/null)
  v=${v%%$'\n'*}
  case $v in "Version 8."*) pass "sendmail is $v" ;; *) fail "sendmail is Sendmail 8.x" "$v"; return ;; esac

  stage "sendmail: syslog"
  check "rsyslogd started (RFC 3339 and traditional mail logs)" start_rsyslog

  stage "sendmail: certificates and configuration"
  SM_MX=$(free_port) && SM_RX=$(free_port) || { fail "free ports"; return; }
  say "e2e: ports MX=$SM_MX RX=$SM_RX"
  check "certificates: CA, server, client, other CA" make_certs
  say "e2e: certificates by $CERTS_BY"
  check "sendmail.cf built for MX (mx.example.test:$SM_MX)" write_mc mx mx.example.test "$SM_MX"
  check "sendmail.cf built for RX (rx.example.test:$SM_RX)" write_mc rx rx.example.test "$SM_RX"
  check "TLS options applied to MX sendmail.cf" apply_tls mx
  check "TLS options applied to RX sendmail.cf" apply_tls rx
  expect "MX sendmail.cf has the six TLS file options" \
    "$(grep -c -E '^O (CACertPath|CACertFile|ServerCertFile|ServerKeyFile|ClientCertFile|ClientKeyFile)=' "$W/mx/sendmail.cf")" 6
  grep -E '^O (CACert|Server|Client)' "$W/mx/sendmail.cf" | sed 's/^/      cf: /' 
  say "e2e: TLS options by $CONFIG_BY"
  check "doctor: MX configuration clean" doctor_clean mx

  stage "sendmail: start"
  check "RX started on 127.0.0.1:$SM_RX" start_sendmail rx "$SM_RX"
  check "MX started on 127.0.0.1:$SM_MX" start_sendmail mx "$SM_MX"
  checktls "mailtls check 127.0.0.1:$SM_MX --ca-file cacert.pem" OK

  stage "sendmail: mail"
  check "S1 plaintext (no STARTTLS)" send S1 --to e2e@mx.example.test
  check "S2 STARTTLS, no client certificate" send S2 --to e2e@mx.example.test --tls
  check "S3 STARTTLS forced to TLS 1.2, no client certificate" send S3 --to e2e@mx.example.test --tls --tls-protocol tlsv1_2
  check "S4 STARTTLS with a client certificate from our CA" send S4 --to e2e@mx.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "S5 STARTTLS with a client certificate from another CA" send S5 --to e2e@mx.example.test --tls \
    --tls-cert "$ROGUE/rogueclient-cert.pem" --tls-key "$ROGUE/rogueclient-key.pem"
  check "S6 STARTTLS to e2e@rx.example.test (relayed by MX to RX)" send S6 --to e2e@rx.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "MX delivered S1-S5 to its mbox" wait_log "$W/mbox/mx.mbox" '^X-E2E: S[1-5]$' 5
  check "RX delivered S6 to its mbox" wait_log "$W/mbox/rx.mbox" '^X-E2E: S6$' 1
  check "MX relayed to RX (stat=Sent, mailer=relay)" wait_log "$LOG/mail.log" 'sm-mta-mx\[[0-9]+\]: .*mailer=relay.*stat=Sent' 1
  # Every delivery is logged before the checks below (RX's file delivery is the last).
  wait_log "$LOG/mail.log" 'sm-mta-rx\[[0-9]+\]: .*mailer=\*file\*.*stat=Sent' 1
  wait_log "$LOG/mail-traditional.log" 'sm-mta-rx\[[0-9]+\]: .*mailer=\*file\*.*stat=Sent' 1

  stage "sendmail: each scenario's log lines through mailtls scan"
  local T13=TLSv1.3 C13=TLS_AES_256_GCM_SHA384 C12=ECDHE-RSA-AES256-GCM-SHA384
  local Z="deferred=0 bounced=0"
  scenario S1 inbound "tls_sessions=0 tls_messages=0 plaintext_messages=1 $Z versions={} ciphers={} verify={}"
  scenario S2 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={NO=1}"
  scenario S3 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={TLSv1.2=1} ciphers={$C12=1} verify={NO=1}"
  scenario S4 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"
  scenario S5 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={FAIL=1}"
  # S6: MX received it (client cert from our CA: OK), relayed it with STARTTLS=client
  # (RX's certificate verified against our CA: OK), RX received it (MX's ClientCertFile: OK).
  scenario S6 inbound "tls_sessions=2 tls_messages=2 plaintext_messages=0 $Z versions={$T13=2} ciphers={$C13=2} verify={OK=2}"
  expect "S6: mailtls scan, outbound" "$(posture "$W/scenarios/S6.json" outbound)" \
    "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"

  stage "sendmail: the whole log through mailtls scan"
  # The check of the running MX (mailtls check, or openssl s_client until it lands)
  # negotiated TLS without a certificate and sent no mail: one more session, verify=NO.
  local f X=1
  for f in mail.log mail-traditional.log; do
    "$MAILTLS" scan --format json --loopback "$LOG/$f" >"$W/scan-$f.json" 2>"$W/scan-$f.err"
    expect "$f: inbound (all scenarios + the check session)" "$(posture "$W/scan-$f.json" inbound)" \
      "tls_sessions=$((6 + X)) tls_messages=6 plaintext_messages=1 $Z versions={TLSv1.2=1,$T13=$((5 + X))} ciphers={$C12=1,$C13=$((5 + X))} verify={FAIL=1,NO=$((2 + X)),OK=3}"
    expect "$f: outbound (all scenarios)" "$(posture "$W/scan-$f.json" outbound)" \
      "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"
    expect "$f: versions and ciphers as Sendmail logged them" \
      "$(both_hist "$W/scan-$f.json" versions)/$(both_hist "$W/scan-$f.json" ciphers)" \
      "$(logged_hist "$LOG/$f" version)/$(logged_hist "$LOG/$f" cipher)"
    expect "$f: no malformed lines" "$(jq -r '.summary.lines_malformed' "$W/scan-$f.json")" 0
    expect "$f: no local errors" "$(jq -c '.local_errors' "$W/scan-$f.json")" '{}'
    "$MAILTLS" scan --format json "$LOG/$f" >"$W/scan-$f-noloop.json" 2>/dev/null
    expect "$f: without --loopback the loopback peers are left out" "$(jq -r '.peers | length' "$W/scan-$f-noloop.json")" 0
  done
  expect "mail.log and mail-traditional.log give the same posture" \
    "$(counts_only "$W/scan-mail-traditional.log.json" | md5sum)" "$(counts_only "$W/scan-mail.log.json" | md5sum)"

  stage "sendmail: the mboxes through mailtls scan (Received: headers)"
  cp "$W/mbox/mx.mbox" "$W/scenarios/mx-S.mbox"
  cp "$W/mbox/rx.mbox" "$W/scenarios/rx-S.mbox"
  if "$MAILTLS" scan --help 2>/dev/null | grep -q -- '--messages-only'; then
    local m=$W/scan-mbox.json ours=mx.example.test,rx.example.test
    "$MAILTLS" scan --messages-only --loopback --our-hosts "$ours" --format json \
      "$W/scenarios/mx-S.mbox" "$W/scenarios/rx-S.mbox" >"$m" 2>"$m.err"
    expect "mbox: messages read" "$(jq -r '"\(.messages.stores) stores, \(.messages.messages) messages, \(.messages.hops) hops, \(.messages.hops_malformed) malformed"' "$m")" \
      "2 stores, 6 messages, 7 hops, 0 malformed"
    # S1-S5 were stamped by MX; S6 by MX and then by RX: the verify= of every stamp.
    expect "mbox: inbound from the Received: headers (verify= as stamped)" "$(posture "$m" inbound)" \
      "tls_sessions=6 tls_messages=6 plaintext_messages=1 $Z versions={TLSv1.2=1,$T13=5} ciphers={$C12=1,$C13=5} verify={FAIL=1,NO=2,OK=3}"
    grep -h -A3 '^Received: ' "$W/scenarios/mx-S.mbox" "$W/scenarios/rx-S.mbox" | grep -E 'verify=|^Received' | sed 's/^/      mbox: /'
    "$MAILTLS" scan --loopback --our-hosts "$ours" --format json "$LOG/mail.log" \
      "$W/scenarios/mx-S.mbox" "$W/scenarios/rx-S.mbox" >"$W/scan-log+mbox.json" 2>/dev/null
    expect "log + mbox: every stamp already seen in the log (by queue id) is counted once" \
      "$(jq -r '.messages.hops_also_in_logs' "$W/scan-log+mbox.json")/$(posture "$W/scan-log+mbox.json" inbound)" \
      "7/$(posture "$W/scan-mail.log.json" inbound)"
  else
    notrun "mbox scan: message stores in mailtls scan not on this branch yet"
  fi
}

# ---------------------------------------------------------------------------------------
# Break it the way the seed warns, then repair it.

# mark NAME: a syslog line that splits the log into phases (not a mail line).
mark() { logger -p mail.info -t mailtls-e2e "phase $1" && wait_log "$LOG/mail.log" "mailtls-e2e: phase $1\$"; }
# since_mark NAME FILE: the log lines after the mark.
since_mark() { sed -n "/mailtls-e2e: phase $1\$/,\$p" "$2"; }

# ehlo_has_starttls SCENARIO: did the EHLO reply in swaks's transcript list STARTTLS?
ehlo_has_starttls() { grep -q -E '^<-  250[- ]STARTTLS' "$W/swaks/$1.txt"; }

# broken_key SCENARIO KIND ERE WHAT: restart MX with the key broken (by the caller), and
# prove what the seed says: one error line at start-up, STARTTLS no longer offered, mail
# accepted in plaintext, and mailtls sees the error and the plaintext message.
broken_key() {
  local sc=$1 kind=$2 ere=$3 what=$4 n got
  check "$sc: MX restarted with $what" start_sendmail mx "$SM_MX"
  check "$sc: error logged at start-up" wait_log "$LOG/mail.log" "$ere" 1
  send "$sc-tls" --to e2e@mx.example.test --tls
  if ehlo_has_starttls "$sc-tls"; then
    fail "$sc: STARTTLS no longer offered (swaks --tls)" "$(tail -5 "$W/swaks/$sc-tls.txt")"
  else
    pass "$sc: STARTTLS no longer offered (swaks --tls gets no 250-STARTTLS)"
  fi
  check "$sc: mail still accepted in plaintext" send "$sc" --to e2e@mx.example.test
  check "$sc: plaintext message delivered" wait_log "$W/mbox/mx.mbox" "^X-E2E: $sc\$" 1
  checktls "$sc: mailtls check" NONE
  doctor_names "$sc" "$what"
  stop_sendmail mx
  since_mark "$sc" "$LOG/mail.log" >"$W/scenarios/$sc.log"
  "$MAILTLS" scan --format json --loopback "$W/scenarios/$sc.log" >"$W/scenarios/$sc.json" 2>"$W/scenarios/$sc.err"
  n=$(grep -E -c "$ere" "$W/scenarios/$sc.log")
  got=$(jq -r --arg k "$kind" '[.local_errors[] | .[$k].count // 0] | add // 0' "$W/scenarios/$sc.json")
  expect "$sc: mailtls scan counts every '$kind' line Sendmail wrote" "$got" "$n"
  expect "$sc: mailtls scan's last_text names the key file" \
    "$(jq -r --arg k "$kind" '[.local_errors[] | .[$k].last_text // empty] | last' "$W/scenarios/$sc.json" | grep -c -F "$CERTS/mx-key.pem")" 1
  expect "$sc: mailtls scan, inbound (the plaintext message, no TLS)" "$(posture "$W/scenarios/$sc.json" inbound)" \
    "tls_sessions=0 tls_messages=0 plaintext_messages=1 deferred=0 bounced=0 versions={} ciphers={} verify={}"
  grep -E "$ere|X-E2E|from=|STARTTLS" "$W/scenarios/$sc.log" | sed 's/^/      log: /' | head -12
}

stage_sendmail_break() {
  [ -n "${SM_MX:-}" ] && [ -s "$CERTS/mx-key.pem" ] || { fail "break: the sendmail stage ran"; return; }
  local key=$CERTS/mx-key.pem
  cp -p "$key" "$W/mx-key.pem.good"

  stage "sendmail: break 1 (the seed's lesson: a pass-phrase on the server key)"
  stop_sendmail mx
  mark B1
  openssl pkey -in "$W/mx-key.pem.good" -aes256 -passout pass:e2e-secret -out "$key" && chmod 600 "$key"
  broken_key B1 private_key 'STARTTLS=server, error: SSL_CTX_use_PrivateKey_file\(.*\) failed' "an encrypted key"

  stage "sendmail: break 2 (a group-readable key without DontBlameSendmail)"
  mark B2
  cp -p "$W/mx-key.pem.good" "$key" && chmod 640 "$key"
  broken_key B2 unsafe_file 'STARTTLS.*unsafe' "a group-readable key"

  stage "sendmail: repaired (mode 0600, unencrypted)"
  mark B3
  chmod 600 "$key"
  check "B3: MX restarted with the key repaired" start_sendmail mx "$SM_MX"
  checktls "B3: mailtls check" OK
  check "B3: STARTTLS message after the repair" send B3 --to e2e@mx.example.test --tls
  check "B3: delivered" wait_log "$W/mbox/mx.mbox" '^X-E2E: B3$' 1
  since_mark B3 "$LOG/mail.log" >"$W/scenarios/B3.log"
  "$MAILTLS" scan --format json --loopback "$W/scenarios/B3.log" >"$W/scenarios/B3.json" 2>/dev/null
  expect "B3: no local errors after the repair" "$(jq -c '.local_errors' "$W/scenarios/B3.json")" '{}'
}

# checktls NAME VERIFY: mailtls check of MX with our CA gives VERIFY (when check landed).
checktls() {
  if has_cmd check; then
    check_run "$@"
  else
    notrun "$1: mailtls check not on this branch yet (openssl s_client instead)"
    openssl_check "$@"
  fi
}

# openssl_check NAME VERIFY: the same proof with openssl s_client while mailtls check has
# not landed: OK = STARTTLS offered, TLS 1.3/1.2, chain verified; NONE = not offered.
openssl_check() {
  local name=$1 want=$2 out
  mkdir -p "$W/scenarios"
  out=$W/scenarios/s_client-$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_').txt
  echo QUIT | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:${CHECK_PORT:-$SM_MX}" \
    -CAfile "$CERTS/cacert.pem" -verify_return_error >"$out" 2>&1
  if [ "$want" = TEMP ]; then
    expect "$name (openssl): no TLS session" "$(grep -q -E '^New, TLSv1' "$out" || echo none)" none
  elif [ "$want" = OK ]; then
    expect "$name (openssl): verify return code 0" "$(grep -q -E 'Verify return code: 0 \(ok\)' "$out" && echo yes)" yes
    expect "$name (openssl): TLS 1.3 or 1.2" "$(grep -q -E '^New, TLSv1\.[23], Cipher is ' "$out" && echo yes)" yes
  else
    expect "$name (openssl): no STARTTLS in the EHLO reply" "$(grep -q "Didn't find STARTTLS in server response" "$out" && echo yes)" yes
  fi
}

# doctor_names SCENARIO WHAT: mailtls doctor reports the broken key (when doctor landed).
doctor_names() {
  if has_cmd doctor; then
    doctor_run "$@"
  else
    notrun "$1: mailtls doctor not on this branch yet"
  fi
}

# both_hist FILE HIST: histogram HIST over every peer and both directions, "k=v" sorted.
both_hist() {
  jq -r --arg h "$2" '[.peers[] | (.inbound, .outbound) | .[$h] // {} | to_entries[]]
    | group_by(.key) | map("\(.[0].key)=\(map(.value) | add)") | join(",")' "$1"
}

# pf_logged_hist FILE N: histogram of the protocol (N=1) or cipher (N=2) of Postfix's
# "TLS connection established" lines, as written, "value=count" sorted.
pf_logged_hist() {
  grep -E 'TLS connection established (from|to) ' "$1" |
    sed -n -E 's/.*: (TLSv[0-9.]+) with cipher ([A-Za-z0-9_-]+) .*/\1 \2/p' |
    awk -v n="$2" '{print $n}' | sort | uniq -c | awk '{print $2 "=" $1}' | sort | paste -sd, -
}

# logged_hist FILE FIELD: histogram of FIELD= over the STARTTLS summary lines, as the MTA
# wrote them (independent of mailtls), "value=count" sorted.
logged_hist() {
  grep -E 'STARTTLS=(server|client), relay=.*, version=' "$1" |
    sed -n -E "s/.*[ ,]$2=([^,]+),.*/\1/p" | sort | uniq -c |
    awk '{print $2 "=" $1}' | sort | paste -sd, -
}

# doctor_json OUT ARGS…: mailtls doctor --format json ARGS… into OUT; prints its exit code.
doctor_json() {
  local out=$1 rc
  shift
  "$MAILTLS" doctor --format json "$@" >"$out" 2>"$out.err"
  rc=$?
  echo "$rc"
}

# findings OUT: "severity check file" per finding, for the record.
findings() { jq -r '.findings[] | "      doctor: \(.severity) \(.check) \(.file // "-"): \(.problem)"' "$1"; }

# doctor_clean NAME: mailtls doctor on NAME's sendmail.cf exits 0 with no error or warning.
doctor_clean() {
  if has_cmd doctor; then
    local out=$W/doctor-$1.json rc
    rc=$(doctor_json "$out" --cf "$W/$1/sendmail.cf")
    findings "$out"
    [ "$rc" = 0 ] && [ "$(jq '[.findings[] | select(.severity != "info")] | length' "$out")" = 0 ]
  else
    notrun "mailtls doctor not on this branch yet"
  fi
}

# doctor_run SCENARIO WHAT: mailtls doctor names the broken key: exit 1, an error finding
# of the expected check on the key file; with --log the logged error is explained too.
doctor_run() {
  local sc=$1 what=$2 out=$W/scenarios/$1-doctor.json want kind rc
  case $sc in B1) want=key-encrypted kind=private_key ;; B2) want=unsafe-file kind=unsafe_file ;; *) want=none kind=none ;; esac
  rc=$(doctor_json "$out" --cf "$W/mx/sendmail.cf" --log "$LOG/mail.log")
  findings "$out"
  expect "$sc: mailtls doctor exits 1" "$rc" 1
  expect "$sc: mailtls doctor names $what ($want on the key file)" \
    "$(jq -r --arg c "$want" --arg f "$CERTS/mx-key.pem" '[.findings[] | select(.severity == "error" and .check == $c and (.file // "") == $f)] | length' "$out")" 1
  expect "$sc: mailtls doctor explains the logged $kind error" \
    "$(jq -r --arg k "$kind" '[.findings[] | select(.check == "log-error" and .kind == $k)] | length > 0' "$out")" true
}

# check_run NAME VERIFY: mailtls check of MX with our CA; VERIFY OK means 250-STARTTLS,
# TLS 1.3 or 1.2 and verify OK; NONE means STARTTLS not offered.
check_run() {
  local name=$1 want=$2 out rc
  mkdir -p "$W/scenarios"
  out=$W/scenarios/check-$(printf '%s' "${1%% --*}" | tr -c 'A-Za-z0-9' '_').json
  "$MAILTLS" check "127.0.0.1:${CHECK_PORT:-$SM_MX}" --ca-file "$CERTS/cacert.pem" --json >"$out" 2>"$out.err"
  rc=$?
  jq -r '.results[] | "      check: verify=\(.verify) status=\(.status) tls=\(.tls.version // "-") \(.tls.cipher // "-") ext=\(.extensions | join(" "))"' "$out" 2>/dev/null
  expect "$name: verify" "$(jq -r '.results[0].verify' "$out")" "$want"
  if [ "$want" = OK ]; then
    expect "$name: exit 0, status pass" "$rc/$(jq -r '.results[0].status' "$out")" 0/pass
    expect "$name: EHLO lists STARTTLS" "$(jq -r '.results[0].extensions | index("STARTTLS") != null' "$out")" true
    expect "$name: TLS 1.3 or 1.2" "$(jq -r '.results[0].tls.version | test("^TLSv1\\.[23]$")' "$out")" true
  elif [ "$want" = TEMP ]; then
    expect "$name: exit 1" "$rc" 1
    expect "$name: EHLO lists STARTTLS" "$(jq -r '.results[0].extensions | index("STARTTLS") != null' "$out")" true
    expect "$name: STARTTLS answered 454" "$(jq -r '.results[0].starttls_reply // "" | .[0:4]' "$out")" "454 "
  else
    expect "$name: exit 1" "$rc" 1
    expect "$name: EHLO does not list STARTTLS" "$(jq -r '.results[0].extensions | index("STARTTLS") == null' "$out")" true
  fi
}

# ---------------------------------------------------------------------------------------
# Postfix 3.7 (Debian), on its real /etc/postfix/main.cf (saved first, put back at exit).
#   smtpd on 127.0.0.1:$PF_MX (pf.example.test): receives from swaks, delivers
#     e2e@pf.example.test to an mbox file, relays e2e@rx.example.test (transport map) to
#   smtpd on 127.0.0.1:$PF_RX (myhostname rx.example.test, syslog name postfix/rx): the
#     second loopback listener; its own cleanup rewrites e2e@rx.example.test to the local
#     e2e-rx, delivered to a second mbox.

restore_postfix_conf() {
  local f
  for f in main.cf master.cf; do
    if [ -e "$W/pf/orig-$f" ]; then cp -p "$W/pf/orig-$f" "/etc/postfix/$f"
    elif [ -e "$W/pf/no-$f" ]; then rm -f "/etc/postfix/$f"; fi
  done
}

write_postfix_conf() {
  local d=$W/pf f
  mkdir -p "$d"
  for f in main.cf master.cf; do
    if [ -e "/etc/postfix/$f" ]; then cp -p "/etc/postfix/$f" "$d/orig-$f"; else : >"$d/no-$f"; fi
  done
  CLEANUP_HOOKS+=(restore_postfix_conf)
  cat >/etc/postfix/main.cf <<MAIN
# Written by mailtls tests/e2e/run.sh (the original is put back at exit).
compatibility_level = 3.6
myhostname = pf.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination = pf.example.test, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
alias_maps = hash:$d/aliases
alias_database = hash:$d/aliases
mailbox_command =
transport_maps = hash:$d/transport
biff = no
append_dot_mydomain = no
smtputf8_enable = no
smtpd_tls_ask_ccert = yes
MAIN
  cp /etc/postfix/master.cf.proto /etc/postfix/master.cf
  postconf -F '*/*/chroot=n' &&
    postconf -MX smtp/inet &&
    postconf -Me "127.0.0.1:$PF_MX/inet=127.0.0.1:$PF_MX inet n - n - - smtpd" &&
    postconf -Me "127.0.0.1:$PF_RX/inet=127.0.0.1:$PF_RX inet n - n - - smtpd" &&
    postconf -P "127.0.0.1:$PF_RX/inet/myhostname=rx.example.test" \
      "127.0.0.1:$PF_RX/inet/syslog_name=postfix/rx" \
      "127.0.0.1:$PF_RX/inet/cleanup_service_name=cleanup_rx" &&
    postconf -Me "cleanup_rx/unix=cleanup_rx unix n - n - 0 cleanup" &&
    postconf -P "cleanup_rx/unix/virtual_alias_maps=inline:{e2e@rx.example.test=e2e-rx}" || return 1
  printf 'postmaster: root\ne2e: %s\ne2e-rx: %s\n' "$W/mbox-pf/pf.mbox" "$W/mbox-pf/pf-rx.mbox" >"$d/aliases"
  printf 'rx.example.test smtp:[127.0.0.1]:%s\nfb.example.test smtp:[127.0.0.1]:%s\nnt.example.test smtp:[127.0.0.1]:%s\n' \
    "$PF_RX" "$PF_FB" "$PF_NT" >"$d/transport"
  # local(8) writes files named in aliases as default_privs (nobody), lock file beside.
  mkdir -p "$W/mbox-pf"
  : >"$W/mbox-pf/pf.mbox"
  : >"$W/mbox-pf/pf-rx.mbox"
  chown -R nobody:nogroup "$W/mbox-pf"
  postalias "$d/aliases" && postmap "$d/transport"
}

apply_postfix_tls() {
  if has_cmd config postfix; then
    PF_CONFIG_BY="mailtls config postfix --apply /etc/postfix/main.cf"
    "$MAILTLS" config postfix --dir "$CERTS" --name mx --client client --apply /etc/postfix/main.cf
  else
    PF_CONFIG_BY="postconf -e (mailtls config postfix not on this branch yet)"
    postconf -e "smtpd_tls_cert_file = $CERTS/mx-cert.pem" "smtpd_tls_key_file = $CERTS/mx-key.pem" \
      "smtpd_tls_CAfile = $CERTS/cacert.pem" "smtpd_tls_security_level = may" \
      "smtpd_tls_loglevel = 1" "smtpd_tls_received_header = yes" \
      "smtp_tls_cert_file = $CERTS/client-cert.pem" "smtp_tls_key_file = $CERTS/client-key.pem" \
      "smtp_tls_CAfile = $CERTS/cacert.pem" "smtp_tls_security_level = may" "smtp_tls_loglevel = 1"
  fi
}

start_postfix() {
  local pidf
  pidf=$(postconf -h queue_directory)/pid/master.pid
  PIDFILES+=("$pidf")
  postfix check && postfix start >/dev/null 2>&1 && wait_port "$PF_MX" && wait_port "$PF_RX"
}

# send_pf SCENARIO ARGS…: swaks to Postfix between phase marks; waits until the message
# is delivered (status=sent) and its smtpd logged the disconnect, so that the lines
# between this scenario's mark and the next are exactly its own.
send_pf() {
  local sc=$1 qid before
  shift
  mark "$sc" || return 1
  before=$(grep -c 'postfix/smtpd\[[0-9]*\]: disconnect from' "$LOG/mail.log")
  mkdir -p "$W/swaks"
  swaks --server 127.0.0.1 --port "$PF_MX" --helo client.example.test \
    --from "sender@client.example.test" --header "Subject: e2e $sc" \
    --header "X-E2E: $sc" "$@" >"$W/swaks/$sc.txt" 2>&1 || return 1
  qid=$(sed -n -E 's/.*250 2\.0\.0 Ok: queued as ([A-Za-z0-9]+).*/\1/p' "$W/swaks/$sc.txt" | tail -n1)
  [ -n "$qid" ] || return 1
  wait_log "$LOG/mail.log" 'postfix/smtpd\[[0-9]+\]: disconnect from' $((before + 1)) &&
    wait_log "$LOG/mail.log" " $qid: .*status=sent" 1 &&
    wait_log "$LOG/mail.log" " $qid: removed" 1
}

# pf_scenario SCENARIO NEXT DIR EXPECTED: mailtls scan of the lines from SCENARIO's mark to
# NEXT's mark (or the end) gives EXPECTED for DIR.
pf_scenario() {
  local sc=$1 next=$2 dir=$3 want=$4
  sed -n "/mailtls-e2e: phase $sc\$/,/mailtls-e2e: phase $next\$/p" "$LOG/mail.log" | grep -v 'mailtls-e2e: phase' >"$W/scenarios/$sc.log"
  if [ "$POSTFIX_PARSER" = true ]; then
    "$MAILTLS" scan --format json --loopback "$W/scenarios/$sc.log" >"$W/scenarios/$sc.json" 2>"$W/scenarios/$sc.err"
    expect "$sc: mailtls scan, $dir" "$(posture "$W/scenarios/$sc.json" "$dir")" "$want"
  else
    notrun "$sc: Postfix log parsing not on this branch yet"
  fi
  [ "$dir" = inbound ] && sed 's/^/      log: /' "$W/scenarios/$sc.log"
  return 0
}

stage_postfix() {
  stage "postfix: install"
  local pidf
  for pidf in "$W/mx/sendmail.pid" "$W/rx/sendmail.pid"; do stop_pidfile "$pidf"; done
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  check "install postfix (3.7; removes sendmail)" install postfix
  command -v postfix >/dev/null 2>&1 || { fail "postfix installed"; return; }
  say "e2e: postfix $(postconf -dh mail_version)"
  check "rsyslogd running" start_rsyslog
  [ -s "$CERTS/mx-cert.pem" ] || check "certificates: CA, server, client, other CA" make_certs
  # Does this mailtls read Postfix logs yet? (One TLS line, recognised or not.)
  POSTFIX_PARSER=false
  [ "$(printf '%s\n' 'Nov 28 10:00:00 mx postfix/smtpd[1]: Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)' |
    "$MAILTLS" scan --format json - 2>/dev/null | jq -r '.summary.lines_recognized')" = 1 ] && POSTFIX_PARSER=true

  stage "postfix: configuration"
  PF_MX=$(free_port) && PF_RX=$(free_port) && PF_FB=$(free_port) && PF_NT=$(free_port) || { fail "free ports"; return; }
  say "e2e: ports PF_MX=$PF_MX PF_RX=$PF_RX PF_FB=$PF_FB PF_NT=$PF_NT"
  check "main.cf and master.cf written (smtpd on 127.0.0.1:$PF_MX and :$PF_RX)" write_postfix_conf
  check "TLS settings applied to /etc/postfix/main.cf" apply_postfix_tls
  say "e2e: TLS settings by $PF_CONFIG_BY"
  check "postfix started" start_postfix
  if has_cmd doctor; then
    check "doctor: Postfix configuration clean" doctor_postfix_clean
  else
    notrun "mailtls doctor not on this branch yet"
  fi
  CHECK_PORT=$PF_MX checktls "mailtls check 127.0.0.1:$PF_MX (Postfix) --ca-file cacert.pem" OK

  stage "postfix: mail"
  mkdir -p "$W/scenarios"
  check "P1 plaintext (no STARTTLS)" send_pf P1 --to e2e@pf.example.test
  check "P2 STARTTLS, no client certificate" send_pf P2 --to e2e@pf.example.test --tls
  check "P3 STARTTLS forced to TLS 1.2" send_pf P3 --to e2e@pf.example.test --tls --tls-protocol tlsv1_2
  check "P4 STARTTLS with a client certificate from our CA" send_pf P4 --to e2e@pf.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "P5 STARTTLS with a client certificate from another CA" send_pf P5 --to e2e@pf.example.test --tls \
    --tls-cert "$ROGUE/rogueclient-cert.pem" --tls-key "$ROGUE/rogueclient-key.pem"
  check "P6 STARTTLS to e2e@rx.example.test (relayed to the second listener)" send_pf P6 --to e2e@rx.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "P6 delivered by the second listener" wait_log "$W/mbox-pf/pf-rx.mbox" '^X-E2E: P6$' 1
  wait_log "$LOG/mail.log" 'postfix/local\[[0-9]+\]: .*e2e-rx.*status=sent' 1
  wait_log "$LOG/mail.log" 'postfix/rx/smtpd\[[0-9]+\]: disconnect from' 1
  mark P-end

  stage "postfix: each scenario's log lines through mailtls scan"
  local T13=TLSv1.3 C13=TLS_AES_256_GCM_SHA384 C12=ECDHE-RSA-AES256-GCM-SHA384 Z="deferred=0 bounced=0"
  pf_scenario P1 P2 inbound "tls_sessions=0 tls_messages=0 plaintext_messages=1 $Z versions={} ciphers={} verify={}"
  pf_scenario P2 P3 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={NO=1}"
  pf_scenario P3 P4 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={TLSv1.2=1} ciphers={$C12=1} verify={NO=1}"
  pf_scenario P4 P5 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"
  pf_scenario P5 P6 inbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={FAIL=1}"
  pf_scenario P6 P-end inbound "tls_sessions=2 tls_messages=2 plaintext_messages=0 $Z versions={$T13=2} ciphers={$C13=2} verify={OK=2}"
  pf_scenario P6 P-end outbound "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"
  expect_grep "P6: Received header in the mbox says 'using TLSv1.x'" "$W/mbox-pf/pf-rx.mbox" '\(using TLSv1\.[23] with cipher '

  stage "postfix: the whole Postfix log through mailtls scan"
  if [ "$POSTFIX_PARSER" = true ]; then
    local f
    for f in mail.log mail-traditional.log; do
      grep -E ' postfix(/[a-z]+)+\[[0-9]+\]: ' "$LOG/$f" >"$W/postfix-$f"
      "$MAILTLS" scan --format json --loopback "$W/postfix-$f" >"$W/scan-postfix-$f.json" 2>"$W/scan-postfix-$f.err"
      # P1-P6, plus the check session (STARTTLS, no certificate: Anonymous, no mail).
      expect "postfix $f: inbound (all scenarios + the check session)" "$(posture "$W/scan-postfix-$f.json" inbound)" \
        "tls_sessions=7 tls_messages=6 plaintext_messages=1 $Z versions={TLSv1.2=1,$T13=6} ciphers={$C12=1,$C13=6} verify={FAIL=1,NO=3,OK=3}"
      expect "postfix $f: outbound" "$(posture "$W/scan-postfix-$f.json" outbound)" \
        "tls_sessions=1 tls_messages=1 plaintext_messages=0 $Z versions={$T13=1} ciphers={$C13=1} verify={OK=1}"
      expect "postfix $f: versions and ciphers as Postfix logged them" \
        "$(both_hist "$W/scan-postfix-$f.json" versions)/$(both_hist "$W/scan-postfix-$f.json" ciphers)" \
        "$(pf_logged_hist "$LOG/$f" 1)/$(pf_logged_hist "$LOG/$f" 2)"
      expect "postfix $f: no malformed lines, no local errors" \
        "$(jq -r '.summary.lines_malformed' "$W/scan-postfix-$f.json")/$(jq -c '.local_errors' "$W/scan-postfix-$f.json")" '0/{}'
    done
    expect "postfix: mail.log and mail-traditional.log give the same posture" \
      "$(counts_only "$W/scan-postfix-mail-traditional.log.json" | md5sum)" "$(counts_only "$W/scan-postfix-mail.log.json" | md5sum)"
  else
    notrun "postfix whole log: Postfix log parsing not on this branch yet"
  fi

  stage "postfix: the mboxes through mailtls scan (Received: headers)"
  grep -h -A5 '^Received: ' "$W/mbox-pf/pf.mbox" "$W/mbox-pf/pf-rx.mbox" | grep -E '^(Received|\s)' | sed 's/^/      mbox: /'
  if "$MAILTLS" scan --help 2>/dev/null | grep -q -- '--messages-only'; then
    local m=$W/scan-mbox-pf.json
    "$MAILTLS" scan --messages-only --loopback --our-hosts pf.example.test,rx.example.test --format json \
      "$W/mbox-pf/pf.mbox" "$W/mbox-pf/pf-rx.mbox" >"$m" 2>"$m.err"
    expect "mbox: messages read" "$(jq -r '"\(.messages.stores) stores, \(.messages.messages) messages, \(.messages.hops) hops, \(.messages.hops_malformed) malformed"' "$m")" \
      "2 stores, 6 messages, 7 hops, 0 malformed"
    # The header knows what the log line does not: a certificate was asked for
    # (smtpd_tls_ask_ccert): "(Client did not present a certificate)" is NO.
    expect "mbox: inbound from the Postfix Received: headers" "$(posture "$m" inbound)" \
      "tls_sessions=6 tls_messages=6 plaintext_messages=1 $Z versions={TLSv1.2=1,$T13=5} ciphers={$C12=1,$C13=5} verify={FAIL=1,NO=2,OK=3}"
  else
    notrun "mbox scan: message stores in mailtls scan not on this branch yet"
  fi
}

# The seed's lesson on Postfix: an encrypted key. Postfix keeps offering STARTTLS and
# answers 454 to it; the mail goes in plaintext.
stage_postfix_break() {
  [ -n "${PF_MX:-}" ] || { fail "postfix break: the postfix stage ran"; return; }
  local key=$CERTS/mx-key.pem pidf
  [ -s "$W/mx-key.pem.good" ] || cp -p "$key" "$W/mx-key.pem.good"
  stage "postfix: break (an encrypted server key)"
  pidf=$(postconf -h queue_directory)/pid/master.pid
  stop_pidfile "$pidf"
  mark P7
  openssl pkey -in "$W/mx-key.pem.good" -aes256 -passout pass:e2e-secret -out "$key" && chmod 600 "$key"
  check "P7: postfix restarted with an encrypted key" start_postfix
  send_swaks_pf P7-tls --to e2e@pf.example.test --tls
  expect "P7: STARTTLS still offered" "$(grep -c -E '^<-  250[- ]STARTTLS' "$W/swaks/P7-tls.txt")" 1
  expect "P7: STARTTLS answered 454" "$(grep -c -E '^<\*\* 454 ' "$W/swaks/P7-tls.txt")" 1
  check "P7: mail still accepted in plaintext" send_pf P7 --to e2e@pf.example.test
  CHECK_PORT=$PF_MX checktls "P7: mailtls check (Postfix)" TEMP
  if has_cmd doctor; then
    local out=$W/scenarios/P7-doctor.json rc
    rc=$(doctor_json "$out" --postfix-dir /etc/postfix)
    findings "$out"
    expect "P7: mailtls doctor exits 1" "$rc" 1
    expect "P7: mailtls doctor names the encrypted key" \
      "$(jq -r --arg f "$key" '[.findings[] | select(.severity == "error" and .check == "key-encrypted" and (.file // "") == $f)] | length' "$out")" 1
  else
    notrun "P7: mailtls doctor not on this branch yet"
  fi
  mark P7-end
  sed -n "/mailtls-e2e: phase P7\$/,/mailtls-e2e: phase P7-end\$/p" "$LOG/mail.log" | grep -v 'mailtls-e2e: phase' >"$W/scenarios/P7.log"
  sed 's/^/      log: /' "$W/scenarios/P7.log"
  if [ "$POSTFIX_PARSER" = true ]; then
    "$MAILTLS" scan --format json --loopback "$W/scenarios/P7.log" >"$W/scenarios/P7.json" 2>"$W/scenarios/P7.err"
    jq -c '.local_errors, [.peers[] | {peer, errors: .inbound.errors}]' "$W/scenarios/P7.json" | sed 's/^/      scan: /'
    expect "P7: mailtls scan, inbound (the plaintext message)" "$(posture "$W/scenarios/P7.json" inbound | sed 's/ versions=.*//')" \
      "tls_sessions=0 tls_messages=0 plaintext_messages=1 deferred=0 bounced=0"
    expect "P7: mailtls scan reports the key error (private_key)" \
      "$(jq -r '[.local_errors[] | .private_key.count // 0] | add // 0' "$W/scenarios/P7.json")" \
      "$(grep -c -E 'cannot get RSA private key|cannot load .*private key|SSL_CTX_use_PrivateKey' "$W/scenarios/P7.log")"
    # smtpd loads the key when it starts, before "connect from": the OpenSSL error dump
    # that follows "cannot get … private key" is ours, not the client's.
    expect "P7: the key's OpenSSL errors are not blamed on the client" \
      "$(jq -r '[.peers[] | .inbound.errors // {} | to_entries[] | select(.key != "handshake") | "\(.key)=\(.value.count)"] | join(",")' "$W/scenarios/P7.json")" ""
  else
    notrun "P7: Postfix log parsing not on this branch yet"
  fi
  stop_pidfile "$pidf"
  cp -p "$W/mx-key.pem.good" "$key"
}

# send_swaks_pf SCENARIO ARGS…: swaks to Postfix, its result not judged (a break).
send_swaks_pf() {
  local sc=$1
  shift
  swaks --server 127.0.0.1 --port "$PF_MX" --helo client.example.test \
    --from "sender@client.example.test" --header "X-E2E: $sc" "$@" >"$W/swaks/$sc.txt" 2>&1
  return 0
}

doctor_postfix_clean() {
  local out=$W/doctor-postfix.json rc
  rc=$(doctor_json "$out" --postfix-dir /etc/postfix)
  findings "$out"
  [ "$rc" = 0 ] && [ "$(jq '[.findings[] | select(.severity != "info")] | length' "$out")" = 0 ]
}

# ---------------------------------------------------------------------------------------
# Per-scenario log extraction and assertions.

# posture FILE DIR: one line summing peers[].DIR of a snapshot: the fields a scenario
# asserts, histograms sorted by key.
posture() {
  jq -r --arg d "$2" '
    def h($k): [.peers[] | .[$d][$k] // {} | to_entries[]] | group_by(.key)
      | map("\(.[0].key)=\(map(.value) | add)") | join(",");
    def n($k): [.peers[] | .[$d][$k] // 0] | add // 0;
    "tls_sessions=\(n("tls_sessions")) tls_messages=\(n("tls_messages")) plaintext_messages=\(n("plaintext_messages")) deferred=\(n("deferred")) bounced=\(n("bounced")) versions={\(h("versions"))} ciphers={\(h("ciphers"))} verify={\(h("verify"))}"' "$1"
}

# qid_of SCENARIO: the queue id the MTA gave in its 250 reply to swaks.
qid_of() { sed -n -E 's/.*250 2\.0\.0 ([A-Za-z0-9]+) Message accepted.*/\1/p' "$W/swaks/$1.txt" | tail -n1; }

# scenario_lines SCENARIO LOGFILE: the lines the MTAs wrote for one swaks message: every
# line of the receiving process (found by the queue id of the 250 reply) and every line
# naming that queue id; for a relayed message also the lines of the delivering process
# and, on the receiver, of the queue id it answered with. Written to $W/scenarios/.
scenario_lines() {
  local sc=$1 f=$2 qid pid pids=() ids=() more
  qid=$(qid_of "$sc")
  [ -n "$qid" ] || return 1
  ids+=("$qid")
  while :; do
    more=false
    for id in "${ids[@]}"; do
      for pid in $(grep -F " $id: " "$f" | sed -n -E 's/.*\[([0-9]+)\]: .*/\1/p' | sort -u); do
        case " ${pids[*]} " in *" $pid "*) ;; *) pids+=("$pid"); more=true ;; esac
      done
      for nid in $(grep -F " $id: " "$f" | sed -n -E 's/.*stat=Sent \(([A-Za-z0-9]+) Message accepted.*/\1/p'); do
        case " ${ids[*]} " in *" $nid "*) ;; *) ids+=("$nid"); more=true ;; esac
      done
    done
    [ "$more" = true ] || break
  done
  mkdir -p "$W/scenarios"
  local pat
  pat=$(printf '\\[%s\\]: |' "${pids[@]}")
  pat="$pat$(printf ' %s: |' "${ids[@]}")"
  grep -E -- "${pat%|}" "$f" >"$W/scenarios/$sc.log"
  [ -s "$W/scenarios/$sc.log" ]
}

# scenario SCENARIO DIR EXPECTED: mailtls scan of the scenario's own log lines gives
# EXPECTED (the posture line above) for DIR; the lines are printed for the record.
scenario() {
  local sc=$1 dir=$2 want=$3 got
  if ! scenario_lines "$sc" "$LOG/mail.log"; then
    fail "$sc: log lines found (queue id $(qid_of "$sc"))"
    return
  fi
  "$MAILTLS" scan --format json --loopback "$W/scenarios/$sc.log" >"$W/scenarios/$sc.json" 2>"$W/scenarios/$sc.err"
  got=$(posture "$W/scenarios/$sc.json" "$dir")
  expect "$sc: mailtls scan, $dir" "$got" "$want"
  sed 's/^/      log: /' "$W/scenarios/$sc.log"
}

# =======================================================================================
# The break matrix (issue 18): the same breaks on Sendmail, Postfix and Exim, each
# scenario's real lines captured (fixtures) and mailtls's conclusions on them asserted.
#
# Every scenario writes its lines to $FIX/<mta>/<scenario>.log (RFC 3339 syslog, or the
# Exim mainlog as written) and, for the syslog MTAs, <scenario>.trad.log (traditional
# stamps), plus one line per scenario in $FIX/<mta>/outcomes.txt saying what the MTA did
# (STARTTLS offered? what it answered, where the mail went). With E2E_FIXTURES_OUT=DIR
# they are copied to DIR/<mta>/ (tests/fixtures/real, committed: tests/it/real_fixtures.rs
# asserts the same conclusions on them in `cargo test`).

FIX=$W/fixtures
MATRIX_SCENARIOS_RUN=()

# mark_both NAME: a phase mark, written once it is in both syslog files.
mark_both() {
  logger -p mail.info -t mailtls-e2e "phase $1" &&
    wait_log "$LOG/mail.log" "mailtls-e2e: phase $1\$" &&
    wait_log "$LOG/mail-traditional.log" "mailtls-e2e: phase $1\$"
}

# wait_since_mark MARK ERE N: until the mail log has N lines matching ERE after MARK (30 s).
wait_since_mark() {
  for _ in $(seq 300); do
    [ "$(sed -n "/mailtls-e2e: phase $1\$/,\$p" "$LOG/mail.log" | grep -E -c -- "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

# cap_syslog MTA SC: the lines between the marks MTA-SC and MTA-SC-end, from both log
# formats (marks left out), into the fixtures.
cap_syslog() {
  local mta=$1 sc=$2 f out
  mkdir -p "$FIX/$mta"
  mark_both "$mta-$sc-end"
  for f in mail.log mail-traditional.log; do
    out=$FIX/$mta/$sc.log
    [ "$f" = mail.log ] || out=$FIX/$mta/$sc.trad.log
    sed -n "/mailtls-e2e: phase $mta-$sc\$/,/mailtls-e2e: phase $mta-$sc-end\$/p" "$LOG/$f" |
      grep -v 'mailtls-e2e: phase ' >"$out"
  done
  fixture_done "$mta" "$sc"
}

# fixture_done MTA SC: print the captured lines, copy them out when asked.
fixture_done() {
  local mta=$1 sc=$2 f
  MATRIX_SCENARIOS_RUN+=("$mta/$sc")
  say "      captured: $mta/$sc.log ($(wc -l <"$FIX/$mta/$sc.log") lines)"
  sed 's/^/      log: /' "$FIX/$mta/$sc.log" | head -60
  if [ -n "${E2E_FIXTURES_OUT:-}" ]; then
    mkdir -p "$E2E_FIXTURES_OUT/$mta"
    for f in "$FIX/$mta/$sc".*log "$FIX/$mta/outcomes.txt"; do
      [ -e "$f" ] && cp "$f" "$E2E_FIXTURES_OUT/$mta/"
    done
  fi
}

# outcome MTA SC TEXT: what the MTA did in SC, for the record (fixtures README).
outcome() {
  mkdir -p "$FIX/$1"
  printf '%s: %s\n' "$2" "$3" >>"$FIX/$1/outcomes.txt"
  say "      outcome: $2: $3"
}

# swaks_says FILE: STARTTLS offered? the reply to it, the final reply to DATA, in one word each.
swaks_says() {
  local f=$1 ehlo reply data
  ehlo=no
  grep -q -E '^<-  250[- ]STARTTLS' "$f" && ehlo=yes
  reply=$(awk '/^ -> STARTTLS/ { n = 1; next } n == 1 { sub(/^<[-*~]* +/, ""); print substr($0, 1, 50); exit }' "$f")
  data=$(grep -E '^<[-*~]* +[245][0-9][0-9] ' "$f" | tail -n2 | head -n1 | sed -E 's/^<[-*~]* +//' | cut -c1-60)
  printf 'STARTTLS offered=%s, reply=%s, last=%s' "$ehlo" "${reply:--}" "$data"
}

# scanner_burst PORT TAG: 10 STARTTLS probes like a scanner's: 4 complete the handshake and
# hang up without mail, 3 offer only TLS 1.0 and 3 only a NULL cipher (both refused by a
# current server: the handshake aborts). Each probe's result is kept.
scanner_burst() {
  local port=$1 tag=$2 i out ok=0 bad=0
  mkdir -p "$W/scanner"
  for i in 1 2 3 4 5 6 7 8 9 10; do
    out=$W/scanner/$tag-$i.txt
    case $i in
      [1-4]) timeout 15 openssl s_client -starttls smtp -connect "127.0.0.1:$port" </dev/null >"$out" 2>&1 ;;
      [5-7]) timeout 15 openssl s_client -starttls smtp -connect "127.0.0.1:$port" -tls1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$out" 2>&1 ;;
      *) timeout 15 openssl s_client -starttls smtp -connect "127.0.0.1:$port" -no_tls1_3 -cipher 'NULL-SHA256:@SECLEVEL=0' </dev/null >"$out" 2>&1 ;;
    esac
    if grep -q -E '^New, TLSv1' "$out"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done
  SCANNER_RESULT="10 probes: $ok handshakes completed (hung up without mail), $bad aborted"
}

# start_breaking_receiver PORT [--no-starttls]: the test receiver whose TLS always fails
# (a fatal handshake_failure alert after STARTTLS), or that offers no STARTTLS at all;
# plaintext mail it accepts goes to $W/fb.mbox.
start_breaking_receiver() {
  PIDFILES+=("$W/fb.pid")
  : >"$W/fb.mbox"
  setsid python3 "$ROOT/tests/e2e/tls_breaking_receiver.py" "$1" "$W/fb.mbox" "$W/fb.pid" "${@:2}" </dev/null >"$W/fb.err" 2>&1 &
  wait_port "$1"
}

# start_plain_receiver PORT: the same receiver offering no STARTTLS at all.
start_plain_receiver() { start_breaking_receiver "$1" --no-starttls; }

# start_selfsigned_receiver PORT: the same receiver with working TLS and a self-signed
# certificate (made once, not from our CA): what a client that requires a verified peer
# certificate refuses.
start_selfsigned_receiver() {
  if [ ! -s "$W/fb-selfsigned-cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=fb.example.test -days 30 \
      -keyout "$W/fb-selfsigned-key.pem" -out "$W/fb-selfsigned-cert.pem" >/dev/null 2>&1 || return 1
  fi
  start_breaking_receiver "$1" --cert "$W/fb-selfsigned-cert.pem" --key "$W/fb-selfsigned-key.pem"
}

# stall_client PORT SECS: a client that says EHLO and STARTTLS, reads the 220 and then
# sends nothing for SECS seconds (a stalled or dead client in the handshake, as some
# scanners leave them); prints what it saw.
stall_client() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode(errors="replace").rstrip()
        if len(line) < 4 or line[3] != "-":
            return line
banner = reply()
s.sendall(b"EHLO stall.example.test\r\n")
reply()
s.sendall(b"STARTTLS\r\n")
ready = reply()
t0 = time.time()
s.settimeout(float(sys.argv[2]))
try:
    more = s.recv(100)
    end = "closed by the server after %.0f s" % (time.time() - t0) if not more else "data"
except socket.timeout:
    end = "still open after %s s" % sys.argv[2]
s.close()
print("STARTTLS reply: %s; then %s" % (ready[:40], end))
PY
}

# ---------------------------------------------------------------------------------------
# Sendmail: MX restarted for each break, RX stays up.

# sm_restore: MX's good key, certificate and sendmail.cf back in place.
sm_restore() {
  if [ -s "$W/cacert.pem.good" ]; then cp -p "$W/cacert.pem.good" "$CERTS/cacert.pem"; fi
  if [ -s "$W/client-key.pem.good" ]; then cp -p "$W/client-key.pem.good" "$CERTS/client-key.pem"; fi
  cp -p "$W/mx-key.pem.good" "$CERTS/mx-key.pem"
  cp -p "$W/mx-cert.pem.good" "$CERTS/mx-cert.pem"
  chmod 600 "$CERTS/mx-key.pem"
  cp -p "$W/mx/sendmail.cf.good" "$W/mx/sendmail.cf"
}

# sm_wait_sent SCENARIO: the message swaks sent in SCENARIO is logged stat=Sent (or a
# final/temporary status) by MX.
sm_wait_sent() {
  local qid
  qid=$(qid_of "$1")
  [ -n "$qid" ] || return 1
  wait_log "$LOG/mail.log" " $qid: .*stat=" 1
}

# sm_policy_relay SC ACCESS WHAT STARTER: MX relays one message to a test receiver in
# RX's place (started by STARTER PORT) while its access map holds ACCESS (a TLS_Srv
# entry); the attempt is captured, then the map is emptied, the queue cleared and RX
# restarted.
sm_policy_relay() {
  local sc=$1 access=$2 what=$3 starter=$4 name="sm-$1"
  stage "sendmail matrix: $sc ($what)"
  stop_sendmail rx
  mark_both "sendmail-$sc"
  printf '%s\n' "$access" >"$W/mx/access.src" && makemap hash "$W/mx/access" <"$W/mx/access.src"
  check "sendmail/$sc: test receiver ($starter) on 127.0.0.1:$SM_RX (in RX's place)" "$starter" "$SM_RX"
  check "sendmail/$sc: MX started (access: $access)" start_sendmail mx "$SM_MX"
  send "$name" --to e2e@rx.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "sendmail/$sc: the delivery attempt is logged" sm_wait_sent "$name"
  outcome sendmail "$sc" "inbound STARTTLS (OK); MX relays to the receiver ($what): $(grep -E " $(qid_of "$name"): to=<e2e@rx" "$LOG/mail.log" | sed -E 's/.*(stat=[^(]*).*/\1/' | tail -n1); $(grep -c "^X-E2E: $name\$" "$W/fb.mbox") message received by the receiver"
  cap_syslog sendmail "$sc"
  stop_sendmail mx
  stop_pidfile "$W/fb.pid"
  : >"$W/mx/access.src" && makemap hash "$W/mx/access" <"$W/mx/access.src"
  rm -f "$W/mx/mqueue/"*
  check "sendmail/$sc: RX restarted" start_sendmail rx "$SM_RX"
}

# sm_break SC WHAT CMD…: MX restarted with its server files broken by CMD; swaks tries
# STARTTLS, then sends in plaintext; the lines are captured and the files repaired.
sm_break() {
  local sc=$1 what=$2
  shift 2
  stage "sendmail matrix: $sc ($what)"
  stop_sendmail mx
  sm_restore
  mark_both "sendmail-$sc"
  "$@"
  check "sendmail/$sc: MX restarted with $what" start_sendmail mx "$SM_MX"
  send "sm-$sc-tls" --to e2e@mx.example.test --tls
  sm_wait_sent "sm-$sc-tls"
  send "sm-$sc" --to e2e@mx.example.test
  check "sendmail/$sc: plaintext mail delivered" sm_wait_sent "sm-$sc"
  wait_log "$W/mbox/mx.mbox" "^X-E2E: sm-$sc\$" 1
  outcome sendmail "$sc" "swaks --tls: $(swaks_says "$W/swaks/sm-$sc-tls.txt"); swaks plaintext: $(swaks_says "$W/swaks/sm-$sc.txt")"
  cap_syslog sendmail "$sc"
  stop_sendmail mx
  sm_restore
}

# sm_client_break SC WHAT CMD…: MX restarted with its client files broken by CMD; one
# message relayed to RX; the attempt is captured and the files repaired.
sm_client_break() {
  local sc=$1 what=$2 name="sm-$1"
  shift 2
  stage "sendmail matrix: $sc ($what; a message relayed to RX)"
  stop_sendmail mx
  sm_restore
  mark_both "sendmail-$sc"
  "$@"
  check "sendmail/$sc: MX restarted with $what" start_sendmail mx "$SM_MX"
  send "$name" --to e2e@rx.example.test --tls
  check "sendmail/$sc: the relay attempt is logged" sm_wait_sent "$name"
  wait_log "$W/mbox/rx.mbox" "^X-E2E: $name\$" 1
  outcome sendmail "$sc" "relay to RX with $what: $(grep -E " $(qid_of "$name"): to=<e2e@rx" "$LOG/mail.log" | sed -E 's/.*(stat=[^(]*).*/\1/' | tail -n1); $(grep -c "^X-E2E: $name\$" "$W/mbox/rx.mbox") message delivered by RX"
  cap_syslog sendmail "$sc"
  stop_sendmail mx
  sm_restore
}

stage_sendmail_matrix() {
  [ -n "${SM_MX:-}" ] && [ -s "$CERTS/mx-key.pem" ] || { fail "sendmail matrix: the sendmail stage ran"; return; }
  local key=$CERTS/mx-key.pem cert=$CERTS/mx-cert.pem
  [ -s "$W/mx-key.pem.good" ] || cp -p "$key" "$W/mx-key.pem.good"
  [ -s "$W/cacert.pem.good" ] || cp -p "$CERTS/cacert.pem" "$W/cacert.pem.good"
  [ -s "$W/client-key.pem.good" ] || cp -p "$CERTS/client-key.pem" "$W/client-key.pem.good"
  [ -s "$W/mx-cert.pem.good" ] || cp -p "$cert" "$W/mx-cert.pem.good"
  [ -s "$W/mx/sendmail.cf.good" ] || cp -p "$W/mx/sendmail.cf" "$W/mx/sendmail.cf.good"
  rm -f "$FIX/sendmail/outcomes.txt"
  local t0=$(date +%s)

  sm_break key_encrypted_pkcs8 "an encrypted key (PKCS#8, openssl pkey -aes256)" \
    openssl pkey -in "$W/mx-key.pem.good" -aes256 -passout pass:e2e-secret -out "$key"
  sm_break key_encrypted_traditional "an encrypted key (traditional, openssl rsa -aes256 -traditional)" \
    openssl rsa -in "$W/mx-key.pem.good" -aes256 -traditional -passout pass:e2e-secret -out "$key"
  sm_break key_encrypted_loglevel14 "an encrypted key (PKCS#8) at LogLevel 14" \
    sh -c "openssl pkey -in '$W/mx-key.pem.good' -aes256 -passout pass:e2e-secret -out '$key' && sed -i 's/^O LogLevel=.*/O LogLevel=14/' '$W/mx/sendmail.cf'"
  sm_break cert_missing "the server certificate deleted" rm -f "$cert"
  sm_break key_missing "the server key deleted" rm -f "$key"
  sm_break key_mismatch "the client's key as the server key" cp "$CERTS/client-key.pem" "$key"
  sm_break key_group_readable "the key mode 0640" chmod 640 "$key"
  sm_break key_world_readable "the key mode 0644" chmod 644 "$key"
  sm_break ca_missing "the CA file (CACertFile, used to verify clients) deleted" rm -f "$CERTS/cacert.pem"
  sm_break dh_missing "O DHParameters naming a file that does not exist" \
    sh -c "sed -i '/^O DHParameters=/d' '$W/mx/sendmail.cf' && printf 'O DHParameters=%s\\n' '$W/nonexistent-dh.pem' >>'$W/mx/sendmail.cf'"
  sm_break cipher_bad "O CipherList naming no cipher OpenSSL knows" \
    sh -c "sed -i '/^O CipherList=/d' '$W/mx/sendmail.cf' && printf 'O CipherList=NO-SUCH-CIPHER\\n' >>'$W/mx/sendmail.cf'"

  # Our client's key broken: the server side is fine, the relay to RX is what may change.
  sm_client_break client_key_missing "ClientKeyFile deleted" rm -f "$CERTS/client-key.pem"
  sm_client_break client_key_group_readable "ClientKeyFile mode 0640" chmod 640 "$CERTS/client-key.pem"
  sm_client_break client_key_encrypted "ClientKeyFile encrypted (PKCS#8, openssl pkey -aes256)" \
    openssl pkey -in "$W/client-key.pem.good" -aes256 -passout pass:e2e-secret -out "$CERTS/client-key.pem"

  stage "sendmail matrix: loglevel14 (LogLevel 14, TLS works)"
  stop_sendmail mx
  sm_restore
  mark_both sendmail-loglevel14
  sed -i 's/^O LogLevel=.*/O LogLevel=14/' "$W/mx/sendmail.cf"
  check "sendmail/loglevel14: MX restarted at LogLevel 14" start_sendmail mx "$SM_MX"
  send sm-ll14-nocert --to e2e@mx.example.test --tls
  send sm-ll14-cert --to e2e@mx.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  send sm-ll14-relay --to e2e@rx.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  sm_wait_sent sm-ll14-nocert
  sm_wait_sent sm-ll14-cert
  check "sendmail/loglevel14: relayed to RX" wait_log "$LOG/mail.log" 'sm-mta-mx\[[0-9]+\]: .*mailer=relay.*stat=Sent' 2
  wait_log "$W/mbox/rx.mbox" '^X-E2E: sm-ll14-relay$' 1
  wait_log "$LOG/mail.log" 'sm-mta-rx\[[0-9]+\]: .*mailer=\*file\*.*stat=Sent' 2
  outcome sendmail loglevel14 "3 messages over STARTTLS (no client cert: verify=NO; our client cert: OK; relayed to RX with STARTTLS=client: OK); $(swaks_says "$W/swaks/sm-ll14-nocert.txt")"
  cap_syslog sendmail loglevel14
  stop_sendmail mx
  sm_restore

  stage "sendmail matrix: client_fallback (outbound handshake fails, TLSFallbacktoClear)"
  stop_sendmail rx
  stop_sendmail mx
  sm_restore
  mark_both sendmail-client_fallback
  printf 'O TLSFallbacktoClear=true\n' >>"$W/mx/sendmail.cf"
  check "sendmail/client_fallback: TLS-breaking receiver on 127.0.0.1:$SM_RX (in RX's place)" start_breaking_receiver "$SM_RX"
  check "sendmail/client_fallback: MX restarted (TLSFallbacktoClear=true)" start_sendmail mx "$SM_MX"
  send sm-fallback --to e2e@rx.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "sendmail/client_fallback: delivered in clear after the failed handshake" wait_log "$W/fb.mbox" '^X-E2E: sm-fallback' 1
  wait_log "$LOG/mail.log" 'sm-mta-mx\[[0-9]+\]: .*mailer=relay.*stat=Sent \(2\.0\.0 Ok: queued as FB' 1
  outcome sendmail client_fallback "inbound STARTTLS with our client cert (OK); MX relays to the breaking receiver: STARTTLS offered, handshake fails (alert handshake_failure), MX reconnects and delivers in clear: $(grep -c '^X-E2E: sm-fallback' "$W/fb.mbox") message received in clear"
  cap_syslog sendmail client_fallback
  stop_pidfile "$W/fb.pid"
  stop_sendmail mx
  sm_restore
  check "sendmail/client_fallback: RX restarted" start_sendmail rx "$SM_RX"

  # Our server requires a verified client certificate of 127.0.0.1 (access map
  # TLS_Clt:127.0.0.1 VERIFY): a client without one is refused at MAIL, one with our
  # client certificate gets through.
  stage "sendmail matrix: client_cert_required (TLS_Clt VERIFY; clients without and with a certificate)"
  stop_sendmail mx
  sm_restore
  mark_both sendmail-client_cert_required
  printf 'TLS_Clt:127.0.0.1 VERIFY\n' >"$W/mx/access.src" && makemap hash "$W/mx/access" <"$W/mx/access.src"
  check "sendmail/client_cert_required: MX restarted (TLS_Clt:127.0.0.1 VERIFY)" start_sendmail mx "$SM_MX"
  send sm-ccr-nocert --to e2e@mx.example.test --tls
  send sm-ccr-clear --to e2e@mx.example.test
  send sm-ccr-cert --to e2e@mx.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "sendmail/client_cert_required: the client with a certificate gets through" sm_wait_sent sm-ccr-cert
  check "sendmail/client_cert_required: the client without one is refused (tls_client)" wait_log "$LOG/mail.log" 'sm-mta-mx\[[0-9]+\]: .*ruleset=tls_client, arg1=NO' 1
  outcome sendmail client_cert_required "swaks --tls without a client certificate: $(swaks_says "$W/swaks/sm-ccr-nocert.txt"); swaks in clear: $(swaks_says "$W/swaks/sm-ccr-clear.txt"); swaks --tls with our client certificate: $(swaks_says "$W/swaks/sm-ccr-cert.txt")"
  cap_syslog sendmail client_cert_required
  stop_sendmail mx
  : >"$W/mx/access.src" && makemap hash "$W/mx/access" <"$W/mx/access.src"
  sm_restore

  stage "sendmail matrix: handshake_stall (a client sends STARTTLS, then nothing; O Timeout.starttls=5s)"
  stop_sendmail mx
  sm_restore
  mark_both sendmail-handshake_stall
  printf 'O Timeout.starttls=5s\n' >>"$W/mx/sendmail.cf"
  check "sendmail/handshake_stall: MX restarted (Timeout.starttls=5s)" start_sendmail mx "$SM_MX"
  local stall
  stall=$(stall_client "$SM_MX" 12)
  send sm-stall-next --to e2e@mx.example.test --tls
  check "sendmail/handshake_stall: the next client's mail is delivered" sm_wait_sent sm-stall-next
  outcome sendmail handshake_stall "a client sent STARTTLS and then nothing: $stall; the next client: $(swaks_says "$W/swaks/sm-stall-next.txt")"
  cap_syslog sendmail handshake_stall
  stop_sendmail mx
  sm_restore

  stage "sendmail matrix: rejected (RCPT to an unknown user, over STARTTLS)"
  check "sendmail/rejected: MX started" start_sendmail mx "$SM_MX"
  mark_both sendmail-rejected
  send sm-rejected --to nobody-here@mx.example.test --tls
  wait_log "$LOG/mail.log" 'sm-mta-mx\[[0-9]+\]: .*nrcpts=0.*proto=ESMTPS' 1
  outcome sendmail rejected "$(swaks_says "$W/swaks/sm-rejected.txt"); no message accepted"
  cap_syslog sendmail rejected

  stage "sendmail matrix: scanner_burst (10 openssl s_client probes)"
  mark_both sendmail-scanner_burst
  scanner_burst "$SM_MX" sendmail
  wait_since_mark sendmail-scanner_burst 'sm-mta-mx\[[0-9]+\]: .*did not issue MAIL' 10
  outcome sendmail scanner_burst "$SCANNER_RESULT"
  cap_syslog sendmail scanner_burst
  stop_sendmail mx

  sm_policy_relay tls_required $'TLS_Srv:127.0.0.1\tENCR:128' \
    "TLS_Srv requires encryption, the receiver offers no STARTTLS" start_plain_receiver
  # The same relay to a receiver with working TLS and a self-signed certificate, while
  # TLS_Srv requires a verified one (VERIFY).
  sm_policy_relay verify_required $'TLS_Srv:127.0.0.1\tVERIFY' \
    "TLS_Srv requires VERIFY, the receiver's certificate is self-signed" start_selfsigned_receiver

  # As Postfix's and Exim's no_tls: without a server certificate and key (Debian's
  # sendmail.mc sets none: confSERVER_CERT/confSERVER_KEY) Sendmail offers no STARTTLS
  # and logs nothing about it; two clients send three messages in clear.
  stage "sendmail matrix: no_tls (no ServerCertFile/ServerKeyFile: STARTTLS not offered, nothing logged)"
  stop_sendmail mx
  sm_restore
  mark_both sendmail-no_tls
  sed -i '/^O Server\(Cert\|Key\)File=/d' "$W/mx/sendmail.cf"
  check "sendmail/no_tls: MX restarted without a server certificate" start_sendmail mx "$SM_MX"
  send sm-no_tls-1 --to e2e@mx.example.test
  check "sendmail/no_tls: plaintext mail from 127.0.0.1" sm_wait_sent sm-no_tls-1
  send sm-no_tls-2 --to e2e@mx.example.test --local-interface 127.0.0.2
  check "sendmail/no_tls: plaintext mail from 127.0.0.2" sm_wait_sent sm-no_tls-2
  send sm-no_tls-3 --to e2e@mx.example.test
  check "sendmail/no_tls: plaintext mail from 127.0.0.1 again" sm_wait_sent sm-no_tls-3
  wait_log "$W/mbox/mx.mbox" '^X-E2E: sm-no_tls-3$' 1
  outcome sendmail no_tls "no ServerCertFile/ServerKeyFile: $(swaks_says "$W/swaks/sm-no_tls-1.txt"); $(grep -c '^X-E2E: sm-no_tls' "$W/mbox/mx.mbox") messages delivered, in clear"
  cap_syslog sendmail no_tls
  stop_sendmail mx
  sm_restore
  say "e2e: sendmail matrix took $(($(date +%s) - t0)) s"
  matrix_assert sendmail
}

# ---------------------------------------------------------------------------------------
# Postfix: master restarted for each break (smtpd reads its files when it starts).

pf_master_pid() { echo "$(postconf -h queue_directory)/pid/master.pid"; }

pf_restore() {
  postconf -X smtpd_tls_dh1024_param_file smtpd_tls_ciphers tls_high_cipherlist smtpd_tls_req_ccert smtpd_starttls_timeout
  postconf -e "smtpd_tls_security_level = may"
  if [ -s "$W/cacert.pem.good" ]; then cp -p "$W/cacert.pem.good" "$CERTS/cacert.pem"; fi
  if [ -s "$W/client-key.pem.good" ]; then cp -p "$W/client-key.pem.good" "$CERTS/client-key.pem"; fi
  cp -p "$W/mx-key.pem.good" "$CERTS/mx-key.pem"
  cp -p "$W/mx-cert.pem.good" "$CERTS/mx-cert.pem"
  chmod 600 "$CERTS/mx-key.pem"
}

# pf_send SCENARIO ARGS…: swaks to Postfix; waits for the smtpd disconnect and, when a
# message was queued, for its final status.
pf_send() {
  local sc=$1 qid before
  shift
  mkdir -p "$W/swaks"
  before=$(grep -c -E 'postfix/smtpd\[[0-9]+\]: disconnect from' "$LOG/mail.log")
  swaks --server 127.0.0.1 --port "$PF_MX" --helo client.example.test \
    --from "sender@client.example.test" --header "Subject: e2e $sc" \
    --header "X-E2E: $sc" "$@" >"$W/swaks/$sc.txt" 2>&1
  wait_log "$LOG/mail.log" 'postfix/smtpd\[[0-9]+\]: disconnect from' $((before + 1))
  qid=$(sed -n -E 's/.*250 2\.0\.0 Ok: queued as ([A-Za-z0-9]+).*/\1/p' "$W/swaks/$sc.txt" | tail -n1)
  [ -n "$qid" ] || return 1
  wait_log "$LOG/mail.log" " $qid: .*status=(sent|deferred|bounced)" 1 || return 1
  grep -q -E " $qid: .*status=sent" "$LOG/mail.log" && wait_log "$LOG/mail.log" " $qid: removed" 1
  return 0
}

pf_break() {
  local sc=$1 what=$2 pidf
  shift 2
  stage "postfix matrix: $sc ($what)"
  pidf=$(pf_master_pid)
  stop_pidfile "$pidf"
  pf_restore
  mark_both "postfix-$sc"
  "$@"
  check "postfix/$sc: postfix restarted with $what" start_postfix
  pf_send "pf-$sc-tls" --to e2e@pf.example.test --tls
  check "postfix/$sc: plaintext mail delivered" pf_send "pf-$sc" --to e2e@pf.example.test
  outcome postfix "$sc" "swaks --tls: $(swaks_says "$W/swaks/pf-$sc-tls.txt"); swaks plaintext: $(swaks_says "$W/swaks/pf-$sc.txt")"
  cap_syslog postfix "$sc"
  stop_pidfile "$pidf"
  pf_restore
}

stage_postfix_matrix() {
  [ -n "${PF_MX:-}" ] || { fail "postfix matrix: the postfix stage ran"; return; }
  local key=$CERTS/mx-key.pem cert=$CERTS/mx-cert.pem pidf
  [ -s "$W/mx-key.pem.good" ] || cp -p "$key" "$W/mx-key.pem.good"
  [ -s "$W/cacert.pem.good" ] || cp -p "$CERTS/cacert.pem" "$W/cacert.pem.good"
  [ -s "$W/client-key.pem.good" ] || cp -p "$CERTS/client-key.pem" "$W/client-key.pem.good"
  [ -s "$W/mx-cert.pem.good" ] || cp -p "$cert" "$W/mx-cert.pem.good"
  rm -f "$FIX/postfix/outcomes.txt"
  local t0=$(date +%s)
  pidf=$(pf_master_pid)

  pf_break key_encrypted_pkcs8 "an encrypted key (PKCS#8, openssl pkey -aes256)" \
    openssl pkey -in "$W/mx-key.pem.good" -aes256 -passout pass:e2e-secret -out "$key"
  pf_break key_encrypted_traditional "an encrypted key (traditional, openssl rsa -aes256 -traditional)" \
    openssl rsa -in "$W/mx-key.pem.good" -aes256 -traditional -passout pass:e2e-secret -out "$key"
  pf_break cert_missing "the server certificate deleted" rm -f "$cert"
  pf_break key_missing "the server key deleted" rm -f "$key"
  pf_break key_mismatch "the client's key as the server key" cp "$CERTS/client-key.pem" "$key"
  pf_break key_group_readable "the key mode 0640" chmod 640 "$key"
  pf_break key_world_readable "the key mode 0644" chmod 644 "$key"
  pf_break ca_missing "the CA file (smtpd_tls_CAfile, used to verify clients) deleted" rm -f "$CERTS/cacert.pem"
  pf_break dh_missing "smtpd_tls_dh1024_param_file naming a file that does not exist" \
    postconf -e "smtpd_tls_dh1024_param_file = $W/nonexistent-dh.pem"
  pf_break cipher_bad "smtpd_tls_ciphers = high with tls_high_cipherlist naming no cipher OpenSSL knows" \
    postconf -e "smtpd_tls_ciphers = high" "tls_high_cipherlist = NO-SUCH-CIPHER"

  # Our client's key gone (smtp_tls_key_file): the relay to RX is what may change.
  stage "postfix matrix: client_key_missing (smtp_tls_key_file deleted; a message relayed to RX)"
  stop_pidfile "$pidf"
  pf_restore
  mark_both postfix-client_key_missing
  rm -f "$CERTS/client-key.pem"
  check "postfix/client_key_missing: postfix restarted without its client key" start_postfix
  pf_send pf-client_key_missing --to e2e@rx.example.test --tls
  wait_log "$W/mbox-pf/pf-rx.mbox" '^X-E2E: pf-client_key_missing$' 1
  sleep 1
  outcome postfix client_key_missing "relay to RX without our client key: $(grep -E 'postfix/smtp\[[0-9]+\]: .*to=<e2e@rx.example.test>' "$LOG/mail.log" | sed -E 's/.*(status=[a-z]+).*/\1/' | tail -n1); $(grep -c '^X-E2E: pf-client_key_missing' "$W/mbox-pf/pf-rx.mbox") message delivered by RX"
  cap_syslog postfix client_key_missing
  stop_pidfile "$pidf"
  pf_restore

  stage "postfix matrix: client_fallback (outbound handshake fails, smtp_tls_security_level=may)"
  stop_pidfile "$pidf"
  pf_restore
  mark_both postfix-client_fallback
  check "postfix/client_fallback: TLS-breaking receiver on 127.0.0.1:$PF_FB" start_breaking_receiver "$PF_FB"
  check "postfix/client_fallback: postfix started" start_postfix
  pf_send pf-fallback --to e2e@fb.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  # Postfix defers after the failed handshake ("Cannot start TLS: handshake failure");
  # one more attempt at once (postqueue -i) shows what its retry does.
  local fbq
  fbq=$(sed -n -E 's/.*250 2\.0\.0 Ok: queued as ([A-Za-z0-9]+).*/\1/p' "$W/swaks/pf-fallback.txt" | tail -n1)
  if [ -n "$fbq" ] && grep -q -E " $fbq: .*status=deferred" "$LOG/mail.log"; then
    postqueue -i "$fbq"
    wait_log "$LOG/mail.log" " $fbq: .*status=(sent|deferred|bounced)" 2
  fi
  outcome postfix client_fallback "inbound STARTTLS with our client cert; smtp to the breaking receiver: STARTTLS offered, handshake fails (alert handshake_failure); $(grep -c '^X-E2E: pf-fallback' "$W/fb.mbox") message received in clear by the receiver; $(grep -E 'postfix/smtp\[[0-9]+\]: .*to=<e2e@fb.example.test>' "$LOG/mail.log" | sed -E 's/.*(status=[a-z]+).*/\1/' | tail -n1)"
  cap_syslog postfix client_fallback
  stop_pidfile "$W/fb.pid"

  # Our smtpd requires TLS with a verified client certificate (smtpd_tls_security_level =
  # encrypt, smtpd_tls_req_ccert = yes): clients without one, and in clear, are refused;
  # one with our client certificate gets through.
  stage "postfix matrix: client_cert_required (encrypt + smtpd_tls_req_ccert; clients without a certificate, in clear, with one)"
  stop_pidfile "$pidf"
  pf_restore
  mark_both postfix-client_cert_required
  postconf -e "smtpd_tls_security_level = encrypt" "smtpd_tls_req_ccert = yes"
  check "postfix/client_cert_required: postfix restarted (encrypt, smtpd_tls_req_ccert)" start_postfix
  pf_send pf-ccr-nocert --to e2e@pf.example.test --tls
  pf_send pf-ccr-clear --to e2e@pf.example.test
  check "postfix/client_cert_required: the client with our certificate gets through" pf_send pf-ccr-cert --to e2e@pf.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome postfix client_cert_required "swaks --tls without a client certificate: $(swaks_says "$W/swaks/pf-ccr-nocert.txt"); swaks in clear: $(swaks_says "$W/swaks/pf-ccr-clear.txt"); swaks --tls with our client certificate: $(swaks_says "$W/swaks/pf-ccr-cert.txt")"
  cap_syslog postfix client_cert_required
  stop_pidfile "$pidf"
  pf_restore
  check "postfix/client_cert_required: postfix restarted as before" start_postfix

  stage "postfix matrix: handshake_stall (a client sends STARTTLS, then nothing; smtpd_starttls_timeout = 5s)"
  stop_pidfile "$pidf"
  pf_restore
  mark_both postfix-handshake_stall
  postconf -e "smtpd_starttls_timeout = 5s"
  check "postfix/handshake_stall: postfix restarted (smtpd_starttls_timeout = 5s)" start_postfix
  local stall
  stall=$(stall_client "$PF_MX" 12)
  check "postfix/handshake_stall: the next client's mail is delivered" pf_send pf-stall-next --to e2e@pf.example.test --tls
  outcome postfix handshake_stall "a client sent STARTTLS and then nothing: $stall; the next client: $(swaks_says "$W/swaks/pf-stall-next.txt")"
  cap_syslog postfix handshake_stall
  stop_pidfile "$pidf"
  pf_restore
  check "postfix/handshake_stall: postfix restarted as before" start_postfix

  stage "postfix matrix: rejected (RCPT to an unknown user, over STARTTLS)"
  mark_both postfix-rejected
  pf_send pf-rejected --to nobody-here@pf.example.test --tls
  outcome postfix rejected "$(swaks_says "$W/swaks/pf-rejected.txt"); no message accepted"
  cap_syslog postfix rejected

  stage "postfix matrix: scanner_burst (10 openssl s_client probes)"
  mark_both postfix-scanner_burst
  local before
  before=$(grep -c -E 'postfix/smtpd\[[0-9]+\]: disconnect from' "$LOG/mail.log")
  scanner_burst "$PF_MX" postfix
  wait_log "$LOG/mail.log" 'postfix/smtpd\[[0-9]+\]: disconnect from' $((before + 10))
  outcome postfix scanner_burst "$SCANNER_RESULT"
  cap_syslog postfix scanner_burst
  stop_pidfile "$pidf"

  stage "postfix matrix: tls_required (smtp_tls_policy_maps: encrypt; the receiver offers no STARTTLS)"
  mark_both postfix-tls_required
  postconf -e "smtp_tls_policy_maps = inline:{ {[127.0.0.1]:$PF_NT = encrypt} }"
  check "postfix/tls_required: receiver without STARTTLS on 127.0.0.1:$PF_NT" start_breaking_receiver "$PF_NT" --no-starttls
  check "postfix/tls_required: postfix started" start_postfix
  pf_send pf-required --to e2e@nt.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome postfix tls_required "inbound STARTTLS; smtp to a receiver without STARTTLS, policy encrypt: $(grep -E 'postfix/smtp\[[0-9]+\]: .*to=<e2e@nt.example.test>' "$LOG/mail.log" | sed -E 's/.*(status=[a-z]+ \([^)]*\)).*/\1/' | tail -n1); $(grep -c '^X-E2E: pf-required' "$W/fb.mbox") message received by the receiver"
  cap_syslog postfix tls_required
  stop_pidfile "$pidf"
  stop_pidfile "$W/fb.pid"

  # The same receiver with working TLS and a self-signed certificate, policy verify (the
  # tls_required message, deferred, is deleted first: the restart would retry it).
  stage "postfix matrix: verify_required (smtp_tls_policy_maps: verify; the receiver's certificate is self-signed)"
  postsuper -d ALL >/dev/null 2>&1
  mark_both postfix-verify_required
  postconf -e "smtp_tls_policy_maps = inline:{ {[127.0.0.1]:$PF_NT = verify} }"
  check "postfix/verify_required: receiver with a self-signed certificate on 127.0.0.1:$PF_NT" start_selfsigned_receiver "$PF_NT"
  check "postfix/verify_required: postfix started" start_postfix
  pf_send pf-verify --to e2e@nt.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome postfix verify_required "inbound STARTTLS; smtp to a receiver with a self-signed certificate, policy verify: $(grep -E 'postfix/smtp\[[0-9]+\]: .*to=<e2e@nt.example.test>' "$LOG/mail.log" | sed -E 's/.*(status=[a-z]+ \([^)]*\)).*/\1/' | tail -n1); $(grep -c '^X-E2E: pf-verify' "$W/fb.mbox") message received by the receiver"
  cap_syslog postfix verify_required
  stop_pidfile "$pidf"
  stop_pidfile "$W/fb.pid"
  postsuper -d ALL >/dev/null 2>&1
  postconf -X smtp_tls_policy_maps

  # An MTA with no TLS at all logs nothing about it: two clients (127.0.0.1 and 127.0.0.2)
  # send three messages in clear. Ours to fix, not the peers' (analysis::host_tls).
  stage "postfix matrix: no_tls (smtpd_tls_security_level = none: STARTTLS not offered, nothing logged)"
  mark_both postfix-no_tls
  postconf -e "smtpd_tls_security_level = none"
  check "postfix/no_tls: postfix started" start_postfix
  check "postfix/no_tls: plaintext mail from 127.0.0.1" pf_send pf-no_tls-1 --to e2e@pf.example.test
  check "postfix/no_tls: plaintext mail from 127.0.0.2" pf_send pf-no_tls-2 --to e2e@pf.example.test --local-interface 127.0.0.2
  check "postfix/no_tls: plaintext mail from 127.0.0.1 again" pf_send pf-no_tls-3 --to e2e@pf.example.test
  outcome postfix no_tls "smtpd_tls_security_level = none: $(swaks_says "$W/swaks/pf-no_tls-1.txt"); $(grep -c '^X-E2E: pf-no_tls' "$W/mbox-pf/pf.mbox") messages delivered, in clear"
  cap_syslog postfix no_tls
  stop_pidfile "$pidf"
  postconf -e "smtpd_tls_security_level = may"
  say "e2e: postfix matrix took $(($(date +%s) - t0)) s"
  matrix_assert postfix
}

# ---------------------------------------------------------------------------------------
# Exim 4.96 (Debian exim4-daemon-light, GnuTLS) on Debian's split configuration with
# TLS set by its macros (MAIN_TLS_ENABLE, MAIN_TLS_CERTIFICATE, MAIN_TLS_PRIVATEKEY) and
# two files of ours: a router/transport pair relaying rx.example.test and fb.example.test
# to loopback ports (self = send, allow_localhost) and delivering e2e@ to mbox files.
# One daemon listens on $EX_MX and $EX_RX (mail received on $EX_RX for rx.example.test is
# delivered locally, the second hop of the relay). It logs to its own $W/exim/log/mainlog.

EXIM_LOG=$W/exim/log/mainlog

restore_exim_conf() {
  [ -e "$W/exim/etc-exim4.tar" ] || return 0
  rm -rf /etc/exim4 && tar -C /etc -xf "$W/exim/etc-exim4.tar" && update-exim4.conf >/dev/null 2>&1
  return 0
}

write_exim_conf() {
  mkdir -p "$W/exim/log" "$W/exim/spool" "$W/mbox-ex"
  tar -C /etc -cf "$W/exim/etc-exim4.tar" exim4 || return 1
  CLEANUP_HOOKS+=(restore_exim_conf)
  chown Debian-exim:adm "$W/exim/log"
  chown Debian-exim:Debian-exim "$W/exim/spool"
  : >"$W/mbox-ex/ex.mbox"
  : >"$W/mbox-ex/ex-rx.mbox"
  chown -R Debian-exim:Debian-exim "$W/mbox-ex"
  chmod 660 "$W/mbox-ex/ex.mbox" "$W/mbox-ex/ex-rx.mbox"
  cat >/etc/exim4/update-exim4.conf.conf <<CONF
# Written by mailtls tests/e2e/run.sh (the original is put back at exit).
dc_eximconfig_configtype='local'
dc_other_hostnames='ex.example.test : rx.example.test'
dc_local_interfaces='127.0.0.1'
dc_readhost=''
dc_relay_domains='fb.example.test : nt.example.test : vf.example.test'
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
CONF
  cat >/etc/exim4/conf.d/main/000_mailtls-e2e <<MAIN
# mailtls tests/e2e/run.sh: TLS by Debian's macros, our certificates.
MAIN_HARDCODE_PRIMARY_HOSTNAME = ex.example.test
MAIN_TLS_ENABLE = yes
MAIN_TLS_CERTIFICATE = $CERTS/mx-cert.pem
MAIN_TLS_PRIVATEKEY = $CERTS/mx-key.pem
MAIN_TLS_VERIFY_CERTIFICATES = $CERTS/cacert.pem
MAIN_TLS_TRY_VERIFY_HOSTS = *
log_file_path = $W/exim/log/%slog
SPOOLDIR = $W/exim/spool
MAIN
  cat >/etc/exim4/conf.d/router/120_mailtls-e2e <<ROUTER
# mailtls tests/e2e/run.sh: relay rx.example.test / fb.example.test to loopback ports
# (except what arrives on the RX port: that is the second hop, delivered locally), and
# deliver e2e@ to mbox files.
e2e_relay:
  driver = manualroute
  domains = rx.example.test : fb.example.test
  condition = \${if =={\$received_port}{$EX_RX}{no}{yes}}
  route_list = rx.example.test 127.0.0.1::$EX_RX ; fb.example.test 127.0.0.1::$EX_FB
  transport = e2e_smtp
  self = send
  no_more

e2e_required:
  driver = manualroute
  domains = nt.example.test
  route_list = nt.example.test 127.0.0.1::$EX_NT
  transport = e2e_smtp_required
  self = send
  no_more

e2e_verify:
  driver = manualroute
  domains = vf.example.test
  route_list = vf.example.test 127.0.0.1::$EX_NT
  transport = e2e_smtp_verify
  self = send
  no_more

e2e_local:
  driver = accept
  domains = ex.example.test : rx.example.test
  local_parts = e2e
  transport = e2e_mbox
  no_more
ROUTER
  cat >/etc/exim4/conf.d/transport/40_mailtls-e2e <<TRANSPORT
# mailtls tests/e2e/run.sh: outbound TLS with our client certificate; mbox delivery.
e2e_smtp:
  driver = smtp
  allow_localhost
  tls_certificate = $CERTS/client-cert.pem
  tls_privatekey = $CERTS/client-key.pem
  tls_verify_certificates = $CERTS/cacert.pem
  tls_try_verify_hosts = *

e2e_smtp_required:
  driver = smtp
  allow_localhost
  hosts_require_tls = *
  tls_certificate = $CERTS/client-cert.pem
  tls_privatekey = $CERTS/client-key.pem
  tls_verify_certificates = $CERTS/cacert.pem
  tls_try_verify_hosts = *

e2e_smtp_verify:
  driver = smtp
  allow_localhost
  hosts_require_tls = *
  tls_certificate = $CERTS/client-cert.pem
  tls_privatekey = $CERTS/client-key.pem
  tls_verify_certificates = $CERTS/cacert.pem
  tls_verify_hosts = *

e2e_mbox:
  driver = appendfile
  file = $W/mbox-ex/\${if eq{\$domain}{rx.example.test}{ex-rx}{ex}}.mbox
  user = Debian-exim
  group = Debian-exim
  mode = 0660
TRANSPORT
  update-exim4.conf && exim4 -bV >"$W/exim/bV.txt" 2>&1
}

# ex_keys_good: the server and client keys as Debian wants them (root:Debian-exim 0640,
# in directories Debian-exim can enter).
ex_keys_good() {
  if [ -s "$W/cacert.pem.good" ]; then cp -p "$W/cacert.pem.good" "$CERTS/cacert.pem"; fi
  if [ -s "$W/client-key.pem.good" ]; then cp -p "$W/client-key.pem.good" "$CERTS/client-key.pem"; fi
  cp -p "$W/mx-key.pem.good" "$CERTS/mx-key.pem"
  cp -p "$W/mx-cert.pem.good" "$CERTS/mx-cert.pem"
  chown root:Debian-exim "$CERTS/mx-key.pem" "$CERTS/client-key.pem"
  chmod 640 "$CERTS/mx-key.pem" "$CERTS/client-key.pem"
  chmod 755 "$W" "$CERTS"
}

start_exim() {
  PIDFILES+=("$W/exim/exim.pid")
  rm -f "$W"/exim/spool/db/retry* "$W"/exim/spool/db/wait-* "$W"/exim/spool/db/misc*
  exim4 -bd -q30m -oX "$EX_MX:$EX_RX" -oP "$W/exim/exim.pid" </dev/null >/dev/null 2>&1 &&
    wait_port "$EX_MX" && wait_port "$EX_RX" && wait_log "$W/exim/exim.pid" '^[0-9]+$'
}
stop_exim() { stop_pidfile "$W/exim/exim.pid"; }

# ex_mark: remember where the mainlog ends (a scenario's lines are the ones after it).
ex_mark() { EX_FROM=$(($(wc -l <"$EXIM_LOG" 2>/dev/null || echo 0) + 1)); }
# ex_cap SC: the mainlog lines since ex_mark into the fixtures.
ex_cap() {
  mkdir -p "$FIX/exim"
  sleep 0.5
  tail -n "+$EX_FROM" "$EXIM_LOG" >"$FIX/exim/$1.log"
  fixture_done exim "$1"
}

# ex_send SCENARIO ARGS…: swaks to Exim's MX port; waits for the message's Completed line
# (or a deferral) when one was accepted.
ex_send() {
  local sc=$1 id
  shift
  mkdir -p "$W/swaks"
  swaks --server 127.0.0.1 --port "$EX_MX" --helo client.example.test \
    --from "sender@client.example.test" --header "Subject: e2e $sc" \
    --header "X-E2E: $sc" "$@" >"$W/swaks/$sc.txt" 2>&1
  id=$(sed -n -E 's/.*250 OK id=([A-Za-z0-9-]+).*/\1/p' "$W/swaks/$sc.txt" | tail -n1)
  [ -n "$id" ] || return 1
  wait_log "$EXIM_LOG" "$id (Completed|== )" 1
}

# `mailtls check --protocols --ciphers` against Exim with Debian's default connection
# limits (smtp_accept_max = 20, counting exiting children) must list what sslscan lists
# (issue 20 point 5): a probe refused with 421 is retried, never reported as "no".
ex_ciphers_vs_sslscan() {
  local out=$W/scenarios/check-exim-ciphers.json ours theirs rc
  mkdir -p "$W/scenarios"
  # sslscan first, paced (it does not retry after a 421; mailtls must). Then
  # mailtls right after, while Exim still counts sslscan's exiting children.
  sslscan --starttls-smtp --no-colour --sleep=250 "127.0.0.1:$EX_MX" >"$W/scenarios/sslscan-exim.txt" 2>&1
  "$MAILTLS" check "127.0.0.1:$EX_MX" --protocols --ciphers --json >"$out" 2>"$out.err"
  rc=$?
  sleep 3 # let Exim's children exit before the mail scenarios
  # OpenSSL's label for TLS 1.0 is `TLSv1` (mailtls), sslscan prints `TLSv1.0`.
  ours=$(jq -r '[.results[0].ciphers[]? | "\(.version | sub("^TLSv1$"; "TLSv1.0")) \(.cipher)"] | sort | unique | join(",")' "$out")
  theirs=$(awk '($1 == "Accepted" || $1 == "Preferred") && $2 ~ /^(SSLv|TLSv)/ {print $2 " " $5}' \
    "$W/scenarios/sslscan-exim.txt" | sort -u | paste -sd, -)
  say "      check: $(jq -r '[.results[0].ciphers[]?] | length' "$out") suites, exit $rc; sslscan: $(printf '%s' "$theirs" | tr ',' '\n' | grep -c .) suites"
  expect "exim: check --protocols --ciphers lists what sslscan lists (default connection limits)" "$ours" "$theirs"
  expect "exim: check --protocols --ciphers completed (no version left untested)" \
    "$(jq -r '[.results[0].protocols[]? | select(.accepted == null)] | length' "$out")" 0
}

stage_exim() {
  stage "exim: install"
  local t0=$(date +%s)
  local pidf
  for pidf in "$W/mx/sendmail.pid" "$W/rx/sendmail.pid" "$(postconf -h queue_directory 2>/dev/null)/pid/master.pid"; do
    stop_pidfile "$pidf"
  done
  restore_postfix_conf
  check "install exim4-daemon-light (4.96, GnuTLS; removes postfix)" install exim4-daemon-light
  command -v exim4 >/dev/null 2>&1 || { fail "exim4 installed"; return; }
  say "e2e: $(exim4 -bV 2>/dev/null | head -n1)"
  check "rsyslogd running" start_rsyslog
  [ -s "$CERTS/mx-cert.pem" ] || check "certificates: CA, server, client, other CA" make_certs
  [ -s "$W/mx-key.pem.good" ] || cp -p "$CERTS/mx-key.pem" "$W/mx-key.pem.good"
  [ -s "$W/mx-cert.pem.good" ] || cp -p "$CERTS/mx-cert.pem" "$W/mx-cert.pem.good"

  stage "exim: configuration"
  EX_MX=$(free_port) && EX_RX=$(free_port) && EX_FB=$(free_port) && EX_NT=$(free_port) || { fail "free ports"; return; }
  say "e2e: ports EX_MX=$EX_MX EX_RX=$EX_RX EX_FB=$EX_FB EX_NT=$EX_NT"
  check "Debian split configuration with TLS macros and our router/transport" write_exim_conf
  ex_keys_good
  check "exim started on 127.0.0.1:$EX_MX and :$EX_RX" start_exim
  rm -f "$FIX/exim/outcomes.txt"
  if has_cmd check; then
    CHECK_PORT=$EX_MX check_run "mailtls check 127.0.0.1:$EX_MX (Exim) --ca-file cacert.pem" OK
  else
    CHECK_PORT=$EX_MX openssl_check "check 127.0.0.1:$EX_MX (Exim)" OK
  fi

  has_cmd check && command -v sslscan >/dev/null 2>&1 && ex_ciphers_vs_sslscan

  stage "exim: mail"
  ex_mark
  check "E1 plaintext (no STARTTLS)" ex_send E1 --to e2e@ex.example.test
  outcome exim plaintext "$(swaks_says "$W/swaks/E1.txt")"
  ex_cap plaintext
  ex_mark
  check "E2 STARTTLS, no client certificate" ex_send E2 --to e2e@ex.example.test --tls
  outcome exim starttls "$(swaks_says "$W/swaks/E2.txt")"
  ex_cap starttls
  ex_mark
  check "E3 STARTTLS with a client certificate from our CA" ex_send E3 --to e2e@ex.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome exim client_cert "$(swaks_says "$W/swaks/E3.txt")"
  ex_cap client_cert
  ex_mark
  check "E4 STARTTLS to e2e@rx.example.test (relayed over TLS to the RX port)" ex_send E4 --to e2e@rx.example.test --tls \
    --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  check "E4 delivered by the second hop" wait_log "$W/mbox-ex/ex-rx.mbox" '^X-E2E: E4$' 1
  wait_log "$EXIM_LOG" 'Completed' 4
  outcome exim relay "$(swaks_says "$W/swaks/E4.txt"); relayed with TLS to 127.0.0.1:$EX_RX"
  ex_cap relay
  expect_grep "E2: Exim logged the TLS reception (X=TLS1.3)" "$FIX/exim/starttls.log" '<= .* X=TLS1\.[23]:'
  expect_grep "E4: Exim logged the TLS delivery" "$FIX/exim/relay.log" '=> .* X=TLS1\.[23]:'
  say "e2e: exim stage took $(($(date +%s) - t0)) s"
}

# ex_break SC WHAT CMD…: Exim restarted with its server files broken by CMD; swaks tries
# STARTTLS, then sends in plaintext; the lines are captured and the files repaired.
ex_break() {
  local sc=$1 what=$2
  shift 2
  stage "exim matrix: $sc ($what)"
  stop_exim
  ex_keys_good
  ex_mark
  "$@"
  check "exim/$sc: exim restarted with $what" start_exim
  ex_send "ex-$sc-tls" --to e2e@ex.example.test --tls
  check "exim/$sc: plaintext mail delivered" ex_send "ex-$sc" --to e2e@ex.example.test
  outcome exim "$sc" "swaks --tls: $(swaks_says "$W/swaks/ex-$sc-tls.txt"); swaks plaintext: $(swaks_says "$W/swaks/ex-$sc.txt")"
  ex_cap "$sc"
  stop_exim
  ex_keys_good
}

stage_exim_matrix() {
  [ -n "${EX_MX:-}" ] || { fail "exim matrix: the exim stage ran"; return; }
  local key=$CERTS/mx-key.pem cert=$CERTS/mx-cert.pem t0=$(date +%s)
  [ -s "$W/cacert.pem.good" ] || cp -p "$CERTS/cacert.pem" "$W/cacert.pem.good"
  [ -s "$W/client-key.pem.good" ] || cp -p "$CERTS/client-key.pem" "$W/client-key.pem.good"
  ex_break key_encrypted_pkcs8 "an encrypted key (PKCS#8, openssl pkey -aes256)" \
    sh -c "openssl pkey -in '$W/mx-key.pem.good' -aes256 -passout pass:e2e-secret -out '$key' && chown root:Debian-exim '$key' && chmod 640 '$key'"
  ex_break key_encrypted_traditional "an encrypted key (traditional, openssl rsa -aes256 -traditional)" \
    sh -c "openssl rsa -in '$W/mx-key.pem.good' -aes256 -traditional -passout pass:e2e-secret -out '$key' && chown root:Debian-exim '$key' && chmod 640 '$key'"
  ex_break cert_missing "the server certificate deleted" rm -f "$cert"
  ex_break key_missing "the server key deleted" rm -f "$key"
  ex_break key_mismatch "the client's key as the server key" \
    sh -c "cp '$CERTS/client-key.pem' '$key' && chown root:Debian-exim '$key' && chmod 640 '$key'"
  ex_break key_world_readable "the key mode 0644" chmod 644 "$key"
  ex_break key_unreadable "the key root:root 0600 (Debian-exim cannot read it)" \
    sh -c "chown root:root '$key' && chmod 600 '$key'"
  ex_break ca_missing "the CA file (MAIN_TLS_VERIFY_CERTIFICATES, used to verify clients) deleted" rm -f "$CERTS/cacert.pem"
  local main=/etc/exim4/conf.d/main/000_mailtls-e2e
  cp -p "$main" "$W/exim/000_mailtls-e2e.good"
  ex_break dh_missing "tls_dhparam naming a file that does not exist" \
    sh -c "printf 'tls_dhparam = %s\\n' '$W/nonexistent-dh.pem' >>'$main' && update-exim4.conf"
  cp -p "$W/exim/000_mailtls-e2e.good" "$main"
  ex_break client_cert_required "tls_verify_hosts = 127.0.0.1 (a verified client certificate required)" \
    sh -c "printf 'MAIN_TLS_VERIFY_HOSTS = 127.0.0.1\\n' >>'$main' && update-exim4.conf"
  cp -p "$W/exim/000_mailtls-e2e.good" "$main"
  stage "exim matrix: handshake_stall (a client sends STARTTLS, then nothing; smtp_receive_timeout = 5s)"
  stop_exim
  ex_keys_good
  ex_mark
  printf 'smtp_receive_timeout = 5s\n' >>"$main" && update-exim4.conf
  check "exim/handshake_stall: exim restarted (smtp_receive_timeout = 5s)" start_exim
  local stall
  stall=$(stall_client "$EX_MX" 12)
  check "exim/handshake_stall: the next client's mail is delivered" ex_send ex-stall-next --to e2e@ex.example.test --tls
  outcome exim handshake_stall "a client sent STARTTLS and then nothing: $stall; the next client: $(swaks_says "$W/swaks/ex-stall-next.txt")"
  ex_cap handshake_stall
  stop_exim
  ex_keys_good
  # No cipher_bad for Exim: Debian's Exim is built with GnuTLS, and a tls_require_ciphers
  # GnuTLS cannot parse stops the daemon from starting (paniclog: `Exim configuration
  # error:` and, on a line of its own, `tls_require_ciphers invalid: gnutls_priority_init
  # (…) failed`), a failure outside the mail log mailtls reads.
  cp -p "$W/exim/000_mailtls-e2e.good" "$main"
  update-exim4.conf >/dev/null 2>&1

  # Our client's key gone (the e2e_smtp transport's tls_privatekey): the relay to the RX
  # port is what may change.
  stage "exim matrix: client_key_missing (the transport's tls_privatekey deleted; a message relayed to RX)"
  stop_exim
  ex_keys_good
  ex_mark
  rm -f "$CERTS/client-key.pem"
  check "exim/client_key_missing: exim restarted without its client key" start_exim
  ex_send ex-client_key_missing --to e2e@rx.example.test --tls
  wait_log "$W/mbox-ex/ex-rx.mbox" '^X-E2E: ex-client_key_missing$' 1
  outcome exim client_key_missing "relay to the RX port without our client key: $(grep -E ' (=>|==) e2e@rx.example.test ' "$EXIM_LOG" | tail -n1 | sed -E 's/.*(=>|==) /\1 /' | cut -c1-120); $(grep -c '^X-E2E: ex-client_key_missing' "$W/mbox-ex/ex-rx.mbox") message delivered by the second hop"
  ex_cap client_key_missing
  stop_exim
  ex_keys_good

  stage "exim matrix: client_fallback (outbound handshake fails, Exim falls back to clear)"
  stop_exim
  ex_keys_good
  check "exim/client_fallback: TLS-breaking receiver on 127.0.0.1:$EX_FB" start_breaking_receiver "$EX_FB"
  check "exim/client_fallback: exim started" start_exim
  ex_mark
  ex_send ex-fallback --to e2e@fb.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  wait_log "$W/fb.mbox" '^X-E2E: ex-fallback' 1
  outcome exim client_fallback "inbound STARTTLS with our client cert; e2e_smtp to the breaking receiver: STARTTLS offered, handshake fails (alert handshake_failure); $(grep -c '^X-E2E: ex-fallback' "$W/fb.mbox") message received in clear by the receiver"
  ex_cap client_fallback
  stop_pidfile "$W/fb.pid"

  # Debian's ACL accepts any RCPT from relay_from_hosts (127.0.0.1 always is one) and
  # bounces later; its "restricted characters" rule comes first and rejects at RCPT time.
  stage "exim matrix: rejected (RCPT refused by Debian's ACL, over STARTTLS)"
  ex_mark
  ex_send ex-rejected --to 'no|body@ex.example.test' --tls
  wait_log "$EXIM_LOG" 'rejected RCPT <no\|body@' 1
  outcome exim rejected "$(swaks_says "$W/swaks/ex-rejected.txt"); no message accepted"
  ex_cap rejected

  stage "exim matrix: scanner_burst (10 openssl s_client probes)"
  ex_mark
  scanner_burst "$EX_MX" exim
  # Completed handshakes without mail leave no line; the refused ones one each.
  for _ in $(seq 50); do
    [ "$(tail -n "+$EX_FROM" "$EXIM_LOG" | grep -c 'TLS error on connection')" -ge 3 ] && break
    sleep 0.1
  done
  outcome exim scanner_burst "$SCANNER_RESULT"
  ex_cap scanner_burst

  stage "exim matrix: tls_required (hosts_require_tls; the receiver offers no STARTTLS)"
  check "exim/tls_required: receiver without STARTTLS on 127.0.0.1:$EX_NT" start_breaking_receiver "$EX_NT" --no-starttls
  ex_mark
  ex_send ex-required --to e2e@nt.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome exim tls_required "inbound STARTTLS; e2e_smtp_required (hosts_require_tls = *) to a receiver without STARTTLS: $(grep -E ' == e2e@nt.example.test ' "$EXIM_LOG" | sed -E 's/.* (defer .*)/\1/' | cut -c1-100 | tail -n1); $(grep -c '^X-E2E: ex-required' "$W/fb.mbox") message received by the receiver"
  ex_cap tls_required
  stop_pidfile "$W/fb.pid"

  stage "exim matrix: verify_required (tls_verify_hosts; the receiver's certificate is self-signed)"
  # Restarted: start_exim clears the retry database, which holds tls_required's deferral
  # for the same host and port ("retry time not reached" and no attempt otherwise); its
  # message is dropped from the queue (the restart's queue run would deliver it over TLS).
  stop_exim
  exim4 -bp | awk '$3 ~ /^[0-9A-Za-z]+-[0-9A-Za-z]+-[0-9A-Za-z]+$/ {print $3}' | xargs -r exim4 -Mrm >/dev/null
  check "exim/verify_required: receiver with a self-signed certificate on 127.0.0.1:$EX_NT" start_selfsigned_receiver "$EX_NT"
  check "exim/verify_required: exim started" start_exim
  ex_mark
  ex_send ex-verify --to e2e@vf.example.test --tls --tls-cert "$CERTS/client-cert.pem" --tls-key "$CERTS/client-key.pem"
  outcome exim verify_required "inbound STARTTLS; e2e_smtp_verify (hosts_require_tls = *, tls_verify_hosts = *) to a receiver with a self-signed certificate: $(grep -E ' == e2e@vf.example.test ' "$EXIM_LOG" | sed -E 's/.* (defer .*)/\1/' | cut -c1-120 | tail -n1); $(grep -c '^X-E2E: ex-verify' "$W/fb.mbox") message received by the receiver"
  ex_cap verify_required
  stop_pidfile "$W/fb.pid"
  stop_exim

  # As Postfix's no_tls: Exim advertising no STARTTLS logs nothing about it; two clients
  # send three messages in clear. Unsetting MAIN_TLS_ENABLE is not enough: Exim 4.96's own
  # default is tls_advertise_hosts = * with a self-signed certificate made at run time
  # (a first run of this scenario found STARTTLS still offered), so it is emptied too.
  stage "exim matrix: no_tls (no MAIN_TLS_*, tls_advertise_hosts empty: STARTTLS not offered, nothing logged)"
  cp -p "$main" "$W/exim/000_mailtls-e2e.tls"
  sed -i '/^MAIN_TLS_/d' "$main"
  printf 'tls_advertise_hosts =\n' >>"$main"
  check "exim/no_tls: the configuration without TLS" sh -c 'update-exim4.conf && exim4 -bV >/dev/null'
  check "exim/no_tls: exim started" start_exim
  ex_mark
  check "exim/no_tls: plaintext mail from 127.0.0.1" ex_send ex-no_tls-1 --to e2e@ex.example.test
  check "exim/no_tls: plaintext mail from 127.0.0.2" ex_send ex-no_tls-2 --to e2e@ex.example.test --local-interface 127.0.0.2
  check "exim/no_tls: plaintext mail from 127.0.0.1 again" ex_send ex-no_tls-3 --to e2e@ex.example.test
  outcome exim no_tls "no MAIN_TLS_*, tls_advertise_hosts empty: $(swaks_says "$W/swaks/ex-no_tls-1.txt"); $(tail -n "+$EX_FROM" "$EXIM_LOG" | grep -c ' <= .* P=esmtp ') messages received in clear"
  ex_cap no_tls
  stop_exim
  cp -p "$W/exim/000_mailtls-e2e.tls" "$main"
  update-exim4.conf >/dev/null 2>&1
  say "e2e: exim matrix took $(($(date +%s) - t0)) s"
  matrix_assert exim
}

# ---------------------------------------------------------------------------------------
# Exim set up by mailtls (issue 25): `config certs` (key root:Debian-exim 0640) → `config
# exim --apply` on Debian's real split configuration (the e2e's own MAIN_TLS_* lines
# removed first: Exim refuses a macro defined twice) → update-exim4.conf → `doctor` clean
# → `check` verify=OK; then each break (encrypted key, key unreadable by Debian-exim, the
# wrong key) → `doctor` names it with Exim's line, `check` sees 454 (TEMP), and `scan` of
# the lines Exim logged meanwhile reports one private_key incident.

# exs_doctor OUT: mailtls doctor on Debian's /etc/exim4; prints its exit code.
exs_doctor() { doctor_json "$1" --exim-config /etc/exim4; }

# exs_break SC WHAT CHECK CMD…: Exim restarted with the key broken by CMD; doctor finds
# CHECK on the key with Exim's line, check sees 454, scan one private_key incident.
exs_break() {
  local sc=$1 what=$2 want=$3 key=$CERTS/ex-key.pem out rc lines
  shift 3
  stage "exim setup: $sc ($what)"
  stop_exim
  cp -p "$W/exim-setup/ex-key.pem.good" "$key"
  "$@"
  check "exim_setup/$sc: exim restarted with $what" start_exim
  out=$W/scenarios/exs-$sc-doctor.json
  rc=$(exs_doctor "$out")
  findings "$out"
  jq -r '.findings[] | select(.log_line) | "      doctor log: \(.log_line)"' "$out" | head -n1
  expect "exim_setup/$sc: mailtls doctor exits 1" "$rc" 1
  expect "exim_setup/$sc: mailtls doctor names $what ($want on the key)" \
    "$(jq -r --arg c "$want" --arg f "$key" '[.findings[] | select(.severity == "error" and .check == $c and (.file // "") == $f)] | length' "$out")" 1
  ex_mark
  CHECK_PORT=$EX_MX check_run "exim_setup/$sc: mailtls check (Exim)" TEMP
  wait_log "$EXIM_LOG" 'TLS error on connection' 1
  sleep 0.3
  lines=$W/scenarios/exs-$sc.log
  tail -n "+$EX_FROM" "$EXIM_LOG" >"$lines"
  sed 's/^/      log: /' "$lines"
  expect "exim_setup/$sc: Exim logged the reason doctor quoted" \
    "$(grep -c -F -- "$(jq -r --arg c "$want" '[.findings[] | select(.check == $c) | .log_line // empty][0] // "none" | sub("^TLS error on connection from … "; "")' "$out")" "$lines")" \
    "$(grep -c 'TLS error on connection' "$lines")"
  "$MAILTLS" scan --format json --loopback "$lines" >"$W/scenarios/exs-$sc.json" 2>/dev/null
  expect "exim_setup/$sc: mailtls scan, our own incidents (one private_key)" \
    "$(jq -r '[.local_errors // {} | to_entries[] | .value | to_entries[] | {k: .key, n: .value.count}] | group_by(.k) | map("\(.[0].k)=\(map(.n) | add)") | join(",")' "$W/scenarios/exs-$sc.json")" \
    "private_key=1"
  stop_exim
  cp -p "$W/exim-setup/ex-key.pem.good" "$key"
}

stage_exim_setup() {
  [ -n "${EX_MX:-}" ] || { fail "exim setup: the exim stage ran"; return; }
  local t0=$(date +%s) CERTS=$W/exim-setup/certs out rc conf=/etc/exim4/conf.d/main/000_localmacros
  stage "exim setup: mailtls config certs + config exim --apply (Debian's split configuration)"
  stop_exim
  rm -rf "$W/exim-setup" && mkdir -p "$W/exim-setup" && chmod 755 "$W" "$W/exim-setup"
  check "mailtls config certs (key root:Debian-exim 0640)" "$MAILTLS" config certs --dir "$CERTS" \
    --ca-dir "$W/exim-setup/ca" --name ex --san ex.example.test --san 127.0.0.1 --client client \
    --msp --msp-group Debian-exim
  cp -p "$CERTS/ex-key.pem" "$W/exim-setup/ex-key.pem.good"
  sed -i '/^MAIN_TLS_/d' /etc/exim4/conf.d/main/000_mailtls-e2e
  check "mailtls config exim --apply $conf" "$MAILTLS" config exim --dir "$CERTS" --name ex --apply "$conf"
  sed 's/^/      000_localmacros: /' "$conf"
  expect "config exim: library detected from exim -bV (GnuTLS priority string)" \
    "$(grep -c '^tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2$' "$conf")" 1
  expect "config exim --apply again: unchanged" \
    "$("$MAILTLS" config exim --dir "$CERTS" --name ex --apply "$conf" 2>/dev/null | grep -c unchanged)" 1
  check "update-exim4.conf and exim4 -bV accept it" sh -c 'update-exim4.conf && exim4 -bV >/dev/null'
  expect "exim4 -bP tls_certificate" "$(exim4 -bP tls_certificate 2>/dev/null)" "tls_certificate = $CERTS/ex-cert.pem"
  out=$W/scenarios/exs-clean-doctor.json
  mkdir -p "$W/scenarios"
  rc=$(exs_doctor "$out")
  findings "$out"
  expect "mailtls doctor --exim-config /etc/exim4: clean (exit 0, no warning)" \
    "$rc/$(jq '[.findings[] | select(.severity != "info")] | length' "$out")" 0/0
  check "exim started with mailtls's configuration" start_exim
  CHECK_PORT=$EX_MX check_run "exim_setup: mailtls check 127.0.0.1:$EX_MX (Exim, configured by mailtls)" OK
  stop_exim

  exs_break key_encrypted "an encrypted key" key-encrypted \
    sh -c "openssl pkey -in '$W/exim-setup/ex-key.pem.good' -aes256 -passout pass:e2e-secret -out '$CERTS/ex-key.pem' && chown root:Debian-exim '$CERTS/ex-key.pem' && chmod 640 '$CERTS/ex-key.pem'"
  exs_break key_unreadable "the key root:root 0600 (Debian-exim cannot read it)" file-unreadable \
    sh -c "chown root:root '$CERTS/ex-key.pem' && chmod 600 '$CERTS/ex-key.pem'"
  exs_break key_mismatch "the client's key as the server key" key-mismatch \
    sh -c "cp '$CERTS/client-key.pem' '$CERTS/ex-key.pem' && chown root:Debian-exim '$CERTS/ex-key.pem' && chmod 640 '$CERTS/ex-key.pem'"
  say "e2e: exim setup took $(($(date +%s) - t0)) s"
}

# ---------------------------------------------------------------------------------------
# The conclusions: tests/fixtures/real/expected.tsv (the table of tests/e2e/README.md, also
# read by tests/it/real_fixtures.rs) against what mailtls concludes on the lines just captured.

MATRIX_TSV=$ROOT/tests/fixtures/real/expected.tsv

# stamp_of FILE TEXT: the time (HH:MM:SS) of the first line of FILE containing TEXT.
stamp_of() { grep -F -m1 -- "$2" "$1" | grep -o -E '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -n1; }

# window_spec FILE SPEC: the expected windows of the table ("in@TEXT..end ; out@TEXT..TEXT")
# with each TEXT replaced by the stamp of the first line of FILE containing it.
window_spec() {
  local f=$1 spec=$2 w dir rest a b ta tb out=()
  if [ "$spec" = - ]; then echo -; return; fi
  local ws
  IFS=';' read -r -a ws <<<"${spec// ; /;}"
  for w in "${ws[@]}"; do
    dir=${w%%@*} rest=${w#*@}
    a=${rest%%..*} b=${rest#*..}
    ta=$(stamp_of "$f" "$a")
    if [ "$b" = end ]; then tb=end; else tb=$(stamp_of "$f" "$b"); fi
    out+=("$dir@${ta:-?}-${tb:-?}")
  done
  (IFS=';'; echo "${out[*]}")
}

# concl FILE KEY: one field of conclusions.sh's output for FILE.
concl() { awk -F'\t' -v f="== $1" -v k="$2" '$0 == f { on = 1; next } /^== / { on = 0 } on && $1 == k { print $2 }' "$CONCL"; }

# advice_check NAME ADVICE HAS NOT: every ";" item of HAS (a|b: either) is in ADVICE, no
# ";" item of NOT is (case-insensitive).
advice_check() {
  local name=$1 advice=$2 has=$3 not=$4 item alt ok missing=() found=()
  local items
  if [ "$has" != - ]; then
    IFS=';' read -r -a items <<<"$has"
    for item in "${items[@]}"; do
      ok=false
      IFS='|' read -r -a alts <<<"$item"
      for alt in "${alts[@]}"; do grep -q -i -F -- "$alt" <<<"$advice" && ok=true; done
      [ "$ok" = true ] || missing+=("$item")
    done
  fi
  if [ "$not" != - ]; then
    IFS=';' read -r -a items <<<"$not"
    for item in "${items[@]}"; do
      [ -n "$item" ] && grep -q -i -F -- "$item" <<<"$advice" && found+=("$item")
    done
  fi
  if [ ${#missing[@]} -eq 0 ] && [ ${#found[@]} -eq 0 ]; then
    pass "$name: advice in the MTA's own terms (has: $has)"
  else
    fail "$name: advice in the MTA's own terms" "missing: ${missing[*]:-none}; other MTAs' or wrong words: ${found[*]:-none}" "advice: $advice"
  fi
}

# loopname: the table calls the host name 127.0.0.1 resolves to (the fixtures were made
# on a host "vm", see ensure_fqdn) vm.example.test; on another machine it is that
# machine's name.
loopname() {
  local n
  n=$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')
  if [ -n "$n" ] && [ "$n" != vm.example.test ]; then
    sed -E "s/(^|,)${n//./\\.}=/\1vm.example.test=/g"
  else
    cat
  fi
}

# matrix_assert MTA: for every row of MTA in the table, mailtls's conclusions on the
# captured lines (both syslog formats) are exactly the expected ones.
matrix_assert() {
  local mta=$1 f files=() forbid
  stage "$mta matrix: mailtls's conclusions (tests/fixtures/real/expected.tsv)"
  for f in "$FIX/$mta"/*.log; do [ -e "$f" ] && files+=("$f"); done
  CONCL=$FIX/$mta/conclusions.txt
  bash "$ROOT/tests/e2e/conclusions.sh" "$MAILTLS" "${files[@]}" >"$CONCL" 2>"$CONCL.err"
  forbid=$(awk -F'\t' -v m="$mta" '$1 == "#forbid" && $2 == m { print $3 }' "$MATRIX_TSV")
  local m sc local in out perr win grades alerts has not want got v
  while IFS=$'\t' read -r m sc local in out perr win grades alerts has not; do
    for f in "$FIX/$mta/$sc.log" "$FIX/$mta/$sc.trad.log"; do
      [ -e "$f" ] || { [ "$f" = "$FIX/$mta/$sc.log" ] && fail "$mta/$sc: captured"; continue; }
      v=$(basename "$f")
      want="local=$local in=$in out=$out perr=$perr windows=$(window_spec "$f" "$win") grades=$grades alerts=$alerts"
      got="local=$(concl "$f" local) in=$(concl "$f" in) out=$(concl "$f" out) perr=$(concl "$f" perr) windows=$(concl "$f" windows) grades=$(concl "$f" grades | loopname) alerts=$(concl "$f" alerts)"
      expect "$mta/$v: conclusions" "$got" "$want"
      advice_check "$mta/$v" "$(concl "$f" advice)" "$has" "$([ "$not" = - ] && echo "$forbid" || echo "$forbid;$not")"
    done
  done < <(grep -v '^#' "$MATRIX_TSV" | awk -F'\t' -v m="$mta" '$1 == m')
}

# ---------------------------------------------------------------------------------------
STAGE_TIMES=()
for s in $E2E_STAGES; do
  t=$(date +%s)
  "stage_$s"
  STAGE_TIMES+=("$s=$(($(date +%s) - t))s")
done
stage "summary"
say "e2e: seconds per stage: ${STAGE_TIMES[*]}"
say "e2e: $PASSED passed, $FAILED failed, $(($(date +%s) - START_TIME)) s"
for n in "${FAILED_NAMES[@]}"; do say "      failed: $n"; done
if [ ${#NOT_RUN[@]} -gt 0 ]; then
  say "e2e: ${#NOT_RUN[@]} step(s) NOT RUN because their mailtls command has not landed:"
  for n in "${NOT_RUN[@]}"; do say "      not run: $n"; done
fi
[ "$FAILED" -eq 0 ]

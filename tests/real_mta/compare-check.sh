#!/usr/bin/env bash
# Compare `mailtls check --protocols --ciphers` with sslscan, testssl.sh and swaks on a
# real MTA listening on loopback (issue 5's acceptance). Not run by `cargo test`: it
# needs a running Postfix/Sendmail with STARTTLS and the Debian packages sslscan,
# testssl.sh and swaks.
#
#   tests/real_mta/compare-check.sh [HOST:PORT] [SERVERNAME]
#
# Prints the mailtls transcript, the accepted suites per protocol from both tools and
# their diff (empty = equal), and the wall times of mailtls, sslscan and the full
# testssl.sh run. Exit 1 when the suite lists differ.
set -euo pipefail
target=${1:-127.0.0.1:25}
servername=${2:-$(hostname -f 2>/dev/null || hostname)}
mailtls=${MAILTLS:-target/release/mailtls}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

echo "== mailtls check $target (transcript)"
"$mailtls" check --servername "$servername" --allow-unverified "$target" || true

echo "== mailtls check --protocols --ciphers"
t0=$(now)
"$mailtls" check --protocols --ciphers --json --servername "$servername" "$target" >"$out/mailtls.json" || true
t_mailtls=$(elapsed "$t0" "$(now)")
python3 - "$out/mailtls.json" >"$out/mailtls.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
for c in r.get("ciphers") or []:
    print(c["version"], c["cipher"])
PY
sort -o "$out/mailtls.txt" "$out/mailtls.txt"

echo "== sslscan --starttls-smtp"
t0=$(now)
sslscan --starttls-smtp --no-colour "$target" >"$out/sslscan.raw" 2>&1 || true
t_sslscan=$(elapsed "$t0" "$(now)")
awk '/^(Preferred|Accepted)/ { v = $2; sub("TLSv1.0", "TLSv1", v); print v, $5 }' \
    "$out/sslscan.raw" | sort >"$out/sslscan.txt"

echo "== testssl.sh --starttls smtp (full run)"
t0=$(now)
testssl --starttls smtp --color 0 --warnings off "$target" >"$out/testssl.raw" 2>&1 || true
t_testssl=$(elapsed "$t0" "$(now)")
grep -E '^ (SSLv|TLS 1)' "$out/testssl.raw" || true

echo "== swaks --tls"
swaks --server "${target%:*}" --port "${target##*:}" --tls --quit-after TLS 2>&1 \
    | grep -E 'STARTTLS|TLS started|Cipher|<~ 2|<~ 4' || true

echo "== accepted suites: mailtls ($(wc -l <"$out/mailtls.txt")) vs sslscan ($(wc -l <"$out/sslscan.txt"))"
status=0
if diff "$out/sslscan.txt" "$out/mailtls.txt"; then echo "identical"; else status=1; fi
echo "== wall time: mailtls ${t_mailtls}s, sslscan ${t_sslscan}s, testssl.sh ${t_testssl}s"
echo "   testssl.sh / mailtls = $(echo "scale=1; $t_testssl / $t_mailtls" | bc)x"
exit $status

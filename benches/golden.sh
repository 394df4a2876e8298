#!/usr/bin/env bash
# benches/golden.sh: every output a speed change must keep byte for byte (issue 21).
#
#   benches/golden.sh BIN OUTDIR     write BIN's outputs into OUTDIR
#   diff -r OUTDIR_BEFORE OUTDIR_AFTER   must print nothing
#
# Build the binary of the commit before the change, run this with it, change, build, run
# again with the new binary, diff. Outputs: `scan` of sample-logs/ as JSON, CSV, Markdown and
# the `-o` folder (sha256 of each file), `events` NDJSON of the logs and of the stored
# messages, `peer` (text and JSON), `message`, and `scan` + `events` (sha256) of three
# generated inputs: a 256 MiB mixed log (seed 11), a 256 MiB Postfix-only log (seed 7) and
# a 64 MiB mbox (seed 7). The generated inputs go to WORK (default
# ${TMPDIR:-/tmp}/mailtls-golden, ~600 MB, reused when present); stamps are fixed
# (--year 2026 --utc --as-of 2026-11-28 --generated-at fixed) so two runs of one binary agree.
set -u
[ $# -eq 2 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/mailtls-golden}
mkdir -p "$WORK"
cd "$ROOT"
GEN="$ROOT/target/release/examples/gen"
# The generator is built only when an input is missing: after a source change it would
# rebuild the library (minutes on a loaded machine) to make nothing.
if [ ! -s "$WORK/mixed-256m.log" ] || [ ! -s "$WORK/pf.log" ] || [ ! -s "$WORK/m64.mbox" ]; then
    cargo build --release --quiet --example gen || exit 1
fi
[ -s "$WORK/mixed-256m.log" ] || "$GEN" --seed 11 --size 256M --mix 45,40,15 --log "$WORK/mixed-256m.log" >/dev/null
[ -s "$WORK/pf.log" ] || "$GEN" --seed 7 --size 256M --mix 0,100,0 --log "$WORK/pf.log" >/dev/null
[ -s "$WORK/m64.mbox" ] || "$GEN" --seed 7 --size 64M --mix 45,40,15 --mbox "$WORK/m64.mbox" >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
J="--year 2026 --utc --as-of 2026-11-28"
"$BIN" scan sample-logs/ $J --format json >"$OUT/sample.json" 2>"$OUT/sample.err"; echo "rc=$?" >>"$OUT/sample.err"
"$BIN" scan sample-logs/ $J --generated-at fixed -o "$OUT/sample-report" >/dev/null 2>"$OUT/sample-report.err"; echo "rc=$?" >>"$OUT/sample-report.err"
"$BIN" scan sample-logs/ $J --format csv >"$OUT/sample.csv" 2>/dev/null
"$BIN" scan sample-logs/ $J --format md --generated-at fixed >"$OUT/sample.md" 2>/dev/null
"$BIN" events sample-logs/ --year 2026 --utc >"$OUT/sample-events.ndjson" 2>"$OUT/sample-events.err"
"$BIN" events sample-logs/ --year 2026 --utc --timeline --color never >"$OUT/sample-timeline.txt" 2>/dev/null
"$BIN" events sample-logs/messages --year 2026 --utc >"$OUT/messages-events.ndjson" 2>/dev/null
"$BIN" scan sample-logs/messages $J --format json >"$OUT/messages.json" 2>/dev/null
for f in mixed-256m pf; do
    "$BIN" scan "$WORK/$f.log" $J --format json --logs-only -q >"$OUT/$f.json" 2>"$OUT/$f.err"; echo "rc=$?" >>"$OUT/$f.err"
    "$BIN" events "$WORK/$f.log" --year 2026 --utc | sha256sum >"$OUT/$f-events.sha256"
done
"$BIN" scan "$WORK/m64.mbox" $J --format json --messages-only -q >"$OUT/m64.json" 2>/dev/null
"$BIN" events "$WORK/m64.mbox" --year 2026 --utc | sha256sum >"$OUT/m64-events.sha256"
"$BIN" peer mail-ed1-f52.google.com sample-logs/ --year 2026 --utc >"$OUT/peer-sample.txt" 2>&1
"$BIN" peer outlook.com sample-logs/ --year 2026 --utc --json >"$OUT/peer-sample.json" 2>&1
"$BIN" message 6AR1CheR011422 sample-logs/ --year 2026 --utc >"$OUT/message-sample.txt" 2>&1
peer=$(sed -n 's/.*relay=\([a-z0-9.-]*\) \[.*/\1/p' "$WORK/mixed-256m.log" | head -2000 | tail -1)
"$BIN" peer "$peer" "$WORK/mixed-256m.log" --year 2026 --utc --json >"$OUT/peer-256m.json" 2>&1
# The report folder by its files' hashes; the paths in the messages are the only difference
# between two output folders.
find "$OUT/sample-report" -type f | sort | while read -r f; do sha256sum "$f" | sed "s|$OUT/||"; done >"$OUT/report.sha256"
sed -i "s|$OUT|OUT|g; s|$WORK|WORK|g" "$OUT"/*.err
echo "golden outputs in $OUT" >&2

#!/usr/bin/env bash
# benches/triage.sh: a triage question on a big log costs about one search of it.
#
# `mailtls peer X`, `mailtls message QID` and `mailtls events --peer X` (the full pipeline
# with a record filter, i.e. no prefilter) against `grep -F X` on a generated log
# (benches/gen.rs, seed 7, default mix), medians of wall time over RUNS runs with a warm
# page cache. Two peers: the busiest (head of the Zipf distribution) and one of rank ~50.
#
# Environment (all optional):
#   SIZE=1G        size of the generated log (generator syntax: 256M, 1G, …)
#   RUNS=5         runs per command (the median is reported)
#   WORK=/tmp/mailtls-triage-bench   where the log and results go (reused when present)
#   NICE=15        niceness of the runs (the machine may be shared)
set -euo pipefail

SIZE=${SIZE:-1G}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/mailtls-triage-bench}
NICE=${NICE:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"
cd "$ROOT"
log() { printf '%s\n' "$*" >&2; }

log "building (release)"
cargo build --release --quiet --bin mailtls
BIN="$ROOT/target/release/mailtls"
LOG="$WORK/mixed-$SIZE.log"
if [ ! -s "$LOG" ] || [ ! -s "$LOG.gen.json" ]; then
    log "generating $LOG"
    cargo build --release --quiet --example gen
    nice -n "$NICE" "$ROOT/target/release/examples/gen" --log "$LOG" --size "$SIZE" >"$LOG.gen.json"
fi

# The busiest peer and one of rank ~50, by the generator's own counts.
read -r TOP MID < <(python3 - "$LOG.gen.json" <<'EOF'
import json, sys
peers = json.load(open(sys.argv[1]))["log"]["peers"]
def total(p):
    return sum(sum(d.values()) for d in p.values() if isinstance(d, dict))
ranked = sorted(peers, key=lambda k: -total(peers[k]))
print(ranked[0], ranked[min(50, len(ranked) - 1)])
EOF
)
# A queue id of a message from or to the mid peer (the field before ": from=" / ": to=").
QID=$( (grep -F "$MID" "$LOG" || true) | (grep -m1 -E '\]: [A-Za-z0-9-]+: (from|to)=' || true) |
    sed -E 's/.*\]: ([A-Za-z0-9-]+): (from|to)=.*/\1/')
log "peers: top=$TOP mid=$MID; message: $QID"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
RESULTS="$WORK/results.txt"
: >"$RESULTS"
cat "$LOG" >/dev/null # page cache
BYTES=$(stat -L -c %s "$LOG")

# measure NAME COMMAND...: RUNS runs; prints and records the median wall time.
measure() {
    local name=$1; shift
    local walls=() i t0 t1 rc
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s.%N)
        rc=0
        nice -n "$NICE" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
        t1=$(date +%s.%N)
        # grep -c exits 1 on no match, mailtls peer exits 1 on an unknown peer: both wrong here.
        [ "$rc" -eq 0 ] || { log "$name failed ($rc):"; cat "$WORK/err.txt" >&2; return 1; }
        walls+=("$(echo "$t1 - $t0" | bc -l)")
    done
    local wall
    wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '%-44s %8.2f s  %8.1f MiB/s   (runs: %s)\n' "$name" "$wall" \
        "$(echo "$BYTES / 1048576 / $wall" | bc -l)" "${walls[*]}" | tee -a "$RESULTS" >&2
}

log "measuring on $(numfmt --to=iec "$BYTES") ($(wc -l <"$LOG") lines), medians of $RUNS (load: $(cut -d' ' -f1-3 /proc/loadavg))"
measure "grep -cF $TOP" grep -cF "$TOP" "$LOG"
measure "mailtls peer $TOP" "$BIN" peer "$TOP" "$LOG" --json -q
measure "grep -cF $MID" grep -cF "$MID" "$LOG"
measure "mailtls peer $MID" "$BIN" peer "$MID" "$LOG" --json -q
measure "grep -cF $QID" grep -cF "$QID" "$LOG"
measure "mailtls message $QID" "$BIN" message "$QID" "$LOG" --json -q
RUNS=1 measure "mailtls peer $MID --no-prefilter" "$BIN" peer "$MID" "$LOG" --json -q --no-prefilter
RUNS=1 measure "mailtls scan (whole log, reference)" "$BIN" scan --format json -q "$LOG"
log "results in $RESULTS"

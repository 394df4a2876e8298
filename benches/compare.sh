#!/usr/bin/env bash
# benches/compare.sh: mailtls against the tools people use today (see benches/README.md).
#
# Generates the inputs with the deterministic generator (benches/gen.rs), warms the page
# cache, runs every command RUNS times and prints the medians of wall time, throughput and
# peak RSS (/usr/bin/time -v), then the ratios against the targets of issue 21.
#
# Environment (all optional):
#   SIZE_GB=1      size of the mixed log and of the mbox
#   BIG_GB=4       size of the mixed log for the flat-memory check (0 skips it)
#   PF_GB=0.25     size of the Postfix-only log for pflogsumm and mtail (they are slow)
#   RUNS=5         runs per command (the median is reported)
#   WORK=/tmp/mailtls-bench   where inputs and results go (kept between runs: files of
#                  the right size and seed are reused)
#   NO_INSTALL=1   do not apt-get install missing tools
#
# The same as flags (they win over the environment): --size GB, --big GB (0 skips),
# --pf GB, --runs N, --work DIR, --no-install. A quick check from a fresh clone:
#   benches/compare.sh --size 0.02 --big 0.04 --pf 0.01 --runs 1
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE_GB=${2:?--size needs GiB}; shift 2 ;;
        --big) BIG_GB=${2:?--big needs GiB}; shift 2 ;;
        --pf) PF_GB=${2:?--pf needs GiB}; shift 2 ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --work) WORK=${2:?--work needs a directory}; shift 2 ;;
        --no-install) NO_INSTALL=1; shift ;;
        -h | --help) usage 0 ;;
        *) printf 'compare.sh: unknown argument %s\n' "$1" >&2; usage ;;
    esac
done

SIZE_GB=${SIZE_GB:-1}
BIG_GB=${BIG_GB:-4}
PF_GB=${PF_GB:-0.25}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/mailtls-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"
cd "$ROOT"

log() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
need=()
command -v rg >/dev/null || need+=(ripgrep)
command -v pflogsumm >/dev/null || need+=(pflogsumm)
command -v mtail >/dev/null || need+=(mtail)
[ -x /usr/bin/time ] || need+=(time)
command -v gzip >/dev/null || need+=(gzip)
command -v bc >/dev/null || need+=(bc)
if [ ${#need[@]} -gt 0 ] && [ -z "${NO_INSTALL:-}" ] && command -v apt-get >/dev/null; then
    log "installing ${need[*]} with apt-get"
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
RG=rg; command -v rg >/dev/null || { RG=grep; log "ripgrep absent: using grep -c as the floor"; }
MTAIL_PROG=
for f in /usr/share/doc/mtail/examples/postfix.mtail /usr/share/doc/mtail/examples/postfix.mtail.gz; do
    [ -f "$f" ] || continue
    mkdir -p "$WORK/mtail-progs"
    case "$f" in *.gz) zcat "$f" >"$WORK/mtail-progs/postfix.mtail" ;; *) cp "$f" "$WORK/mtail-progs/" ;; esac
    MTAIL_PROG="$WORK/mtail-progs"
    break
done

# --- build and generate -------------------------------------------------------------------
log "building (release)"
cargo build --release --quiet --bin mailtls --example gen
BIN="$ROOT/target/release/mailtls"
GEN="$ROOT/target/release/examples/gen"

gen() { # kind size_gb mix path
    local kind=$1 size=$2 mix=$3 path=$4 stamp="$4.gen.json"
    local want="$kind $size $mix seed=7 $(sha1sum "$ROOT/benches/gen/mod.rs" | cut -c1-12)"
    if [ -f "$path" ] && [ -f "$stamp.key" ] && [ "$(cat "$stamp.key")" = "$want" ]; then
        return
    fi
    log "generating $path (${size} GiB)"
    "$GEN" --seed 7 --size "${size}G" --mix "$mix" "--$kind" "$path" >"$stamp"
    printf '%s' "$want" >"$stamp.key"
}
MIX="$WORK/mixed-${SIZE_GB}g.log"
PF="$WORK/postfix-${PF_GB}g.log"
MBOX="$WORK/big-${SIZE_GB}g.mbox"
gen log "$SIZE_GB" 45,40,15 "$MIX"
gen log "$PF_GB" 0,100,0 "$PF"
gen mbox "$SIZE_GB" 45,40,15 "$MBOX"
if [ ! -f "$MIX.gz" ] || [ "$MIX.gz" -ot "$MIX" ]; then
    log "compressing $MIX"
    gzip -1 -c "$MIX" >"$MIX.gz"
fi
BIG=
if [ "$BIG_GB" != 0 ]; then
    BIG="$WORK/mixed-${BIG_GB}g.log"
    gen log "$BIG_GB" 45,40,15 "$BIG"
fi

# --- measuring ----------------------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure NAME INPUT_FILE COMMAND...: RUNS runs, medians into $RESULTS.
measure() {
    local name=$1 input=$2; shift 2
    local bytes walls=() rsss=() i t0 t1
    bytes=$(stat -L -c %s "$input")
    cat "$input" >/dev/null # page cache
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s.%N)
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
            log "$name failed:"; cat "$WORK/err.txt" >&2; return 1; }
        t1=$(date +%s.%N)
        walls+=("$(echo "$t1 - $t0" | bc -l)")
        rsss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")")
    done
    local wall rss
    wall=$(printf '%s\n' "${walls[@]}" | median)
    rss=$(printf '%s\n' "${rsss[@]}" | median)
    printf '%s\t%s\t%s\t%s\n' "$name" "$bytes" "$wall" "$rss" >>"$RESULTS"
    log "$(printf '%-28s %8.3f s  %9.1f MiB/s  %7.1f MiB RSS   (runs: %s)' "$name" "$wall" \
        "$(echo "$bytes / 1048576 / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "${walls[*]}")"
}

log "measuring: medians of $RUNS (load: $(cut -d' ' -f1-3 /proc/loadavg))"
measure "mailtls scan (mixed)" "$MIX" "$BIN" scan --format json --logs-only -q "$MIX"
if [ "$RG" = rg ]; then
    measure "rg -c STARTTLS (mixed)" "$MIX" rg -c STARTTLS "$MIX"
    measure "zcat | rg -c STARTTLS" "$MIX.gz" bash -c "zcat '$MIX.gz' | rg -c STARTTLS"
    measure "rg -c ^Received: (mbox)" "$MBOX" rg -c '^Received:' "$MBOX"
else
    measure "rg -c STARTTLS (mixed)" "$MIX" grep -c STARTTLS "$MIX"
    measure "zcat | rg -c STARTTLS" "$MIX.gz" bash -c "zcat '$MIX.gz' | grep -c STARTTLS"
    measure "rg -c ^Received: (mbox)" "$MBOX" grep -c '^Received:' "$MBOX"
fi
measure "mailtls scan (.gz)" "$MIX.gz" "$BIN" scan --format json --logs-only -q "$MIX.gz"
measure "mailtls scan (mbox)" "$MBOX" "$BIN" scan --format json --messages-only -q \
    --our-hosts mx-pf.example.net "$MBOX"
measure "mailtls scan (postfix)" "$PF" "$BIN" scan --format json --logs-only -q "$PF"
measure "pflogsumm (postfix)" "$PF" pflogsumm "$PF"
if [ -n "$MTAIL_PROG" ]; then
    measure "mtail --one_shot (postfix)" "$PF" mtail --one_shot --one_shot_format=json \
        --progs "$MTAIL_PROG" --logs "$PF" --logtostderr
fi
if [ -n "$BIG" ]; then
    measure "mailtls scan (big)" "$BIG" "$BIN" scan --format json --logs-only -q "$BIG"
fi

# --- ratios -------------------------------------------------------------------------------
# Targets and long-run goals of issue 21 (the .gz one is issue 7's).
get() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n {print $c}' "$RESULTS"; }
wall() { get "$1" 3; }
rate() { awk -F'\t' -v n="$1" '$1 == n {printf "%.6f", $2 / 1048576 / $3}' "$RESULTS"; }
rss_mib() { awk -F'\t' -v n="$1" '$1 == n {printf "%.1f", $4 / 1024}' "$RESULTS"; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo MET; else echo MISSED; fi; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

echo
echo "mailtls benchmark $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), medians of $RUNS"
echo
printf '%-28s %10s %10s %12s %10s\n' command "input MiB" "wall s" "MiB/s" "RSS MiB"
while IFS=$'\t' read -r n b w r; do
    printf '%-28s %10.0f %10.3f %12.1f %10.1f\n' "$n" "$(echo "$b/1048576" | bc -l)" "$w" \
        "$(echo "$b/1048576/$w" | bc -l)" "$(echo "$r/1024" | bc -l)"
done <"$RESULTS"
echo
r1=$(ratio "$(wall 'mailtls scan (mixed)')" "$(wall 'rg -c STARTTLS (mixed)')")
echo "scan ${SIZE_GB} GiB vs rg -c STARTTLS:        ${r1}x wall   (target <= 5x, goal 2x)  $(verdict "$r1 <= 5.0")"
r2=$(ratio "$(rate 'mailtls scan (postfix)')" "$(rate 'pflogsumm (postfix)')")
echo "throughput vs pflogsumm:                ${r2}x        (target >= 50x, goal 100x)  $(verdict "$r2 >= 50")"
if [ -n "$MTAIL_PROG" ]; then
    r3=$(ratio "$(rate 'mailtls scan (postfix)')" "$(rate 'mtail --one_shot (postfix)')")
    echo "throughput vs mtail --one_shot:         ${r3}x        (target >= 100x, goal 200x)  $(verdict "$r3 >= 100")"
fi
m1=$(rss_mib 'mailtls scan (mixed)')
echo "peak RSS, ${SIZE_GB} GiB:                       ${m1} MiB  (target <= 64, goal 32)   $(verdict "$m1 <= 64")"
if [ -n "$BIG" ]; then
    m2=$(rss_mib 'mailtls scan (big)')
    echo "peak RSS, ${BIG_GB} GiB:                       ${m2} MiB  (target <= 64, goal 32)   $(verdict "$m2 <= 64")"
fi
r4=$(ratio "$(wall 'mailtls scan (.gz)')" "$(wall 'zcat | rg -c STARTTLS')")
echo ".gz scan vs zcat | rg -c STARTTLS:      ${r4}x wall   (target <= 1.3x)  $(verdict "$r4 <= 1.3")"
r5=$(ratio "$(wall 'mailtls scan (mbox)')" "$(wall 'rg -c ^Received: (mbox)')")
echo "mbox Received: scan vs rg -c ^Received: ${r5}x wall   (target <= 5x, goal 2x)  $(verdict "$r5 <= 5.0")"

#!/usr/bin/env bash
# Runs fuzz targets for SECONDS each, at most JOBS at a time, niced, and prints one line
# of libFuzzer's final figures per target (executions, coverage, features, corpus, peak
# RSS, crashes). Logs go to tests/fuzz/logs/TARGET.log, crashes to artifacts/TARGET/.
#
#   bash tests/fuzz/run.sh [SECONDS] [JOBS] [TARGET…]     (defaults: 600 2 all targets)
#   bash tests/fuzz/run.sh SECONDS JOBS summary          (the table of the last logs)
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`). Seeds come from seed.sh (run first when corpus/ is absent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-600}"
jobs="${2:-2}"
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(envelope sendmail postfix exim received mbox smtp_reply server_hello mta_config)
fi
cd "$root"

# The binaries `cargo fuzz build` made, run as `cargo fuzz run` would run them (corpus
# and artifact directories), but without its freshness check: editing the sources while
# fuzzers run must not start a rebuild per target.
bin_dir="$here/target/x86_64-unknown-linux-gnu/release"

run_one() {
  local t="$1"
  mkdir -p "$here/corpus/$t" "$here/artifacts/$t"
  # -rss_limit_mb: a parser that needs more than 1 GiB for one input is a finding.
  ASAN_OPTIONS=detect_odr_violation=0 nice -n 15 "$bin_dir/$t" "$here/corpus/$t" -artifact_prefix="$here/artifacts/$t/" \
    -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 -timeout=10 \
    -max_len=65536 >"$here/logs/$t.log" 2>&1 || true
}

# One Markdown table row of libFuzzer's final figures for target $1.
summary() {
  local t="$1" log="$here/logs/$1.log"
  local done execs rate crashes
  done="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  crashes="$(find "$here/artifacts/$t" -type f 2>/dev/null | wc -l)"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" \
    "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done")" \
    "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done")" \
    "$(sed -n 's/.* corp: \([0-9/a-zA-Z]*\).*/\1/p' <<<"$done")" \
    "$crashes"
}

table() {
  echo "| target | seconds | executions | exec/s | cov | ft | corpus | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|"
  for t in "${targets[@]}"; do summary "$t"; done
}

# `run.sh SECONDS JOBS summary`: only print the table of the last run's logs.
if [ "${targets[0]}" = summary ]; then
  targets=(envelope sendmail postfix exim received mbox smtp_reply server_hello mta_config)
  table
  exit 0
fi

[ -d "$here/corpus" ] || bash "$here/seed.sh" >/dev/null
# MAILTLS_FUZZ_NO_BUILD=1 reuses the binaries already built (to go on with a run
# while the sources are being edited).
[ "${MAILTLS_FUZZ_NO_BUILD:-0}" = 1 ] || cargo +nightly fuzz build --fuzz-dir tests/fuzz >/dev/null
mkdir -p "$here/logs"

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
table

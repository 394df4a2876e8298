# tests/sh/checks.sh: the PASS/FAIL bookkeeping of the shell suites that drive real daemons
# (tests/e2e/run.sh, tests/engines/run.sh), sourced by both so that their output reads
# alike and CI parses one format.
#
# The sourcing script sets, before `source`:
#   SUITE       its name in stage headers and messages (e2e, engines)
#   SKIP_HINT   lines (an array) saying what the suite needs, shown when it is skipped
#   CI          true: a missing prerequisite fails the run instead of skipping it
# (and ROOT, the checkout, for find_mailtls) and gets PASSED, FAILED, FAILED_NAMES,
# START_TIME and the functions below.

PASSED=0
FAILED=0
FAILED_NAMES=()
START_TIME=$(date +%s)

say() { printf '%s\n' "$*"; }
stage() { printf '\n=== %s: %s (%s, +%ss)\n' "$SUITE" "$*" "$(date +%T)" "$(($(date +%s) - START_TIME))"; }
pass() {
  PASSED=$((PASSED + 1))
  printf 'PASS  %s\n' "$1"
}
# fail NAME [DETAIL…]: counts and lists NAME; each DETAIL on its own indented line.
fail() {
  FAILED=$((FAILED + 1))
  FAILED_NAMES+=("$1")
  printf 'FAIL  %s\n' "$1"
  shift
  local l
  for l in "$@"; do printf '      %s\n' "$l"; done
  return 0
}

# expect NAME ACTUAL EXPECTED: exact string equality.
expect() {
  if [ "$2" == "$3" ]; then
    pass "$1 (= $3)"
  else
    fail "$1" "expected: $3" "actual:   $2"
  fi
}

# Missing prerequisite: outside CI skip loudly; in CI it is a failure.
prereq_missing() {
  if [ "$CI" = "true" ]; then
    say "FAIL  $SUITE prerequisite missing: $*"
    exit 1
  fi
  say ""
  say "################################################################################"
  say "### SKIPPED: mailtls $SUITE suite: $*"
  local l
  for l in "${SKIP_HINT[@]}"; do say "### $l"; done
  say "################################################################################"
  exit 0
}

# find_mailtls: the binary under test in MAILTLS: as given, else a debug build of ROOT.
find_mailtls() {
  if [ -z "${MAILTLS:-}" ]; then
    command -v cargo >/dev/null 2>&1 || prereq_missing "no cargo and no MAILTLS"
    (cd "$ROOT" && cargo build --quiet --bin mailtls) || { say "FAIL  cargo build"; exit 1; }
    MAILTLS=$ROOT/target/debug/mailtls
  fi
  [ -x "$MAILTLS" ] || { say "FAIL  no mailtls binary at $MAILTLS"; exit 1; }
}

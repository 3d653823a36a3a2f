# The shell side of tests/harness.h: sourced by every tests/cli_*.sh after it sets TRN (the
# trnsim binary given as $1). A scratch directory $T (removed on exit), pass / fail counters,
# and checks that each count one:
#   expect_rc RC CMD...       runs CMD, checks its exit code; stdout in $T/out, stderr in $T/err
#   expect_out TEXT           $T/out holds TEXT;  expect_err TEXT: $T/err does
#   expect_line PATTERN...    one line of $T/out holds every pattern, in order (a table row)
#   json_ok                   $T/out is JSON
#   pyexpr EXPR               EXPR (Python, over d = the JSON in $T/out) is true
# A script ends with `finish`: the summary line, and the exit status (0 when nothing failed).
# Not executable and not named cli_*.sh, so CTest does not run it on its own.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect_rc() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, expected $want: $* ($(head -c 300 "$T/err"))"; fi
}
expect_out() { if grep -qF -- "$1" "$T/out"; then ok; else bad "stdout lacks '$1': $(head -c 300 "$T/out")"; fi; }
expect_err() { if grep -qF -- "$1" "$T/err"; then ok; else bad "stderr lacks '$1': $(head -c 300 "$T/err")"; fi; }
expect_line() {
    local re; re=$(printf '%s.*' "$@")
    if grep -qE -- "${re%.\*}" "$T/out"; then ok; else bad "no stdout line matches $*"; fi
}
json_ok() { if python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/out"; then ok; else bad "stdout is not JSON: $*"; fi; }
pyexpr() {
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1"; then ok; else bad "JSON check failed: $1"; fi
}
finish() {
    echo "$(basename "$0" .sh): $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

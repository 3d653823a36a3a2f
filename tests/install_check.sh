#!/usr/bin/env bash
# `make install` in miniature: installs the build into a temporary prefix, checks every
# installed piece (binary, static and shared library, headers, trnsim.pc, man page), then
# compiles and runs a program against the library through pkg-config.
# Usage: install_check.sh BUILD_DIR [EXTRA_CFLAGS]
set -u
BUILD=${1:?usage: install_check.sh BUILD_DIR [EXTRA_CFLAGS]}
EXTRA=${2:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

if cmake --install "$BUILD" --prefix "$T/prefix" >"$T/log" 2>&1; then ok; else bad "cmake --install: $(tail -5 "$T/log")"; fi
for f in bin/trnsim include/trnsim/trnsim.h include/trnsim/num.h include/trnsim/hw.h \
         include/trnsim/base.h share/man/man1/trnsim.1; do
    [ -f "$T/prefix/$f" ] && ok || bad "missing $f"
done
pc=$(find "$T/prefix" -name trnsim.pc | head -1)
[ -n "$pc" ] && ok || bad "missing trnsim.pc"
[ -n "$(find "$T/prefix" -name 'libtrnsim.a')" ] && ok || bad "missing libtrnsim.a"
[ -n "$(find "$T/prefix" -name 'libtrnsim.so*')" ] && ok || bad "missing libtrnsim.so"
"$T/prefix/bin/trnsim" --version | grep -q "^trnsim " && ok || bad "installed trnsim --version"

cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include <trnsim/trnsim.h>
int main(void) {
    /* 1 + 2^-8 is a BF16 tie and rounds to the even 1.0; 464 rounds to 448 in E4M3. */
    trn_bf16 h = trn_bf16_from_f32(1.00390625f);
    uint32_t c = trn_cvt_from_f32(TRN_DTYPE_FP8_E4M3, 464.0f, &TRN_CVT_RNE, 0);
    printf("%04x %02x %s\n", h.bits, c, TRN_VERSION_STRING);
    return 0;
}
C
export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046,SC2086
if gcc -std=c11 $EXTRA "$T/prog.c" -o "$T/prog" $(pkg-config --cflags trnsim) \
       $(pkg-config --libs --static trnsim) 2>"$T/log"; then ok; else bad "compile via pkg-config: $(head -5 "$T/log")"; fi
out=$(LD_LIBRARY_PATH=$(pkg-config --variable=libdir trnsim) "$T/prog" 2>&1)
[ "$out" = "3f80 7e $(pkg-config --modversion trnsim)" ] && ok || bad "program printed '$out'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

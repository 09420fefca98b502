#!/usr/bin/env bash
# Checks a bundle made by scripts/dist.sh: every shipped ELF library (Linux, Android, in lib/, the
# Unity and the Unreal folders) has its LOAD segments aligned to at least 16 KiB (Google Play), the
# Linux library exports exactly the header's functions and needs nothing unexpected, the Unity and Unreal folders point at files that exist,
# the checksums hold, and a C program builds and links against the bundle alone.
# Usage: check_dist.sh <bundle folder>. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bundle=$(realpath "${1:?usage: check_dist.sh <bundle folder>}")
passed=0 failed=0
check() { # check <description> <command...>
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    failed=$((failed + 1))
    echo "FAIL $what"
  fi
}

so="$bundle/lib/x86_64-unknown-linux-gnu/libxo_tracker.so"
header="$bundle/include/xo_tracker.h"
check "the Linux shared and static libraries are in lib/" test -f "$so" -a -f "${so%.so}.a"
check "the bundled header is the repository's" cmp "$header" "$root/include/xo_tracker.h"

declared=$(grep -oE '\bxo_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort -u)
check "exported symbols are exactly the header's functions" test "$declared" == "$exported"

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
unexpected=$(grep -vxE 'libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|ld-linux-x86-64\.so\.2' <<<"$needed")
check "no dynamic dependency beyond libc, libm, libgcc_s, libpthread, libdl" test -z "$unexpected"
check "SONAME is libxo_tracker.so" bash -c 'readelf -d "$0" | grep -q "Library soname: \[libxo_tracker.so\]"' "$so"
check "linked with -z nodelete (never unmapped under a running thread)" bash -c 'readelf -d "$0" | grep -q "NODELETE"' "$so"
glibc=$(objdump -T "$so" | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -n 1)
echo "     minimum glibc of this build: ${glibc#GLIBC_} (release builds use cargo-zigbuild for 2.17)"
size=$(stat -c %s "$so")
echo "     stripped size: $((size / 1024)) KiB"
check "the stripped library is at most 4 MiB" test "$size" -le $((4 * 1024 * 1024))

# 16 KiB page alignment (Google Play, Android 15): every LOAD segment's alignment >= 0x4000.
# load_aligned <elf>: fails listing the offending alignments.
load_aligned() {
  local aligns bad=0 a
  aligns=$(readelf -lW "$1" | awk '$1 == "LOAD" {print $NF}')
  [[ -n "$aligns" ]] || { echo "$1: no LOAD segment"; return 1; }
  for a in $aligns; do
    if (($(printf '%d' "$a") < 16384)); then echo "$1: LOAD aligned to $a"; bad=1; fi
  done
  return $bad
}
elves=()
while IFS= read -r -d '' f; do
  [[ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]] && elves+=("$f")
done < <(find "$bundle" -type f \( -name '*.so' -o -name '*.so.*' \) -print0)
check "the bundle ships ELF libraries to check (${#elves[@]})" test ${#elves[@]} -gt 0
for elf in "${elves[@]}"; do
  check "16 KiB-aligned LOAD segments: ${elf#"$bundle"/}" load_aligned "$elf"
done
mkdir -p "$root/target/dist-check"
check "the alignment check rejects a library linked with 4 KiB pages" bash -c \
  "printf 'int f(void) { return 1; }\n' >'$root/target/dist-check/small.c' &&
   cc -shared -fPIC -Wl,-z,max-page-size=4096 '$root/target/dist-check/small.c' -o '$root/target/dist-check/small4k.so' &&
   $(declare -f load_aligned); ! load_aligned '$root/target/dist-check/small4k.so'"

unity="$bundle/bindings/unity/com.xo.tracker"
check "Unity: package.json carries the bundle's version" \
  grep -q "\"version\": \"$(basename "$bundle" | sed 's/^xo-tracker-//')\"" "$unity/package.json"
check "Unity: the Linux plugin is where its .meta says" test -f "$unity/Plugins/Linux/x86_64/libxo_tracker.so" -a \
  -f "$unity/Plugins/Linux/x86_64/libxo_tracker.so.meta"
orphans=$(cd "$unity/Plugins" && find . -type f ! -name '*.meta' | while read -r f; do [[ -f "$f.meta" ]] || echo "$f"; done)
check "Unity: every native binary has its .meta" test -z "$orphans"
check "Unity: no test or tool folders shipped" test ! -e "$unity/Tests~" -a ! -e "$unity/Tools~"
upm_version=$(basename "$bundle" | sed 's/^xo-tracker-//')
upm="$bundle/bindings/unity/com.xo.tracker-$upm_version.tgz"
# XO_REQUIRE_ALL_PLATFORMS=1 (a release): the tarball must hold every platform's library.
upm_out=$(python3 "$root/scripts/check_upm.py" --version "$upm_version" ${XO_REQUIRE_ALL_PLATFORMS:+--require-all-plugins} "$upm" 2>&1)
upm_rc=$?
grep -v '^ok ' <<<"$upm_out" | sed '$d; s/^/     /'
check "Unity: the UPM tarball com.xo.tracker-$upm_version.tgz is valid (check_upm.py: $(tail -n 1 <<<"$upm_out"))" test "$upm_rc" -eq 0
upm_out=$(python3 "$root/scripts/check_upm.py" --self-test "$upm" 2>&1)
upm_rc=$?
grep -v '^ok ' <<<"$upm_out" | sed '$d; s/^/     /'
check "Unity: the UPM validator rejects broken tarballs (self-test: $(tail -n 1 <<<"$upm_out"))" test "$upm_rc" -eq 0

unreal="$bundle/bindings/unreal/XoTracker"
third="$unreal/Source/ThirdParty/XoTrackerLibrary"
check "Unreal: the plugin descriptor is present" test -f "$unreal/XoTracker.uplugin"
check "Unreal: the Linux library is where XoTrackerLibrary.Build.cs looks" bash -c \
  'grep -q "x86_64-unknown-linux-gnu" "$0/XoTrackerLibrary.Build.cs" && test -f "$0/Linux/x86_64-unknown-linux-gnu/libxo_tracker.so"' "$third"
check "Unreal: headers staged for the module" test -f "$third/include/xo_tracker.h" -a -f "$third/include/xo_tracker.hpp"
check "Unreal: no armeabi-v7a library (UE5 cannot link it)" test ! -e "$third/Android/armeabi-v7a"
if [[ -e "$third/IOS/libxo_tracker.a" || -e "$bundle/lib/aarch64-apple-ios" ]]; then
  check "iOS: the simulator library ships beside the device one (Unreal IOS/Simulator/, lib/ XCFramework)" \
    test -f "$third/IOS/Simulator/libxo_tracker.a" -a -d "$bundle/lib/aarch64-apple-ios/XoTracker.xcframework"
fi

check "checksums verify" bash -c 'cd "$0" && sha256sum --quiet -c SHA256SUMS' "$bundle"
check "the archive holds the bundle" bash -c 'tar -tzf "$0.tar.gz" | grep -q "^$(basename "$0")/include/xo_tracker.h$"' "$bundle"
mkdir -p "$root/target/dist-check"
check "a C program builds against the bundle alone (header + shared library)" \
  cc -std=c11 -Wall -Wextra -Werror -I"$bundle/include" "$root/examples/c/track_order.c" \
  -L"$(dirname "$so")" -lxo_tracker -Wl,-rpath,"$(dirname "$so")" -o "$root/target/dist-check/track_order"
check "and it loads the bundled library" bash -c '"$0" 2>&1 | grep -q usage' "$root/target/dist-check/track_order"
check "the same program links statically against libxo_tracker.a (iOS-style) and runs" bash -c \
  'cc -std=c11 -I"$1/include" "$2/examples/c/track_order.c" "${0%.so}.a" -lpthread -ldl -lm -o "$2/target/dist-check/track_order_static" \
   && "$2/target/dist-check/track_order_static" 2>&1 | grep -q usage' "$so" "$bundle" "$root"

echo "$passed passed, $failed failed"
((failed == 0))

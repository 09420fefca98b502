#!/usr/bin/env bash
# Checks the Unreal plugin without the engine:
#   - the plugin layout (descriptor, module folders, Build.cs class names, UPL file, generated
#     header includes);
#   - every source file compiled with g++ -fsyntax-only against stand-in engine declarations
#     (standin/), the real xo_tracker.h and xo_tracker.hpp, for C++17 and C++20 (UE 5.3+), with
#     -fno-exceptions -fno-rtti as Unreal builds, and the module for each platform's #if branch;
#   - the same sources with WITH_XO_TRACKER=0 (no native library), and that mode linked and run:
#     XoTrackerUnavailable.cpp defines every function of the header, failing with "not available";
#   - xo_tracker.h included only between THIRD_PARTY_INCLUDES_START/END, and -Wundef clean;
#   - package.sh: the plugin folder it produces holds the headers and the host library;
#   - XoTrackerLibrary.Build.cs itself, run under Mono against a stand-in UnrealBuildTool
#     (tools/BuildCsProbe.cs): which libraries it links and stages for each platform, over the
#     packaged plugin and over complete and partial library layouts.
# Usage: check.sh [work dir] (default <repo>/target/unreal-check). Prints "N passed, N failed".
# Environment: LIB_DIR (folder with libxo_tracker.so, for the package check; default target/debug).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$root/target/unreal-check}"
plugin="$here/XoTracker"
module="$plugin/Source/XoTracker"
mkdir -p "$work"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # expect <description> <command...>: one check
  local name="$1"; shift
  if "$@" >"$work/last.log" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/     /' "$work/last.log" | head -40; fi
}

# ---- layout ----
descriptor="$plugin/XoTracker.uplugin"
g++ -std=c++17 -O0 -o "$work/json_check" "$here/tools/json_check.cpp" || { echo "cannot build json_check" >&2; exit 1; }
expect "XoTracker.uplugin is valid JSON" "$work/json_check" "$descriptor"
expect "uplugin declares the runtime module XoTracker" \
  grep -Eq '"Name"[[:space:]]*:[[:space:]]*"XoTracker"' "$descriptor"
expect "uplugin module type is Runtime" grep -Eq '"Type"[[:space:]]*:[[:space:]]*"Runtime"' "$descriptor"
for m in XoTracker ThirdParty/XoTrackerLibrary; do
  name="${m##*/}"
  expect "Source/$m/$name.Build.cs declares class $name : ModuleRules" \
    grep -Eq "public class $name[[:space:]]*:[[:space:]]*ModuleRules" "$plugin/Source/$m/$name.Build.cs"
done
expect "the library module is External" grep -q 'Type = ModuleType.External' \
  "$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs"
expect "the runtime module depends on the library module" grep -q '"XoTrackerLibrary"' "$module/XoTracker.Build.cs"
expect "the Android UPL file exists and is referenced" bash -c \
  "test -f '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary_UPL.xml' &&
   grep -q 'XoTrackerLibrary_UPL.xml' '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs'"
expect "every platform ships the library (RuntimeDependencies / UPL / static)" bash -c \
  "f='$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs';
   for p in Win64 Mac Linux Android IOS; do grep -q \"UnrealTargetPlatform.\$p\" \"\$f\" || exit 1; done;
   test \$(grep -c 'RuntimeDependencies.Add' \"\$f\") -ge 3 && grep -q PublicDelayLoadDLLs \"\$f\""
# Desktop library paths agree between Build.cs (staging) and the module (loading).
expect "staged library paths match XoTrackerModule.cpp" bash -c \
  "for p in 'Win64/xo_tracker.dll' 'Mac/libxo_tracker.dylib' 'Linux/x86_64-unknown-linux-gnu/libxo_tracker.so' \
            'Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so'; do
     grep -q \"\$p\" '$module/Private/XoTrackerModule.cpp' || { echo \"module lacks \$p\"; exit 1; }
   done;
   grep -q '\"/Win64/xo_tracker.dll\"' '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs' &&
   grep -q '\"/Mac/libxo_tracker.dylib\"' '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs' &&
   grep -q 'x86_64-unknown-linux-gnu' '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs' &&
   grep -q 'aarch64-unknown-linux-gnueabi' '$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs'"

# ---- UnrealHeaderTool stand-in: <Header>.generated.h for every reflected header ----
gen="$work/generated"
rm -rf "$gen"
mkdir -p "$gen"
headers=("$module"/Public/*.h)
for h in "${headers[@]}"; do
  base="$(basename "$h" .h)"
  if ! grep -q "#include \"$base.generated.h\"" "$h"; then
    if grep -Eq '^(UCLASS|USTRUCT|UENUM)\(' "$h"; then fail "$base.h has reflected types but does not include $base.generated.h"; fi
    continue
  fi
  # UHT: the generated header must be the last #include.
  last_include="$(grep -E '^#include' "$h" | tail -n 1)"
  if [[ "$last_include" == "#include \"$base.generated.h\"" ]]; then pass "$base.h includes $base.generated.h last"
  else fail "$base.h: $base.generated.h must be the last #include (found: $last_include)"; fi
  awk -v id="FID_$base" -v guard="${base}_generated_h" '
    BEGIN {
      print "#ifdef " guard; print "#error \"" guard " already included: missing #pragma once\""; print "#endif";
      print "#define " guard; print "#include \"UObject/ObjectMacros.h\"";
      print "#undef CURRENT_FILE_ID"; print "#define CURRENT_FILE_ID " id;
    }
    /^(UCLASS|USTRUCT)\(/ { kind = substr($0, 1, 6); next }
    /^(class|struct)[ \t]/ {
      line = $0; sub(/[ \t]*\{.*/, "", line);
      n = split(line, w, /[ \t:]+/); name = ""; super = "";
      for (i = 2; i <= n; i++) {
        if (w[i] ~ /_API$/ || w[i] == "") continue;
        if (name == "") { name = w[i]; continue }
        if (w[i] == "public") { super = w[i + 1]; break }
      }
      cls = name; base = super; next
    }
    /GENERATED_BODY\(\)/ {
      if (kind == "UCLASS") {
        printf "#define %s_%d_GENERATED_BODY public: typedef %s Super; typedef %s ThisClass; static UClass* StaticClass(); private:\n", id, NR, base, cls
      } else {
        printf "#define %s_%d_GENERATED_BODY static UScriptStruct* StaticStruct();%s\n", id, NR, (base == "" ? "" : " typedef " base " Super;")
      }
    }
  ' "$h" >"$gen/$base.generated.h"
done

# ---- syntax checks ----
api='-DXOTRACKER_API=__attribute__((visibility("default")))'
base_flags=(-Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wundef -fno-exceptions -fno-rtti
       "$api" -I"$here/standin" -I"$gen" -I"$module/Public" -I"$root/include" -I"$root/bindings/cpp")
flags=(-fsyntax-only "${base_flags[@]}" -DWITH_XO_TRACKER=1)
for std in c++17 c++20; do
  for f in "$module"/Private/*.cpp; do
    expect "$(basename "$f") ($std, Linux)" g++ -std=$std "${flags[@]}" -DSTANDIN_PLATFORM_LINUX=1 "$f"
  done
done
for f in "$module"/Private/*.cpp; do
  expect "$(basename "$f") (c++17, WITH_XO_TRACKER=0)" \
    g++ -std=c++17 -fsyntax-only "${base_flags[@]}" -DWITH_XO_TRACKER=0 -DSTANDIN_PLATFORM_IOS=1 "$f"
done
unwrapped=$(grep -n -B1 -E '^#include "xo_tracker\.(h|hpp)"' "$module"/Public/*.h "$module"/Private/*.cpp |
  grep -E '\.(h|cpp)-[0-9]+-' | grep -v THIRD_PARTY_INCLUDES_START || true)
expect "xo_tracker.h(pp) is included only inside THIRD_PARTY_INCLUDES_START/END" test -z "$unwrapped"
declared=$(grep -oE '\bxo_[a-z_]+\(' "$root/include/xo_tracker.h" | tr -d '(' | sort -u)
stubbed=$(grep -oE '\bxo_[a-z_]+\(' "$module/Private/XoTrackerUnavailable.cpp" | tr -d '(' | sort -u)
expect "XoTrackerUnavailable.cpp defines every function of xo_tracker.h" test "$declared" == "$stubbed"
# WITH_XO_TRACKER=0 links without the library, and the wrapper reports "not available".
cat >"$work/unavailable_main.cpp" <<'CPP'
#include "xo_tracker.hpp"
#include <cstdio>
int main() {
    xo::Config config;
    config.project_id = 1;
    auto session = xo::Session::start(config);
    const bool refused = !session && session.error().code() == xo::ResultCode::NotConfigured &&
                         session.error().message().find("not available") != std::string::npos;
    std::printf("%s\n", refused ? "refused" : "accepted");
    return refused ? 0 : 1;
}
CPP
expect "WITH_XO_TRACKER=0 links without the native library and fails with \"not available\"" bash -c \
  "g++ -std=c++17 ${base_flags[*]@Q} -DWITH_XO_TRACKER=0 -DSTANDIN_PLATFORM_LINUX=1 -pthread \
     '$module/Private/XoTrackerUnavailable.cpp' '$work/unavailable_main.cpp' -o '$work/unavailable' && '$work/unavailable'"
for h in "$module"/Public/*.h; do
  printf '#include "%s"\n' "$(basename "$h")" >"$work/standalone.cpp"
  expect "$(basename "$h") compiles on its own" \
    g++ -std=c++17 "${flags[@]}" -DSTANDIN_PLATFORM_LINUX=1 "$work/standalone.cpp"
done
for platform in WINDOWS MAC ANDROID IOS LINUX_ARM64; do
  defines=(-DSTANDIN_PLATFORM_$platform=1)
  [[ $platform == LINUX_ARM64 ]] && defines=(-DSTANDIN_PLATFORM_LINUX=1 -DSTANDIN_ARM=1)
  expect "XoTrackerModule.cpp (c++17, $platform)" \
    g++ -std=c++17 "${flags[@]}" "${defines[@]}" "$module/Private/XoTrackerModule.cpp"
done
# Callbacks reach the library only through xo_tracker.hpp's noexcept, catching trampolines: the
# plugin declares no extern "C" callback of its own and passes none to the C API directly (the
# WITH_XO_TRACKER=0 stand-in of the C ABI, XoTrackerUnavailable.cpp, defines those functions). Its
# sources also compile with exceptions on (a project may enable them for this module).
expect "the plugin registers callbacks only through xo_tracker.hpp's noexcept trampolines" bash -c \
  "! grep -rnE --exclude=XoTrackerUnavailable.cpp 'extern \"C\"|xo_(track_order|check_order|set_log_callback)[[:space:]]*\\(' '$module'"
for f in "$module"/Private/*.cpp; do
  expect "$(basename "$f") (c++17, Linux, exceptions on)" \
    g++ -std=c++17 "${flags[@]/-fno-exceptions/-fexceptions}" -DSTANDIN_PLATFORM_LINUX=1 "$f"
done
# The stand-ins must be strict enough to catch drift: a wrong override signature must fail.
sed 's/bool Tick(float DeltaTime);/bool Tick(double DeltaTime);/' "$module/Public/XoTrackerModule.h" >"$work/XoTrackerModule.h"
sed 's|bool FXoTrackerModule::Tick(float /\*DeltaTime\*/)|bool FXoTrackerModule::Tick(double /*DeltaTime*/)|' \
  "$module/Private/XoTrackerModule.cpp" >"$work/XoTrackerModule_drift.cpp"
expect "the stand-ins reject a ticker with the wrong signature" bash -c \
  "! g++ -std=c++17 ${flags[*]@Q} -DSTANDIN_PLATFORM_LINUX=1 '$work/XoTrackerModule_drift.cpp'"

icon="$plugin/Resources/Icon128.png"
expect "Resources/Icon128.png is a 128x128 PNG" bash -c \
  "test \"\$(od -An -tx1 -N24 '$icon' | tr -d ' \n')\" = 89504e470d0a1a0a0000000d494844520000008000000080"
expect "the descriptor names its docs (DocsURL key) and the plugin ships Resources/" bash -c \
  "grep -q '\"DocsURL\"' '$descriptor' && grep -q '^/Resources/' '$plugin/Config/FilterPlugin.ini'"

# ---- package.sh ----
lib_dir="${LIB_DIR:-$root/target/debug}"
if [[ -e "$lib_dir/libxo_tracker.so" ]]; then
  rm -rf "$work/package"
  expect "package.sh stages a plugin with the host library" \
    env XO_LINUX_X64_LIB_DIR="$lib_dir" "$here/package.sh" "$work/package"
  staged="$work/package/XoTracker/Source/ThirdParty/XoTrackerLibrary"
  expect "the packaged plugin has the headers and the Linux library" bash -c \
    "test -f '$staged/include/xo_tracker.h' && test -f '$staged/include/xo_tracker.hpp' &&
     test -f '$staged/Linux/x86_64-unknown-linux-gnu/libxo_tracker.so' &&
     test -f '$work/package/XoTracker/XoTracker.uplugin' &&
     cmp -s '$staged/include/xo_tracker.h' '$root/include/xo_tracker.h'"
else
  fail "package.sh: no $lib_dir/libxo_tracker.so to stage"
fi

# ---- XoTrackerLibrary.Build.cs, run (Mono) over library layouts ----
build_cs="$plugin/Source/ThirdParty/XoTrackerLibrary/XoTrackerLibrary.Build.cs"
if [[ "$(uname -s)" == Linux ]] && ! { command -v mcs && command -v mono; } >/dev/null; then
  echo "==> installing mono (mono-mcs mono-runtime) for the Build.cs check"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mono-mcs mono-runtime >/dev/null
fi
if command -v mcs >/dev/null && command -v mono >/dev/null; then
  expect "XoTrackerLibrary.Build.cs compiles against the stand-in UnrealBuildTool" \
    mcs -nologo -warnaserror+ -langversion:7 -out:"$work/BuildCsProbe.exe" "$here/tools/BuildCsProbe.cs" "$build_cs"
  # run_probe <name> <module dir>: what Build.cs decides for every platform, into probe-<name>.txt
  # (one line per platform) and its log lines into probe-<name>.log.
  run_probe() {
    mono "$work/BuildCsProbe.exe" "$2" "$(dirname "$(dirname "$(dirname "$2")")")" \
      >"$work/probe-$1.txt" 2>"$work/probe-$1.log"
  }
  line() { grep "^$2 " "$work/probe-$1.txt"; }                       # line <name> <platform>
  links() { line "$1" "$2" | sed -n 's/.* link=\([^ ]*\) .*/\1/p'; }  # links <name> <platform>
  on() { line "$1" "$2" | grep -q "WITH_XO_TRACKER=1"; }                # on <name> <platform>
  packaged="$work/package/XoTracker/Source/ThirdParty/XoTrackerLibrary"
  if [[ -d "$packaged" ]] && run_probe packaged "$packaged"; then
    expect "Build.cs on the packaged plugin: Linux links and stages the library" bash -c \
      "$(declare -f line links on); work='$work';
       on packaged Linux && test \"\$(links packaged Linux)\" = Linux/x86_64-unknown-linux-gnu/libxo_tracker.so &&
       line packaged Linux | grep -qF 'runtime=\$(PluginDir)/Binaries/ThirdParty/XoTracker/Linux/x86_64-unknown-linux-gnu/libxo_tracker.so <- Linux/x86_64-unknown-linux-gnu/libxo_tracker.so'"
    for p in Win64 Mac LinuxArm64 Android IOS IOS@iossimulator TVOS; do
      expect "Build.cs on the packaged plugin: $p has no library: WITH_XO_TRACKER=0, nothing linked, logged" bash -c \
        "$(declare -f line links on); work='$work';
         ! on packaged $p && test -z \"\$(links packaged $p)\" && grep -q 'order tracking DISABLED for ${p%@*}' '$work/probe-packaged.log'"
    done
  else
    fail "Build.cs: no packaged plugin to probe, or the probe failed"
  fi
  # Every library the release builds, plus an armeabi-v7a one (which UE5 cannot use).
  full="$work/layout/Plugin/Source/ThirdParty/XoTrackerLibrary"
  rm -rf "$work/layout" && mkdir -p "$full/include"
  cp "$build_cs" "$full/" && touch "$full/include/xo_tracker.h" "$full/include/xo_tracker.hpp"
  for f in Win64/xo_tracker.dll Win64/xo_tracker.dll.lib Mac/libxo_tracker.dylib IOS/libxo_tracker.a IOS/Simulator/libxo_tracker.a \
           Linux/x86_64-unknown-linux-gnu/libxo_tracker.so Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so \
           Android/arm64-v8a/libxo_tracker.so Android/x86_64/libxo_tracker.so Android/armeabi-v7a/libxo_tracker.so; do
    mkdir -p "$(dirname "$full/$f")" && touch "$full/$f"
  done
  run_probe full "$full"
  while read -r p want; do
    expect "Build.cs with every library: $p links exactly ${want:-nothing (delay-loaded)}" bash -c \
      "$(declare -f line links on); work='$work'; on full $p && test \"\$(links full $p)\" = '$want'"
  done <<'LAYOUT'
Win64 Win64/xo_tracker.dll.lib
Mac
Linux Linux/x86_64-unknown-linux-gnu/libxo_tracker.so
LinuxArm64 Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so
Android Android/arm64-v8a/libxo_tracker.so,Android/x86_64/libxo_tracker.so
IOS IOS/libxo_tracker.a
IOS@iossimulator IOS/Simulator/libxo_tracker.a
LAYOUT
  expect "Build.cs with every library: Win64 delay-loads the DLL, Mac the dylib; nothing logged" bash -c \
    "$(declare -f line links on); work='$work';
     line full Win64 | grep -q 'delayload=xo_tracker.dll$' && line full Mac | grep -q 'delayload=Mac/libxo_tracker.dylib$' &&
     ! grep -v TVOS '$work/probe-full.log' | grep -q ."
  rm "$full/Android/x86_64/libxo_tracker.so" "$full/Win64/xo_tracker.dll.lib"
  run_probe partial "$full"
  expect "Build.cs with arm64-v8a only: Android links it alone and stays enabled" bash -c \
    "$(declare -f line links on); work='$work'; on partial Android && test \"\$(links partial Android)\" = Android/arm64-v8a/libxo_tracker.so"
  expect "Build.cs without the Windows import library: Win64 disabled, nothing linked" bash -c \
    "$(declare -f line links on); work='$work'; ! on partial Win64 && test -z \"\$(links partial Win64)\""
else
  echo "skipped: the Build.cs run needs Mono (mcs, mono), installed with apt on Linux only"
fi

echo "$passed passed, $failed failed"
((failed == 0))

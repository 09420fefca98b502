#!/usr/bin/env bash
# Writes the Unity .meta files this package lacks (never touches existing ones: a GUID must stay
# stable once committed). Run it after adding a file or folder to the package, then commit the
# new .meta. Native libraries get PluginImporter settings from the table at the bottom. They are
# not in the source tree: their .meta files (and their folders') live in Tools~/plugin-meta/,
# and scripts/dist.sh copies each one next to its binary in the UPM tarball (a .meta without its
# asset would make Unity complain on every refresh of a git-URL install).
set -euo pipefail
cd "$(dirname "$0")/.."

guid() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

write_meta() { # <asset path> <importer block>
  local meta="$1.meta"
  [[ -e "$meta" ]] && return 0
  printf 'fileFormatVersion: 2\nguid: %s\n%s' "$(guid)" "$2" >"$meta"
  echo "created $meta"
}

importer_for() {
  local path="$1"
  if [[ -d "$path" ]]; then
    printf 'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
    return
  fi
  case "$path" in
    *.cs) printf 'MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
    *.asmdef) printf 'AssemblyDefinitionImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
    package.json) printf 'PackageManifestImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
    *.md | *.txt | *.xml | *.json) printf 'TextScriptImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
    *) printf 'DefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
  esac
}

# One platformData entry.
entry() { # <first key line> <enabled 0|1> <settings lines (already indented) or "{}">
  printf '  - first:\n      %s\n    second:\n      enabled: %s\n' "$1" "$2"
  if [[ "$3" == "{}" ]]; then printf '      settings: {}\n'; else printf '      settings:\n%s\n' "$3"; fi
}

# PluginImporter for one native library.
#   $1 excluded platforms in the "Any Platform" block: names that stay included (0)
#   $2 editor: "" (not in the Editor) or "<OS> <CPU>"
#   $3 win64 $4 osx $5 linux64 (0|1)  $6 android CPU ("" = off)  $7 ios (0|1)
plugin_importer() {
  local include="$1" editor="$2" win64="$3" osx="$4" linux64="$5" android="$6" ios="$7"
  local any=""
  for p in Android Editor Linux64 OSXUniversal WebGL Win Win64 iOS; do
    local v=1
    [[ " $include " == *" $p "* ]] && v=0
    any+="        Exclude $p: $v"$'\n'
  done
  printf 'PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n'
  printf '  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n'
  printf '  platformData:\n'
  entry ": Any" 0 "${any%$'\n'}"
  entry "Android: Android" "$([[ -n "$android" ]] && echo 1 || echo 0)" "        CPU: ${android:-ARMv7}"
  entry "Any: " 0 "{}"
  if [[ -n "$editor" ]]; then
    read -r os cpu <<<"$editor"
    entry "Editor: Editor" 1 "        CPU: $cpu"$'\n'"        DefaultValueInitialized: true"$'\n'"        OS: $os"
  else
    entry "Editor: Editor" 0 "        CPU: AnyCPU"$'\n'"        DefaultValueInitialized: true"$'\n'"        OS: AnyOS"
  fi
  entry "Standalone: Linux64" "$linux64" "        CPU: $([[ $linux64 == 1 ]] && echo x86_64 || echo None)"
  entry "Standalone: OSXUniversal" "$osx" "        CPU: $([[ $osx == 1 ]] && echo AnyCPU || echo None)"
  entry "Standalone: Win" 0 "        CPU: None"
  entry "Standalone: Win64" "$win64" "        CPU: $([[ $win64 == 1 ]] && echo x86_64 || echo None)"
  entry "iPhone: iOS" "$ios" "        AddToEmbeddedBinaries: false"$'\n'"        CPU: AnyCPU"$'\n'"        CompileFlags: "$'\n'"        FrameworkDependencies: "
  printf '  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
}

# Native libraries (placed by scripts/dist.sh; see README.md "Native libraries").
(
cd Tools~/plugin-meta
mkdir -p Plugins/Windows/x86_64 Plugins/macOS Plugins/Linux/x86_64 Plugins/Android/arm64-v8a \
  Plugins/Android/armeabi-v7a Plugins/iOS/Simulator
for d in Plugins Plugins/Windows Plugins/Windows/x86_64 Plugins/macOS Plugins/Linux Plugins/Linux/x86_64 \
  Plugins/Android Plugins/Android/arm64-v8a Plugins/Android/armeabi-v7a Plugins/iOS Plugins/iOS/Simulator; do
  write_meta "$d" "$(importer_for "$d")"$'\n'
done
write_meta Plugins/Windows/x86_64/xo_tracker.dll "$(plugin_importer "Editor Win64" "Windows x86_64" 1 0 0 "" 0)"$'\n'
write_meta Plugins/macOS/libxo_tracker.dylib "$(plugin_importer "Editor OSXUniversal" "OSX AnyCPU" 0 1 0 "" 0)"$'\n'
write_meta Plugins/Linux/x86_64/libxo_tracker.so "$(plugin_importer "Editor Linux64" "Linux x86_64" 0 0 1 "" 0)"$'\n'
write_meta Plugins/Android/arm64-v8a/libxo_tracker.so "$(plugin_importer "Android" "" 0 0 0 ARM64 0)"$'\n'
write_meta Plugins/Android/armeabi-v7a/libxo_tracker.so "$(plugin_importer "Android" "" 0 0 0 ARMv7 0)"$'\n'
write_meta Plugins/iOS/libxo_tracker.a "$(plugin_importer "iOS" "" 0 0 0 "" 1)"$'\n'
# The simulator SDK's library (arm64 + x86_64). Both iOS libraries are enabled for iOS; the
# Editor's XoTrackerIosSdk includes the one that matches Player Settings > Target SDK.
write_meta Plugins/iOS/Simulator/libxo_tracker.a "$(plugin_importer "iOS" "" 0 0 0 "" 1)"$'\n'
)

# Every other asset and folder Unity imports (hidden files and folders ending in ~ are skipped).
while IFS= read -r -d '' path; do
  path="${path#./}"
  case "$path" in *.meta) continue ;; esac
  case "$path" in Plugins | Plugins/*) continue ;; esac # placed by dist.sh (see above)
  write_meta "$path" "$(importer_for "$path")"$'\n'
done < <(find . -mindepth 1 \( -name '.*' -o -name '*~' \) -prune -o -print0 | sort -z)

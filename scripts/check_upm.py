#!/usr/bin/env python3
"""Validates the Unity Package Manager tarball that scripts/dist.sh makes (com.xo.tracker-<v>.tgz).

Checks what Unity's "Add package from tarball" and the package validation rules expect:
  - npm-pack layout: a gzipped tar whose every entry is under package/, no links, no '..';
  - package.json: name, semver version (= --version), unity, displayName, description, license,
    documentationUrl / changelogUrl / licensesUrl (https), samples that exist under Samples~/;
  - LICENSE.md, README.md, CHANGELOG.md, the runtime and editor assembly definitions;
  - no test or tool folders, no .gitignore;
  - every asset Unity imports (files and folders, not hidden, not under a folder ending in ~) has
    a .meta, every .meta has its asset, GUIDs are 32 hex digits and unique;
  - every native library under Plugins/ is a known path, is a binary of its kind (ELF, PE,
    Mach-O, ar), and has a PluginImporter .meta enabled for exactly its platforms, with its OS
    and CPU settings.

Usage: check_upm.py [--version V] [--require-all-plugins] PACKAGE.tgz
       check_upm.py --self-test PACKAGE.tgz   (broken copies of a good tarball must be rejected)
Prints one line per check and "N passed, N failed" last; exits 1 on any failure.
"""
import gzip
import io
import json
import os
import re
import sys
import tarfile

# Native library path -> ({platform enabled in the .meta: settings its block must hold}, magic numbers).
PLUGINS = {
    "Plugins/Windows/x86_64/xo_tracker.dll": (
        {"Editor: Editor": ["OS: Windows", "CPU: x86_64"], "Standalone: Win64": ["CPU: x86_64"]}, [b"MZ"]),
    "Plugins/macOS/libxo_tracker.dylib": (
        {"Editor: Editor": ["OS: OSX"], "Standalone: OSXUniversal": ["CPU: AnyCPU"]}, [b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe"]),
    "Plugins/Linux/x86_64/libxo_tracker.so": (
        {"Editor: Editor": ["OS: Linux", "CPU: x86_64"], "Standalone: Linux64": ["CPU: x86_64"]}, [b"\x7fELF"]),
    "Plugins/Android/arm64-v8a/libxo_tracker.so": ({"Android: Android": ["CPU: ARM64"]}, [b"\x7fELF"]),
    "Plugins/Android/armeabi-v7a/libxo_tracker.so": ({"Android: Android": ["CPU: ARMv7"]}, [b"\x7fELF"]),
    "Plugins/iOS/libxo_tracker.a": ({"iPhone: iOS": []}, [b"!<arch>\n"]),
    "Plugins/iOS/Simulator/libxo_tracker.a": ({"iPhone: iOS": []}, [b"!<arch>\n"]),
}
REQUIRED_FILES = ["package.json", "LICENSE.md", "README.md", "CHANGELOG.md", "Runtime/Xo.Tracker.asmdef",
                  "Editor/Xo.Tracker.Editor.asmdef"]
FORBIDDEN = ["Tests~", "Tools~", "test.sh", ".gitignore"]


class Checker:
    def __init__(self, quiet=False):
        self.passed = 0
        self.failed = 0
        self.quiet = quiet

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        if not self.quiet:
            print(("ok   " if ok else "FAIL ") + what)
        return ok


def read_tarball(data):
    """{path under package/: bytes or None for a folder}, plus the raw member names."""
    files, names = {}, []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            names.append((m.name, m.type))
            if m.isfile():
                files[m.name] = tar.extractfile(m).read()
            elif m.isdir():
                files.setdefault(m.name.rstrip("/"), None)
    return files, names


def imported(path):
    """Whether Unity imports this package path (hidden files and folders ending in ~ are skipped)."""
    return not any(part.startswith(".") or part.endswith("~") for part in path.split("/"))


def validate(data, c, version=None, require_all=False):
    try:
        gzip.decompress(data)
        files, names = read_tarball(data)
    except (OSError, tarfile.TarError, EOFError) as e:
        c.check(False, "the tarball is a gzipped tar: %s" % e)
        return
    c.check(True, "the tarball is a gzipped tar")
    bad = [n for n, _ in names if not (n == "package" or n.startswith("package/")) or ".." in n.split("/")]
    c.check(not bad, "every entry is under package/ (npm pack layout)%s" % (": " + ", ".join(bad[:5]) if bad else ""))
    links = [n for n, t in names if t in (tarfile.SYMTYPE, tarfile.LNKTYPE)]
    c.check(not links, "no links%s" % (": " + ", ".join(links) if links else ""))

    pkg = {}
    for name, content in files.items():
        if name.startswith("package/"):
            pkg[name[len("package/"):]] = content
    # Folders implied by the files (tar may or may not list them).
    for path in list(pkg):
        parts = path.split("/")
        for i in range(1, len(parts)):
            pkg.setdefault("/".join(parts[:i]), None)
    pkg.pop("", None)

    for f in REQUIRED_FILES:
        c.check(isinstance(pkg.get(f), bytes), "package/%s is present" % f)
    for f in FORBIDDEN:
        c.check(f not in pkg, "no %s in the package" % f)

    try:
        manifest = json.loads(pkg.get("package.json") or b"")
    except ValueError as e:
        c.check(False, "package.json is JSON: %s" % e)
        manifest = {}
    c.check(manifest.get("name") == "com.xo.tracker", "package.json name is com.xo.tracker")
    v = str(manifest.get("version", ""))
    c.check(re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", v) is not None, "package.json version is semver (%s)" % v)
    if version is not None:
        c.check(v == version, "package.json version is the library's (%s)" % version)
    c.check(re.fullmatch(r"\d{4}\.\d", str(manifest.get("unity", ""))) is not None, "package.json unity is YEAR.N")
    for field in ("displayName", "description", "license"):
        c.check(isinstance(manifest.get(field), str) and manifest[field] != "", "package.json %s" % field)
    for field in ("documentationUrl", "changelogUrl", "licensesUrl"):
        c.check(re.fullmatch(r"https://\S+", str(manifest.get(field, ""))) is not None, "package.json %s is an https URL" % field)
    for sample in manifest.get("samples", []):
        path = str(sample.get("path", ""))
        c.check(path.startswith("Samples~/") and any(p.startswith(path.rstrip("/") + "/") for p in pkg),
                "sample %s is in the package" % path)

    assets = sorted(p for p in pkg if not p.endswith(".meta") and imported(p))
    metas = sorted(p for p in pkg if p.endswith(".meta") and imported(p))
    missing = [a for a in assets if not isinstance(pkg.get(a + ".meta"), bytes)]
    c.check(not missing, "every asset and folder has its .meta (%d assets)%s" % (len(assets), ": " + ", ".join(missing) if missing else ""))
    orphans = [m for m in metas if m[:-len(".meta")] not in pkg]
    c.check(not orphans, "no .meta without its asset%s" % (": " + ", ".join(orphans) if orphans else ""))
    guids, bad_meta = {}, []
    for m in metas:
        text = (pkg[m] or b"").decode("utf-8", "replace")
        g = re.search(r"^guid: ([0-9a-f]{32})\s*$", text, re.M)
        if not text.startswith("fileFormatVersion: 2\n") or not g:
            bad_meta.append(m)
            continue
        if g.group(1) in guids:
            bad_meta.append(m + " (guid also in " + guids[g.group(1)] + ")")
        guids[g.group(1)] = m
        asset = pkg.get(m[:-len(".meta")], b"")
        if asset is None and "folderAsset: yes" not in text:
            bad_meta.append(m + " (folder without folderAsset)")
    c.check(not bad_meta, "every .meta has fileFormatVersion 2 and a unique guid%s" % (": " + ", ".join(bad_meta) if bad_meta else ""))

    plugins = sorted(p for p, content in pkg.items()
                     if p.startswith("Plugins/") and isinstance(content, bytes) and not p.endswith(".meta"))
    c.check(len(plugins) > 0, "at least one native library under Plugins/ (%s)" % ", ".join(plugins))
    if require_all:
        absent = [p for p in PLUGINS if p not in plugins]
        c.check(not absent, "every platform's native library is present%s" % (": missing " + ", ".join(absent) if absent else ""))
    for p in plugins:
        if not c.check(p in PLUGINS, "%s is a known native library path" % p):
            continue
        platforms, magics = PLUGINS[p]
        c.check(any(pkg[p].startswith(m) for m in magics), "%s is a binary of its kind" % p)
        text = (pkg.get(p + ".meta") or b"").decode("utf-8", "replace")
        c.check("\nPluginImporter:\n" in text, "%s.meta has a PluginImporter" % p)
        blocks = {m.group(1).strip(): (m.group(2) == "1", m.group(3)) for m in re.finditer(
            r"- first:\n\s+(.*?)\n\s+second:\n\s+enabled: (\d)\n\s+settings:(.*?)(?=\n  - first:|\n  userData:|\Z)", text, re.S)}
        enabled = sorted(k for k, (on, _) in blocks.items() if on)
        c.check(enabled == sorted(platforms), "%s is enabled for exactly %s (is: %s)" % (p, ", ".join(platforms), ", ".join(enabled)))
        for platform, settings in platforms.items():
            block = blocks.get(platform, (False, ""))[1]
            for setting in settings:
                c.check(re.search(r"^\s+" + re.escape(setting) + r"\s*$", block, re.M) is not None,
                        "%s.meta: %s has %s" % (p, platform, setting))
        c.check(re.search(r"Exclude WebGL: 1", text) is not None, "%s.meta excludes WebGL" % p)
    # Both iOS libraries are enabled for iOS; the Editor's XoTrackerIosSdk (found by their GUIDs)
    # lets the one of the build's Target SDK into the Xcode project.
    selector = (pkg.get("Editor/XoTrackerIosSdk.cs") or b"").decode("utf-8", "replace")
    for p in (p for p in plugins if p.startswith("Plugins/iOS/")):
        g = re.search(r"^guid: ([0-9a-f]{32})\s*$", (pkg.get(p + ".meta") or b"").decode("utf-8", "replace"), re.M)
        c.check(g is not None and ('"%s"' % g.group(1)) in selector,
                "%s: the Editor's iOS SDK selector knows its GUID" % p)


def retar(data, mutate):
    """A copy of the tarball with mutate(dict path -> bytes|None) applied."""
    files, _ = read_tarball(data)
    mutate(files)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            if files[name] is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(files[name]), 0o644
                tar.addfile(info, io.BytesIO(files[name]))
    return out.getvalue()


def with_every_plugin(files):
    """Adds every platform's library (a stand-in with the right magic number) with the .meta
    files the package ships from Tools~/plugin-meta: the release's layout, checkable here."""
    metas = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "csharp", "Tools~", "plugin-meta")
    for path, (_, magics) in PLUGINS.items():
        files["package/" + path] = magics[0] + bytes(64)
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            with open(os.path.join(metas, *parts[:i]) + ".meta", "rb") as f:
                files["package/" + "/".join(parts[:i]) + ".meta"] = f.read()


def self_test(data):
    c = Checker()
    good = Checker(quiet=True)
    validate(data, good)
    c.check(good.failed == 0 and good.passed > 20, "self-test: the real tarball passes (%d checks)" % good.passed)
    full = Checker(quiet=True)
    validate(retar(data, with_every_plugin), full, require_all=True)
    c.check(full.failed == 0 and full.passed > good.passed,
            "self-test: with every platform's library and its shipped .meta, --require-all-plugins passes (%d checks, %d failed)"
            % (full.passed, full.failed))

    def unknown_ios_guid(files):
        with_every_plugin(files)
        meta = "package/Plugins/iOS/Simulator/libxo_tracker.a.meta"
        files[meta] = re.sub(rb"guid: [0-9a-f]{32}", b"guid: " + b"0" * 32, files[meta])

    result = Checker(quiet=True)
    validate(retar(data, unknown_ios_guid), result, require_all=True)
    c.check(result.failed > 0, "self-test: rejects an iOS library the iOS SDK selector does not know")

    def plugin(files):
        return next(n for n in files if n.startswith("package/Plugins/") and files[n] is not None and not n.endswith(".meta"))

    def set_meta(files, old, new):
        meta = plugin(files) + ".meta"
        files[meta] = files[meta].replace(old, new, 1)

    def manifest_without(field):
        def mutate(files):
            m = json.loads(files["package/package.json"])
            m.pop(field)
            files["package/package.json"] = json.dumps(m).encode()
        return mutate

    broken = {
        "a plugin without its .meta": lambda f: f.pop(plugin(f) + ".meta"),
        "a .meta without its asset": lambda f: f.__setitem__("package/Runtime/Gone.cs.meta", f["package/Runtime.meta"]),
        "an asset without its .meta": lambda f: f.__setitem__("package/Runtime/New.cs", b"// new"),
        "a file outside package/": lambda f: f.__setitem__("other/package.json", b"{}"),
        "no documentationUrl": manifest_without("documentationUrl"),
        "no LICENSE.md": lambda f: f.pop("package/LICENSE.md"),
        "a plugin not enabled for its platform": lambda f: set_meta(f, b"enabled: 1", b"enabled: 0"),
        "a plugin without its CPU setting": lambda f: set_meta(f, b"CPU: x86_64", b"CPU: None"),
        "a plugin that is not a binary": lambda f: f.__setitem__(plugin(f), b"not a library"),
        "a test folder shipped": lambda f: f.__setitem__("package/Tests~/T.cs", b"// test"),
        "a duplicate guid": lambda f: f.__setitem__("package/README.md.meta", f["package/CHANGELOG.md.meta"]),
    }
    for what, mutate in broken.items():
        result = Checker(quiet=True)
        validate(retar(data, mutate), result)
        c.check(result.failed > 0, "self-test: rejects %s" % what)
    return c


def main(argv):
    args = list(argv)
    version = None
    require_all = "--require-all-plugins" in args
    if require_all:
        args.remove("--require-all-plugins")
    selftest = "--self-test" in args
    if selftest:
        args.remove("--self-test")
    if "--version" in args:
        i = args.index("--version")
        version = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        data = f.read()
    if selftest:
        c = self_test(data)
    else:
        c = Checker()
        validate(data, c, version, require_all)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Merges the outcomes of several cargo-mutants passes (docs/mutation-testing.md).

Usage: mutants_merge.py NAMES.txt OUT_DIR...
  NAMES.txt  `cargo mutants --list ...` of the tree the score is for
  OUT_DIR    each pass's -o folder, oldest first: a later pass's outcome for a mutant name wins
Prints the counts per file, the score, the missed mutants and those no pass tested.
"""
import collections
import json
import sys

runs = sys.argv[2:]
latest = {}
for r in runs:
    for d in (f"{r}/mutants.out.old", f"{r}/mutants.out"):
        try:
            o = json.load(open(d + "/outcomes.json"))
        except FileNotFoundError:
            continue
        for x in o["outcomes"]:
            m = x["scenario"]
            if not isinstance(m, dict):
                continue
            name = m["Mutant"]["name"]
            latest[name] = (x["summary"], r)
names = [l.strip() for l in open(sys.argv[1]) if l.strip()]
count = collections.Counter()
per_file = collections.defaultdict(collections.Counter)
untested = []
for n in names:
    s = latest.get(n, ("untested", None))[0]
    count[s] += 1
    per_file[n.split(":")[0]][s] += 1
    if s == "untested":
        untested.append(n)
print(dict(count))
for f, c in sorted(per_file.items()):
    viable = c["CaughtMutant"] + c["Timeout"] + c["MissedMutant"]
    print(f, dict(c), "score %d/%d" % (c["CaughtMutant"] + c["Timeout"], viable))
print("missed:")
for n in names:
    if latest.get(n, ("",))[0] == "MissedMutant":
        print("  ", n, latest[n][1])
print("untested:", *untested, sep="\n  ")

#!/usr/bin/env python3
"""check_match.py — checks analyze.py's numbers against `hashgate match` itself.

run.sh matches every edited copy with `hashgate match --json --list LIST`
(its default query views, i.e. configuration "A3 uncaption") against a list of
the originals' plain PDQ hashes whose ids are the photo names. This script
counts, per edit, the copies matched to their own photo and the matches to a
different photo, compares them with the A3 rows of results.csv, and prints a
Markdown section for the report. Exit 1 on any disagreement.

Usage: check_match.py MATCH.jsonl OUT_DIR LIST
  OUT_DIR holds analyze.py's results.csv and falsematch.csv; LIST is the hash
  list given to hashgate match (its ids are the scored photos).
"""
import collections
import csv
import json
import os
import sys

CONFIG = "A5 dihedral-pixels"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[3]) as f:
        listed = {line.strip().split(",", 1)[1] for line in f if "," in line}
    hits = collections.Counter()
    total = collections.Counter()
    wrong = 0
    skipped = 0
    with open(argv[1]) as f:
        for line in f:
            r = json.loads(line)
            edit = os.path.basename(os.path.dirname(r["file"]))
            photo = os.path.splitext(os.path.basename(r["file"]))[0]
            if photo not in listed:
                continue
            total[edit] += 1
            ids = [m["id"] for m in r.get("matches", [])]
            if photo in ids:
                hits[edit] += 1
            wrong += sum(1 for i in ids if i != photo)
            skipped += "skipped" in r
    expected = {}
    with open(os.path.join(argv[2], "results.csv")) as f:
        for row in csv.DictReader(f):
            if row["config"] == CONFIG:
                expected[row["edit"]] = (float(row["recall"]), int(row["n"]))
    with open(os.path.join(argv[2], "falsematch.csv")) as f:
        fm = {row["config"]: int(row["false_matches"]) for row in csv.DictReader(f)}
    bad = []
    for edit, (recall, n) in expected.items():
        got = 100.0 * hits[edit] / total[edit] if total[edit] else float("nan")
        if total[edit] != n or abs(got - recall) > 0.01:
            bad.append(f"{edit}: hashgate match {hits[edit]}/{total[edit]}, "
                       f"analyze.py {recall:.2f}% of {n}")
    if fm.get(CONFIG) != wrong:
        bad.append(f"false matches: hashgate match {wrong}, analyze.py {fm.get(CONFIG)}")
    print("\n## Cross-check with `hashgate match`\n")
    print(f"Every edited copy was also matched by `hashgate match --json --list` (its "
          f"default views) against the originals' plain hashes: "
          f"{sum(hits.values())} of {sum(total.values())} copies matched their own photo, "
          f"{wrong} matches named a different photo, {skipped} copies were skipped as too "
          f"flat. Per edit this "
          + ("agrees exactly with the A5 column above." if not bad else
             "DISAGREES with the A5 column above: " + "; ".join(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

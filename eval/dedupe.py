#!/usr/bin/env python3
"""dedupe.py — drops near-identical photos from the evaluation corpus.

Reads `hashgate hash --json --dihedral` lines of the normalised originals and
prints the files to drop: a photo whose dihedral variants come within RADIUS
of an earlier (by name) kept photo is the same picture shipped twice, and
keeping both would count a true match as a false one. Each drop is reported
on stderr with the photo it duplicates, so a reader can check the decision.

Usage: dedupe.py HASHES.jsonl [RADIUS]      (RADIUS defaults to 31)
"""
import json
import sys

VARIANTS = ("orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    radius = int(argv[2]) if len(argv) == 3 else 31
    with open(argv[1]) as f:
        recs = sorted((json.loads(line) for line in f if line.strip()),
                      key=lambda r: r["file"])
    kept = []
    for r in recs:
        vs = [int(r["dihedral"][k], 16) for k in VARIANTS]
        dup = None
        for name, h in kept:
            d = min((v ^ h).bit_count() for v in vs)
            if d <= radius:
                dup = (name, d)
                break
        if dup:
            print(r["file"])
            print(f"dedupe: {r['file']} duplicates {dup[0]} (distance {dup[1]})",
                  file=sys.stderr)
        else:
            kept.append((r["file"], vs[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""analyze.py — turns hashgate's hashes of originals and edits into the report.

Input: the JSON lines `hashgate hash --json --dihedral [--unletterbox]
[--regions]` printed for ORIG_DIR/<photo>.png and EDIT_DIR/<edit>/<photo>.*,
and the edit table (`edits.py --list`). Output in OUT_DIR: results.csv (one row
per configuration and edit), falsematch.csv, report.md, and gnuplot data files
(*.dat) that run.sh plots.

A configuration says which hashes the query side (the upload) computes and
which the bank holds per known image:
  query "plain"      the upload's PDQ hash only
  query "dihedral"   its 8 dihedral variants
  query "unletterbox" also the 8 variants of the upload with uniform bars
                     trimmed (hashgate hash --unletterbox), when it found some
  query "uncaption"  also the upload without its caption bands (up to 5 trims
                     when a band's extent is ambiguous), with them painted
                     over, and with see-through bars undone
                     (hashgate hash --uncaption)
  query "upscale"    also a small upload with its pixels repeated
                     (hashgate hash --upscale)
  query "dihedral-pixels" also exact dihedral variants of a small upload
                     (hashgate hash --dihedral-pixels)
  bank  "pdq"        the plain PDQ hash of the original: a hotline's hash list
  bank  regions      also hashes of canonical sub-regions of the original
                     (hashgate hash --regions): a bank a platform builds from
                     its own images
A query matches photo P when any of its hashes is within the radius of any of
P's bank hashes. Recall counts an edit of P matched to P; a false match is a
query matched to a different photo (counted per query/photo pair).

Usage: analyze.py HASHES.jsonl ORIG_DIR EDIT_DIR EDITS.csv OUT_DIR [RADIUS]
Python standard library only.
"""
import collections
import csv
import json
import os
import sys

MAXT = 64  # thresholds plotted: 0..MAXT
MIN_QUALITY = 50  # HG_PDQ_MIN_QUALITY: flatter hashes are neither listed nor matched


def hexint(h):
    return int(h, 16)


def load(path):
    recs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            recs[os.path.realpath(r["file"])] = r
    return recs


def variants(r):
    """The 8 dihedral hashes of one record (element 0 = the plain hash)."""
    d = r.get("dihedral")
    if d:
        return [hexint(d[k]) for k in ("orig", "rot90", "rot180", "rot270", "flipx",
                                       "flipy", "flipplus1", "flipminus1")]
    return [hexint(r["pdq"])]


def extras(r, kind):
    """Extra hashes of one kind, without those too flat to match on (hashgate
    match skips PDQ quality < 50, as pytx and HMA do)."""
    return [variants(e) for e in r.get("extra", [])
            if e.get("kind") == kind and e["quality"] >= MIN_QUALITY]


def regions(r):
    return {e["name"]: hexint(e["pdq"]) for e in r.get("extra", [])
            if e.get("kind") == "region" and e["quality"] >= MIN_QUALITY}


# Configurations: name, query kinds, dihedral?, bank hashes, description.
# Bank hash names: "pdq" (the original's) and hashgate's region names.
CENTERS = ["center90", "center80", "center70", "center60"]
CORNERS = ["tl85", "tr85", "bl85", "br85"]
QALL = ["full", "trim", "ctrim", "cfill", "cveil", "up", "dpx"]
CONFIGS = [
    ("A0 plain", ["full"], False, ["pdq"], "hash list; plain PDQ on both sides, no dihedral"),
    ("A1 dihedral", ["full"], True, ["pdq"], "hash list; query: the 8 dihedral variants"),
    ("A2 unletterbox", ["full", "trim"], True, ["pdq"],
     "hash list; query: dihedral, plus the picture with uniform bars trimmed"),
    ("A3 uncaption", QALL[:5], True, ["pdq"],
     "hash list; query: A2, plus the picture without / under caption bands, "
     "and with see-through bars undone"),
    ("A4 upscale", QALL[:6], True, ["pdq"],
     "hash list; query: A3, plus small uploads with pixels repeated"),
    ("A5 dihedral-pixels", QALL, True, ["pdq"],
     "hash list; query: A4, plus exact dihedral variants of small uploads "
     "(hashgate match's default)"),
    ("B1 center80", QALL, True, ["pdq", "center80"],
     "bank from images: A5 + the middle 80% of each image"),
    ("B2 centers", QALL, True, ["pdq"] + CENTERS,
     "bank from images: A5 + the middle 90/80/70/60%"),
    ("B3 centers+corners", QALL, True, ["pdq"] + CENTERS + CORNERS,
     "bank from images: B2 + the four 85% corners"),
]


def pct(n, d):
    return 100.0 * n / d if d else float("nan")


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))]


def main(argv):
    if len(argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    hashes_path, orig_dir, edit_dir, edits_csv, out = argv[1:6]
    radius = int(argv[6]) if len(argv) == 7 else 31
    recs = load(hashes_path)
    edits = []
    with open(edits_csv) as f:
        for row in csv.reader(f):
            edits.append((row[0], row[1], row[2]))

    photos = sorted(p[:-4] for p in os.listdir(orig_dir) if p.endswith(".png"))
    bank = {}  # photo -> kind -> list of hashes (no dihedral on the bank side)
    quality = {}
    for p in photos:
        r = recs.get(os.path.realpath(os.path.join(orig_dir, p + ".png")))
        if r is None:
            print(f"analyze: no hash for original {p}", file=sys.stderr)
            return 1
        quality[p] = r["quality"]
        if r["quality"] >= MIN_QUALITY:
            bank[p] = {"pdq": hexint(r["pdq"]), **regions(r)}
    flat = [p for p in photos if p not in bank]
    photos = [p for p in photos if p in bank]
    bank_flat = [(p, k, h) for p in photos for k, h in bank[p].items()]

    # queries: (photo, edit, file) -> kind -> list of 8-variant lists
    queries = []
    missing = collections.Counter()
    for name, _, _ in edits:
        d = os.path.join(edit_dir, name)
        files = {os.path.splitext(f)[0]: f for f in (os.listdir(d) if os.path.isdir(d) else [])}
        for p in photos:
            r = recs.get(os.path.realpath(os.path.join(d, files[p]))) if p in files else None
            if r is None:
                missing[name] += 1
                continue
            full = [variants(r)] if r["quality"] >= MIN_QUALITY else []
            queries.append((p, name, {"full": full, "trim": extras(r, "unletterbox"),
                                      "ctrim": extras(r, "caption-trim"),
                                      "cfill": extras(r, "caption-fill"),
                                      "cveil": extras(r, "caption-unveil"),
                                      "up": extras(r, "upscale"),
                                      "dpx": extras(r, "dihedral-pixels")}))
    # The originals themselves, as queries, give the photo-against-photo pairs.
    orig_queries = [(p, "original", {"full": [[bank[p]["pdq"]]], "trim": []})
                    for p in photos]

    def min_dists(q, cfg):
        """Distance from one query to every photo under a configuration."""
        _, qkinds, dih, bkinds, _ = cfg
        qh = [h for k in qkinds for var in q.get(k, []) for h in (var if dih else var[:1])]
        best = {}
        if not qh:
            return {p: 257 for p in photos}  # too flat: not matched at all
        for p, k, b in bank_flat:
            if k not in bkinds:
                continue
            d = min((x ^ b).bit_count() for x in qh)
            if d < best.get(p, 257):
                best[p] = d
        return best

    rows = []
    fm_rows = []
    curves = {}  # config -> (recall hist over goal edits, false-match hist)
    same_hist = {}
    diff_hist = {}
    per_edit_dists = {}
    for cfg in CONFIGS:
        cname = cfg[0]
        per_edit = collections.defaultdict(list)
        other = collections.Counter()  # distance -> count of (query, other photo) pairs
        lowest = (257, None, None, None)
        for p, e, q in queries:
            best = min_dists(q, cfg)
            per_edit[e].append(best[p])
            for o, d in best.items():
                if o != p:
                    other[d] += 1
                    if d < lowest[0]:
                        lowest = (d, e, p, o)
        pairs = sum(other.values())
        fm = sum(c for d, c in other.items() if d <= radius)
        # originals against each other (the bank's own spread)
        oo = collections.Counter()
        olow = (257, None, None)
        for p, _, q in orig_queries:
            best = min_dists(q, cfg)
            for o, d in best.items():
                if o != p:
                    oo[d] += 1
                    if d < olow[0]:
                        olow = (d, p, o)
        fm_rows.append({
            "config": cname, "query_pairs": pairs, "false_matches": fm,
            "false_match_rate": fm / pairs if pairs else float("nan"),
            "lowest_other": lowest[0], "lowest_edit": lowest[1],
            "lowest_query": lowest[2], "lowest_photo": lowest[3],
            "orig_pairs": sum(oo.values()),
            "orig_false_matches": sum(c for d, c in oo.items() if d <= radius),
            "orig_lowest": olow[0], "orig_lowest_a": olow[1], "orig_lowest_b": olow[2],
            "bank_hashes": sum(1 for p in photos for k in bank[p] if k in cfg[3]),
        })
        goal_dists = []
        for name, group, desc in edits:
            ds = per_edit.get(name, [])
            if group not in ("crop", "rot5"):
                goal_dists += ds
            rows.append({
                "config": cname, "edit": name, "group": group, "n": len(ds),
                "missing": missing[name],
                "recall": pct(sum(1 for d in ds if d <= radius), len(ds)),
                "median": quantile(ds, 0.5), "p90": quantile(ds, 0.9),
                "max": max(ds) if ds else float("nan"), "description": desc,
            })
        curves[cname] = (collections.Counter(goal_dists), len(goal_dists), other, pairs)
        same_hist[cname] = collections.Counter(goal_dists)
        diff_hist[cname] = other
        per_edit_dists[cname] = per_edit

    os.makedirs(out, exist_ok=True)
    fields = ["config", "edit", "group", "n", "missing", "recall", "median", "p90", "max",
              "description"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in r.items()})
    with open(os.path.join(out, "falsematch.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fm_rows[0].keys()))
        w.writeheader()
        for r in fm_rows:
            w.writerow(r)

    # gnuplot data: recall and false-match rate against the threshold.
    with open(os.path.join(out, "threshold.dat"), "w") as f:
        f.write("# threshold " + " ".join(f'"recall {c[0]}" "fm {c[0]}"' for c in CONFIGS)
                + "\n")
        for t in range(MAXT + 1):
            cols = []
            for c in CONFIGS:
                hist, n, other, pairs = curves[c[0]]
                cols.append(pct(sum(v for d, v in hist.items() if d <= t), n))
                cols.append(pct(sum(v for d, v in other.items() if d <= t), pairs))
            f.write(f"{t} " + " ".join(f"{x:.4f}" for x in cols) + "\n")
    # distance histograms, same photo (goal edits) against different photos
    with open(os.path.join(out, "hist.dat"), "w") as f:
        f.write("# distance " + " ".join(f'"same {c[0]}" "other {c[0]}"' for c in CONFIGS)
                + "\n")
        for d in range(0, 257, 4):
            cols = []
            for c in CONFIGS:
                sh, oh = same_hist[c[0]], diff_hist[c[0]]
                sn, on = sum(sh.values()) or 1, sum(oh.values()) or 1
                cols.append(pct(sum(sh[x] for x in range(d, d + 4)), sn))
                cols.append(pct(sum(oh[x] for x in range(d, d + 4)), on))
            f.write(f"{d + 2} " + " ".join(f"{x:.4f}" for x in cols) + "\n")
    with open(os.path.join(out, "plotvars.gp"), "w") as f:
        f.write('names = "' + " ".join(c[0].replace(" ", "-") for c in CONFIGS) + '"\n')
    # per-edit recall for the bar chart
    with open(os.path.join(out, "peredit.dat"), "w") as f:
        for name, _, _ in edits:
            vals = [r["recall"] for c in CONFIGS for r in rows
                    if r["config"] == c[0] and r["edit"] == name]
            f.write(f"{name} " + " ".join(f"{v:.2f}" for v in vals) + "\n")

    # query hashes per upload under the default (A5 kinds, flat sets left out)
    per_upload = collections.defaultdict(list)
    for p, e, q in queries:
        per_upload[e].append(8 * sum(len(q.get(k, [])) for k in QALL))
    write_report(out, rows, fm_rows, edits, photos, flat, missing, radius, per_upload)
    return 0


def write_report(out, rows, fm_rows, edits, photos, flat, missing, radius, per_upload):
    by = {(r["config"], r["edit"]): r for r in rows}
    cnames = [c[0] for c in CONFIGS]
    lines = []
    lines.append(f"# hashgate evaluation: recall on edited copies at radius {radius}\n")
    lines.append(f"{len(photos)} distinct photos, {len(edits)} edits each. Hashes with PDQ "
                 f"quality below {MIN_QUALITY} are neither listed nor matched (as `hashgate "
                 "match`, pytx and HMA do): a query whose hashes are all that flat counts as "
                 "a miss. Originals left out for that reason: "
                 + (", ".join(flat) if flat else "none") + ".\n")
    lines.append("Configurations:\n")
    for c in CONFIGS:
        lines.append(f"- **{c[0]}**: {c[4]}")
    lines.append("\n## Recall per edit (% of photos matched to their original)\n")
    lines.append("| edit | group | " + " | ".join(cnames) + " | median d (" + cnames[-1]
                 + ") | max d |")
    lines.append("|---|---|" + "---:|" * len(cnames) + "---:|---:|")
    for name, group, desc in edits:
        vals = []
        for c in cnames:
            r = by[(c, name)]
            v = f"{r['recall']:.1f}"
            if group not in ("crop", "rot5") and r["recall"] < 99.0:
                v = f"**{v}**"
            vals.append(v)
        last = by[(cnames[-1], name)]
        lines.append(f"| {name} ({desc}) | {group} | " + " | ".join(vals)
                     + f" | {last['median']} | {last['max']} |")
    lines.append("\nBold: below the 99% goal (crops and rot5 are outside the goal).")
    if any(missing.values()):
        lines.append("\nEdits hashgate could not hash (counted as absent, not as misses): "
                     + ", ".join(f"{k}: {v}" for k, v in missing.items() if v))
    lines.append("\n## False matches between different photos\n")
    lines.append("| config | bank hashes | query/photo pairs | false matches | rate "
                 "| lowest distance (edit: query -> photo) | originals: pairs within radius "
                 "| originals: lowest |")
    lines.append("|---|---:|---:|---:|---:|---|---:|---:|")
    for r in fm_rows:
        lines.append(f"| {r['config']} | {r['bank_hashes']} | {r['query_pairs']} | "
                     f"{r['false_matches']} | {r['false_match_rate']:.2e} | "
                     f"{r['lowest_other']} ({r['lowest_edit']}: {r['lowest_query']} -> "
                     f"{r['lowest_photo']}) | {r['orig_false_matches']} / {r['orig_pairs']} | "
                     f"{r['orig_lowest']} ({r['orig_lowest_a']} / {r['orig_lowest_b']}) |")
    lines.append("\n## Query hashes per upload (the default, A5)\n")
    lines.append("Hashes an upload is matched with (8 per view; views too flat to match "
                 "on left out): mean and largest per edit.\n")
    lines.append("| edit | mean | max |")
    lines.append("|---|---:|---:|")
    allq = []
    for name, _, _ in edits:
        qs = per_upload.get(name, [])
        allq += qs
        if qs:
            lines.append(f"| {name} | {sum(qs) / len(qs):.1f} | {max(qs)} |")
    if allq:
        lines.append(f"| all copies | {sum(allq) / len(allq):.1f} | {max(allq)} |")
    lines.append("\n## Plots\n")
    lines.append("![recall and false-match rate against the radius](threshold.png)\n")
    lines.append("![distance histograms](hist.png)\n")
    lines.append("![recall per edit](peredit.png)\n")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

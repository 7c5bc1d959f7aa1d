#!/usr/bin/env python3
"""edits.py — makes the edited copies the evaluation hashes.

Each photo in ORIG_DIR (normalised PNGs) gets one file per edit in
EDIT_DIR/<edit>/<photo>.<ext>, made by ImageMagick's `convert`. The edits are
what uploads of a known picture look like in practice: recompression,
resizing, EXIF-style rotations and flips, colour changes, crops, bars and
padding. The table below is the single list of edits; analyze.py reads the
group of each edit from `edits.py --list`.

Usage: edits.py [--only A,B,...] ORIG_DIR EDIT_DIR [-j N]   make the edits
       edits.py [--only A,B,...] --list                     name,group,description
Only the Python standard library and ImageMagick are used.
"""
import concurrent.futures
import csv
import os
import subprocess
import sys

FONT = "DejaVu-Sans"


def dims(path):
    out = subprocess.run(["identify", "-format", "%w %h", path + "[0]"],
                         check=True, capture_output=True, text=True).stdout
    w, h = out.split()
    return int(w), int(h)


def crop_center(frac):
    def f(w, h):
        cw, ch = round(w * (1 - 2 * frac)), round(h * (1 - 2 * frac))
        return ["-crop", f"{cw}x{ch}+{(w - cw) // 2}+{(h - ch) // 2}", "+repage"]
    return f


def crop_corner(w, h):
    # 10% off the top and the left only: an off-centre crop, which canonical
    # centre regions cannot anticipate.
    cw, ch = round(w * 0.9), round(h * 0.9)
    return ["-crop", f"{cw}x{ch}+{w - cw}+{h - ch}", "+repage"]


def letterbox(w, h):
    # Black bars above and below, as when a photo is shown in a 16:9 frame.
    bar = max(8, round(h * 0.15))
    return ["-bordercolor", "black", "-border", f"0x{bar}"]


def pillarbox(w, h):
    bar = max(8, round(w * 0.15))
    return ["-bordercolor", "black", "-border", f"{bar}x0"]


def caption_bar(frac, bar, ink, gravity, quality=None):
    # A bar with text laid over the picture (canvas size kept). `bar` may be
    # semi-transparent (e.g. "rgba(0,0,0,0.6)"): the picture shows through.
    def f(w, h):
        bh = max(12, round(h * frac))
        args = ["(", "-size", f"{w}x{bh}", f"xc:{bar}", "-fill", ink, "-font", FONT,
                "-pointsize", str(max(8, round(bh * 0.55))), "-gravity", "center",
                "-annotate", "+0+0", "look at this", ")", "-gravity", gravity, "-composite"]
        return args + (["-quality", str(quality)] if quality else [])
    return f


# A black bar with white text laid over the top 15% of the picture.
caption = caption_bar(0.15, "black", "white", "north")


def meme_band(frac, gravity, quality=None):
    # A white band with black text added above (or below) the picture: the
    # canvas grows.
    def f(w, h):
        bh = max(12, round(h * frac))
        args = ["-gravity", gravity, "-background", "white", "-splice", f"0x{bh}",
                "-fill", "black", "-font", FONT, "-pointsize", str(max(8, round(bh * 0.45))),
                "-annotate", f"+0+{bh // 4}", "when the code compiles"]
        return args + (["-quality", str(quality)] if quality else [])
    return f


meme = meme_band(0.2, "north")


def screenshot(w, h):
    # The photo shown in a viewer: centred on a flat dark-grey 16:9 canvas.
    cw = max(round(w * 1.25), round(h * 1.25 * 16 / 9))
    ch = max(round(h * 1.25), round(cw * 9 / 16))
    return ["-background", "#2b2b2b", "-gravity", "center", "-extent", f"{cw}x{ch}"]


def fixed(*args):
    return lambda w, h: list(args)


# name, group, extension, convert arguments (a function of width and height),
# description. Groups: "crop" and "rot5" are outside the 99% goal.
EDITS = [
    ("jpeg90", "codec", "jpg", fixed("-quality", "90"), "JPEG quality 90"),
    ("jpeg50", "codec", "jpg", fixed("-quality", "50"), "JPEG quality 50"),
    ("jpeg30", "codec", "jpg", fixed("-quality", "30"), "JPEG quality 30"),
    ("webp", "codec", "webp", fixed("-quality", "75"), "WebP quality 75"),
    ("resize50", "scale", "png", fixed("-resize", "50%"), "resize to 50%"),
    ("resize25", "scale", "png", fixed("-resize", "25%"), "resize to 25%"),
    ("squash", "scale", "png", fixed("-resize", "100%x75%!"), "height to 75%, width kept"),
    ("rot90", "dihedral", "png", fixed("-rotate", "270"), "rotate 90 degrees counter-clockwise"),
    ("rot180", "dihedral", "png", fixed("-rotate", "180"), "rotate 180 degrees"),
    ("rot270", "dihedral", "png", fixed("-rotate", "90"), "rotate 90 degrees clockwise"),
    ("flipx", "dihedral", "png", fixed("-flip"), "flip top to bottom"),
    ("flipy", "dihedral", "png", fixed("-flop"), "mirror left to right"),
    ("transpose", "dihedral", "png", fixed("-transpose"), "transpose"),
    ("transverse", "dihedral", "png", fixed("-transverse"), "anti-transpose"),
    ("gray", "colour", "png", fixed("-colorspace", "Gray"), "greyscale"),
    ("brightcon", "colour", "png", fixed("-brightness-contrast", "15x20"),
     "brightness +15%, contrast +20%"),
    ("blur", "filter", "png", fixed("-blur", "0x2"), "Gaussian blur, sigma 2 px"),
    ("noise", "filter", "png", fixed("-attenuate", "0.5", "+noise", "Gaussian"),
     "Gaussian noise"),
    ("letterbox", "border", "png", letterbox, "black bars, 15% of the height, above and below"),
    ("pillarbox", "border", "png", pillarbox, "black bars, 15% of the width, left and right"),
    ("screenshot", "border", "png", screenshot, "centred on a dark-grey 16:9 canvas"),
    ("caption", "overlay", "png", caption, "black caption bar over the top 15%"),
    ("meme", "overlay", "png", meme, "white caption band added above (+20% height)"),
    # Variants of caption and meme, to see whether what wins on those two
    # generalises (other sides, sizes, colours, a see-through bar, JPEG).
    ("caption_bottom", "overlay", "png", caption_bar(0.15, "black", "white", "south"),
     "black caption bar over the bottom 15%"),
    ("caption_white10", "overlay", "png", caption_bar(0.10, "white", "black", "north"),
     "white caption bar over the top 10%"),
    ("caption_see", "overlay", "png", caption_bar(0.15, "rgba(0,0,0,0.6)", "white", "north"),
     "60%-opaque black bar with text over the top 15%"),
    ("caption_jpeg", "overlay", "jpg", caption_bar(0.15, "black", "white", "north", 75),
     "caption, then JPEG quality 75"),
    ("meme_bottom", "overlay", "png", meme_band(0.2, "south"),
     "white caption band added below (+20% height)"),
    ("meme_jpeg", "overlay", "jpg", meme_band(0.2, "north", 75),
     "meme band, then JPEG quality 75"),
    ("rot5", "rot5", "png", fixed("-background", "black", "-rotate", "5", "+repage"),
     "rotate 5 degrees, black corners"),
    ("crop5", "crop", "png", crop_center(0.05), "crop 5% off every side"),
    ("crop10", "crop", "png", crop_center(0.10), "crop 10% off every side"),
    ("crop15", "crop", "png", crop_center(0.15), "crop 15% off every side"),
    ("crop20", "crop", "png", crop_center(0.20), "crop 20% off every side"),
    ("crop10tl", "crop", "png", crop_corner, "crop 10% off the top and the left only"),
]


def make(job):
    src, dst, args = job
    tmp = dst + ".tmp." + os.path.splitext(dst)[1][1:]
    # zlib level 1: the pixels are what matter, and it is 5x faster
    fast = ["-define", "png:compression-level=1"] if dst.endswith(".png") else []
    subprocess.run(["convert", src, "+repage"] + args + fast + [tmp], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.replace(tmp, dst)


def main(argv):
    global EDITS
    if len(argv) > 2 and argv[1] == "--only":
        only = argv[2].split(",")
        unknown = set(only) - {e[0] for e in EDITS}
        if unknown:
            print(f"edits.py: unknown edits: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        EDITS = [e for e in EDITS if e[0] in only]
        argv = argv[:1] + argv[3:]
    if len(argv) == 2 and argv[1] == "--list":
        out = csv.writer(sys.stdout, lineterminator="\n")
        for name, group, _, _, desc in EDITS:
            out.writerow([name, group, desc])
        return 0
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "-j"):
        print(__doc__, file=sys.stderr)
        return 2
    orig_dir, edit_dir = argv[1], argv[2]
    threads = int(argv[4]) if len(argv) == 5 else 2
    jobs = []
    for photo in sorted(os.listdir(orig_dir)):
        if not photo.endswith(".png"):
            continue
        src = os.path.join(orig_dir, photo)
        w, h = dims(src)
        stem = photo[:-4]
        for name, _, ext, args, _ in EDITS:
            os.makedirs(os.path.join(edit_dir, name), exist_ok=True)
            dst = os.path.join(edit_dir, name, f"{stem}.{ext}")
            if not os.path.exists(dst):
                jobs.append((src, dst, args(w, h)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(make, jobs):
            pass
    print(f"edits: made {len(jobs)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Renders folded stacks (threadwatch dump --folded, THREADWATCH_PROFILE_DIR's *.folded) as a flame
graph SVG, like Brendan Gregg's flamegraph.pl (use that, or speedscope, when you have it).

    scripts/flamegraph.py [--title TEXT] [--unit ns|count] FILE.folded > graph.svg

Each line of the input is `frame;frame;...;leaf VALUE`, root first. A box's width is its share of
the total; the root is at the bottom; hovering a box shows its name, value and share. Colours are
warm, derived from the name (the same function has the same colour in every graph)."""
import argparse
import html
import sys
import zlib

WIDTH, ROW, PAD, FONT = 1200, 18, 10, 12


def parse(lines):
    root = {"name": "all", "value": 0, "children": {}}
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        frames, _, value = line.rpartition(" ")
        if not frames or not value.lstrip("-").isdigit():
            sys.exit(f"flamegraph.py: line {n} is not 'frames value': {line!r}")
        v = int(value)
        node = root
        node["value"] += v
        for f in frames.split(";"):
            node = node["children"].setdefault(f, {"name": f, "value": 0, "children": {}})
            node["value"] += v
    return root


def depth(node):
    return 1 + max((depth(c) for c in node["children"].values()), default=0)


def colour(name):
    h = zlib.crc32(name.encode())
    return f"rgb({205 + h % 50},{(h >> 8) % 180},{(h >> 16) % 55})"


def amount(v, unit):
    if unit != "ns":
        return f"{v:,}"
    for scale, u in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if v >= scale:
            return f"{v / scale:.3g} {u}"
    return f"{v} ns"


def render(root, title, unit, out):
    rows = depth(root)
    height = rows * ROW + 3 * PAD + 2 * FONT
    total = root["value"] or 1
    scale = (WIDTH - 2 * PAD) / total
    out.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
              f'viewBox="0 0 {WIDTH} {height}" font-family="Verdana, sans-serif" '
              f'font-size="{FONT}">\n')
    out.write(f'<rect width="{WIDTH}" height="{height}" fill="#f8f8f0"/>\n')
    out.write(f'<text x="{WIDTH / 2}" y="{PAD + FONT}" text-anchor="middle" font-size="{FONT + 4}">'
              f'{html.escape(title)}</text>\n')

    def box(node, x, level):
        w = node["value"] * scale
        if w < 0.5:
            return
        y = height - PAD - (level + 1) * ROW
        share = 100.0 * node["value"] / total
        tip = f'{node["name"]} ({amount(node["value"], unit)}, {share:.2f}%)'
        out.write(f'<g><title>{html.escape(tip)}</title>'
                  f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 1}" rx="2" '
                  f'fill="{"#ddd" if level == 0 else colour(node["name"])}"/>')
        chars = int((w - 6) / (FONT * 0.6))
        name = node["name"] if level else f'all ({amount(node["value"], unit)})'
        if chars >= 3:
            label = name if len(name) <= chars else name[:chars - 2] + ".."
            out.write(f'<text x="{x + 3:.1f}" y="{y + ROW - 5}">{html.escape(label)}</text>')
        out.write('</g>\n')
        cx = x
        for child in sorted(node["children"].values(), key=lambda c: c["name"]):
            box(child, cx, level + 1)
            cx += child["value"] * scale

    box(root, PAD, 0)
    out.write("</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--title", default="threadwatch profile")
    ap.add_argument("--unit", choices=("ns", "count"), default="count")
    a = ap.parse_args()
    with open(a.file) as f:
        root = parse(f)
    render(root, a.title, a.unit, sys.stdout)


if __name__ == "__main__":
    main()

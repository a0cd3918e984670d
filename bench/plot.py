#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/plot.py [FILE|-] -o OUT.svg [--note TEXT] — draw ns-bench's tables.

Reads what build/ns-bench prints on stdout (bench/run.sh writes it to
build/bench.txt; FILE or stdin) and writes one self-contained SVG: per
table (network = bridge, routed) a panel of the login round trip
(open+close, median ms) against N for ours (pam_ns), the floor and ip(8),
each ours point labelled with its ms and ours/floor; below, a smaller panel
of `ns-shell -c /bin/true` against unshare(1). Standard library only; the
same input gives the same bytes. Any row it needs that is missing is a
one-line error and exit status 1.
"""

import argparse
import math
import re
import sys
from xml.sax.saxutils import escape

# Row labels as bench/ns-bench.c prints them (ROWS[]); matched as the start
# of a line, so a changed parenthetical tail does not break the plot.
ROW_OURS = "ours: round trip"            # "ours: round trip (open+close)"
ROW_FLOOR = "floor: round trip"
ROW_IP = "ip(8): round trip"
ROW_SHELL = "ns-shell -c /bin/true"      # "ns-shell -c /bin/true (as user)"
ROW_UNSHARE = "unshare -p"               # "unshare -p -f --mount-proc -i -u -m"
RATIO_FLOOR = "ours / floor (round trip)"  # from "ratios of medians:"
RATIO_UNSHARE = "ns-shell / unshare"
HEADING = "ns-shell login-latency benchmark"

# One cell: "  4.93 [3.83-9.21]", "nan [...]" or "-" (no samples).
CELL = re.compile(r"(?<!\S)(?:(\S+) \[[^\]]*\]|-)(?!\S)")


class BenchError(Exception):
    pass


def _num(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) and v > 0 else None


def ratio(tab, key, i, a, b):
    r = tab["ratios"].get(key)
    if r and r[i] is not None:
        return r[i]
    return a / b


def parse_cells(rest, where):
    cells = []
    for m in CELL.finditer(rest):
        if m.group(1) is None:
            cells.append(None)
            continue
        try:
            v = float(m.group(1))
        except ValueError:
            raise BenchError("%s: cannot read the median %r" % (where, m.group(1)))
        cells.append(v if math.isfinite(v) and v > 0 else None)
    return cells


def parse(text):
    """List of tables: {kernel, cpus, m, network, levels, rows{key: [ms|None]}}."""
    lines = text.splitlines()
    starts = [i for i, l in enumerate(lines) if HEADING in l]
    if not starts:
        raise BenchError("no bench table (no line with '%s')" % HEADING)
    tables = []
    for t, s in enumerate(starts):
        end = starts[t + 1] if t + 1 < len(starts) else len(lines)
        body = lines[s:end]
        tab = {"kernel": None, "cpus": None, "m": None, "network": None}
        m = re.search(r"kernel (\S+), (\d+) CPUs?, M = (\d+)", body[0])
        if m:
            tab["kernel"], tab["cpus"], tab["m"] = m.group(1), int(m.group(2)), int(m.group(3))
        for l in body:
            m = re.match(r"network = (\S+?);", l)
            if m:
                tab["network"] = m.group(1)
                break
        name = "table %d%s" % (t + 1, " (network = %s)" % tab["network"] if tab["network"] else "")
        levels = None
        for l in body:
            if re.fullmatch(r"\s+N = \d+(\s+N = \d+)*\s*", l):
                levels = [int(x) for x in re.findall(r"N = (\d+)", l)]
                break
        if not levels:
            raise BenchError("%s: no header line of 'N = ...' columns" % name)
        tab["levels"] = levels
        rows = {}
        for key in (ROW_OURS, ROW_FLOOR, ROW_IP, ROW_SHELL, ROW_UNSHARE):
            line = next((l for l in body if l.startswith(key)), None)
            if line is None:
                raise BenchError("%s: row '%s' not found" % (name, key))
            where = "%s: row '%s'" % (name, key)
            cells = parse_cells(line[len(key):], where)
            if len(cells) != len(levels):
                raise BenchError("%s: %d cells, %d columns (N = %s)" % (
                    where, len(cells), len(levels), ", ".join(map(str, levels))))
            rows[key] = cells
        tab["rows"] = rows
        # The table's own ratios (of unrounded medians) where it prints them;
        # otherwise the labels compute them from the printed medians.
        tab["ratios"] = {}
        for key in (RATIO_FLOOR, RATIO_UNSHARE):
            line = next((l for l in body if l.startswith(key)), None)
            if line is None:
                continue
            vals = re.findall(r"(?<!\S)(\S+)x(?!\S)", line[len(key):])
            if len(vals) == len(levels):
                tab["ratios"][key] = [_num(v) for v in vals]
        tables.append(tab)
    return tables


# ------------------------------------------------------------------ drawing --

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
C_OURS, C_FLOOR, C_IP = "#1f5fa8", "#6b6b6b", "#c8412b"
C_SHELL, C_UNSH = "#7b3fa0", "#8a8a8a"
C_GRID, C_AXIS, C_TEXT, C_MUTED = "#e4e4e4", "#444444", "#222222", "#666666"


def f(x):
    """Coordinates: one decimal, no '-0.0'."""
    s = "%.1f" % x
    return "0.0" if s == "-0.0" else s


def ms(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def text_w(s, size):
    return 0.6 * size * len(s)


class Scale:
    def __init__(self, values, y0, y1, force_log=None):
        vals = [v for v in values if v is not None]
        if not vals:
            vals = [1.0]
        lo, hi = min(vals), max(vals)
        self.log = (hi / lo > 30) if force_log is None else force_log
        self.y0, self.y1 = y0, y1  # y0 = bottom pixel, y1 = top pixel
        if self.log:
            self.lo = 10 ** math.floor(math.log10(lo))
            self.hi = 10 ** math.ceil(math.log10(hi))
            if self.hi <= self.lo:
                self.hi = self.lo * 10
            self.ticks = []
            d = self.lo
            while d <= self.hi * 1.0001:
                for k in (1, 2, 5):
                    v = d * k
                    if self.lo * 0.9999 <= v <= self.hi * 1.0001:
                        self.ticks.append(v)
                d *= 10
        else:
            self.lo = 0.0
            span = hi * 1.3  # headroom for the labels above the points
            raw = span / 4
            mag = 10 ** math.floor(math.log10(raw))
            step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
            self.hi = step * math.ceil(span / step)
            self.ticks = [i * step for i in range(int(round(self.hi / step)) + 1)]

    def __call__(self, v):
        if self.log:
            t = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            t = (v - self.lo) / (self.hi - self.lo)
        return self.y0 - t * (self.y0 - self.y1)

    def label(self, v):
        if v >= 1 and abs(v - round(v)) < 1e-9:
            return "%d" % round(v)
        return ("%g" % v)


def seg_rect_dist(ax, ay, bx, by, r):
    """Distance between segment a-b and rectangle r = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = r

    def inside(px, py):
        return x0 <= px <= x1 and y0 <= py <= y1

    if inside(ax, ay) or inside(bx, by):
        return 0.0
    edges = [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]

    def cross(p, q, s, t):
        def orient(a, b, c):
            return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        d1, d2 = orient(s, t, p), orient(s, t, q)
        d3, d4 = orient(p, q, s), orient(p, q, t)
        return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0)

    for ex0, ey0, ex1, ey1 in edges:
        if cross((ax, ay), (bx, by), (ex0, ey0), (ex1, ey1)):
            return 0.0

    def pt_seg(px, py, sx, sy, tx, ty):
        dx, dy = tx - sx, ty - sy
        L = dx * dx + dy * dy
        u = 0.0 if L == 0 else max(0.0, min(1.0, ((px - sx) * dx + (py - sy) * dy) / L))
        return math.hypot(px - (sx + u * dx), py - (sy + u * dy))

    d = min(pt_seg(cx, cy, ax, ay, bx, by) for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
    for px, py in ((ax, ay), (bx, by)):
        d = min(d, pt_seg(px, py, x0, y0, x1, y0), pt_seg(px, py, x1, y0, x1, y1),
                pt_seg(px, py, x1, y1, x0, y1), pt_seg(px, py, x0, y1, x0, y0))
    return d


class Svg:
    def __init__(self):
        self.out = []

    def add(self, s):
        self.out.append(s)

    def text(self, x, y, s, size=12, anchor="start", fill=C_TEXT, weight=None, extra=""):
        w = ' font-weight="%s"' % weight if weight else ""
        self.add('<text x="%s" y="%s" font-size="%s" text-anchor="%s" fill="%s"%s%s>%s</text>'
                 % (f(x), f(y), size, anchor, fill, w, extra, escape(s)))

    def line(self, x0, y0, x1, y1, stroke, width=1, dash=None):
        d = ' stroke-dasharray="%s"' % dash if dash else ""
        self.add('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>'
                 % (f(x0), f(y0), f(x1), f(y1), stroke, width, d))

    def marker(self, kind, x, y, color):
        if kind == "circle":
            self.add('<circle cx="%s" cy="%s" r="4.5" fill="%s" stroke="#ffffff" stroke-width="1.2"/>'
                     % (f(x), f(y), color))
        elif kind == "square":
            self.add('<rect x="%s" y="%s" width="8" height="8" fill="%s" stroke="#ffffff" stroke-width="1.2"/>'
                     % (f(x - 4), f(y - 4), color))
        else:  # triangle
            self.add('<path d="M%s %sL%s %sL%s %sZ" fill="%s" stroke="#ffffff" stroke-width="1.2"/>'
                     % (f(x), f(y - 5.5), f(x + 5), f(y + 3.5), f(x - 5), f(y + 3.5), color))


SERIES_MAIN = [  # key, legend, colour, marker, dash, width
    (ROW_OURS, "ours: pam_ns open+close", C_OURS, "circle", None, 2.4),
    (ROW_FLOOR, "floor: the same kernel work alone (ns_nl_*)", C_FLOOR, "square", "5 4", 1.6),
    (ROW_IP, "ip(8): the shell recipe", C_IP, "triangle", None, 1.6),
]
SERIES_SHELL = [
    (ROW_SHELL, "ns-shell -c /bin/true (as the user)", C_SHELL, "circle", None, 2.2),
    (ROW_UNSHARE, "unshare -p -f --mount-proc -i -u -m (root)", C_UNSH, "square", "5 4", 1.6),
]


def legend(svg, x, y, series):
    for key, name, color, mk, dash, width in series:
        svg.line(x, y - 4, x + 26, y - 4, color, width, dash)
        svg.marker(mk, x + 13, y - 4, color)
        svg.text(x + 32, y, name, 12, fill=C_TEXT)
        x += 32 + text_w(name, 12) * 0.92 + 22


def panel(svg, tab, x0, x1, top, height, scale, series, label_of, ylabel, first):
    """One chart: plot area x0..x1, top..top+height; returns nothing."""
    bottom = top + height
    levels = tab["levels"]
    n = len(levels)
    xs = [x0 + (i + 0.5) * (x1 - x0) / n for i in range(n)]
    # grid and y ticks
    for v in scale.ticks:
        y = scale(v)
        svg.line(x0, y, x1, y, C_GRID, 1)
        svg.text(x0 - 6, y + 4, scale.label(v), 11, "end", C_MUTED)
    svg.add('<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s" stroke-width="1"/>'
            % (f(x0), f(top), f(x1 - x0), f(height), C_AXIS))
    for x, nv in zip(xs, levels):
        svg.line(x, bottom, x, bottom + 4, C_AXIS, 1)
        svg.text(x, bottom + 17, "{:,}".format(nv), 11, "middle", C_TEXT)
    svg.text((x0 + x1) / 2, bottom + 33, "N = sessions of other users held open", 11, "middle", C_MUTED)
    if first:
        cy = (top + bottom) / 2
        svg.text(0, 0, ylabel, 11, "middle", C_MUTED,
                 extra=' transform="translate(%s %s) rotate(-90)"' % (f(x0 - 44), f(cy)))
    # lines, then markers (on top), collecting obstacles for the labels
    segs, pts = [], []
    for key, name, color, mk, dash, width in series:
        vals = tab["rows"][key]
        p = [(xs[i], scale(v)) if v is not None else None for i, v in enumerate(vals)]
        for a, b in zip(p, p[1:]):
            if a and b:
                svg.line(a[0], a[1], b[0], b[1], color, width, dash)
                segs.append((a[0], a[1], b[0], b[1]))
        pts.extend(q for q in p if q)
    for key, name, color, mk, dash, width in series:
        for i, v in enumerate(tab["rows"][key]):
            if v is not None:
                svg.marker(mk, xs[i], scale(v), color)
    # labels: each placed where it clears the lines, markers and other labels
    boxes = []
    for key, color, i, lines in label_of(tab):
        v = tab["rows"][key][i]
        if v is None:
            continue
        px, py = xs[i], scale(v)
        size, lh = 11, 13
        w = max(text_w(s, size) for s in lines) * 0.93 + 4
        h = lh * len(lines)
        cands = [  # (box x0, box y0) in order of preference
            (px - w / 2, py - 9 - h), (px - w / 2, py + 9),
            (px + 9, py - h / 2), (px - 9 - w, py - h / 2),
            (px + 6, py - 6 - h), (px - 6 - w, py - 6 - h),
            (px + 6, py + 6), (px - 6 - w, py + 6),
        ]
        best, best_d = None, -1e9
        for bx, by in cands:
            r = (bx, by, bx + w, by + h)
            if bx < x0 + 2 or bx + w > x1 - 2 or by < top + 2 or by + h > bottom - 2:
                d = -1000.0
            elif any(not (r[2] < o[0] or o[2] < r[0] or r[3] < o[1] or o[3] < r[1]) for o in boxes):
                d = -500.0
            else:
                d = min([seg_rect_dist(*s, r) for s in segs] +
                        [seg_rect_dist(qx, qy, qx, qy, r) - 5 for qx, qy in pts] + [99])
            if d >= 5:
                best = r
                break
            if d > best_d:
                best, best_d = r, d
        boxes.append(best)
        bx0, by0, bx1, by1 = best
        svg.add('<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff" fill-opacity="0.85"/>'
                % (f(bx0), f(by0), f(bx1 - bx0), f(by1 - by0)))
        for k, s in enumerate(lines):
            svg.text((bx0 + bx1) / 2, by0 + lh * (k + 1) - 3, s, size, "middle", color,
                     weight="bold" if k == 1 else None)


def labels_main(tab):
    r = tab["rows"]
    out = []
    for i in range(len(tab["levels"])):
        o, fl, ip = r[ROW_OURS][i], r[ROW_FLOOR][i], r[ROW_IP][i]
        if o is not None:
            lines = ["%s ms" % ms(o)]
            if fl is not None:
                lines.append("%.2f\u00d7 floor" % ratio(tab, RATIO_FLOOR, i, o, fl))
            out.append((ROW_OURS, C_OURS, i, lines))
        if ip is not None:
            out.append((ROW_IP, C_IP, i, ["%s ms" % ms(ip)]))
    return out


def labels_shell(tab):
    r = tab["rows"]
    out = []
    for i in range(len(tab["levels"])):
        s, u = r[ROW_SHELL][i], r[ROW_UNSHARE][i]
        if s is not None:
            lines = ["%s ms" % ms(s)]
            if u is not None:
                lines.append("%.2f\u00d7 unshare" % ratio(tab, RATIO_UNSHARE, i, s, u))
            out.append((ROW_SHELL, C_SHELL, i, lines))
    return out


def render(tables, note):
    W = 900
    L, R, GAP = 66, 14, 58
    k = len(tables)
    pw = (W - L - R - GAP * (k - 1)) / k
    t0 = tables[0]
    svg = Svg()

    def panels_x(j):
        a = L + j * (pw + GAP)
        return a, a + pw

    y = 30
    what = ", ".join(x for x in (
        "kernel " + t0["kernel"] if t0["kernel"] else None,
        "%d CPUs" % t0["cpus"] if t0["cpus"] else None) if x)
    title = "ns-shell login cost (make bench%s)" % (", " + what if what else "")
    svg_title = title
    sub = "login round trip (pam_ns open_session + close_session) against the number of sessions already open"
    if t0["m"]:
        sub += "; median of %d each" % t0["m"]

    H1, H2 = 290, 160
    top1 = 128
    top2 = top1 + H1 + 44 + 56
    H = top2 + H2 + 44 + 34

    svg.add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
            'font-family="%s">' % (W, H, W, H, FONT))
    svg.add('<title>%s</title>' % escape(svg_title))
    svg.add('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (W, H))
    svg.text(W / 2, y, title, 17, "middle", C_TEXT, weight="bold")
    svg.text(W / 2, y + 19, sub, 12, "middle", C_MUTED)
    if note:
        svg.text(W / 2, y + 36, note, 12, "middle", C_MUTED)
    legend(svg, L, 96, SERIES_MAIN)

    s1 = Scale([v for t in tables for key, *_ in SERIES_MAIN for v in t["rows"][key]],
               top1 + H1, top1)
    s2 = Scale([v for t in tables for key, *_ in SERIES_SHELL for v in t["rows"][key]],
               top2 + H2, top2)
    ylab1 = "round trip, ms" + (" (log scale)" if s1.log else "")
    ylab2 = "ms" + (" (log scale)" if s2.log else "")
    for j, t in enumerate(tables):
        a, b = panels_x(j)
        net = "network = %s" % t["network"] if t["network"] else "network: not stated"
        svg.text(a, top1 - 8, net, 13, "start", C_TEXT, weight="bold")
        panel(svg, t, a, b, top1, H1, s1, SERIES_MAIN, labels_main, ylab1, True)
    yh = top2 - 34
    svg.text(L, yh, "The shell: ns-shell -c /bin/true, fork to exit status, against unshare(1) with the same namespaces",
             13, "start", C_TEXT, weight="bold")
    legend(svg, L, yh + 18, SERIES_SHELL)
    for j, t in enumerate(tables):
        a, b = panels_x(j)
        panel(svg, t, a, b, top2, H2, s2, SERIES_SHELL, labels_shell, ylab2, True)
    svg.text(L, H - 12, "Lower is better. ours/floor \u2212 1 is what pam_ns's bookkeeping costs; "
             "the table with min-max and the parts: build/bench.txt (make bench).", 11, "start", C_MUTED)
    svg.add("</svg>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(svg.out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Draw ns-bench's tables as an SVG.")
    ap.add_argument("input", nargs="?", default="-", help="ns-bench's stdout (default: stdin)")
    ap.add_argument("-o", dest="out", required=True, help="the SVG to write")
    ap.add_argument("--note", default="", help="a line under the title (commit, machine, date)")
    a = ap.parse_args()
    name = "stdin" if a.input == "-" else a.input
    try:
        if a.input == "-":
            text = sys.stdin.read()
        else:
            with open(a.input, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        doc = render(parse(text), a.note)
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(doc)
    except BenchError as e:
        print("plot.py: %s: %s" % (name, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("plot.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

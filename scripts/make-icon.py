#!/usr/bin/env python3
"""Writes resources/icon.png (512x512 RGBA): the app icon, drawn with the standard library only.

The motif is weight slicing: one supernet layer (the widest bar) and subnets that take its leading channels (the
shorter bars, all starting at the same left edge). Edges are anti-aliased with a signed-distance coverage.
Run from the repository root: python3 scripts/make-icon.py
"""
import math
import struct
import zlib

SIZE = 512
BACKGROUND = ((16, 16, 496, 496), 96, (0x0F, 0x17, 0x20))
BARS = [  # (x0, y0, x1, y1), corner radius, colour
    ((104, 120, 408, 168), 14, (0x58, 0xA6, 0xFF)),
    ((104, 200, 344, 248), 14, (0x79, 0xB8, 0xFF)),
    ((104, 280, 280, 328), 14, (0xA5, 0xD0, 0xFF)),
    ((104, 360, 200, 408), 14, (0xD2, 0xE7, 0xFF)),
]


def coverage(px, py, rect, r):
    """Fraction of the pixel centred at (px, py) inside the rounded rectangle (1-pixel linear ramp at the edge)."""
    x0, y0, x1, y1 = rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    qx = abs(px - cx) - ((x1 - x0) / 2 - r)
    qy = abs(py - cy) - ((y1 - y0) / 2 - r)
    d = math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - r
    return min(max(0.5 - d, 0.0), 1.0)


def pixel(x, y):
    px, py = x + 0.5, y + 0.5
    rect, r, colour = BACKGROUND
    alpha = coverage(px, py, rect, r)
    if alpha == 0:
        return (0, 0, 0, 0)
    rgb = list(colour)
    for rect, r, bar in BARS:
        a = coverage(px, py, rect, r)
        if a:
            rgb = [c * (1 - a) + b * a for c, b in zip(rgb, bar)]
    return tuple(round(c) for c in rgb) + (round(alpha * 255),)


def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)


rows = bytearray()
for y in range(SIZE):
    rows.append(0)  # filter: none
    for x in range(SIZE):
        rows.extend(pixel(x, y))
png = (
    b'\x89PNG\r\n\x1a\n'
    + chunk(b'IHDR', struct.pack('>IIBBBBB', SIZE, SIZE, 8, 6, 0, 0, 0))  # 8-bit RGBA
    + chunk(b'IDAT', zlib.compress(bytes(rows), 9))
    + chunk(b'IEND', b'')
)
with open('resources/icon.png', 'wb') as f:
    f.write(png)
print(f'resources/icon.png: {SIZE}x{SIZE}, {len(png)} bytes')

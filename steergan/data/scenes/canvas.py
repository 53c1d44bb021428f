"""Supersampled painter used by every scene generator.

Shapes are boolean masks over normalised image coordinates in [0, 1]^2 (y down),
so one scene description renders at any resolution. Colour is painted on a
grid `supersample` times finer than the output and box-averaged down for
anti-aliasing; the label maps are painted on the same fine grid and read back
at one sub-pixel per output pixel, so masks stay hard and exactly aligned.
Only the bounding box of each shape is touched, which keeps small parts cheap.
"""

from __future__ import annotations

import colorsys

import numpy as np


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """Scalar HSV (all in [0, 1], hue wraps) -> float32 RGB in [0, 1]."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0)), np.float32)


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class Region:
    """A rectangular window of the canvas: coordinates plus writable views."""

    def __init__(self, canvas: "Canvas", sy: slice, sx: slice):
        self.x = canvas.xs[:, sx]          # (1, w) column centres
        self.y = canvas.ys[sy, :]          # (h, 1) row centres
        self.rgb = canvas.rgb[sy, sx]
        self.sem = canvas.sem[sy, sx]
        self.inst = canvas.inst[sy, sx]
        self.shape = self.rgb.shape[:2]

    def paint(self, mask, colour, sem=None, inst=None):
        """Set pixels under `mask`. `colour`: RGB triple, array (h,w,3) or f(x, y)."""
        mask = np.broadcast_to(mask, self.shape)
        if not mask.any():
            return
        if callable(colour):
            colour = colour(self.x, self.y)
        colour = np.asarray(colour, np.float32)
        if colour.ndim == 3:
            self.rgb[mask] = np.broadcast_to(colour, self.rgb.shape)[mask]
        else:
            self.rgb[mask] = colour
        if sem is not None:
            self.sem[mask] = sem
        if inst is not None:
            self.inst[mask] = inst

    def blend(self, alpha, colour):
        """Soft overlay (glows, shadows) that never changes labels."""
        alpha = np.asarray(alpha, np.float32)[..., None]
        self.rgb *= 1.0 - alpha
        self.rgb += alpha * np.asarray(colour, np.float32)


class Canvas:
    def __init__(self, resolution: int, supersample: int = 2):
        self.res = resolution
        self.ss = supersample
        n = resolution * supersample
        self.n = n
        c = (np.arange(n, dtype=np.float32) + 0.5) / n
        self.xs = c[None, :]
        self.ys = c[:, None]
        self.rgb = np.zeros((n, n, 3), np.float32)
        self.sem = np.zeros((n, n), np.uint8)
        self.inst = np.zeros((n, n), np.uint8)

    # -- regions -----------------------------------------------------------
    def region(self, x0, y0, x1, y1) -> Region | None:
        n = self.n
        i0, i1 = max(0, int(np.floor(y0 * n))), min(n, int(np.ceil(y1 * n)))
        j0, j1 = max(0, int(np.floor(x0 * n))), min(n, int(np.ceil(x1 * n)))
        if i1 <= i0 or j1 <= j0:
            return None
        return Region(self, slice(i0, i1), slice(j0, j1))

    def full(self) -> Region:
        return Region(self, slice(None), slice(None))

    # -- shapes ------------------------------------------------------------
    def poly(self, pts, colour, sem=None, inst=None):
        """Convex polygon given as [(x, y), ...] in either winding order."""
        pts = np.asarray(pts, np.float32)
        r = self.region(*pts.min(0), *pts.max(0))
        if r is None:
            return
        r.paint(convex_mask(r.x, r.y, pts), colour, sem, inst)

    def ellipse(self, cx, cy, rx, ry, colour, sem=None, inst=None, angle=0.0):
        ext = max(rx, ry)
        r = self.region(cx - ext, cy - ext, cx + ext, cy + ext)
        if r is None:
            return
        r.paint(ellipse_mask(r.x, r.y, cx, cy, rx, ry, angle), colour, sem, inst)

    def rect(self, x0, y0, x1, y1, colour, sem=None, inst=None):
        r = self.region(x0, y0, x1, y1)
        if r is None:
            return
        r.paint((r.x >= x0) & (r.x < x1) & (r.y >= y0) & (r.y < y1), colour, sem, inst)

    def soft_ellipse(self, cx, cy, rx, ry, strength, colour=(0.0, 0.0, 0.0), angle=0.0):
        """Gaussian-ish blob blended on top: soft shadows and lamp glows."""
        ext = 2.2 * max(rx, ry)
        r = self.region(cx - ext, cy - ext, cx + ext, cy + ext)
        if r is None:
            return
        u, v = rotate(r.x - cx, r.y - cy, angle)
        d2 = (u / rx) ** 2 + (v / ry) ** 2
        r.blend(strength * np.exp(-d2), colour)

    # -- output ------------------------------------------------------------
    def finish(self):
        """-> (rgb uint8 HxWx3, semantic HxW, instances HxW) at output resolution."""
        s, n = self.ss, self.res
        rgb = self.rgb.reshape(n, s, n, s, 3).mean((1, 3))
        rgb = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        k = s // 2  # the sub-pixel nearest the output pixel centre
        return rgb, self.sem[k::s, k::s].copy(), self.inst[k::s, k::s].copy()


def rotate(dx, dy, angle):
    """Coordinates in a frame rotated by `angle` (radians, clockwise on screen)."""
    if angle == 0.0:
        return dx, dy
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    return c * dx + s * dy, -s * dx + c * dy


def ellipse_mask(x, y, cx, cy, rx, ry, angle=0.0):
    u, v = rotate(x - cx, y - cy, angle)
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def convex_mask(x, y, pts):
    area = 0.0
    k = len(pts)
    for i in range(k):
        area += pts[i, 0] * pts[(i + 1) % k, 1] - pts[(i + 1) % k, 0] * pts[i, 1]
    sign = 1.0 if area >= 0 else -1.0
    m = None
    for i in range(k):
        x0, y0 = pts[i]
        x1, y1 = pts[(i + 1) % k]
        side = ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) * sign >= 0
        m = side if m is None else m & side
    return m


def value_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1] of shape (h, w): bilinear upsampling of a coarse grid."""
    g = rng.random((cells + 1, cells + 1), dtype=np.float32)
    yi = np.linspace(0, cells, h, dtype=np.float32)
    xi = np.linspace(0, cells, w, dtype=np.float32)
    y0 = np.minimum(yi.astype(np.int32), cells - 1)
    x0 = np.minimum(xi.astype(np.int32), cells - 1)
    fy = smoothstep(0.0, 1.0, yi - y0)[:, None]
    fx = smoothstep(0.0, 1.0, xi - x0)[None, :]
    a = g[y0][:, x0]
    b = g[y0][:, x0 + 1]
    c = g[y0 + 1][:, x0]
    d = g[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy

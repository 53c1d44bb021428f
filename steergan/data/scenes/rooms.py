"""`rooms`: indoor scenes rendered with a tiny pinhole camera.

The room is a box (back wall, floor, ceiling, optional side walls) found per
pixel by ray-casting, so floor planks, tiles and wallpaper stripes come out in
correct perspective for free. Objects are built from world-space boxes and
wall-plane quads, projected and painted back to front (painter's algorithm),
which gives occlusion by depth order. Everything is driven by one RNG seeded
with (seed, index).
"""

from __future__ import annotations

import numpy as np

from .canvas import Canvas, hsv, value_noise
from .sample import SceneSample, finalize

CLASSES = ["wall", "floor", "bed", "window", "painting", "lamp", "table", "plant"]
CID = {name: i for i, name in enumerate(CLASSES)}
WEIGHTS = {"bed": 0.19, "window": 0.19, "painting": 0.19, "lamp": 0.15, "table": 0.13, "plant": 0.15}
LIMITS = {"bed": 1, "table": 1, "window": 2, "painting": 2, "lamp": 2, "plant": 2}


class Room:
    """Camera + room geometry; `P` projects world (X right, Y up, Z forward)."""

    def __init__(self, rng):
        u = rng.uniform
        self.Hc = u(1.2, 1.6)                  # eye height (m)
        self.Hr = u(2.5, 3.0)                  # ceiling height
        self.Zb = u(4.5, 7.0)                  # distance to the back wall
        self.cx, self.cy = u(0.38, 0.62), u(0.22, 0.40)   # vanishing point
        yh = u(0.52, 0.70)                     # where the back wall meets the floor
        self.f = (yh - self.cy) * self.Zb / self.Hc
        # Side walls: often off-screen, otherwise visible down to the image edge.
        xl = u(-0.6, -0.05) if rng.random() < 0.35 else u(0.04, 0.3)
        xr = u(1.05, 1.6) if rng.random() < 0.35 else u(0.7, 0.96)
        self.Wl = (self.cx - xl) * self.Zb / self.f
        self.Wr = (xr - self.cx) * self.Zb / self.f
        self.Zmin = self.f * self.Hc / (1.0 - self.cy)   # floor depth at the bottom edge

    def P(self, X, Y, Z):
        return (self.cx + self.f * X / Z, self.cy + self.f * (self.Hc - Y) / Z)

    def raycast(self, x, y):
        """Per pixel: surface code (0 back, 1 floor, 2 ceiling, 3 left, 4 right) and world X, Y, Z."""
        inf = np.float32(np.inf)
        dx, dy = x - self.cx, y - self.cy
        with np.errstate(divide="ignore"):
            zf = np.where(dy > 0, self.f * self.Hc / dy, inf)
            zc = np.where(dy < 0, self.f * (self.Hc - self.Hr) / dy, inf)
            zl = np.where(dx < 0, -self.f * self.Wl / dx, inf)
            zr = np.where(dx > 0, self.f * self.Wr / dx, inf)
        Z = np.minimum(np.minimum(zf, zc), np.minimum(np.minimum(zl, zr), np.float32(self.Zb)))
        surf = np.select([Z == zf, Z == zc, Z == zl, Z == zr], [1, 2, 3, 4], 0).astype(np.uint8)
        return surf, dx * Z / self.f, self.Hc - dy * Z / self.f, Z


# ---------------------------------------------------------------- room shell
def paint_room(cv: Canvas, room: Room, rng):
    r = cv.full()
    surf, X, Y, Z = room.raycast(r.x, r.y)
    n = cv.n
    rgb = np.empty((n, n, 3), np.float32)

    # Walls: colour + optional stripes / wainscoting, all in wall coordinates.
    dark = rng.random() < 0.25
    wall = hsv(rng.random(), rng.uniform(0.05, 0.5 if dark else 0.35), rng.uniform(0.35, 0.6) if dark else rng.uniform(0.65, 0.95))
    along = np.where(surf == 0, X, Z)
    wallc = np.broadcast_to(wall, (n, n, 3)).copy()
    style = rng.choice(["plain", "stripes", "wainscot", "stripes_wainscot"], p=[0.4, 0.25, 0.2, 0.15])
    if "stripes" in style:
        sw = rng.uniform(0.08, 0.3)
        alt = wall * rng.uniform(0.8, 0.92) if rng.random() < 0.7 else hsv(rng.random(), 0.3, 0.8)
        wallc[np.floor(along / sw).astype(np.int64) % 2 == 1] = alt
    if "wainscot" in style:
        hw = rng.uniform(0.8, 1.1)
        low = hsv(rng.random(), rng.uniform(0.05, 0.4), rng.uniform(0.4, 0.9))
        wallc[np.broadcast_to(Y < hw, (n, n))] = low
        wallc[np.broadcast_to(np.abs(Y - hw) < 0.025, (n, n))] = low * 0.75
    skirting = hsv(rng.random(), 0.1, 0.95) if rng.random() < 0.6 else wall * 0.6
    wallc[np.broadcast_to(Y < 0.1, (n, n))] = skirting

    # Floor: wooden planks, tiles or carpet, laid out in world X/Z.
    kind = rng.choice(["wood", "tiles", "carpet"], p=[0.5, 0.25, 0.25])
    Xf, Zf = np.broadcast_to(X, (n, n)), np.broadcast_to(Z, (n, n))
    if kind == "wood":
        base = hsv(rng.uniform(0.04, 0.11), rng.uniform(0.35, 0.7), rng.uniform(0.3, 0.8))
        pw = rng.uniform(0.12, 0.25)
        plank = np.floor(Xf / pw).astype(np.int64)
        offs = rng.uniform(0, 2, 64).astype(np.float32)
        joint = np.floor((Zf + offs[plank % 64]) / rng.uniform(1.0, 2.0)).astype(np.int64)
        tint = 1.0 + rng.uniform(-0.13, 0.13, 64).astype(np.float32)[(plank * 31 + joint * 17) % 64]
        gap = np.where((Xf / pw) % 1.0 < 0.05, 0.75, 1.0)
        floorc = base * (tint * gap)[..., None]
    elif kind == "tiles":
        ts = rng.uniform(0.3, 0.6)
        a = hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.6, 0.95))
        b = a * rng.uniform(0.5, 0.85) if rng.random() < 0.6 else hsv(rng.random(), 0.3, 0.4)
        chk = ((np.floor(Xf / ts) + np.floor(Zf / ts)) % 2)[..., None]
        floorc = a * (1 - chk) + b * chk
        grout = ((Xf / ts) % 1.0 < 0.04) | ((Zf / ts) % 1.0 < 0.04)
        floorc[grout] *= 0.8
    else:
        base = hsv(rng.random(), rng.uniform(0.15, 0.6), rng.uniform(0.3, 0.75))
        floorc = base * (0.9 + 0.2 * value_noise(rng, n, n, 8))[..., None]
    # A rug sometimes, as a rectangle in floor coordinates.
    if rng.random() < 0.35:
        rw, rd = rng.uniform(1.2, 2.5), rng.uniform(1.0, 2.0)
        rx0 = rng.uniform(-room.Wl, max(-room.Wl, room.Wr - rw))
        rz0 = rng.uniform(room.Zmin, max(room.Zmin, room.Zb - rd))
        inrug = (Xf > rx0) & (Xf < rx0 + rw) & (Zf > rz0) & (Zf < rz0 + rd)
        inner = (Xf > rx0 + 0.12) & (Xf < rx0 + rw - 0.12) & (Zf > rz0 + 0.12) & (Zf < rz0 + rd - 0.12)
        rc = hsv(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8))
        floorc[inrug] = rc * 0.7
        floorc[inner] = rc

    ceil = hsv(rng.random(), 0.05, rng.uniform(0.85, 1.0))
    rgb[:] = wallc
    fl = surf == 1
    rgb[fl] = floorc[fl]
    rgb[surf == 2] = ceil

    # Light: per-surface brightness, then a soft falloff from a light source.
    side = rng.uniform(0.7, 0.85), rng.uniform(0.8, 0.95)
    if rng.random() < 0.5:
        side = side[::-1]
    shade = np.array([1.0, 0.92, 0.95, side[0], side[1]], np.float32)[surf]
    lx, ly, lz = rng.uniform(-room.Wl, room.Wr), rng.uniform(1.5, 2.5), rng.uniform(room.Zmin, room.Zb)
    d2 = (X - lx) ** 2 + (Y - ly) ** 2 + (Z - lz) ** 2
    shade = shade * (0.75 + 0.4 * np.exp(-d2 / rng.uniform(4, 12)))
    rgb *= shade[..., None]
    cv.rgb[:] = rgb
    cv.sem[:] = fl.astype(np.uint8) * CID["floor"]
    return surf, X, Y, Z


def floor_shadow(cv: Canvas, world, xc, zc, sx, sz, strength):
    """Soft contact shadow under a floor object (darkens floor pixels only)."""
    surf, X, Y, Z = world
    d2 = ((X - xc) / sx) ** 2 + ((Z - zc) / sz) ** 2
    a = strength * np.exp(-d2 * d2) * (surf == 1)
    cv.rgb *= (1.0 - a)[..., None]


# ---------------------------------------------------------------- primitives
def box(cv, room, X0, X1, Y0, Y1, Z0, Z1, colour, cid, iid):
    """Axis-aligned world box: paint its camera-facing faces with simple shading."""
    P = room.P
    c = np.asarray(colour, np.float32)
    if X0 > 0:  # left face seen from the right
        cv.poly([P(X0, Y0, Z0), P(X0, Y0, Z1), P(X0, Y1, Z1), P(X0, Y1, Z0)], c * 0.7, cid, iid)
    if X1 < 0:
        cv.poly([P(X1, Y0, Z0), P(X1, Y0, Z1), P(X1, Y1, Z1), P(X1, Y1, Z0)], c * 0.7, cid, iid)
    if Y1 < room.Hc:  # top face seen from above
        cv.poly([P(X0, Y1, Z0), P(X1, Y1, Z0), P(X1, Y1, Z1), P(X0, Y1, Z1)], np.minimum(c * 1.12, 1), cid, iid)
    cv.poly([P(X0, Y0, Z0), P(X1, Y0, Z0), P(X1, Y1, Z0), P(X0, Y1, Z0)], c * 0.85, cid, iid)


class WallRect:
    """A rectangle lying on a wall: `a` runs along the wall, `Y` is height."""

    def __init__(self, room, wall, a0, a1, Y0, Y1):
        self.room, self.wall = room, wall
        self.a0, self.a1, self.Y0, self.Y1 = a0, a1, Y0, Y1

    def world(self, a, Y, out=0.0):
        r = self.room
        if self.wall == "back":
            return a, Y, r.Zb - out
        if self.wall == "left":
            return -r.Wl + out, Y, a
        return r.Wr - out, Y, a

    def quad(self, s0, s1, t0, t1, out=0.0):
        """Image quad for the fractional sub-rectangle [s0,s1]x[t0,t1] (t=0 at the top)."""
        a = lambda s: self.a0 + s * (self.a1 - self.a0)
        y = lambda t: self.Y1 - t * (self.Y1 - self.Y0)
        return [self.room.P(*self.world(a(s), y(t), out)) for s, t in ((s0, t0), (s1, t0), (s1, t1), (s0, t1))]


def vgrad(top, bottom, y0, y1):
    top, bottom = np.asarray(top, np.float32), np.asarray(bottom, np.float32)
    return lambda x, y: top + (bottom - top) * np.clip((y - y0) / max(y1 - y0, 1e-6), 0, 1)[..., None]


def quad_y(q):
    ys = [p[1] for p in q]
    return min(ys), max(ys)


# ---------------------------------------------------------------- wall objects
def draw_window(cv, rng, wr: WallRect, iid):
    cid = CID["window"]
    frame = hsv(rng.random(), rng.uniform(0, 0.2), rng.uniform(0.85, 1.0)) if rng.random() < 0.7 else hsv(rng.uniform(0.05, 0.1), 0.5, 0.4)
    cv.poly(wr.quad(0, 1, 0, 1), frame, cid, iid)
    glass = wr.quad(0.08, 0.92, 0.07, 0.93)
    gy0, gy1 = quad_y(glass)
    sky = rng.choice(["day", "dusk", "night", "grey"], p=[0.5, 0.2, 0.15, 0.15])
    top, bot = {"day": (hsv(0.6, 0.6, 0.85), hsv(0.57, 0.25, 1.0)), "dusk": (hsv(0.7, 0.5, 0.5), hsv(0.07, 0.7, 1.0)),
                "night": (hsv(0.65, 0.8, 0.15), hsv(0.62, 0.6, 0.35)), "grey": (hsv(0.6, 0.05, 0.7), hsv(0.6, 0.05, 0.85))}[sky]
    cv.poly(glass, vgrad(top, bot, gy0, gy1), cid, iid)
    if rng.random() < 0.6:  # distant hills / trees through the glass
        h = rng.uniform(0.55, 0.8)
        cv.poly(wr.quad(0.08, 0.92, h, 0.93), hsv(rng.uniform(0.22, 0.4), 0.5, 0.35 if sky != "night" else 0.12), cid, iid)
    panes = rng.integers(1, 4)
    for k in range(1, panes):
        s = k / panes
        cv.poly(wr.quad(s - 0.025, s + 0.025, 0.05, 0.95), frame, cid, iid)
    if rng.random() < 0.6:
        cv.poly(wr.quad(0.05, 0.95, 0.47, 0.53), frame, cid, iid)
    cv.poly(wr.quad(-0.05, 1.05, 0.97, 1.06, out=0.02), frame * 0.9, cid, iid)  # sill
    if rng.random() < 0.45:  # curtains belong to the window
        c = hsv(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.4, 0.9))
        w = rng.uniform(0.12, 0.3)
        cv.poly(wr.quad(-0.12, w, -0.1, 1.12, out=0.03), c, cid, iid)
        cv.poly(wr.quad(1 - w, 1.12, -0.1, 1.12, out=0.03), c * 0.92, cid, iid)


def draw_painting(cv, rng, wr: WallRect, iid):
    cid = CID["painting"]
    q = wr.quad(0, 1, 0, 1)
    xs, ys = [p[0] for p in q], [p[1] for p in q]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    cv.soft_ellipse(np.mean(xs) + 0.1 * w, np.mean(ys) + 0.1 * h, 0.45 * w, 0.45 * h, 0.35)
    frame = [hsv(0.12, 0.6, 0.8), hsv(0, 0, 0.1), hsv(0.07, 0.6, 0.45), hsv(0, 0, 0.97)][rng.integers(4)]
    cv.poly(q, frame, cid, iid)
    t = rng.uniform(0.05, 0.12)
    inner = wr.quad(t, 1 - t, t, 1 - t)
    iy0, iy1 = quad_y(inner)
    style = rng.integers(3)
    sub = lambda s0, s1, t0, t1: wr.quad(t + s0 * (1 - 2 * t), t + s1 * (1 - 2 * t), t + t0 * (1 - 2 * t), t + t1 * (1 - 2 * t))
    if style == 0:  # landscape: sky, sun, ground
        hz = rng.uniform(0.45, 0.7)
        cv.poly(inner, vgrad(hsv(rng.uniform(0.5, 0.7), 0.5, 0.9), hsv(rng.uniform(0, 0.15), 0.4, 1.0), iy0, iy1), cid, iid)
        sq = sub(0.2, 0.45, 0.15, 0.4) if rng.random() < 0.5 else sub(0.55, 0.8, 0.15, 0.4)
        sx, sy = np.mean([p[0] for p in sq]), np.mean([p[1] for p in sq])
        cv.ellipse(sx, sy, 0.1 * w, 0.1 * w, hsv(0.13, 0.7, 1.0), cid, iid)
        cv.poly(sub(0, 1, hz, 1), hsv(rng.uniform(0.2, 0.4), 0.6, 0.5), cid, iid)
    elif style == 1:  # abstract colour blocks
        cv.poly(inner, hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.5, 1)), cid, iid)
        for _ in range(rng.integers(2, 5)):
            s0, t0 = rng.uniform(0, 0.7, 2)
            cv.poly(sub(s0, s0 + rng.uniform(0.2, 0.5), t0, t0 + rng.uniform(0.2, 0.5)),
                    hsv(rng.random(), rng.uniform(0.5, 1), rng.uniform(0.4, 1)), cid, iid)
    else:  # portrait: a dark background and a bust
        cv.poly(inner, hsv(rng.random(), 0.5, 0.25), cid, iid)
        hq = sub(0.3, 0.7, 0.15, 0.6)
        hx, hy = np.mean([p[0] for p in hq]), np.mean([p[1] for p in hq])
        cv.poly(sub(0.15, 0.85, 0.65, 1.0), hsv(rng.random(), 0.6, 0.5), cid, iid)
        cv.ellipse(hx, hy, 0.18 * w, 0.25 * h, hsv(0.07, 0.45, rng.uniform(0.5, 0.95)), cid, iid)


# ---------------------------------------------------------------- floor objects
def wood(rng):
    if rng.random() < 0.7:
        return hsv(rng.uniform(0.04, 0.1), rng.uniform(0.4, 0.75), rng.uniform(0.25, 0.7))
    return hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.2, 0.95))


def draw_bed(cv, rng, room, o, iid):
    cid = CID["bed"]
    X0, X1, Z0, Z1 = o["X0"], o["X1"], o["Z0"], o["Z1"]
    frame = wood(rng)
    box(cv, room, X0 - 0.04, X1 + 0.04, 0, rng.uniform(0.8, 1.3), Z1 - 0.08, Z1, frame, cid, iid)
    box(cv, room, X0, X1, 0, 0.3, Z0, Z1 - 0.08, frame * 0.9, cid, iid)
    box(cv, room, X0 + 0.03, X1 - 0.03, 0.3, 0.5, Z0 + 0.02, Z1 - 0.08, hsv(0.1, 0.05, 0.95), cid, iid)
    npil = 1 if X1 - X0 < 1.3 else 2
    pw = (X1 - X0 - 0.15) / npil
    pc = hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.85, 1.0))
    for k in range(npil):
        px = X0 + 0.08 + k * pw
        box(cv, room, px + 0.02, px + pw - 0.02, 0.5, 0.63, Z1 - 0.6, Z1 - 0.12, pc, cid, iid)
    blanket = hsv(rng.random(), rng.uniform(0.3, 0.85), rng.uniform(0.35, 0.9))
    fold = Z1 - rng.uniform(0.7, 1.0)
    box(cv, room, X0 - 0.02, X1 + 0.02, 0.2, 0.55, Z0 - 0.02, fold, blanket, cid, iid)
    if rng.random() < 0.5:  # a contrasting stripe across the blanket
        zs = rng.uniform(Z0 + 0.2, fold - 0.3)
        box(cv, room, X0 - 0.025, X1 + 0.025, 0.2, 0.555, zs, zs + 0.15, blanket * 0.6, cid, iid)


def draw_table(cv, rng, room, o, iid):
    cid = CID["table"]
    X0, X1, Z0, Z1, H = o["X0"], o["X1"], o["Z0"], o["Z1"], o["H"]
    c = wood(rng)
    lw = 0.06
    for zz in (Z1 - lw, Z0):
        for xx in (X0, X1 - lw):
            box(cv, room, xx, xx + lw, 0, H - 0.05, zz, zz + lw, c * 0.85, cid, iid)
    box(cv, room, X0 - 0.04, X1 + 0.04, H - 0.05, H, Z0 - 0.04, Z1 + 0.04, c, cid, iid)


def draw_lamp(cv, rng, room, o, iid):
    cid = CID["lamp"]
    xc, zc, y0 = o["xc"], o["zc"], o["Ybase"]
    small = y0 > 0  # table lamp
    hp = rng.uniform(0.25, 0.45) if small else rng.uniform(1.2, 1.7)
    rb = rng.uniform(0.1, 0.17) if small else rng.uniform(0.18, 0.28)
    rt = rb * rng.uniform(0.5, 0.9)
    sh = rb * rng.uniform(1.0, 1.6)
    metal = hsv(rng.random(), rng.uniform(0, 0.4), rng.uniform(0.1, 0.8))
    shade = hsv(rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.5), rng.uniform(0.85, 1.0)) if rng.random() < 0.7 \
        else hsv(rng.random(), 0.6, 0.8)
    P = room.P
    sx, sy = P(xc, y0 + hp + sh / 2, zc)
    scale = room.f / zc
    cv.soft_ellipse(sx, sy, 2.5 * rb * scale, 2.0 * rb * scale, 0.3, hsv(0.12, 0.4, 1.0))   # glow
    br = rng.uniform(0.06, 0.12) if small else rng.uniform(0.12, 0.2)
    bx, by = P(xc, y0, zc)
    cv.ellipse(bx, by, br * scale, 0.35 * br * scale, metal * 0.8, cid, iid)
    if small and rng.random() < 0.5:  # vase-like body
        cv.ellipse(*P(xc, y0 + hp * 0.45, zc), 0.09 * scale, hp * 0.5 * scale, metal, cid, iid)
    box(cv, room, xc - 0.015, xc + 0.015, y0, y0 + hp + 0.05, zc, zc + 0.03, metal, cid, iid)
    cv.poly([P(xc - rb, y0 + hp, zc), P(xc + rb, y0 + hp, zc), P(xc + rt, y0 + hp + sh, zc), P(xc - rt, y0 + hp + sh, zc)],
            vgrad(shade * 0.85, shade, *sorted((P(0, y0 + hp + sh, zc)[1], P(0, y0 + hp, zc)[1]))), cid, iid)


def draw_plant(cv, rng, room, o, iid):
    cid = CID["plant"]
    xc, zc, y0 = o["xc"], o["zc"], o["Ybase"]
    P = room.P
    s = room.f / zc
    r = rng.uniform(0.1, 0.15) if y0 > 0 else rng.uniform(0.14, 0.24)
    hpot = r * rng.uniform(1.2, 2.0)
    hf = rng.uniform(0.3, 0.6) if y0 > 0 else rng.uniform(0.5, 1.3)
    green = rng.uniform(0.22, 0.4)
    for _ in range(rng.integers(6, 11)):
        lx = xc + rng.normal(0, r * 1.2)
        ly = y0 + hpot + rng.uniform(0.05, 1.0) * hf
        cv.ellipse(*P(lx, ly, zc), rng.uniform(0.05, 0.1) * s * (1 + hf), rng.uniform(0.12, 0.3) * s * (1 + hf) * 0.6,
                   hsv(green + rng.normal(0, 0.03), rng.uniform(0.5, 0.85), rng.uniform(0.3, 0.75)), cid, iid,
                   angle=rng.uniform(-0.9, 0.9))
    pot = hsv(rng.random(), rng.uniform(0.2, 0.8), rng.uniform(0.35, 0.9)) if rng.random() < 0.5 else hsv(0.05, 0.6, 0.6)
    cv.poly([P(xc - r, y0 + hpot, zc), P(xc + r, y0 + hpot, zc), P(xc + 0.75 * r, y0, zc), P(xc - 0.75 * r, y0, zc)], pot, cid, iid)
    tx, ty = P(xc, y0 + hpot, zc)
    cv.ellipse(tx, ty, r * s, 0.25 * r * s, pot * 0.8, cid, iid)


# ---------------------------------------------------------------- placement
def overlaps(a, b, pad=0.1):
    return a[0] < b[1] + pad and b[0] < a[1] + pad and a[2] < b[3] + pad and b[2] < a[3] + pad


def place_wall(rng, room, cls, wall_objs):
    """Pick a wall and a free rectangle on it for a window/painting, or None."""
    walls = ["back"]
    xl, xr = room.P(-room.Wl, 0, room.Zb)[0], room.P(room.Wr, 0, room.Zb)[0]
    if xl > 0.12:
        walls.append("left")
    if xr < 0.88:
        walls.append("right")
    for _ in range(12):
        wall = walls[rng.integers(len(walls))] if rng.random() < 0.45 else "back"
        if cls == "window":
            w, h = rng.uniform(0.7, 1.6), rng.uniform(0.9, 1.5)
            Y0 = rng.uniform(0.7, 1.1)
        else:
            w, h = rng.uniform(0.4, 1.2), rng.uniform(0.35, 0.9)
            Y0 = rng.uniform(1.05, 1.6) - h / 4
        Y0 = min(Y0, room.Hr - h - 0.15)
        if wall == "back":
            lo, hi = -room.Wl + 0.15, room.Wr - 0.15
            # keep most of it inside the image
            lo = max(lo, (0.02 - room.cx) * room.Zb / room.f)
            hi = min(hi, (0.98 - room.cx) * room.Zb / room.f)
        else:
            x_edge = 0.0 if wall == "left" else 1.0
            W = room.Wl if wall == "left" else room.Wr
            lo = max(room.f * W / abs(x_edge - room.cx) + 0.3, 0.8)   # depth where it leaves the image
            hi = room.Zb - 0.2
        if hi - lo < w:
            continue
        a0 = rng.uniform(lo, hi - w)
        rect = (a0, a0 + w, Y0, Y0 + h)
        if any(o["wall"] == wall and overlaps(rect, o["rect"], 0.15) for o in wall_objs):
            continue
        return {"cls": cls, "wall": wall, "rect": rect}
    return None


def place_floor(rng, room, cls, floor_objs):
    zlo = room.Zmin + 0.2
    for _ in range(15):
        if cls == "bed":
            w, d = rng.choice([rng.uniform(0.9, 1.1), rng.uniform(1.4, 1.9)]), rng.uniform(1.9, 2.1)
            Z1 = room.Zb
            Z0 = Z1 - d
        elif cls == "table":
            w, d = rng.uniform(0.7, 1.5), rng.uniform(0.6, 1.0)
            Z0 = rng.uniform(zlo, room.Zb - d - 0.05)
            Z1 = Z0 + d
        else:
            w = d = 0.5 if cls == "plant" else 0.45
            Z0 = rng.uniform(zlo, room.Zb - d - 0.05)
            Z1 = Z0 + d
        lo = max(-room.Wl + 0.05, (0.0 - room.cx) * Z0 / room.f)
        hi = min(room.Wr - 0.05, (1.0 - room.cx) * Z0 / room.f)
        if hi - lo < w:
            continue
        X0 = rng.uniform(lo, hi - w)
        fp = (X0, X0 + w, Z0, Z1)
        if any(overlaps(fp, o["fp"], 0.05) for o in floor_objs):
            continue
        o = {"cls": cls, "fp": fp, "X0": X0, "X1": X0 + w, "Z0": Z0, "Z1": Z1, "xc": X0 + w / 2, "zc": (Z0 + Z1) / 2,
             "Ybase": 0.0, "key": Z0}
        if cls == "table":
            o["H"] = rng.uniform(0.68, 0.78)
        return o
    return None


def render_rooms(index: int, resolution: int, seed: int, supersample: int = 2) -> SceneSample:
    rng = np.random.default_rng([seed, index, 1])
    room = Room(rng)
    cv = Canvas(resolution, supersample)
    world = paint_room(cv, room, rng)

    n_obj = int(rng.integers(1, 5))
    names = list(WEIGHTS)
    p = np.array([WEIGHTS[k] for k in names])
    chosen = []
    while len(chosen) < n_obj:
        c = names[rng.choice(len(names), p=p / p.sum())]
        if chosen.count(c) < LIMITS[c]:
            chosen.append(c)
    chosen.sort(key=lambda c: ["bed", "table"].index(c) if c in ("bed", "table") else 2)  # big things first

    wall_objs, floor_objs = [], []
    for c in chosen:
        if c in ("window", "painting"):
            o = place_wall(rng, room, c, wall_objs)
            if o:
                wall_objs.append(o)
            continue
        table = next((t for t in floor_objs if t["cls"] == "table" and not t.get("used")), None)
        if c in ("lamp", "plant") and table and rng.random() < 0.6:  # stand it on the table
            table["used"] = True
            floor_objs.append({"cls": c, "xc": rng.uniform(table["X0"] + 0.2, table["X1"] - 0.2),
                               "zc": (table["Z0"] + table["Z1"]) / 2, "Ybase": table["H"], "key": table["Z0"] - 1e-3, "fp": None})
            continue
        o = place_floor(rng, room, c, [f for f in floor_objs if f["fp"]])
        if o:
            floor_objs.append(o)

    specs = []
    for o in wall_objs:
        iid = len(specs) + 1
        wr = WallRect(room, o["wall"], *o["rect"])
        (draw_window if o["cls"] == "window" else draw_painting)(cv, rng, wr, iid)
        specs.append({"id": iid, "class": o["cls"], "class_id": CID[o["cls"]], "parent": None, "depth": len(specs)})
    for o in floor_objs:
        if o["fp"]:
            X0, X1, Z0, Z1 = o["fp"]
            floor_shadow(cv, world, o["xc"], o["zc"], (X1 - X0) * 0.65, (Z1 - Z0) * 0.65, 0.45)
    for o in sorted(floor_objs, key=lambda o: -o["key"]):
        iid = len(specs) + 1
        {"bed": draw_bed, "table": draw_table, "lamp": draw_lamp, "plant": draw_plant}[o["cls"]](cv, rng, room, o, iid)
        specs.append({"id": iid, "class": o["cls"], "class_id": CID[o["cls"]], "parent": None, "depth": len(specs)})

    # Global light falloff + vignette, a little grain: less flat, still clean.
    r = cv.full()
    vig = 1.0 - 0.35 * ((r.x - 0.5) ** 2 + (r.y - 0.5) ** 2)
    cv.rgb *= vig[..., None]
    np.clip(cv.rgb, 0.0, 1.0, out=cv.rgb)
    return finalize(cv, specs)

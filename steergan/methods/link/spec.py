"""Links between latent axes and pixel regions: parsing, validation and the axis partition.

A link ties a contiguous group of w channels ("axes", LinkGAN Sec. 3.2: "the first several
channels") to a region of the image. JSON form, as given in ``--method-options``::

    {"region": {"box": [x0, y0, x1, y1]}, "axes": 32}        # fractions of width/height, x right, y down
    {"region": {"class": "floor", "dilate": 1}, "axes": [32, 64]}
    {"region": {"class": ["bed", 2]}, "axes": 16}             # class names of the segmenter, or ids

``axes`` is either ``[start, stop)`` (w channels) or a count: the next ``count`` channels after the
previous link's (the first link starts at 0). The ``quadrants`` layout is the paper's four-way split
(Sec. 4.2.2): four quadrant boxes, w cut into four equal groups.

The partition of w (Sec. 3.2, ``w = [w_1, ..., w_K]``) is the links' groups plus the remaining
"free" axes; every channel belongs to exactly one group.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Union

import torch

from ...errors import UserError

QUADRANTS = ((0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0, 1.0))
LAYOUTS = ("quadrants",)
MAX_DILATE = 16


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class BoxRegion:
    """A fixed rectangle, the same for every image (Sec. 4.2.1 "region-based control")."""

    box: tuple[float, float, float, float]          # x0, y0, x1, y1 as fractions of the image

    def to_dict(self) -> dict:
        return {"box": list(self.box)}

    def mask(self, size: int, device=None) -> torch.Tensor:
        """Float [1, 1, size, size]: 1 for pixels whose centre lies inside the box."""
        c = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size
        x0, y0, x1, y1 = self.box
        inside_x = (c >= x0) & (c < x1)
        inside_y = (c >= y0) & (c < y1)
        return (inside_y[:, None] & inside_x[None, :]).float()[None, None]

    def overlaps(self, other: "BoxRegion") -> bool:
        a, b = self.box, other.box
        return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@dataclass(frozen=True)
class ClassRegion:
    """The pixels of one or more semantic classes of each image (Sec. 4.2.1 "semantic-based
    control"); the mask comes from a segmenter run on the generated image."""

    classes: tuple[Union[str, int], ...]
    dilate: int = 1          # grow the mask by this many pixels (segmenter edges are soft at 64 px)

    def to_dict(self) -> dict:
        return {"class": list(self.classes), "dilate": self.dilate}

    def class_ids(self, names: Optional[list]) -> list[int]:
        ids = []
        for c in self.classes:
            if _int(c):
                if names is not None and not 0 <= c < len(names):
                    raise UserError(f"class id {c} is out of range for a segmenter with {len(names)} classes")
                ids.append(c)
            elif names is None:
                raise UserError(f"class {c!r} given by name, but the segmenter has no class names; use ids")
            elif c not in names:
                raise UserError(f"class {c!r} is not one of the segmenter's classes: {', '.join(names)}")
            else:
                ids.append(names.index(c))
        return ids


Region = Union[BoxRegion, ClassRegion]


@dataclass(frozen=True)
class Link:
    region: Region
    axes: tuple[int, int]            # w channels [start, stop)

    @property
    def n_axes(self) -> int:
        return self.axes[1] - self.axes[0]

    def axis_mask(self, w_dim: int, device=None) -> torch.Tensor:
        """Bool [w_dim]: True on this link's axes."""
        m = torch.zeros(w_dim, dtype=torch.bool, device=device)
        m[self.axes[0]:self.axes[1]] = True
        return m

    def to_dict(self) -> dict:
        return {"region": self.region.to_dict(), "axes": list(self.axes)}


# ---------------------------------------------------------------------- parsing

def parse_region(d, where: str) -> Region:
    if not isinstance(d, dict):
        raise UserError(f"{where}: region must be an object like {{\"box\": [x0, y0, x1, y1]}} or "
                        f"{{\"class\": \"floor\"}}, got {d!r}")
    kinds = [k for k in ("box", "class") if k in d]
    if len(kinds) != 1:
        raise UserError(f"{where}: region needs exactly one of 'box' and 'class', got {sorted(d)}")
    if kinds == ["box"]:
        if set(d) != {"box"}:
            raise UserError(f"{where}: unknown box region field(s) {sorted(set(d) - {'box'})}")
        b = d["box"]
        if not isinstance(b, (list, tuple)) or len(b) != 4 or not all(_number(v) for v in b):
            raise UserError(f"{where}: box must be [x0, y0, x1, y1] (fractions of the image), got {b!r}")
        x0, y0, x1, y1 = (float(v) for v in b)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise UserError(f"{where}: box {b} must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
        return BoxRegion((x0, y0, x1, y1))
    unknown = set(d) - {"class", "dilate"}
    if unknown:
        raise UserError(f"{where}: unknown class region field(s) {sorted(unknown)}")
    c = d["class"]
    classes = c if isinstance(c, (list, tuple)) else [c]
    if not classes or not all(isinstance(v, str) and v or _int(v) and v >= 0 for v in classes):
        raise UserError(f"{where}: class must be a class name, a class id, or a list of them, got {c!r}")
    dilate = d.get("dilate", 1)
    if not _int(dilate) or not 0 <= dilate <= MAX_DILATE:
        raise UserError(f"{where}: dilate must be an integer in [0, {MAX_DILATE}], got {dilate!r}")
    return ClassRegion(tuple(classes), dilate)


def parse_links(links, layout: Optional[str], w_dim: Optional[int]) -> list[Link]:
    """Validated links with resolved axes for a generator whose w has ``w_dim`` channels.

    ``w_dim=None`` checks only what does not depend on the network (and returns no links for a
    layout), so option errors surface before any network is built.
    """
    if layout is not None:
        if layout not in LAYOUTS:
            raise UserError(f"link option layout={layout!r}: choose one of {', '.join(LAYOUTS)}")
        if links:
            raise UserError("give either 'links' or 'layout', not both")
        if w_dim is None:
            return []
        if w_dim < 4:
            raise UserError(f"the quadrants layout needs w_dim >= 4, got {w_dim}")
        cuts = [round(i * w_dim / 4) for i in range(5)]
        return [Link(BoxRegion(b), (cuts[i], cuts[i + 1])) for i, b in enumerate(QUADRANTS)]
    if not isinstance(links, (list, tuple)) or not links:
        raise UserError('the link method needs "links" (a non-empty list) or "layout": "quadrants", e.g. '
                        '--method-options \'{"links": [{"region": {"box": [0, 0.5, 0.5, 1]}, "axes": 32}]}\'')
    out: list[Link] = []
    nxt = 0
    for i, d in enumerate(links):
        where = f"link {i}"
        if not isinstance(d, dict) or set(d) - {"region", "axes"} or "region" not in d or "axes" not in d:
            raise UserError(f"{where}: expected {{\"region\": ..., \"axes\": N or [start, stop]}}, got {d!r}")
        region = parse_region(d["region"], where)
        a = d["axes"]
        if _int(a):
            start, stop = nxt, nxt + a
            if a < 1:
                raise UserError(f"{where}: axes count must be positive, got {a}")
        elif isinstance(a, (list, tuple)) and len(a) == 2 and all(_int(v) for v in a):
            start, stop = a
            if not 0 <= start < stop:
                raise UserError(f"{where}: axes [start, stop) needs 0 <= start < stop, got {list(a)}")
        else:
            raise UserError(f"{where}: axes must be a count or [start, stop), got {a!r}")
        if w_dim is not None and stop > w_dim:
            raise UserError(f"{where}: axes [{start}, {stop}) exceed w, which has {w_dim} channels")
        out.append(Link(region, (start, stop)))
        nxt = stop
    check_links(out, w_dim)
    return out


def check_links(links: list[Link], w_dim: Optional[int]) -> None:
    for i, a in enumerate(links):
        if w_dim is not None and a.n_axes >= w_dim:
            raise UserError(f"link {i} takes every axis of w: nothing would be left to perturb for Eq. 3")
        for j in range(i):
            b = links[j]
            if a.axes[0] < b.axes[1] and b.axes[0] < a.axes[1]:
                raise UserError(f"links {j} and {i} share axes ({list(b.axes)} and {list(a.axes)})")
            if isinstance(a.region, BoxRegion) and isinstance(b.region, BoxRegion) and a.region.overlaps(b.region):
                raise UserError(f"the boxes of links {j} and {i} overlap: Eq. 3 of one would forbid "
                                "what Eq. 4 of the other asks for")
            if isinstance(a.region, ClassRegion) and isinstance(b.region, ClassRegion) \
                    and set(a.region.classes) & set(b.region.classes):
                raise UserError(f"links {j} and {i} share the class(es) "
                                f"{sorted(map(str, set(a.region.classes) & set(b.region.classes)))}")


def axis_partition(links: list[Link], w_dim: int) -> list[torch.Tensor]:
    """The groups ``w_1 .. w_K`` of Sec. 3.2: each link's channels, then the free ones (if any)."""
    groups = [torch.arange(*l.axes) for l in links]
    used = torch.zeros(w_dim, dtype=torch.bool)
    for g in groups:
        used[g] = True
    free = torch.nonzero(~used).flatten()
    return groups + ([free] if len(free) else [])

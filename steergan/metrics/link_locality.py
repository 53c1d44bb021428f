"""LinkGAN's Table 2 and Table 3 measurements for any generator and link.

For each of ``n`` seeds, a donor seed (``resample_seeds``) supplies new values for
(a) the link's axes -> ``inside`` / ``outside`` / ``ratio`` (Tab. 2: the edit should change the
region, ``inside`` high, and nothing else, ``outside`` low), and
(b) every other axis -> ``leak_in`` (Tab. 3's MSE_i: the region should not change).
``leak_out`` is (a)'s ``outside`` (Tab. 3's MSE_o). A baseline generator gets the same
measurement with the same axes and region: the Table 2 baseline row.

Images are synthesised with constant noise, so only w differs between the images compared.
Class regions are the union of the class masks of both images (as in training).
"""
from __future__ import annotations

from typing import Optional

import torch

from ..errors import UserError
from ..methods.link.edits import link_spec, resample_seeds, resample_ws
from ..methods.link.regulariser import class_map, pair_mask
from ..methods.link.spec import ClassRegion
from .locality import LocalityAccumulator


class LinkRegion:
    """The region of one link for image pairs (x, x'): its box, or where its class is in either."""

    def __init__(self, model, spec, segmenter: Optional[str] = None):
        self.spec, self.size = spec, model.resolution
        self.seg = self.ids = None
        if isinstance(spec.region, ClassRegion):
            from ..methods.link import LinkGAN
            if segmenter is None and isinstance(model.method, LinkGAN):
                self.seg = model.method.segmenter(model.device)
            else:
                from ..nn.segnet import ClassMapNet
                self.seg = ClassMapNet.load(segmenter).to(model.device)
            self.ids = spec.region.class_ids(getattr(self.seg, "classes", None))

    def __call__(self, x: torch.Tensor, x_other: torch.Tensor) -> torch.Tensor:
        """Float mask [N or 1, 1, H, W]."""
        maps = None
        if self.seg is not None:
            maps = class_map(self.seg, torch.cat([x, x_other])).split(len(x))
        return pair_mask(self.spec.region, self.size, maps, self.ids, x.device)


@torch.no_grad()
def link_locality(model, links=None, link: int = 0, n: int = 1000, seed: int = 0, truncation: float = 1.0,
                  segmenter: Optional[str] = None, batch: int = 32, start_ws: Optional[torch.Tensor] = None) -> dict:
    """Masked MSE of partial resampling for ``model``'s link ``link`` (or the given ``links``).
    ``start_ws``: W+ [N, L, D] to edit instead of seeds' (e.g. inverted images; n = N)."""
    if start_ws is not None:
        n = len(start_ws)
    specs = link_spec(model, links)
    if isinstance(link, bool) or not isinstance(link, int) or not 0 <= link < len(specs):
        raise UserError(f"link {link!r} does not exist; there are links 0..{len(specs) - 1}")
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    spec = specs[link]
    region = LinkRegion(model, spec, segmenter)
    edit, rest = LocalityAccumulator(), LocalityAccumulator()
    for start in range(seed, seed + n, batch):
        seeds = range(start, min(start + batch, seed + n))
        ws = (torch.cat([model.ws_from_seed(s, truncation) for s in seeds]) if start_ws is None
              else start_ws[start - seed:start - seed + len(seeds)].to(model.device))
        donors = torch.cat([model.ws_from_seed(resample_seeds(s, link, 1)[0], truncation) for s in seeds])
        w_link = resample_ws(ws, spec, donors)          # (a) the link's axes from the donor
        w_rest = resample_ws(donors, spec, ws)          # (b) every other axis from the donor
        x, x1, x2 = model.synthesize(torch.cat([ws, w_link, w_rest])).split(len(seeds))
        edit.add(x, x1, region(x, x1))
        rest.add(x, x2, region(x, x2))
    a, b = edit.result(), rest.result()
    return {"inside": a["inside"], "outside": a["outside"], "ratio": a["ratio"],
            "leak_in": b["inside"], "leak_out": a["outside"], "change_out": b["outside"],
            "n": n, "n_paired": a["n_paired"], "link": link, "spec": spec.to_dict(), "truncation": truncation}

"""What the LinkGAN and SemanticStyleGAN panels show, computed by library functions (no edit logic).

link: each link's axes and region (``methods.link``), and its region on the current image as
an alpha mask (the box, or the segmenter's class pixels: ``metrics.link_locality.LinkRegion``).
semantic: the classes with the colours of ``steergan compose``'s label maps, each class's pixels
in the generated label map with its share of the image, its pseudo-depth (``methods.semantic.edits``,
pictured by ``edit.semantic_views.depth_grey``), and the image built up class by class.
"""
from __future__ import annotations

import torch

from ..errors import UserError
from ..methods.state import EditState, render_state
from ..models import to_uint8
from .views import alpha_png, data_url, pil_png, png_bytes

SEMANTIC_CAPS = ("class_shape", "class_texture")


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(rgb)


def state_ws(model, state: EditState) -> torch.Tensor:
    """The W+ [1, num_ws, w_dim] an edit state describes (its seed's, or its explicit one)."""
    return model.ws_from_seed(state.seed, state.truncation) if state.seed is not None \
        else state.ws_tensor(model.device)


def model_info(model) -> dict:
    """The method's fixed panel data: ``links`` (LinkGAN) and/or ``classes`` (SemanticStyleGAN)."""
    caps, out = set(model.capabilities), {}
    if "link_resample" in caps:
        from ..methods.link.edits import link_spec
        from ..methods.link.spec import BoxRegion
        out["links"] = [{"index": k, "axes": list(l.axes), "region": l.region.to_dict(),
                         "kind": "box" if isinstance(l.region, BoxRegion) else "class"}
                        for k, l in enumerate(link_spec(model))]
    if caps.intersection(SEMANTIC_CAPS):
        from ..edit.semantic_views import class_colour
        from ..methods.semantic.edits import check_model
        out["classes"] = [{"index": k, "name": c, "colour": _hex(class_colour(k))}
                          for k, c in enumerate(check_model(model).classes)]
    return out


def _require(model, caps, what: str) -> None:
    if not set(model.capabilities).intersection(caps):
        raise UserError(f"this model ({model.method.name}) has no {what}; it needs {' or '.join(caps)}")


@torch.no_grad()
def link_regions(model, state: EditState) -> list[str]:
    """Per link, its region on the state's image: alpha PNG data URLs (R x R)."""
    _require(model, ("link_resample",), "links")
    from ..methods.link.edits import link_spec
    from ..metrics.link_locality import LinkRegion
    specs = link_spec(model)
    x = None
    out = []
    for spec in specs:
        region = LinkRegion(model, spec)
        if region.seg is not None and x is None:         # class regions depend on the image
            x = render_state(model, state)
        img = x if x is not None else torch.zeros(1, 3, model.resolution, model.resolution, device=model.device)
        out.append(data_url(alpha_png(region(img, img)[0, 0])))
    return out


@torch.no_grad()
def semantic_layers(model, state: EditState) -> dict:
    """Per class: its pixels in the generated label map (alpha PNG, R x R), its share of the image,
    and its pseudo-depth (grey PNG on the coarse grid; with ``class_depth``)."""
    _require(model, SEMANTIC_CAPS, "per-class codes")
    from ..edit.semantic_views import depth_grey
    from ..methods.semantic import edits
    out = edits.render(model, state_ws(model, state), state.noise_mode)
    labels = edits.labels(out)[0]
    k_all = out.depths.shape[1]
    masks = [labels == k for k in range(k_all)]
    depths = None
    if "class_depth" in model.capabilities:
        depths = [data_url(pil_png(depth_grey(out.depths[0, k]))) for k in range(k_all)]
    return {"area": [float(m.float().mean()) for m in masks], "masks": [data_url(alpha_png(m)) for m in masks],
            "depths": depths}


@torch.no_grad()
def build_up_strip(model, state: EditState) -> dict:
    """The image with classes added one at a time (background first): PNG data URLs and the order."""
    _require(model, ("class_build_up",), "build-up view")
    from ..methods.semantic import edits
    images, order = edits.build_up(model, state_ws(model, state), noise_mode=state.noise_mode)
    return {"order": order, "images": [data_url(png_bytes(im)) for im in to_uint8(images)]}


# view name (declared by a method in ``Method.views``) -> make(model, state) -> JSON-able dict
VIEWS = {
    "link_regions": lambda model, state: {"regions": link_regions(model, state)},
    "semantic_layers": semantic_layers,
    "build_up": build_up_strip,
}

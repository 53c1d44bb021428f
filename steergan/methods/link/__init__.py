"""LinkGAN: link latent axes to pixel regions with a training regulariser.

Zhu, Yang, Shen, Shi, Dai, Zhao, Chen, "LinkGAN: Linking GAN Latents to Pixels for Controllable
Image Synthesis", ICCV 2023 (arXiv 2301.04604). No architecture change: a link is a group of
w channels and an image region (fixed box or semantic class), and the regulariser (Eq. 3-6)
forbids the group to change anything outside the region and the other channels to change
anything inside it. Files, one job each: spec (links, regions, axis partition), regulariser
(Eq. 3-6 as functions), method (the registered ``Method``), edits (partial resampling).
"""
from .edits import apply_link_op, link_spec, resample_states, resample_ws, resampled_ws
from .method import LinkGAN
from .regulariser import link_terms, masked_sq_error, perturb
from .spec import BoxRegion, ClassRegion, Link, axis_partition, parse_links

__all__ = ["LinkGAN", "Link", "BoxRegion", "ClassRegion", "parse_links", "axis_partition", "perturb",
           "masked_sq_error", "link_terms", "resample_ws", "resampled_ws", "resample_states",
           "apply_link_op", "link_spec"]

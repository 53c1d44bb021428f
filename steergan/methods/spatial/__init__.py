"""SpatialGAN: Gaussian heatmaps encoded into G and aligned with D's GradCAM attention.

Wang, Bhagat, Yang, Xu, Shen, Li, Zhou, "Spatial Steerability of GANs via Self-Supervision
from Discriminator", TPAMI 46(12), 2024 (arXiv 2301.08455). Files, one job each:
heatmaps (control state, samplers, edits), sel (spatial encoding layers), gradcam,
align (Eq. 4/5), method (the registered ``Method``), edits (editor state and ops).
"""
from .align import align_loss, align_loss_indoor, truncated_l1
from .edits import EditState, apply_op, apply_ops
from .gradcam import gradcam_maps   # (the function ``gradcam.gradcam`` is not re-exported: it would shadow the module)
from .heatmaps import Heatmaps, collate, sample_hierarchical, sample_multi_object
from .method import SpatialGAN
from .sel import SELConcat, SELIndoor, SELNorm

__all__ = ["Heatmaps", "collate", "sample_hierarchical", "sample_multi_object", "SELNorm", "SELConcat",
           "SELIndoor", "gradcam_maps", "align_loss", "align_loss_indoor", "truncated_l1",
           "SpatialGAN", "EditState", "apply_op", "apply_ops"]

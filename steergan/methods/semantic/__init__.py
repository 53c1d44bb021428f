"""SemanticStyleGAN: compositional local generators per semantic class, fused by depth.

Shi, Yang, Wan, Shen, "SemanticStyleGAN: Learning Compositional Generative Priors for
Controllable Image Synthesis and Editing", CVPR 2022 (arXiv 2112.02236). Files, one job
each: layout (the factorised W+ and per-class mixing), local (Fourier features, local
generators), fusion (softmax over depths), render (render net), generator, discriminator
(dual branch), losses (dual R1, L_mask), method (the registered ``Method``), edits.
"""
from .discriminator import DualDiscriminator
from .fusion import class_features, coarse_masks, fuse
from .generator import SemanticGenerator, SemanticOutput, SemanticSynthesis
from .layout import PARTS, LatentLayout
from .losses import dual_r1, mask_regulariser, one_hot_labels
from .method import SemanticStyleGAN

__all__ = ["DualDiscriminator", "class_features", "coarse_masks", "fuse", "SemanticGenerator", "SemanticOutput",
           "SemanticSynthesis", "PARTS", "LatentLayout", "dual_r1", "mask_regulariser", "one_hot_labels",
           "SemanticStyleGAN"]

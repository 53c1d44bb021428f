"""Control methods, each plugged into the shared backbone through ``Method``."""
from . import stylegan2  # noqa: F401  (registers the baseline)
from . import spatial  # noqa: F401  (registers SpatialGAN)
from . import link  # noqa: F401  (registers LinkGAN)
from . import semantic  # noqa: F401  (registers SemanticStyleGAN)
from .base import LossContext, Method, build_method, describe, method_from_dict, method_names, register

__all__ = ["LossContext", "Method", "build_method", "describe", "method_from_dict", "method_names", "register"]

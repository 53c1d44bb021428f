"""Fréchet distances between real and generated images.

'fid' is standard FID (Inception-V3 via torch-fidelity, needs its weights file);
'fd_effnet' is the offline default, a Fréchet distance in EfficientNet-Lite0 space
that is NOT comparable to FID; 'fd_random' exists only for tests.

Co-move Ratio (SpatialGAN Tab. I) of heatmap models: ``co_move_ratio`` with a ``Segmenter``
(``SceneSegmenter.load()`` = the bundled rooms segmenter).

Where a drag's content went, on the pixels alone (not the drag's own tracker):
``drag_content(before, after, handle, target)``.

How local an edit is (LinkGAN Tab. 2/3, restyle comparisons): ``locality(before, after, mask)``
(masked MSE inside/outside and their ratio); per link of a model: ``metrics.link_locality``.
"""

from steergan.metrics.comove import co_move_ratio, default_features
from steergan.metrics.drag_content import drag_content
from steergan.metrics.extractors import (
    EffNetLite0Extractor,
    FeatureExtractor,
    InceptionExtractor,
    RandomConvExtractor,
    get_extractor,
)
from steergan.metrics.fd import fake_stats, fd, real_stats
from steergan.metrics.frechet import FrechetStats, frechet_distance
from steergan.metrics.locality import LocalityAccumulator, locality, masked_mse
from steergan.metrics.segmenter import (ForegroundSegmenter, SceneSegmenter, Segmentation, Segmenter,
                                       evaluate_segmenter, load_segmenter)

__all__ = [
    "EffNetLite0Extractor",
    "FeatureExtractor",
    "FrechetStats",
    "InceptionExtractor",
    "LocalityAccumulator",
    "RandomConvExtractor",
    "ForegroundSegmenter",
    "SceneSegmenter",
    "Segmentation",
    "Segmenter",
    "co_move_ratio",
    "default_features",
    "drag_content",
    "evaluate_segmenter",
    "load_segmenter",
    "fake_stats",
    "fd",
    "frechet_distance",
    "get_extractor",
    "locality",
    "masked_mse",
    "real_stats",
]

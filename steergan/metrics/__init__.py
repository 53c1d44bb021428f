"""Fréchet distances between real and generated images.

'fid' is standard FID (Inception-V3 via torch-fidelity, needs its weights file);
'fd_effnet' is the offline default, a Fréchet distance in EfficientNet-Lite0 space
that is NOT comparable to FID; 'fd_random' exists only for tests.
"""

from steergan.metrics.extractors import (
    EffNetLite0Extractor,
    FeatureExtractor,
    InceptionExtractor,
    RandomConvExtractor,
    get_extractor,
)
from steergan.metrics.fd import fake_stats, fd, real_stats
from steergan.metrics.frechet import FrechetStats, frechet_distance

__all__ = [
    "EffNetLite0Extractor",
    "FeatureExtractor",
    "FrechetStats",
    "InceptionExtractor",
    "RandomConvExtractor",
    "fake_stats",
    "fd",
    "frechet_distance",
    "get_extractor",
    "real_stats",
]

"""Real/fake statistics and the Fréchet distance between them.

Generator-agnostic on purpose: fake images come from a caller-supplied
``sample_fn(batch_size, start_index) -> uint8 [B,3,H,W]``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from typing import Callable, Iterable

import torch

from steergan.errors import UserError
from steergan.metrics.extractors import FeatureExtractor, check_images
from steergan.metrics.frechet import FrechetStats, frechet_distance


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress(total: int, desc: str):
    """tqdm when installed and stderr is a terminal; silent otherwise (logs, CI, workers)."""
    if not sys.stderr.isatty():
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="img", leave=False)


def _first(item):
    # Datasets may yield (image, label, ...) tuples; the image comes first.
    return item[0] if isinstance(item, (tuple, list)) else item


def _batches(source, n: int, batch: int) -> Iterable[torch.Tensor]:
    """Yield uint8 batches holding the first (up to) n images of a Dataset or iterable.

    A map-style dataset is indexed 0..n-1 and stacked; an iterable may yield single
    images [3,H,W] or ready-made batches [B,3,H,W].
    """
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        total = min(n, len(source))
        for i in range(0, total, batch):
            items = [_first(source[j]) for j in range(i, min(i + batch, total))]
            try:
                yield torch.stack([torch.as_tensor(x) for x in items])
            except RuntimeError:
                raise UserError("dataset images differ in size; resize them to one resolution") from None
        return
    pending, left = [], n
    for item in source:
        x = torch.as_tensor(_first(item))
        x = x.unsqueeze(0) if x.dim() == 3 else x
        pending.append(x[:left])
        left -= pending[-1].shape[0]
        if sum(p.shape[0] for p in pending) >= batch or left <= 0:
            yield torch.cat(pending)
            pending = []
        if left <= 0:
            return
    if pending:
        yield torch.cat(pending)


def _cache_path(cache_dir, fingerprint: str, extractor: FeatureExtractor, n: int) -> str:
    # Hash the fingerprint (may be a long path or config string) into a safe filename,
    # keeping extractor name and n readable for anyone browsing the cache folder.
    # ``weights``: which network file the features come from (a retrained judge or segmenter under the
    # same metric name must not reuse the old network's statistics)
    key = f"{fingerprint}|{extractor.name}|{extractor.dim}|{n}|{getattr(extractor, 'weights', '')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(os.fspath(cache_dir), f"real-{extractor.name}-n{n}-{digest}.npz")


def real_stats(images_iter_or_dataset, extractor: FeatureExtractor, n: int,
               cache_dir=None, fingerprint: str | None = None, batch: int = 64) -> FrechetStats:
    """FrechetStats of up to n real images, cached under cache_dir when a fingerprint is given.

    The fingerprint must identify the data (e.g. dataset path + resolution + file
    count/mtime); without one there is no safe cache key, so nothing is cached.
    """
    if n < 2:
        raise UserError(f"need n >= 2 images for Fréchet statistics, got {n}")
    path = None
    if cache_dir is not None and fingerprint is not None:
        path = _cache_path(cache_dir, fingerprint, extractor, n)
        if os.path.isfile(path):
            try:
                cached = FrechetStats.load(path)
            except UserError:
                cached = None  # corrupt cache entry: recompute and overwrite
            if cached is not None and cached.meta.get("extractor") == extractor.name:
                return cached
    stats = FrechetStats(dim=extractor.dim, meta={"extractor": extractor.name, "n_requested": n,
                                                  "kind": "real", "fingerprint": fingerprint})
    bar = _progress(n, f"real stats ({extractor.name})")
    try:
        for x in _batches(images_iter_or_dataset, n, batch):
            stats.update(extractor(check_images(x)))
            bar.update(x.shape[0])
    finally:
        bar.close()
    if stats.count < n:
        warnings.warn(f"only {stats.count} real images available (asked for {n}); "
                      "Fréchet distances at different n are not comparable", stacklevel=2)
    stats.meta["n"] = stats.count
    if path is not None:
        stats.save(path)
    return stats


def fake_stats(sample_fn: Callable[[int, int], torch.Tensor], extractor: FeatureExtractor,
               n: int, batch: int = 32) -> FrechetStats:
    """FrechetStats of n generated images from sample_fn(batch_size, start_index)."""
    if n < 2:
        raise UserError(f"need n >= 2 images for Fréchet statistics, got {n}")
    stats = FrechetStats(dim=extractor.dim, meta={"extractor": extractor.name, "n": n, "kind": "fake"})
    bar = _progress(n, f"fake stats ({extractor.name})")
    try:
        for start in range(0, n, batch):
            b = min(batch, n - start)
            x = check_images(sample_fn(b, start))
            if x.shape[0] != b:
                raise ValueError(f"sample_fn({b}, {start}) returned {x.shape[0]} images")
            stats.update(extractor(x))
            bar.update(b)
    finally:
        bar.close()
    return stats


def fd(real: FrechetStats, fake: FrechetStats) -> float:
    """Fréchet distance between two accumulated statistics (same extractor required)."""
    a, b = real.meta.get("extractor"), fake.meta.get("extractor")
    if a and b and a != b:
        raise UserError(f"cannot compare statistics from different extractors: {a} vs {b}")
    return frechet_distance(*real.mean_cov(), *fake.mean_cov())

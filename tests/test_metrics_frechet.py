import numpy as np
import pytest
import torch

from steergan.errors import UserError
from steergan.metrics import (
    EffNetLite0Extractor,
    FeatureExtractor,
    FrechetStats,
    InceptionExtractor,
    RandomConvExtractor,
    fake_stats,
    fd,
    frechet_distance,
    get_extractor,
    real_stats,
)


def _spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# --- frechet_distance -------------------------------------------------------

def test_fd_identical_is_zero():
    rng = np.random.default_rng(0)
    mu, s = rng.standard_normal(16), _spd(rng, 16)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-9


def test_fd_identical_rank_deficient_is_zero():
    # N < D covariances are singular; the eigen-clamp must keep FD(x, x) ~ 0.
    x = np.random.default_rng(1).standard_normal((5, 32))
    s = np.cov(x, rowvar=False)
    assert abs(frechet_distance(x.mean(0), s, x.mean(0), s)) < 1e-6 * np.trace(s)


def test_fd_diagonal_closed_form():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    a, b = rng.uniform(0.1, 3, 8), rng.uniform(0.1, 3, 8)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_fd_symmetric_and_accepts_torch():
    rng = np.random.default_rng(3)
    mu1, mu2, s1, s2 = rng.standard_normal(12), rng.standard_normal(12), _spd(rng, 12), _spd(rng, 12)
    d12 = frechet_distance(mu1, s1, mu2, s2)
    d21 = frechet_distance(*(torch.from_numpy(v) for v in (mu2, s2, mu1, s1)))
    assert d12 > 0
    assert d12 == pytest.approx(d21, rel=1e-10)


def test_fd_matches_scipy_sqrtm():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(4)
    mu1, mu2, s1, s2 = rng.standard_normal(20), rng.standard_normal(20), _spd(rng, 20), _spd(rng, 20)
    covmean = linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    ref = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-8)


def test_fd_shape_mismatch_is_user_error():
    with pytest.raises(UserError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# --- FrechetStats -----------------------------------------------------------

def test_stats_chunks_equal_all_at_once():
    x = torch.randn(50, 6, dtype=torch.float32) * 3 + 1
    whole = FrechetStats().update(x)
    a, b = FrechetStats(), FrechetStats(dim=6)
    for chunk in x[:17].split(5):
        a.update(chunk)
    b.update(x[17:].numpy())
    a.merge(b)
    assert a.count == whole.count == 50
    for u, v in zip(a.mean_cov(), whole.mean_cov()):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    mu, cov = whole.mean_cov()
    np.testing.assert_allclose(cov, np.cov(x.double().numpy(), rowvar=False), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mu, x.double().mean(0).numpy(), rtol=1e-12)


def test_stats_all_reduce_noop_and_single_rank(tmp_path):
    import torch.distributed as dist

    s = FrechetStats().update(torch.randn(4, 3))
    before = s.sum.clone()
    s.all_reduce()  # not initialised: no-op
    assert torch.equal(s.sum, before)
    if not dist.is_available():
        pytest.skip("torch.distributed unavailable")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/pg", rank=0, world_size=1)
    try:
        s.all_reduce()
    finally:
        dist.destroy_process_group()
    assert s.count == 4 and torch.allclose(s.sum, before)


def test_stats_save_load_roundtrip(tmp_path):
    s = FrechetStats(meta={"extractor": "fd_random", "n": 9}).update(torch.randn(9, 5))
    p = tmp_path / "sub" / "stats.npz"
    s.save(p)
    assert [f.name for f in p.parent.iterdir()] == ["stats.npz"]  # no temp file left behind
    t = FrechetStats.load(p)
    assert t.count == 9 and t.meta == s.meta
    assert torch.equal(t.sum, s.sum) and torch.equal(t.outer, s.outer)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError):
        FrechetStats.load(tmp_path / "junk.npz")


# --- fd.py ------------------------------------------------------------------

class CountingExtractor:
    name, dim = "counting", 4

    def __init__(self):
        self.calls = 0

    def __call__(self, images):
        self.calls += 1
        x = images.float() / 255
        return torch.stack([x.mean((1, 2, 3)), x.std((1, 2, 3)), x[:, 0].mean((1, 2)), x[:, 2].amax((1, 2))], 1)


class TupleDataset(torch.utils.data.Dataset):
    def __init__(self, n, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], 0


def test_real_stats_cache_hit(tmp_path):
    ext = CountingExtractor()
    assert isinstance(ext, FeatureExtractor)
    ds = TupleDataset(10)
    a = real_stats(ds, ext, n=10, cache_dir=tmp_path, fingerprint="toy", batch=4)
    calls = ext.calls
    assert a.count == 10 and calls == 3
    b = real_stats(ds, ext, n=10, cache_dir=tmp_path, fingerprint="toy", batch=4)
    assert ext.calls == calls  # served from cache
    assert torch.equal(a.outer, b.outer)
    real_stats(ds, ext, n=8, cache_dir=tmp_path, fingerprint="toy", batch=4)  # different n: new key
    assert ext.calls > calls


def test_real_stats_iterable_and_fake_stats_match():
    ds = TupleDataset(12)
    ext = RandomConvExtractor(seed=0, dim=8)
    from_iter = real_stats(iter(ds.x.split(5)), ext, n=12)
    from_fn = fake_stats(lambda b, start: ds.x[start:start + b], ext, n=12, batch=5)
    assert from_iter.count == from_fn.count == 12
    assert abs(fd(from_iter, from_fn)) < 1e-6
    with pytest.raises(UserError):
        fd(from_iter, FrechetStats(meta={"extractor": "other"}).update(torch.randn(3, 8)))


def test_random_extractor_is_seeded():
    x = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    f1, f2 = RandomConvExtractor(seed=3, dim=16)(x), RandomConvExtractor(seed=3, dim=16)(x)
    assert f1.shape == (2, 16) and torch.equal(f1, f2)
    with pytest.raises(UserError):
        RandomConvExtractor()(x.float())


# --- extractors -------------------------------------------------------------

@pytest.fixture(scope="module")
def effnet():
    return EffNetLite0Extractor(device="cpu")


def _blobs(n, seed):
    # Smooth random images: a crude stand-in for natural images.
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g)
    return (torch.nn.functional.interpolate(low, size=64, mode="bicubic").clamp(0, 1) * 255).to(torch.uint8)


def test_effnet_features_offline(effnet):
    assert effnet.name == "fd_effnet" and effnet.dim == 1280
    f = effnet(_blobs(2, 0))
    assert f.shape == (2, 1280) and f.dtype == torch.float32
    assert torch.isfinite(f).all()
    assert not torch.allclose(f[0], f[1])


def test_fd_effnet_self_zero_noise_positive(effnet):
    imgs = _blobs(5, 1)
    noise = torch.randint(0, 256, (5, 3, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    real = real_stats(imgs, effnet, n=5)
    fake = fake_stats(lambda b, s: noise[s:s + b], effnet, n=5, batch=3)
    scale = np.trace(real.mean_cov()[1])
    assert abs(fd(real, real)) < 1e-6 * scale
    assert fd(real, fake) > 1e-2 * scale


def test_inception_missing_path_is_user_error(tmp_path, monkeypatch):
    with pytest.raises(UserError):
        InceptionExtractor(tmp_path / "nope.pth")
    with pytest.raises(UserError):
        get_extractor("fid", inception_path=str(tmp_path / "nope.pth"))
    monkeypatch.delenv("STEERGAN_INCEPTION", raising=False)
    with pytest.raises(UserError, match="STEERGAN_INCEPTION"):
        get_extractor("fid")
    with pytest.raises(UserError):
        get_extractor("inception")


def _scenes(kind, n, seed):
    from steergan.data.scenes import render
    return torch.stack([torch.from_numpy(render(kind, i, 64, seed).image).permute(2, 0, 1) for i in range(n)])


def test_fd_seg_tells_rooms_from_creatures():
    ext = get_extractor("fd_seg", segmenter="rooms")
    assert ext.name == "fd_seg_rooms" and ext.dim == 136
    rooms_a = real_stats(_scenes("rooms", 40, 0), ext, n=40)
    rooms_b = real_stats(_scenes("rooms", 40, 1), ext, n=40)
    creatures = real_stats(_scenes("creatures", 40, 0), ext, n=40)
    # two independent sets of rooms are much closer than rooms and another kind of scene
    assert fd(rooms_a, rooms_b) * 3 < fd(rooms_a, creatures)


def test_fd_seg_unknown_segmenter_is_user_error():
    with pytest.raises(UserError, match="does not exist"):
        get_extractor("fd_seg", segmenter="nope.safetensors")

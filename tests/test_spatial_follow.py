"""SpatialGAN's follow loss (ours, off by default): a moved centre carries its object unchanged."""
import pytest
import torch

from steergan.errors import UserError
from steergan.methods import build_method
from steergan.methods.spatial.follow import BOUND, follow_loss, moved_heatmaps, pick_objects, shifts_for
from steergan.methods.spatial.heatmaps import Heatmaps, sample_hierarchical
from steergan.nn import get_preset

MULTI = {"sampling": "multi", "sel": "indoor_norm", "align": "none", "n_objects": 3}


class BlobG(torch.nn.Module):
    """Stand-in generator: grey background, a coloured Gaussian blob per active level-0 centre.
    ``follow=False`` paints the blobs where the heatmaps ``fixed`` put them, whatever it is given."""

    def __init__(self, follow=True, size=32, fixed=None):
        super().__init__()
        self.follow, self.size, self.fixed = follow, size, fixed
        self.colour = torch.nn.Parameter(torch.tensor([[0.9, -0.8, -0.8], [-0.8, 0.9, -0.8], [-0.8, -0.8, 0.9]]))

    def synthesis(self, ws, hm, noise_mode="random"):
        maps = (hm if self.follow else self.fixed).render(self.size)              # [N, K, S, S]
        roots = hm.level_indices(0)
        colour = self.colour[torch.arange(len(roots)) % 3]                    # [K0, 3]
        blob = torch.einsum("nkhw,kc->nchw", maps[:, roots], colour)
        return blob.clamp(-1, 1)


def _multi(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    c = (torch.rand(n, 3, 2, generator=g) * 2 - 1) * 0.5
    return Heatmaps(c, torch.full((n, 3), 0.15), (0, 0, 0), (-1, -1, -1), kind="multi")


def test_moving_one_centre_moves_it_and_its_parts_only():
    hm = sample_hierarchical(4, torch.Generator().manual_seed(1))
    index = torch.zeros(4, dtype=torch.long)                 # the level-0 centre
    shift = torch.tensor([[0.1, -0.2]]).expand(4, 2)
    moved = moved_heatmaps(hm, index, shift)
    assert torch.allclose(moved.centres - hm.centres, shift[:, None, :].expand_as(hm.centres))   # parts follow
    multi = _multi(4)
    moved = moved_heatmaps(multi, torch.tensor([0, 1, 2, 1]), shift)
    changed = (moved.centres - multi.centres).abs().sum(-1) > 0
    assert changed.tolist() == [[True, False, False], [False, True, False], [False, False, True],
                                [False, True, False]]


def test_picks_active_objects_and_keeps_moves_inside():
    hm = _multi(200)
    hm = hm._replace(active=torch.tensor([[False, True, False]]).expand(200, 3).clone())
    index, has = pick_objects(hm, torch.Generator().manual_seed(0))
    assert has.all() and (index == 1).all()
    shift = shifts_for(hm, index, torch.Generator().manual_seed(0))
    moved = moved_heatmaps(hm, index, shift).centres[:, 1]
    assert moved.abs().max() <= BOUND + 1e-6 and shift.norm(dim=1).max() <= 0.5 + 1e-6
    none = hm._replace(active=torch.zeros(200, 3, dtype=torch.bool))
    assert not pick_objects(none)[1].any()


def test_loss_is_near_zero_for_a_generator_whose_objects_follow_and_large_for_one_that_ignores():
    ws = torch.zeros(6, 1, 4)
    g = lambda: torch.Generator().manual_seed(3)              # noqa: E731 - same moves for both
    follows = follow_loss(BlobG(follow=True), ws, _multi(), g())
    ignores = follow_loss(BlobG(follow=False, fixed=_multi()), ws, _multi(), g())
    assert follows < 0.02 and ignores > 0.1, (float(follows), float(ignores))


def test_loss_trains_the_moved_rendering():
    G = BlobG(follow=True)
    loss = follow_loss(G, torch.zeros(6, 1, 4), _multi(), torch.Generator().manual_seed(0))
    loss.backward()
    assert G.colour.grad is not None


def test_option_is_off_by_default_and_validated():
    m = build_method("spatial", MULTI)
    assert "follow" not in m.options()
    assert build_method("spatial", {**MULTI, "follow": 1.0}).options()["follow"] == 1.0
    with pytest.raises(UserError):
        build_method("spatial", {**MULTI, "follow": -1})


def _trainer(data, out, kimg):
    from steergan.data import ImageDataset
    from steergan.train import Trainer, TrainOptions
    opts = TrainOptions(data=str(data), out=str(out), preset="test", batch=4, kimg=kimg, tick_kimg=0.008,
                        seed=1, method="spatial", d_warmup_kimg=0,
                        method_options={**MULTI, "follow": 1.0, "follow_interval": 1, "follow_batch": 2})
    return Trainer(opts, ImageDataset(data, 16), arch=get_preset("test"), progress=False)


def test_trainer_logs_it_and_resumes_exactly(tmp_path):
    """The loss draws its moves from the global RNG: a resumed run matches a straight one."""
    from types import SimpleNamespace
    from steergan.data.scenes import make_dataset
    data = make_dataset("rooms", tmp_path / "rooms16", n=8, resolution=16, workers=1, progress=False)
    t = _trainer(data, tmp_path / "probe", 0.008)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    assert t.train_step()["G/follow"] > 0
    straight = _trainer(data, tmp_path / "a", 0.016)
    straight.run()
    _trainer(data, tmp_path / "b", 0.008).run()
    resumed = _trainer(data, tmp_path / "b", 0.016)
    resumed.run()
    assert resumed.step == straight.step == 4
    for k, v in straight.G_ema.state_dict().items():
        assert torch.equal(v, resumed.G_ema.state_dict()[k]), k

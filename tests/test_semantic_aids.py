"""SemanticStyleGAN's training aids (ours, off by default): mask consistency through a frozen
segmenter, and mode seeking on one class's texture code."""
import numpy as np
import pytest
import torch

from steergan.data.scenes import classes as scene_classes, render
from steergan.errors import UserError
from steergan.methods import build_method
from steergan.methods.semantic.aids import MaskConsistency, class_balance, class_shares, texture_seeking
from steergan.nn import get_preset
from steergan.nn.segnet import read_segnet

ROOMS = scene_classes("rooms")


def _renders(n=4):
    s = [render("rooms", i, 64, 1) for i in range(n)]
    image = torch.from_numpy(np.stack([r.image.transpose(2, 0, 1) for r in s])).float() / 127.5 - 1
    labels = torch.from_numpy(np.stack([r.semantic for r in s])).long()
    return image, labels


def _as_segmentation(labels, k):
    return torch.nn.functional.one_hot(labels, k).permute(0, 3, 1, 2).float() * 2 - 1


def test_consistency_is_low_for_the_true_label_map_and_trains_the_image_only():
    cons = MaskConsistency.load("rooms", ROOMS)
    image, labels = _renders()
    image.requires_grad_(True)
    seg = _as_segmentation(labels, len(ROOMS)).requires_grad_(True)
    true = cons.loss(image, seg)
    wrong = cons.loss(image, _as_segmentation(labels.roll(1, dims=0), len(ROOMS)))   # another scene's map
    assert true.item() < 0.5 * wrong.item()
    true.backward()
    assert image.grad.abs().sum() > 0          # the image learns to draw its mask ...
    assert seg.grad is None                    # ... the mask is a detached target
    assert not any(p.requires_grad for p in cons.net.parameters())


def test_consistency_ignores_classes_the_segmenter_does_not_know():
    classes = ["wall", "floor", "sofa"]          # "sofa" is not a rooms class
    cons = MaskConsistency.load("rooms", classes)
    image, labels = _renders(2)
    sofa_only = torch.full_like(labels, 2)
    assert cons.loss(image, _as_segmentation(sofa_only, 3)).item() == 0
    with pytest.raises(UserError, match="share no name"):
        MaskConsistency.load("rooms", ["sofa", "rug"])


def test_texture_seeking_rewards_a_generator_whose_texture_codes_change_their_region():
    torch.manual_seed(0)
    m = build_method("semantic", {"classes": ["wall", "floor", "bed"]})
    G = m.build_generator(get_preset("test"))
    layout = G.layout
    ws = G.mapping_ws(torch.randn(6, G.cfg.z_dim)).detach()

    def term():
        out = G.synthesis.compose(ws, noise_mode="const")
        return texture_seeking(G.synthesis, layout, ws, out.image, out.segmentation,
                               generator=torch.Generator().manual_seed(1))

    before = term()
    assert torch.isfinite(before)
    # texture layers (after the depth read-out) get a gradient; the term falls when followed
    opt = torch.optim.SGD(G.synthesis.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        loss = term()
        loss.backward()
        opt.step()
    assert term().item() < before.item()


def test_class_balance_is_zero_at_the_data_shares_and_brings_back_a_class_that_never_wins():
    labels = torch.tensor([[[0, 0], [1, 2]]])                            # shares 0.5, 0.25, 0.25
    share = class_shares(labels, 3)
    assert torch.allclose(share, torch.tensor([0.5, 0.25, 0.25]))
    assert class_balance(_as_segmentation(labels, 3), share).abs() < 1e-5
    # class 2 holds about 10% of the probability everywhere but never wins a pixel (the bundled
    # model's lamps): a plain softmax share would call that nearly balanced; this term does not
    noise = 0.1 * torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))   # pixels differ
    logits = ((torch.tensor([0.6, 0.3, 0.1]).view(1, 3, 1, 1) + noise) * 2 - 1).requires_grad_(True)
    assert (logits.argmax(1) == 0).all()
    before = class_balance(logits, share)
    assert before > 1.0
    opt = torch.optim.Adam([logits], lr=0.05)
    for _ in range(40):
        opt.zero_grad()
        class_balance(logits, share).backward()
        opt.step()
    won = [(logits.argmax(1) == k).float().mean() for k in range(3)]      # the label map's real shares
    assert won[2] > 0.15 and won[1] > 0.15 and class_balance(logits, share) < 0.05 * before


def test_options_declare_the_aids_off_by_default_and_validate_them():
    m = build_method("semantic", {"classes": ROOMS})
    assert m.options()["consistency"] == 0 and m.options()["texture_seeking"] == 0
    assert m.options()["class_balance"] == 0
    with pytest.raises(UserError):
        build_method("semantic", {"classes": ROOMS, "consistency": -1})


def test_trainer_logs_every_aid(tmp_path):
    from types import SimpleNamespace
    from steergan.data import ImageDataset
    from steergan.data.scenes import make_dataset
    from steergan.train import Trainer, TrainOptions
    data = make_dataset("rooms", tmp_path / "rooms16", n=8, resolution=16, workers=1, progress=False)
    opts = TrainOptions(data=str(data), out=str(tmp_path / "run"), preset="test", batch=4, kimg=0.008,
                        tick_kimg=0.008, seed=1, method="semantic", d_warmup_kimg=0,
                        method_options={"consistency": 1.0, "texture_seeking": 1.0, "class_balance": 1.0})
    t = Trainer(opts, ImageDataset(data, 16), arch=get_preset("test"), progress=False)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert stats["G/consistency"] > 0 and stats["G/texture_seeking"] > 0 and stats["G/class_balance"] > 0


def test_resume_is_exact_with_both_aids(tmp_path):
    """The aids draw from the global RNG (texture picks, noise): a resumed run matches a straight one."""
    from steergan.data import ImageDataset
    from steergan.data.scenes import make_dataset
    from steergan.train import Trainer, TrainOptions
    data = make_dataset("rooms", tmp_path / "rooms16", n=8, resolution=16, workers=1, progress=False)

    def trainer(name, kimg):
        opts = TrainOptions(data=str(data), out=str(tmp_path / name), preset="test", batch=4, kimg=kimg,
                            tick_kimg=0.008, seed=1, method="semantic", d_warmup_kimg=0,
                            method_options={"consistency": 1.0, "texture_seeking": 1.0})
        return Trainer(opts, ImageDataset(data, 16), arch=get_preset("test"), progress=False)
    straight = trainer("a", 0.016)
    straight.run()
    trainer("b", 0.008).run()
    resumed = trainer("b", 0.016)
    resumed.run()
    assert resumed.step == straight.step == 4
    for k, v in straight.G_ema.state_dict().items():
        assert torch.equal(v, resumed.G_ema.state_dict()[k]), k

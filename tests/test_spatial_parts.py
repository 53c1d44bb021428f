"""SpatialGAN parts: the level-1/2 centres of a hierarchical paired model are tied to part classes
(slot maps from a scene's class and instance maps, D's per-level planes, G's layouts, part
alignment), and the part-level Co-move Ratio finds where a moved part went."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from steergan.data import ImageDataset
from steergan.data.scenes import make_dataset, render
from steergan.errors import UserError
from steergan.methods import build_method, method_from_dict
from steergan.methods.spatial.parts import (check_parts, layout_heatmaps, part_alignment_loss, part_layouts,
                                            part_planes, part_slot_maps, part_slots)
from steergan.models import load_model
from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

ARCH = get_preset("test")
PARTS = [["ear", "ear"], ["eye", "eye", "mouth"]]
OPTS = {"paired": True, "align": "none", "parts": PARTS}
CLASSES = ["background", "head", "ear", "eye", "mouth"]


def creature(i: int = 0, res: int = 64):
    s = render("creatures", i, res, 3)
    return torch.from_numpy(s.instances[None].astype(np.uint8)), torch.from_numpy(s.semantic[None]), s


def centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([(2 * xs.mean() + 1) / mask.shape[1] - 1, (2 * ys.mean() + 1) / mask.shape[0] - 1])


def test_option_checks():
    assert check_parts(None) is None and check_parts(PARTS) == (("ear", "ear"), ("eye", "eye", "mouth"))
    for bad in ([], "ear", [["a", "b", "c"]], [["ear"], ["a"] * 5], [[]], [[1]], [["e"], ["e"], ["e"]]):
        with pytest.raises(UserError):
            check_parts(bad)
    with pytest.raises(UserError, match="hierarchical"):
        build_method("spatial", {"parts": PARTS, "align": "none"})                # not paired
    with pytest.raises(UserError, match="hierarchical"):
        build_method("spatial", {"sampling": "multi", "paired": True, "parts": PARTS, "align": "none"})
    assert part_slots(check_parts(PARTS)) == [1, 2, 3, 4, 5]


def test_slot_maps_and_layouts_land_on_the_parts():
    inst, sem, s = creature()
    parts = check_parts(PARTS)
    slots = part_slot_maps(inst, sem, CLASSES, parts)[0].numpy()
    sem_np = s.semantic
    assert set(np.unique(slots)) == {0, 1, 2, 3, 4, 5, 6}
    assert np.array_equal(slots == 0, sem_np == 0)                             # background stays background
    for value, cls in ((2, "ear"), (3, "ear"), (4, "eye"), (5, "eye"), (6, "mouth")):
        assert np.all(sem_np[slots == value] == CLASSES.index(cls)), value
    # same-class parts fill their slots left to right
    assert centroid(slots == 2)[0] < centroid(slots == 3)[0] and centroid(slots == 4)[0] < centroid(slots == 5)[0]
    c, sg, a = part_layouts(torch.from_numpy(slots[None]), parts)
    assert a[0].tolist() == [True, True, True, True, True, True, False]        # the 4th level-2 slot is free
    for idx, value in ((1, 2), (2, 3), (3, 4), (4, 5), (5, 6)):
        assert np.allclose(c[0, idx].numpy(), centroid(slots == value), atol=1e-4)
    assert np.allclose(c[0, 0].numpy(), centroid(slots > 0), atol=1e-4)        # level 0: the whole creature
    with pytest.raises(UserError, match="nose"):
        part_slot_maps(inst, sem, CLASSES, check_parts([["nose"]]))


def test_d_sees_one_plane_per_level_and_fakes_carry_real_parts():
    inst, sem, _ = creature(2, 16)          # a 16 px creature with both ears
    m = build_method("spatial", OPTS)
    assert m.d_cond_channels() == 3
    slots = m.training_masks(lambda kind: {"instances": (inst, []), "semantic": (sem, CLASSES)}[kind])
    m.bind_masks(slots)
    real = m.real_for_d(torch.zeros(1, 3, 16, 16), slots)
    assert real.shape == (1, 6, 16, 16)
    G = m.build_generator(ARCH)
    hm = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    c, _, a = part_layouts(slots, m.parts)
    assert torch.allclose(hm.centres[:, 1:6], c[:, 1:6].expand(2, -1, -1))    # parts from the real layout
    assert hm.active[:, 6].all()                                              # the free slot keeps its prior
    fake, _ = m.fake_for_d(G, G.mapping_ws(torch.randn(2, ARCH.z_dim)), hm)
    assert fake.shape == (2, 6, 16, 16)
    assert torch.allclose(fake[:, 3:], real[:, 3:].expand(2, -1, -1, -1), atol=1e-5)   # same layout, same planes
    # moving an ear changes the level-1 plane only
    moved = part_planes(hm.move(1, torch.tensor([0.5, 0.0]), with_descendants=False), m.parts, 16)
    base = part_planes(hm, m.parts, 16)
    assert not torch.allclose(moved[:, 1], base[:, 1]) and torch.equal(moved[:, 0], base[:, 0])
    assert torch.equal(moved[:, 2], base[:, 2])
    # stored layouts keep their slots through JSON
    again = method_from_dict(json.loads(json.dumps({"name": "spatial", "options": m.options()})))
    hm2 = again.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert torch.allclose(hm2.centres[:, :6], hm.centres[:, :6], atol=1e-4) and torch.equal(hm2.active, hm.active)


def test_part_alignment_pulls_the_class_into_its_slot():
    """With a stand-in class map that is 'ear' exactly where the image is red, the loss is low
    when red sits under the ear slots and high when it sits elsewhere."""
    parts = check_parts([["ear", "ear"]])
    c = torch.tensor([[[0.0, 0.0], [-0.5, -0.5], [0.5, -0.5], [0, 0], [0, 0], [0, 0], [0, 0]]])
    s = torch.full((1, 7), 0.1)
    a = torch.tensor([[True, True, True, False, False, False, False]])
    hm = layout_heatmaps(c, s, a)
    core = (hm.render(32, indices=[1, 2]).amax(1) > 0.3).float()

    def loss_for(red):
        prob = lambda cls: (0.02 + 0.96 * red)                                # noqa: E731
        return float(part_alignment_loss(prob, CLASSES, hm, parts))
    assert loss_for(core) < 0.1 < loss_for(core.flip(-2))
    with pytest.raises(UserError, match="ear"):
        part_alignment_loss(lambda c: core, ["background", "head"], hm, parts)


@pytest.fixture(scope="module")
def creatures16(tmp_path_factory):
    return make_dataset("creatures", tmp_path_factory.mktemp("cr16"), n=8, resolution=16, workers=1, progress=False)


def test_train_with_parts_and_reload(tmp_path, creatures16):
    class Stand(torch.nn.Module):           # a 5-class stand-in segmenter: gradients reach the image
        def forward(self, x):
            return torch.cat([x[:, :1], x[:, 1:2], -x[:, :1], x[:, 2:3], -x[:, 1:2]], 1)
    from steergan.methods.spatial.objectness import ObjectnessNet
    opts = dict(data=str(creatures16), out=str(tmp_path / "p"), preset="test", batch=4, kimg=0.008, tick_kimg=0.008,
                seed=1, method="spatial", method_options={"paired": True, "align": "segmenter", "parts": PARTS})
    t = Trainer(TrainOptions(**opts), ImageDataset(creatures16, 16), arch=ARCH, progress=False)
    t.method.set_segmenter(ObjectnessNet(Stand(), CLASSES, ["background"], 16))
    assert int(t.masks.max()) >= 2 and t.D.from_rgb.weight.shape[1] == 6     # RGB + 3 planes
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert stats["G/align_parts"] > 0, sorted(stats)
    assert all(np.isfinite(v) for v in stats.values())
    t.run()
    m = load_model(str(t.run_dir))
    assert m.method.parts == check_parts(PARTS)
    assert all(len(layout) == 7 for layout in m.method.options()["layouts"])
    hm = m.control_from_seed(2)
    assert hm.num_centres == 7 and m.generate([2]).shape == (1, 3, 16, 16)


# ---------------------------------------------------------------------- part-level Co-move Ratio

class FakeCreature:
    """Duck-typed SteerModel: a grey body disc at the level-0 centre and a red 'ear' square at
    each active level-1 centre; ``follow=False`` keeps the ears where the seed put them."""

    source, G, device, resolution = "fake:creature", None, torch.device("cpu"), 64
    capabilities = ("generate", "heatmap_move")

    def __init__(self, follow=True):
        self.follow = follow

    def control_from_seed(self, seed):
        c = torch.tensor([[[0.0, 0.1], [-0.35, -0.4], [0.35, -0.4], [0, 0], [0, 0], [0, 0], [0, 0]]])
        c = c + (torch.rand(1, 1, 2, generator=torch.Generator().manual_seed(int(seed))) - 0.5) * 0.2
        return layout_heatmaps(c, torch.full((1, 7), 0.1), torch.ones(1, 7, dtype=torch.bool))

    def ws_from_seed(self, seed, truncation=1.0):
        return torch.tensor([[[float(seed)]]], dtype=torch.float64)

    def synthesize(self, ws, control, noise_mode="const"):
        R, grid = 64, torch.arange(64) + 0.5
        img = -torch.ones(ws.shape[0], 3, R, R)
        for b in range(ws.shape[0]):
            hm = control.select(b)
            own = hm if self.follow else self.control_from_seed(int(ws[b, 0, 0]))
            bx, by = ((hm.centres[0, 0] + 1) / 2 * R).tolist()
            body = (grid[:, None] - by).square() + (grid[None, :] - bx).square() <= 14 ** 2
            img[b][:, body] = 0.0
            for i in (1, 2):
                px, py = ((own.centres[0, i] + 1) / 2 * R).tolist()
                m = ((grid[:, None] - py).abs() <= 3.5) & ((grid[None, :] - px).abs() <= 3.5)
                img[b][:, m] = torch.tensor([1.0, -1.0, -1.0])[:, None]
        return img


class ColourParts:
    """Segmenter stand-in: grey = head, red = ear (components become instances)."""
    classes = CLASSES

    def segment(self, images):
        from steergan.metrics.segmenter import Segmentation, instances_from_semantic
        out = []
        for im in images:
            sem = np.zeros(im.shape[-2:], np.uint8)
            sem[(im == 128).all(0).numpy()] = 1
            sem[((im[0] == 255) & (im[1] == 0)).numpy()] = 2
            inst, cls = instances_from_semantic(sem, (0,))
            out.append(Segmentation(inst, sem, cls))
        return out


def test_part_co_move_follows_the_part_and_not_the_rest():
    from steergan.metrics.part_comove import part_co_move_ratio
    res = part_co_move_ratio(FakeCreature(), 24, ColourParts(), level=1, seed=1)
    assert res["n_valid"] >= 20 and res["mean"] == pytest.approx(1.0, abs=0.05)
    assert res["others_px_median"] < 0.5 and set(res["by_class"]) == {"ear"}
    still = part_co_move_ratio(FakeCreature(follow=False), 24, ColourParts(), level=1, seed=1)
    assert still["n_valid"] >= 20 and abs(still["mean"]) < 0.05
    with pytest.raises(UserError, match="level 3"):
        part_co_move_ratio(FakeCreature(), 2, ColourParts(), level=3)
    with pytest.raises(UserError, match="class segmenter"):
        part_co_move_ratio(FakeCreature(), 2, lambda x: x, level=1)

"""The evaluation-only judge: what it learns from, that it judges, and that no training code reads it."""
import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from steergan.errors import UserError
from steergan.metrics import get_extractor
from steergan.metrics.frechet import FrechetStats, frechet_distance
from steergan.metrics.judge import BUNDLED, JudgeNet, RENDER_SEED, class_names, read_judge, save_judge, targets

PKG = Path(__file__).resolve().parent.parent / "steergan"
# The layers below the metrics, and the training loop: none may read the judge, or anything in metrics.
TRAINING_CODE = ("nn", "methods", "train", "data")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            dots = "." * node.level
            names.add(dots + (node.module or ""))
            names.update(f"{dots}{node.module or ''}.{a.name}" for a in node.names)
    return names


def test_no_training_code_imports_the_judge_or_the_metrics():
    offenders = []
    for sub in TRAINING_CODE:
        for f in (PKG / sub).rglob("*.py"):
            for name in imported_modules(f):
                if "judge" in name or "metrics" in name.split("."):
                    offenders.append(f"{f.relative_to(PKG)}: {name}")
    assert not offenders, offenders


def test_a_training_run_never_loads_the_judge(tmp_path):
    code = f"""
import sys
from test_train import make_trainer
from pathlib import Path
t = make_trainer(Path({str(tmp_path)!r}), diversity_n=8, method="spatial",
                 method_options={{"align": "none"}})
t.run()
assert "steergan.metrics.judge" not in sys.modules, "judge loaded during training"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_targets_by_hand():
    sem = np.zeros((4, 4), np.uint8)
    sem[:, 2:] = 1                                     # right half is class 1
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, 2:] = (255, 0, 0)
    present, area, colour = targets(sem, img, offset=3, num_classes=6)
    assert present.tolist() == [0, 0, 0, 1, 1, 0]
    assert area.tolist() == [0, 0, 0, 0.5, 0.5, 0]
    assert np.allclose(colour[4], [1, -1, -1]) and np.allclose(colour[3], [-1, -1, -1])
    assert RENDER_SEED not in (0, 1)                   # never a dataset's or a hold-out set's seed


def test_file_round_trip_and_refusals(tmp_path):
    torch.manual_seed(0)
    net = JudgeNet(len(class_names())).eval()
    path = save_judge(net, {"classes": class_names(), "resolution": 64}, tmp_path / "j.safetensors")
    again, meta = read_judge(path)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(again.embed(x), net.half().float().embed(x))     # stored in fp16
    assert meta["classes"] == class_names() and not list(tmp_path.glob("*.tmp-*"))
    with torch.no_grad():
        net.head.weight[0, 0] = float("nan")
    with pytest.raises(UserError, match="not finite"):
        read_judge(save_judge(net, {"classes": class_names()}, tmp_path / "nan.safetensors"))
    with pytest.raises(UserError, match="not found"):
        read_judge(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="not a steergan judge"):
        read_judge(bad)


@pytest.mark.skipif(not BUNDLED.is_file(), reason="bundled judge not built")
def test_bundled_judge_tells_rooms_from_creatures_and_noise():
    from steergan.data.scenes import render
    judge = get_extractor("fd_judge")
    assert judge.name == "fd_judge" and judge.dim == 256

    def stats(kind, seed, n=96, noise=0.0):
        imgs = np.stack([render(kind, i, 64, seed).image.transpose(2, 0, 1) for i in range(n)]).astype(np.float32)
        imgs += noise * np.random.default_rng(0).standard_normal(imgs.shape)
        return FrechetStats().update(judge(torch.from_numpy(imgs.clip(0, 255).astype(np.uint8)))).mean_cov()

    rooms0, rooms1 = stats("rooms", 0), stats("rooms", 1)
    same = frechet_distance(*rooms0, *rooms1)
    assert frechet_distance(*rooms0, *stats("creatures", 1)) > 5 * same
    assert frechet_distance(*rooms0, *stats("rooms", 1, noise=40.0)) > 2 * same   # speckle is seen


def test_training_runs_its_step_budget_and_decays_the_learning_rate():
    from steergan.metrics.judge import train_judge
    net, meta = train_judge(n_per_kind=3, steps=4, batch=4, log=None)
    assert meta["trained"]["steps"] == 4 and meta["trained"]["render_seed"] == RENDER_SEED
    assert meta["classes"] == class_names() and not net.training
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert net.embed(x).shape == (2, 256)


def test_each_degradation_changes_the_image_and_clean_does_not():
    from steergan.metrics.judge import DEGRADATIONS, degrade
    from steergan.data.scenes import render
    x = torch.from_numpy(render("rooms", 0, 64, 0).image.transpose(2, 0, 1).copy()).float() / 127.5 - 1
    g = torch.Generator().manual_seed(0)
    assert torch.equal(degrade(x, 0, 1.0, g), x)
    for k in range(1, len(DEGRADATIONS)):
        y = degrade(x, k, 0.8, g)
        assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
        assert (y - x).abs().mean() > 0.01, DEGRADATIONS[k]


def test_real_statistics_cache_knows_which_judge_made_them(tmp_path):
    """A retrained judge under the same metric name must not reuse the old judge's cached stats."""
    from steergan.metrics.fd import _cache_path
    from steergan.metrics.judge import JudgeExtractor
    other = tmp_path / "other.safetensors"
    torch.manual_seed(1)
    save_judge(JudgeNet(len(class_names())).eval(), {"classes": class_names()}, other)
    a, b = JudgeExtractor(), JudgeExtractor(other)
    assert a.name == b.name == "fd_judge"
    assert _cache_path(tmp_path, "data", a, 100) != _cache_path(tmp_path, "data", b, 100)

"""The collapse watch: improved precision/recall by hand, and in the trainer's log."""
import json
import logging

import torch

from steergan.train.diversity import CollapseWatch, knn_radii, precision_recall

from test_train import make_trainer


def test_knn_radii_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    # k=1: nearest other point; k=2: second nearest
    assert knn_radii(x, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(x, 2).tolist() == [3.0, 2.0, 3.0, 6.0]


def test_precision_recall_separate_collapse_from_variety():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    varied = torch.randn(300, 8, generator=g)
    collapsed = real[:1] + 0.01 * torch.randn(300, 8, generator=g)     # one mode, many copies
    off = torch.randn(300, 8, generator=g) + 10                          # varied but unreal
    p, r = precision_recall(real, varied)
    assert p > 0.8 and r > 0.8
    p, r = precision_recall(real, collapsed)
    assert p == 1.0 and r < 0.05          # every fake looks real, almost no real is covered
    p, r = precision_recall(real, off)
    assert p == 0.0 and r == 0.0


def test_watch_warns_when_recall_halves(caplog):
    images = torch.randint(0, 256, (64, 3, 16, 16), dtype=torch.uint8)
    watch = CollapseWatch(images, n=32)
    assert watch.real.shape == (32, 1280)
    watch.best_recall = 1.0

    class Constant(torch.nn.Module):          # a generator that draws one grey image whatever z
        cfg = type("cfg", (), {"z_dim": 4})

        def forward(self, z, control=None, noise_mode="const"):
            return torch.zeros(len(z), 3, 16, 16)

    method = type("M", (), {"sample_control": staticmethod(lambda *a, **k: None)})
    with caplog.at_level(logging.WARNING, logger="steergan.train"):
        record = watch.score(Constant(), method, torch.device("cpu"))
    assert record["Q/recall"] < 0.1 and record["Q/collapse_warning"] == 1.0
    assert "collapsing" in caplog.text


def test_trainer_logs_precision_and_recall_each_tick_and_resumes_the_best(tmp_path):
    t = make_trainer(tmp_path, diversity_n=16)
    t.run()
    rows = [json.loads(line) for line in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    ticks = [r for r in rows if "Q/recall" in r]
    assert len(ticks) == 2 and all(0 <= r["Q/precision"] <= 1 and 0 <= r["Q/recall"] <= 1 for r in ticks)
    assert t.best_recall == max(r["Q/recall"] for r in ticks)
    again = make_trainer(tmp_path, diversity_n=16, kimg=0.024)
    again.resume_if_possible()
    assert again.best_recall == t.best_recall
    off = make_trainer(tmp_path, name="off", diversity_n=0)
    off.run()
    assert not any("Q/recall" in line for line in (off.run_dir / "stats.jsonl").read_text().splitlines())

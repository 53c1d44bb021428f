"""The collapse watch: improved precision/recall by hand, and in the trainer's log."""
import json
import logging

import pytest
import torch

from steergan.errors import UserError
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


def scripted_watch(trainer, recalls):
    """A stand-in for ``Trainer._diversity`` that reads these recalls, one per tick."""
    script = iter(recalls)

    def score():
        recall = next(script)
        record = {"Q/recall": recall}
        if recall < 0.5 * trainer.best_recall:
            record["Q/collapse_warning"] = 1.0
        trainer.best_recall = max(trainer.best_recall, recall)
        return record
    return score


def test_rollback_returns_to_the_best_recall_tick_with_slower_learning_rates(tmp_path, caplog):
    from safetensors.torch import load_file

    from steergan.train import TrainOptions
    from steergan.train.rollback import BEST_DIR
    t = make_trainer(tmp_path, diversity_n=16, kimg=0.024, on_collapse="rollback", rollback_lr=0.5)
    t._diversity = scripted_watch(t, [0.5, 0.4, 0.1])     # recall per tick: the best first, then a collapse
    base = [g["lr"] for g in t.G_opt.param_groups]
    with caplog.at_level(logging.WARNING, logger="steergan.train"):
        t.run()
    best = load_file(str(t.run_dir / BEST_DIR / "model.safetensors"))
    assert json.loads((t.run_dir / BEST_DIR / "config.json").read_text())["images_seen"] == 8
    # the networks are the first tick's again, the step count and clock went on
    assert all(torch.equal(v, best["G." + k]) for k, v in t.G.state_dict().items())
    assert all(torch.equal(v, best["D." + k]) for k, v in t.D.state_dict().items())
    assert t.images_seen == 24 and t.rollbacks == 1 and t.lr_scale == 0.5
    assert [g["lr"] for g in t.G_opt.param_groups] == [lr * 0.5 for lr in base]
    rows = [json.loads(line) for line in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    assert [r.get("Q/rollback", 0) for r in rows if "Q/recall" in r] == [0, 0, 1.0]
    assert "rolled back to 0.0 kimg" in caplog.text
    # a resumed run keeps the slower rates and can roll back again
    again = make_trainer(tmp_path, diversity_n=16, kimg=0.032, on_collapse="rollback")
    assert again.resume_if_possible()
    assert again.lr_scale == 0.5 and again.rollbacks == 1
    assert [g["lr"] for g in again.G_opt.param_groups] == [lr * 0.5 for lr in base]
    # warn (the default) never rolls back
    plain = make_trainer(tmp_path, name="warn", diversity_n=16, kimg=0.024)
    plain._diversity = scripted_watch(plain, [0.5, 0.4, 0.1])
    plain.run()
    assert plain.rollbacks == 0 and not (plain.run_dir / BEST_DIR).exists()
    with pytest.raises(UserError, match="--on-collapse"):
        TrainOptions(data="x", on_collapse="restart").validate()
    with pytest.raises(UserError, match="collapse watch"):
        TrainOptions(data="x", on_collapse="rollback", diversity_n=0).validate()

"""Bundled models: listed, loadable offline by name, deterministic, described by their config."""
import json

import pytest
import torch

from steergan.cli.main import main
from steergan.errors import UserError
from steergan.models import ASSETS, bundled_models, default_model_name, load_model


def test_bundled_models_are_listed_and_load_by_name():
    models = bundled_models()
    assert models, "no bundled model shipped in steergan/assets"
    for name, entry in models.items():
        assert (ASSETS / entry["file"]).stat().st_size < 8_000_000      # small fp16 files
        m = load_model(name)
        assert m.source == f"bundled:{name}" and m.config["kind"] == "generator"
        assert m.resolution == 64 and m.method.name == entry["method"]
    assert default_model_name() in models


def test_default_model_generates_deterministically_and_not_noise():
    m = load_model(None)
    a = m.generate([0, 1, 2, 3])
    b = m.generate([0, 1, 2, 3])
    assert a.dtype == torch.uint8 and a.shape == (4, 3, 64, 64) and torch.equal(a, b)
    assert not torch.equal(a[0], a[1])
    # a trained model makes smooth images: neighbouring pixels agree far more than in noise
    x = a.float()
    tv = (x[..., 1:, :] - x[..., :-1, :]).abs().mean().item()
    assert tv < 20, f"total variation {tv:.1f}: images look like noise"


def test_unknown_bundled_name_is_clear():
    with pytest.raises(UserError, match="bundled models"):
        load_model("no-such-model")


def test_demo_writes_grids_and_page(tmp_path):
    try:
        main(["demo", "--out", str(tmp_path), "--seeds", "8"])
    except SystemExit as e:
        assert e.code in (0, None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary and (tmp_path / "index.html").is_file()
    for entry in summary.values():
        for f in entry["files"]:
            assert (tmp_path / f).stat().st_size > 1000

"""Bad input of every kind: one line ``error: ...``, exit code 2, no traceback, no file left behind."""
import json
import struct
import zlib
from pathlib import Path

import pytest
from safetensors.torch import save_file

from cli_runner import invoke

def one_line(code, err, fragment):
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


def bomb_png(path: Path, size=100_000) -> Path:
    """A 1-row-of-data PNG whose header claims size x size pixels (a decompression bomb)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4))
                     + chunk(b"IEND", b""))
    return path


def write_pngs(folder: Path, n=6, res=16):
    from PIL import Image
    import numpy as np
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (res, res, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def test_decompression_bombs_are_skipped_in_datasets_and_refused_as_single_files(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs")
    bomb_png(data / "zz_bomb.png")
    code, out, err = invoke(["data", "info", str(data), "--json"], capsys)
    assert code == 0 and json.loads(out)["sizes_in_first_64"].get("unreadable") == 1, err
    from steergan.data import ImageDataset
    with pytest.warns(UserWarning, match="skipped 1 of 7"):
        ds = ImageDataset(data, 16)
    assert len(ds) == 6                                   # skipped and counted, not fatal
    code, _, err = invoke(["drag", "--model", "rooms", "--seed", "0", "--points", "10,10>12,10",
                           "--mask", str(bomb_png(tmp_path / "m.png")), "--out", str(tmp_path / "d")], capsys)
    one_line(code, err, "mask")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("extra,fragment", [
    (["--tick-kimg", "0.0001"], "--tick-kimg"),
    (["--kimg", "nan"], "--kimg"),
    (["--tick-kimg", "nan"], "--tick-kimg"),
    (["--minutes", "inf"], "--minutes"),
    (["--glr", "-1"], "--glr"),
    (["--mix", "2"], "--mix"),
    (["--masks", "somewhere"], "reads no label maps"),
    (["--device", "cuda"], "CUDA"),
    (["--device", "tpu"], "device"),
    (["--max-images", "0"], "--max-images"),
    (["--method", "spatial", "--discriminator", "projected", "--init-from", "none", "--method-options",
      '{"align": "segmenter", "segmenter": "/no/such/segmenter.safetensors"}'], "does not exist"),
    (["--method", "link", "--method-options", '{"layout": "quadrants", "segmenter": "/no/such/segmenter.safetensors"}'],
     "does not exist"),
    (["--kimg"], "requires an argument"),            # click's own usage errors: one line too
    (["--no-such-flag"], "No such option"),
])
def test_training_options_are_checked_before_anything_is_written(tmp_path, capsys, extra, fragment):
    data = write_pngs(tmp_path / "imgs")
    out = tmp_path / "run"
    code, _, err = invoke(["train", "--data", str(data), "--out", str(out), "--preset", "test", *extra], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


def test_a_missing_consistency_segmenter_fails_before_the_run_folder_exists(tmp_path, capsys):
    from steergan.data.scenes import make_dataset
    data = make_dataset("rooms", tmp_path / "rooms16", n=4, resolution=16, workers=1, progress=False)
    out = tmp_path / "run"
    code, _, err = invoke(["train", "--data", str(data), "--out", str(out), "--preset", "test", "--method", "semantic",
                           "--method-options", '{"consistency": 1, "consistency_segmenter": "/no/such.safetensors"}'],
                          capsys)
    one_line(code, err, "does not exist")
    assert not out.exists()


@pytest.mark.parametrize("args,fragment", [
    (["generate", "--model", "rooms", "--seeds", "0-100000000000"], "ask for fewer"),
    (["generate", "--model", "rooms", "--seeds", "-3"], "cannot read seeds"),
    (["generate", "--model", "rooms", "--device", "cuda:7"], "CUDA"),
    (["generate"], None),                                  # defaults work: not an error
])
def test_generate_arguments(tmp_path, capsys, args, fragment):
    out = tmp_path / "g.png"
    code, _, err = invoke([*args, "--out", str(out)], capsys)
    if fragment is None:
        assert code == 0 and out.is_file(), err
    else:
        one_line(code, err, fragment)
        assert not out.exists()


def _model_file(tmp_path, mutate):
    from steergan import checkpoint as ckpt_io
    src = Path(__file__).resolve().parent.parent / "steergan" / "assets" / "rooms-stylegan2.safetensors"
    cfg, tensors = ckpt_io.read_generator_file(src)
    cfg, tensors = mutate(json.loads(json.dumps(cfg)), tensors)
    path = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"steergan": json.dumps(cfg)})
    return path


def _set(path, value):
    def mutate(cfg, tensors):
        node = cfg
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return cfg, tensors
    return mutate


def _nan_weight(cfg, tensors):
    k = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[k] = tensors[k].clone()
    tensors[k].view(-1)[0] = float("nan")
    return cfg, tensors


@pytest.mark.parametrize("mutate,fragment", [
    (_set(["version"], "1"), "malformed"),
    (_set(["arch", "resolution"], "16"), "resolution"),
    (_set(["arch", "resolution"], 65536), "resolution"),
    (_set(["arch", "resolution"], 48), "power of two"),
    (_set(["arch", "w_dim"], 64), "does not match"),
    (_set(["arch"], KeyError), "malformed"),
    (_set(["method"], ["spatial"]), "malformed"),
    (_set(["arch", "blur_kernel"], [1, "x"]), "blur_kernel"),
    (_nan_weight, "non-finite"),
])
def test_hostile_model_files_are_refused_before_anything_is_built(tmp_path, capsys, mutate, fragment):
    path = _model_file(tmp_path, mutate)
    out = tmp_path / "g.png"
    code, _, err = invoke(["generate", str(path), "--seeds", "0", "--out", str(out)], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


def _state(tmp_path, **changes):
    from steergan.edit.drag import initial_state
    from steergan.models import load_model
    d = initial_state(load_model("rooms"), 0, model_id="rooms").to_dict()
    d.update(changes)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("command", ["edit", "drag"])
@pytest.mark.parametrize("changes,extra,fragment", [
    ({"truncation": 1e308}, [], "truncation"),
    ({"seed": -3}, [], "seed"),
    ({"seed": None, "ws": [[float("nan")] * 128] * 10}, [], "finite"),
    ({"seed": None, "ws": [[0.0] * 7] * 3}, [], "W+"),
    ({}, ["--model", "rooms-stylegan2"], "was made for"),
    ({"heatmaps": None}, [], "heatmaps"),
])
def test_edit_states_are_checked_in_the_cli(tmp_path, capsys, command, changes, extra, fragment):
    path = _state(tmp_path, **changes)
    out = tmp_path / "out"
    tail = ["--move", "0:4,0"] if command == "edit" else ["--points", "20,20>24,20", "--max-steps", "2"]
    code, _, err = invoke([command, *extra, "--state", str(path), *tail, "--out", str(out)], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


def test_edit_seed_and_op_arguments(tmp_path, capsys):
    out = tmp_path / "out"
    for args, fragment in ((["--seed", "-3"], "--seed"), (["--restyle", "0:-5"], "seed"),
                           (["--op", "[1]"], "JSON object"), (["--new-latent", "-1"], "--new-latent")):
        code, _, err = invoke(["edit", "--model", "rooms", *args, "--out", str(out)], capsys)
        one_line(code, err, fragment)
        assert not out.exists()


# ----------------------------------------------------------------------------- full disks, bad destinations

ASSETS = Path(__file__).resolve().parent.parent / "steergan" / "assets"


class file_size_limit:
    """A real write failure without a full disk: RLIMIT_FSIZE makes any write past ``limit``
    bytes fail with EFBIG (SIGXFSZ ignored), in safetensors' Rust writer as in Python's."""

    def __init__(self, limit):
        self.limit = limit

    def __enter__(self):
        import resource
        import signal
        self.old = resource.getrlimit(resource.RLIMIT_FSIZE)
        self.old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self.old[1]))
        return self

    def __exit__(self, *exc):
        import resource
        import signal
        resource.setrlimit(resource.RLIMIT_FSIZE, self.old)
        signal.signal(signal.SIGXFSZ, self.old_handler)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_export_to_a_directory_is_refused_and_leaves_nothing(tmp_path, capsys):
    dest = tmp_path / "dest"
    dest.mkdir()
    code, _, err = invoke(["export", str(ASSETS / "rooms-stylegan2.safetensors"), str(dest)], capsys)
    one_line(code, err, "is a directory")
    assert _files(tmp_path) == ["dest"]


def test_export_into_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys):
    dest = tmp_path / "out" / "g.safetensors"
    with file_size_limit(4096):          # safetensors raises SafetensorError here, not OSError
        code, _, err = invoke(["export", str(ASSETS / "rooms-stylegan2.safetensors"), str(dest)], capsys)
    one_line(code, err, "")
    assert "Traceback" not in err and not any(p.is_file() for p in tmp_path.rglob("*")), _files(tmp_path)


@pytest.mark.parametrize("out", ["g.png", "per_seed"])
def test_generate_into_a_full_disk_leaves_no_empty_png(tmp_path, capsys, out):
    with file_size_limit(200):
        code, _, err = invoke(["generate", "--model", "rooms-stylegan2", "--seeds", "0,1",
                               "--out", str(tmp_path / out)], capsys)
    one_line(code, err, "File too large")
    assert _files(tmp_path) == [], _files(tmp_path)


def test_generate_enospc_removes_the_temporary(tmp_path, capsys, monkeypatch):
    import errno
    from PIL import Image

    def full(self, fp, *a, **k):
        Path(fp).write_bytes(b"\x89PNG")      # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(fp))
    monkeypatch.setattr(Image.Image, "save", full)
    (tmp_path / "old.png").write_bytes(b"old")
    code, _, err = invoke(["generate", "--model", "rooms-stylegan2", "--seeds", "0",
                           "--out", str(tmp_path / "old.png")], capsys)
    one_line(code, err, "No space left on device")
    assert _files(tmp_path) == ["old.png"] and (tmp_path / "old.png").read_bytes() == b"old"


def test_generate_png_path_that_is_a_directory(tmp_path, capsys):
    (tmp_path / "x.png").mkdir()
    code, _, err = invoke(["generate", "--model", "rooms-stylegan2", "--seeds", "0",
                           "--out", str(tmp_path / "x.png")], capsys)
    one_line(code, err, "is a directory")
    assert _files(tmp_path) == ["x.png"]


def test_a_full_disk_during_a_checkpoint_keeps_the_older_ones(tmp_path, monkeypatch):
    import torch
    from safetensors import SafetensorError
    from steergan import checkpoint as ckpt_io
    root = tmp_path / "checkpoints"
    cfg = ckpt_io.base_config("training", {}, {"name": "stylegan2"})
    first = ckpt_io.save_training_checkpoint(root, 1, cfg, {"w": torch.ones(3)}, {"s": torch.zeros(2)})
    real_save = ckpt_io.save_file
    calls = []

    def full(tensors, path, metadata=None):
        calls.append(path)
        if len(calls) == 2:       # the second file of the checkpoint: half written, then ENOSPC
            Path(path).write_bytes(b"\0" * 10)
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real_save(tensors, path, metadata=metadata)
    monkeypatch.setattr(ckpt_io, "save_file", full)
    with pytest.raises(SafetensorError):
        ckpt_io.save_training_checkpoint(root, 2, cfg, {"w": torch.ones(3)}, {"s": torch.zeros(2)})
    assert [p.name for p in root.iterdir()] == [first.name]
    assert ckpt_io.read_training_checkpoint(first)[1]["w"].tolist() == [1, 1, 1]


def test_training_into_a_full_disk_is_one_line(tmp_path, capsys, monkeypatch):
    from safetensors import SafetensorError
    from steergan import checkpoint as ckpt_io

    def full(tensors, path, metadata=None):
        Path(path).write_bytes(b"\0" * 10)
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    monkeypatch.setattr(ckpt_io, "save_file", full)
    data = write_pngs(tmp_path / "imgs")
    out = tmp_path / "run"
    code, _, err = invoke(["train", "--data", str(data), "--out", str(out), "--preset", "test", "--batch", "4",
                           "--kimg", "0.004", "--tick-kimg", "0.004", "--diversity-n", "0", "--device", "cpu"],
                          capsys)
    last = err.strip().splitlines()[-1]         # after the progress bar: one error line, no traceback
    assert code == 2 and last.startswith("error: ") and "No space left on device" in last, err
    assert "Traceback" not in err and sum(line.startswith("error: ") for line in err.splitlines()) == 1, err
    assert not list((out / "checkpoints").glob("*step-*"))     # no half-written checkpoint


# ----------------------------------------------------------------------------- emoji packages, data make, attention

def emoji_package(root: Path, entries=None, n=2) -> Path:
    """A fake emoji-datasource-google package: ``emoji.json`` (``entries``; raw if str or bytes)
    and ``n`` 64 px RGBA PNGs."""
    from PIL import Image
    import numpy as np
    img = root / "img" / "google" / "64"
    img.mkdir(parents=True)
    for i in range(n):
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[16:48, 16:48] = [200, 40 * i, 0, 255]
        Image.fromarray(rgba).save(img / f"{i}.png")
    if entries is None:
        entries = [{"image": f"{i}.png", "category": "Smileys", "has_img_google": True} for i in range(n)]
    raw = entries if isinstance(entries, bytes) else (entries if isinstance(entries, str) else json.dumps(entries)).encode()
    (root / "emoji.json").write_bytes(raw)
    return root


@pytest.mark.parametrize("entries,fragment", [
    ("{not json", "not readable JSON"),
    (b"[\xff\xfe]", "not readable JSON"),                      # not UTF-8
    ({"0.png": {"category": "Smileys"}}, "JSON list"),
    ("null", "JSON list"),
    (["0.png"], "not an object"),
    ([{"image": 5, "category": "Smileys"}], "'image'"),
    ([{"image": ["0.png"]}], "'image'"),
    ([{"image": "../../../emoji.json"}], "'image'"),
    ([{"image": "/etc/passwd"}], "'image'"),
    ([{"image": "0.png", "category": ["Smileys"]}], "'category'"),
    ([{"image": "0.png", "category": 3}], "'category'"),
    ([{"image": "0.png", "has_img_google": "yes"}], "has_img_google"),
])
def test_malformed_emoji_packages_are_one_line(tmp_path, capsys, entries, fragment):
    pkg = emoji_package(tmp_path / "pkg", entries)
    out = tmp_path / "out"
    code, _, err = invoke(["data", "emoji", "--source", str(pkg), "--out", str(out)], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


def test_emoji_package_of_unreadable_images_leaves_no_empty_dataset(tmp_path, capsys):
    pkg = emoji_package(tmp_path / "pkg")
    for p in (pkg / "img" / "google" / "64").iterdir():
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(40)))          # truncated PNGs
    out = tmp_path / "out"
    code, _, err = invoke(["data", "emoji", "--source", str(pkg), "--out", str(out)], capsys)
    one_line(code, err, "could be read")
    assert not out.exists()


@pytest.mark.parametrize("args,fragment", [
    (["--resolution", "0"], "resolution"),
    (["--resolution", "32"], None),                   # valid: the control case
    (["--copies", "100000", "--placement", "random"], "copies"),
    (["--copies", "-1", "--placement", "random"], "copies"),
    (["--scale", "nan,0.5", "--placement", "random"], "scale"),
    (["--scale", "0.1,0.2,0.3", "--placement", "random"], "--scale"),
])
def test_emoji_numeric_options(tmp_path, capsys, args, fragment):
    pkg = emoji_package(tmp_path / "pkg")
    out = tmp_path / "out"
    code, _, err = invoke(["data", "emoji", "--source", str(pkg), "--out", str(out), *args], capsys)
    if fragment is None:
        assert code == 0 and len(list((out / "images").iterdir())) == 2, err
        return
    one_line(code, err, fragment)
    assert not out.exists()


@pytest.mark.parametrize("args,fragment", [
    (["--resolution", "0"], "resolution"),
    (["--resolution", "-64"], "resolution"),
    (["--resolution", "48"], "power of two"),
    (["--resolution", "abc"], "not a valid integer"),
    (["-n", "0"], "-n"),
    (["-n", "100000000000"], "n must be"),
    (["--seed", "-1"], "seed"),
    (["--workers", "0"], "--workers"),
    (["--workers", "1000000"], "workers"),
])
def test_data_make_numbers(tmp_path, capsys, args, fragment):
    out = tmp_path / "scenes"
    code, _, err = invoke(["data", "make", "rooms", "--out", str(out), "-n", "2", *args], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


@pytest.mark.parametrize("args,fragment", [
    (["--n", "0"], "--n"),
    (["--n", "-2"], "--n"),
    (["--n", "100000"], "--n"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "4294967295", "--n", "2"], "--seed"),
    (["--real", "abc"], "not a valid integer"),
    (["--real", "0", "--data", "x"], "--real"),
    (["--real", "2"], "--real needs --data"),
])
def test_attention_numbers(tmp_path, capsys, args, fragment):
    out = tmp_path / "a.png"
    code, _, err = invoke(["attention", "rooms", "--out", str(out), *args], capsys)
    one_line(code, err, fragment)
    assert not out.exists()


def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path, capsys):
    for args in (["data", "info", str(tmp_path / "no\nsuch")],
                 ["data", "emoji", "--out", str(tmp_path / "e"), "--source", str(tmp_path / "a\r\nb")],
                 ["generate", str(tmp_path / "m\n.safetensors"), "--out", str(tmp_path / "g.png")]):
        code, _, err = invoke(args, capsys)
        one_line(code, err, "\\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("op,fragment", [
    ({"op": "move", "index": 0, "delta": [3e38, 0]}, "numbers within"),
    ({"op": "set_centre", "index": 0, "xy": [float("nan"), 0]}, "numbers within"),
    ({"op": "set_sigma", "index": 0, "sigma": 1e300}, "sigma"),
    ({"op": "set_style", "index": 0, "w": ["a"] * 128}, "finite numbers"),
])
def test_heatmap_ops_refuse_overflowing_numbers_in_the_library(op, fragment):
    """The editor and the Python API reach these through apply_ops, not through the CLI's checks."""
    from steergan.errors import UserError
    from steergan.methods.spatial.edits import apply_ops, state_from_seed
    from steergan.models import load_model
    m = load_model("rooms")
    with pytest.raises(UserError, match=fragment):
        apply_ops(state_from_seed(m, 0), [op], m)

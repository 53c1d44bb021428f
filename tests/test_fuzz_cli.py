"""Fuzz every ``steergan`` command with surely-invalid input (Hypothesis).

Each test draws one bad input of one class (garbage text where a number belongs, NaN/inf and
out-of-range numbers, garbage or wrong-typed JSON, unreadable images, corrupt model files) and
asserts the project's rule: exit code 2, exactly one non-empty stderr line starting ``error: ``,
no traceback anywhere, and no new file in the output location. Generators only make inputs that
are invalid whatever the code under test thinks (garbage is filtered with Python's own parsers,
ranges come from the documented limits), so a pass is never an accident of the oracle.

Examples per test: 20, derandomized, so every run sees the same cases (``STEERGAN_FUZZ_COUNTS=
counts.json`` writes how many ran per command); ``STEERGAN_FUZZ_EXAMPLES=200 pytest
tests/test_fuzz_cli.py`` fuzzes longer with fresh random cases.
"""
from __future__ import annotations

import json
import logging
import math
import os
import socket
import struct
import warnings
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cli_runner import invoke

EXAMPLES = int(os.environ.get("STEERGAN_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="STEERGAN_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
ASSETS = Path(__file__).resolve().parent.parent / "steergan" / "assets"


# ----------------------------------------------------------------------------- the rule

def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


class _LogLines(logging.Handler):
    """Log records as the CLI shows them (``main`` logs INFO and up to stderr)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


COUNTS: Counter = Counter()       # cases run per command (``STEERGAN_FUZZ_COUNTS=file.json`` writes them)


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    yield
    if os.environ.get("STEERGAN_FUZZ_COUNTS"):
        Path(os.environ["STEERGAN_FUZZ_COUNTS"]).write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1))


def refused(args: list[str], capsys, out_root: Path) -> str:
    """Run ``steergan ARGS``; assert the one-line refusal and that ``out_root`` gained nothing.
    Log records and warnings count as stderr lines (in-process, pytest would swallow them).
    An exception escaping ``main`` propagates with its traceback (and Hypothesis shrinks it)."""
    COUNTS[" ".join(args[:2]) if args[0] == "data" else args[0]] += 1
    before = snapshot(out_root)
    root, handler = logging.getLogger(), _LogLines()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, out, err = invoke(args, capsys)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    shown_warnings = [f"warning: {w.message}" for w in caught if "steergan" in w.filename]
    lines = handler.lines + shown_warnings + [line for line in err.splitlines() if line.strip()]
    shown = f"steergan {' '.join(map(repr, args))}\nexit {code}\nstderr lines: {lines!r}"
    assert "Traceback" not in out + err, shown
    assert code == 2, shown
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > len("error: "), shown
    assert snapshot(out_root) == before, f"{shown}\nnew files: {sorted(snapshot(out_root) - before)}"
    return lines[0]


# ----------------------------------------------------------------------------- bad values

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _fails(parse):
    def check(s):
        try:
            parse(s)
        except (ValueError, OverflowError):
            return True
        return False
    return check


NOT_INT = TEXT.filter(_fails(int))                      # what click's INT cannot read
NOT_FLOAT = TEXT.filter(_fails(float))                  # what click's FLOAT cannot read
NON_FINITE = st.sampled_from(["nan", "inf", "-inf", "NaN", "+inf", "-Infinity", "1e999", "-1e999"])
HUGE = 2 ** 80


def ints_outside(lo=None, hi=None):
    parts = [NOT_INT]
    if lo is not None:
        parts.append(st.integers(-HUGE, lo - 1).map(str))
    if hi is not None:
        parts.append(st.integers(hi + 1, HUGE).map(str))
    return st.one_of(parts)


def floats_outside(lo=None, hi=None, lo_open=False):
    """Garbage, non-finite, or finite numbers below ``lo`` (at ``lo`` too if open) / above ``hi``."""
    parts = [NOT_FLOAT, NON_FINITE]
    if lo is not None:
        parts.append(st.floats(max_value=lo, exclude_max=not lo_open, allow_nan=False, allow_infinity=False)
                     .map(repr))
    if hi is not None:
        parts.append(st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False).map(repr))
    return st.one_of(parts)


def _not_json(s):
    try:
        json.loads(s)
    except ValueError:
        return True
    return False


JSON_GARBAGE = st.one_of(TEXT.filter(_not_json),
                         st.sampled_from(['{"a": 1', "[1, 2", "{'a': 1}", "{a: 1}", "nul", "[1,]", '{"a" 1}',
                                          "\ufeff{}", '"unterminated']))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-HUGE, HUGE), st.floats(), st.text(max_size=6))
JSON_VALUE = st.recursive(JSON_LEAF, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c,
                                                                                        max_size=3), max_leaves=6)
NOT_OBJECT = JSON_VALUE.filter(lambda v: not isinstance(v, dict))
NOT_LIST = JSON_VALUE.filter(lambda v: not isinstance(v, list))
NOT_INT_JSON = JSON_VALUE.filter(lambda v: isinstance(v, bool) or not isinstance(v, int))
NOT_NUMBER_JSON = JSON_VALUE.filter(lambda v: isinstance(v, bool) or not isinstance(v, (int, float)))
NOT_TEXT_JSON = JSON_VALUE.filter(lambda v: not isinstance(v, str))
NOT_FINITE_JSON = st.sampled_from([math.nan, math.inf, -math.inf])


def _bad_device(s):
    if s == "auto":
        return False
    try:
        import torch
        return torch.device(s).type not in ("cpu", "cuda")
    except (RuntimeError, TypeError, ValueError):
        return True


BAD_DEVICE = st.one_of(st.sampled_from(["tpu", "gpu", "cpu:", "cuda:-1", "mps", "meta", "cpu0", "CPU", " cpu"]),
                       st.text("abcdeghijklmnopqrstuvwxyz:0123456789-", max_size=8)).filter(_bad_device)


def option(table):
    """A (flag, bad value) pair from ``[(flag, strategy), ...]``; ``arg`` makes it ``--flag=value``."""
    return st.one_of([st.tuples(st.just(flag), values) for flag, values in table])


def arg(bad) -> list[str]:
    return [f"{bad[0]}={bad[1]}"]


# ----------------------------------------------------------------------------- bad files

def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _noise_png(seed: int, size: int = 32) -> bytes:
    import io

    import numpy as np
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@st.composite
def unreadable_image(draw) -> bytes:
    """Bytes no image reader accepts: noise, a PNG signature then noise, a PNG cut inside its
    first half (the pixel data is incomplete), or a header claiming > 40 Mpx (a bomb)."""
    kind = draw(st.sampled_from(["noise", "signature", "truncated", "bomb"]))
    if kind == "noise":
        return draw(st.binary(max_size=64).filter(lambda b: not b.startswith((b"\x89PNG", b"\xff\xd8", b"GIF",
                                                                               b"BM", b"RIFF", b"II", b"MM"))))
    if kind == "signature":
        return b"\x89PNG\r\n\x1a\n" + draw(st.binary(max_size=64))
    if kind == "truncated":
        png = _noise_png(draw(st.integers(0, 3)))
        return png[:draw(st.integers(0, len(png) // 2))]
    side = draw(st.integers(6400, 100_000))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 4)) + _chunk(b"IEND", b"")


_GOOD = {}


def _good(name="rooms-stylegan2"):
    from steergan import checkpoint as ckpt_io
    if name not in _GOOD:
        _GOOD[name] = ckpt_io.read_generator_file(ASSETS / f"{name}.safetensors")
    cfg, tensors = _GOOD[name]
    return json.loads(json.dumps(cfg)), dict(tensors)


def _st_file(tensors, metadata=None) -> bytes:
    from safetensors.torch import save
    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def _arch_value(key):
    from steergan.nn.presets import INT_BOUNDS
    if key in INT_BOUNDS:
        lo, hi = INT_BOUNDS[key]
        wrong = JSON_VALUE.filter(lambda v: v is not None and (isinstance(v, bool) or not isinstance(v, int)))
        return st.one_of(wrong, st.integers(-HUGE, lo - 1), st.integers(hi + 1, HUGE))
    if key == "mapping_lr_mul":
        return st.one_of(NOT_NUMBER_JSON, NOT_FINITE_JSON, st.floats(max_value=0), st.floats(min_value=10,
                                                                                               exclude_min=True))
    return st.one_of(NOT_LIST, st.just([]), st.lists(st.floats(max_value=0, exclude_max=True), min_size=1, max_size=4))


def corrupt_model(base="rooms-stylegan2"):
    """A .safetensors file that is no loadable steergan model (labelled with what is wrong)."""
    return _corrupt_model(base)


@st.composite
def _corrupt_model(draw, base):
    what = []
    data = draw(_corrupt_model_bytes(base, what))
    return Blob(data, " ".join(what))


@st.composite
def _corrupt_model_bytes(draw, base, what) -> bytes:
    kind = draw(st.sampled_from(["bytes", "header", "no_config", "config_text", "format", "version", "kind",
                                 "arch", "arch_field", "arch_unknown", "power_of_two", "method", "method_name",
                                 "options", "missing_tensor", "nan_weight"]))
    what.append(kind)
    if kind == "bytes":
        return draw(st.binary(max_size=256))
    if kind == "header":          # a length prefix, then not the JSON header it promises
        body = draw(st.binary(max_size=64).filter(lambda b: not b.lstrip().startswith(b"{")))
        return struct.pack("<Q", draw(st.integers(0, 2 ** 64 - 1))) + body
    cfg, tensors = _good(base)
    if kind == "no_config":
        return _st_file(tensors)
    if kind == "config_text":
        return _st_file(tensors, {"steergan": draw(JSON_GARBAGE)})
    if kind == "format":
        cfg["format"] = draw(JSON_VALUE.filter(lambda v: v != "steergan"))
    elif kind == "version":
        cfg["version"] = draw(st.one_of(NOT_INT_JSON, st.integers(2, HUGE)))
    elif kind == "kind":
        cfg["kind"] = draw(JSON_VALUE.filter(lambda v: v not in ("generator", "training")))
    elif kind == "arch":
        cfg["arch"] = draw(NOT_OBJECT)
    elif kind == "arch_field":
        key = draw(st.sampled_from(sorted(cfg["arch"])))
        cfg["arch"][key] = draw(_arch_value(key))
    elif kind == "arch_unknown":
        cfg["arch"][draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in cfg["arch"]))] = 1
    elif kind == "power_of_two":
        cfg["arch"]["resolution"] = draw(st.integers(9, 1023).filter(lambda r: r & (r - 1)))
    elif kind == "method":
        cfg["method"] = draw(NOT_OBJECT)
    elif kind == "method_name":
        from steergan.methods import method_names
        cfg["method"]["name"] = draw(JSON_VALUE.filter(lambda v: v not in method_names()))
    elif kind == "options":
        cfg["method"]["options"] = draw(st.one_of(NOT_OBJECT.filter(lambda v: v is not None),
                                                  st.dictionaries(st.text(min_size=1, max_size=5), JSON_VALUE,
                                                                  min_size=1, max_size=2)))
    elif kind == "missing_tensor":
        del tensors[draw(st.sampled_from(sorted(tensors)))]
    else:
        key = draw(st.sampled_from(sorted(k for k, v in tensors.items() if v.is_floating_point())))
        t = tensors[key].clone()
        t.view(-1)[draw(st.integers(0, t.numel() - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        tensors[key] = t
    return _st_file(tensors, {"steergan": json.dumps(cfg)})


class Blob(bytes):
    """File contents with a short repr (a falsifying example names the mutation, not 3 MB)."""

    def __new__(cls, data: bytes, label: str):
        self = super().__new__(cls, data)
        self.label = label
        return self

    def __repr__(self):
        return f"<{len(self)} bytes: {self.label}>"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class Case:
    """Per-example paths under the test's tmp_path: ``inp`` for made-up inputs, ``out`` watched."""
    n = 0

    def __init__(self, tmp_path: Path):
        Case.n += 1
        self.inp = tmp_path / f"in{Case.n}"
        self.inp.mkdir()
        self.out = tmp_path / "out"
        self.out.mkdir(exist_ok=True)


def write_pngs(folder: Path, n=4, res=16) -> Path:
    import numpy as np
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (res, res, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return write_pngs(tmp_path_factory.mktemp("imgs"))


# ----------------------------------------------------------------------------- train

TRAIN_OPTIONS = [
    ("--kimg", floats_outside(0, lo_open=True)), ("--minutes", floats_outside(0, lo_open=True)),
    ("--batch", ints_outside(1, 65536)), ("--glr", floats_outside(0, 1, lo_open=True)),
    ("--dlr", floats_outside(0, 1, lo_open=True)), ("--gamma", floats_outside(0)),
    ("--pl-weight", floats_outside(0)), ("--mix", floats_outside(0, 1)),
    ("--tick-kimg", floats_outside(0.004)), ("--diversity-n", ints_outside(0, 100_000)),
    ("--keep", ints_outside(1, 10_000)), ("--seed", ints_outside(0, 2 ** 32 - 1)),
    ("--max-images", ints_outside(1)), ("--d-warmup-kimg", floats_outside(0)),
    ("--milestones", st.one_of(NOT_FLOAT.filter(lambda s: "," not in s and s.strip()), NON_FINITE,
                               st.floats(max_value=0, allow_nan=False).map(repr))),
    ("--method", TEXT.filter(lambda s: s not in ("stylegan2", "spatial", "link", "semantic"))),
    ("--method-options", st.one_of(JSON_GARBAGE, NOT_OBJECT.map(json.dumps),
                                   st.dictionaries(st.text(min_size=1, max_size=6), JSON_VALUE, min_size=1,
                                                   max_size=2).map(json.dumps))),
    ("--augment", st.text("abcdefghijklmnopqrstuvwxyz,", min_size=1, max_size=12).filter(
        lambda s: any(p and p not in ("color", "translation", "cutout") for p in s.split(",")))),
    ("--preset", TEXT.filter(lambda s: s not in ("tiny", "test", "paper256"))),
    ("--discriminator", TEXT.filter(lambda s: s not in ("stylegan2", "projected"))),
    ("--device", BAD_DEVICE),
]
TRAIN_BASE = ["--preset", "test", "--batch", "4", "--kimg", "0.004", "--tick-kimg", "0.004", "--diversity-n", "0",
              "--device", "cpu"]


@FUZZ
@given(bad=option(TRAIN_OPTIONS))
def test_train_options(tmp_path, capsys, images, bad):
    c = Case(tmp_path)
    refused(["train", "--data", str(images), "--out", str(c.out / "run"), *TRAIN_BASE, *arg(bad)], capsys, c.out)


@FUZZ
@given(kind=st.sampled_from(["images", "zip", "missing", "init_from"]), image=unreadable_image(),
       model=corrupt_model())
def test_train_files(tmp_path, capsys, images, kind, image, model):
    c = Case(tmp_path)
    data, extra = str(images), []
    if kind == "images":                    # a folder of nothing but unreadable images
        data = str(write(c.inp / "bad" / "a.png", image).parent)
    elif kind == "zip":
        data = str(write(c.inp / "x.zip", b"PK\x03\x04" + image))
    elif kind == "missing":
        data = str(c.inp / "nowhere")
    else:
        extra = ["--init-from", str(write(c.inp / "m.safetensors", model))]
    refused(["train", "--data", data, "--out", str(c.out / "run"), *TRAIN_BASE, *extra], capsys, c.out)


# ----------------------------------------------------------------------------- generate, info, export

def _bad_seeds(s):
    return any(not (ch.isdigit() or ch in ",-_+" or ch.isspace()) for ch in s)


BAD_SEEDS = st.one_of(TEXT.filter(_bad_seeds), st.sampled_from(["", ",", "5-3", "-3", "1-", "-", "0-99999999999",
                                                                 "4294967296", "1,,-2"]),
                      st.integers(2 ** 32, HUGE).map(str))
GENERATE_OPTIONS = [("--seeds", BAD_SEEDS), ("--truncation", floats_outside(0, 2)),
                    ("--noise", TEXT.filter(lambda s: s not in ("const", "random", "none"))),
                    ("--device", BAD_DEVICE), ("--model", st.text("abcxyz-_", min_size=1, max_size=10).filter(
                        lambda s: s not in ("rooms", "creatures", "linkgan", "semantic", "judge")))]


@FUZZ
@given(bad=option(GENERATE_OPTIONS))
def test_generate_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    model = [] if bad[0].startswith("--model") else ["--model", "rooms-stylegan2"]
    refused(["generate", *model, "--seeds", "0", *arg(bad), "--out", str(c.out / "g.png")], capsys, c.out)


@FUZZ
@given(model=corrupt_model(), command=st.sampled_from(["generate", "info", "export", "eval", "attention"]))
def test_corrupt_model_files(tmp_path, capsys, model, command):
    c = Case(tmp_path)
    path = str(write(c.inp / "m.safetensors", model))
    args = {"generate": ["generate", path, "--seeds", "0", "--out", str(c.out / "g.png")],
            "info": ["info", path],
            "export": ["export", path, str(c.out / "e.safetensors")],
            "eval": ["eval", path, "--n", "2", "--data", str(c.inp)],
            "attention": ["attention", path, "--n", "1", "--out", str(c.out / "a.png")]}[command]
    refused(args, capsys, c.out)


@FUZZ
@given(kind=st.sampled_from(["config_json", "config_missing", "model_missing", "dest_dir", "no_such"]),
       garbage=st.one_of(JSON_GARBAGE, NOT_OBJECT.map(json.dumps)), command=st.sampled_from(["export", "info"]))
def test_checkpoint_directories_and_destinations(tmp_path, capsys, kind, garbage, command):
    """Training-checkpoint directories with a broken config or missing tensors; export into a directory."""
    c = Case(tmp_path)
    ckpt = c.inp / "run" / "checkpoints" / "step-00000001"
    ckpt.mkdir(parents=True)
    src = str(c.inp / "run")
    dest = str(c.out / "g.safetensors")
    if kind == "config_json":
        (ckpt / "config.json").write_text(garbage)
    elif kind == "config_missing":
        src = str(ckpt)
    elif kind == "model_missing":
        cfg, _ = _good()
        cfg.update(kind="training")
        (ckpt / "config.json").write_text(json.dumps(cfg))
    elif kind == "dest_dir":
        src, dest = str(ASSETS / "rooms-stylegan2.safetensors"), str(c.out)
    else:
        src = str(c.inp / "nothing here")
    assume(not (kind == "dest_dir" and command == "info"))
    refused(["export", src, dest] if command == "export" else ["info", src], capsys, c.out)


# ----------------------------------------------------------------------------- edit, drag, compose (states)

def _state_dict(model="rooms"):
    from steergan.methods.spatial.edits import state_from_seed
    from steergan.models import load_model
    key = ("state", model)
    if key not in _GOOD:
        _GOOD[key] = state_from_seed(load_model(model), 0, model_id=model).to_dict()
    return json.loads(json.dumps(_GOOD[key]))


@st.composite
def bad_state(draw, model="rooms") -> str:
    """Text of an edit-state file no model can render."""
    kind = draw(st.sampled_from(["garbage", "not_object", "unknown_field", "seed", "ws", "truncation",
                                 "noise_mode", "model", "heatmaps", "centres", "sigmas"]))
    if kind == "garbage":
        return draw(JSON_GARBAGE)
    if kind == "not_object":
        return json.dumps(draw(NOT_OBJECT))
    d = _state_dict(model)
    if kind == "unknown_field":
        d[draw(st.text(min_size=1, max_size=6).filter(lambda k: k not in d))] = draw(JSON_VALUE)
    elif kind == "seed":
        d["seed"] = draw(st.one_of(NOT_INT_JSON.filter(lambda v: v is not None), st.integers(-HUGE, -1),
                                   st.integers(2 ** 32, HUGE)))
    elif kind == "ws":          # explicit W+ of the wrong shape or type, or non-finite
        d["seed"] = None
        d["ws"] = draw(st.one_of(NOT_LIST.filter(lambda v: v is not None), st.just([]),
                                 st.lists(st.lists(st.floats(-2, 2), min_size=1, max_size=3), min_size=1, max_size=3),
                                 st.just([[math.nan] * 128] * 10)))
    elif kind == "truncation":
        d["truncation"] = draw(st.one_of(NOT_NUMBER_JSON, NOT_FINITE_JSON, st.floats(max_value=0, exclude_max=True),
                                         st.floats(min_value=2, exclude_min=True)))
    elif kind == "noise_mode":
        d["noise_mode"] = draw(JSON_VALUE.filter(lambda v: v not in ("const", "random", "none")))
    elif kind == "model":
        d["model"] = draw(st.one_of(NOT_TEXT_JSON, st.just(""), st.text("xyz", min_size=1, max_size=5)))
    elif kind == "heatmaps":
        d["heatmaps"] = draw(st.one_of(NOT_OBJECT.filter(lambda v: v is not None),
                                       st.dictionaries(st.text(max_size=4), JSON_VALUE, max_size=3)))
    else:
        key = kind
        hm = d["heatmaps"]
        rows = hm[key]
        i = draw(st.integers(0, len(rows) - 1))
        # (JSON true/false are left out: torch reads them as 1.0/0.0, a number, if an odd one)
        not_number = NOT_NUMBER_JSON.filter(lambda v: not isinstance(v, bool))
        bad = draw(st.one_of(not_number, NOT_FINITE_JSON) if key == "centres" else
                   st.one_of(not_number, NOT_FINITE_JSON, st.floats(max_value=0, allow_nan=False)))
        if isinstance(rows[i], list):
            rows[i] = [bad] * len(rows[i])
        else:
            rows[i] = bad
    return json.dumps(d)


def _bad_spec(n_values):
    """``I:V[,V]`` specs that are not an index and ``n_values`` finite numbers."""
    return st.one_of(TEXT.filter(lambda s: ":" not in s), st.just("0:"), st.just(":1"),
                     st.tuples(NOT_INT, st.floats(-5, 5)).map(lambda t: f"{t[0]}:{','.join([repr(t[1])] * n_values)}"),
                     st.tuples(st.integers(0, 3), NON_FINITE).map(lambda t: f"{t[0]}:{','.join([t[1]] * n_values)}"),
                     st.integers(0, 3).map(lambda i: f"{i}:{','.join(['1'] * (n_values + 1))}"))


def _bad_op():
    ops = ["move", "set_centre", "set_sigma", "remove", "restore", "set_style"]
    base = st.sampled_from(ops)
    return st.one_of(
        JSON_GARBAGE, NOT_OBJECT.map(json.dumps),
        JSON_VALUE.filter(lambda v: v not in ops).map(lambda v: json.dumps({"op": v, "index": 0})),
        st.tuples(base, NOT_INT_JSON).map(lambda t: json.dumps({"op": t[0], "index": t[1], "delta": [0, 0],
                                                                "xy": [0, 0], "sigma": 0.1, "seed": 1})),
        st.tuples(base, st.one_of(st.integers(-HUGE, -1), st.integers(64, HUGE))).map(
            lambda t: json.dumps({"op": t[0], "index": t[1], "delta": [0, 0], "xy": [0, 0], "sigma": 0.1, "seed": 1})),
        st.tuples(st.sampled_from(["move", "set_centre"]), st.one_of(
            NOT_LIST, st.lists(st.floats(-1, 1), max_size=1), st.lists(st.floats(-1, 1), min_size=3, max_size=4),
            st.tuples(NOT_FINITE_JSON, st.floats(-1, 1)).map(list),
            st.lists(NOT_NUMBER_JSON, min_size=2, max_size=2))).map(
            lambda t: json.dumps({"op": t[0], "index": 0, "delta" if t[0] == "move" else "xy": t[1]})),
        st.one_of(NOT_NUMBER_JSON, NOT_FINITE_JSON, st.floats(max_value=0, allow_nan=False)).map(
            lambda s: json.dumps({"op": "set_sigma", "index": 0, "sigma": s})),
        st.one_of(NOT_INT_JSON, st.integers(-HUGE, -1), st.integers(2 ** 32, HUGE)).map(
            lambda s: json.dumps({"op": "set_style", "index": 0, "seed": s})),
        st.one_of(NOT_LIST.filter(lambda v: v is not None), st.lists(st.floats(-1, 1), max_size=3),
                  st.just([math.nan] * 128), st.lists(st.text(max_size=2), min_size=128, max_size=128)).map(
            lambda w: json.dumps({"op": "set_style", "index": 0, "w": w})),
    )


EDIT_OPTIONS = [("--move", _bad_spec(2)), ("--sigma", _bad_spec(1)),
                ("--sigma", st.integers(0, 3).flatmap(lambda i: st.floats(max_value=0, allow_nan=False).map(
                    lambda s: f"{i}:{s!r}"))),
                ("--move", st.integers(4, HUGE).map(lambda i: f"{i}:1,1")),
                ("--restyle", st.one_of(_bad_spec(1), st.integers(-HUGE, -1).map(lambda s: f"0:{s}"))),
                ("--remove", ints_outside(0, 3)), ("--new-latent", ints_outside(0, 2 ** 32 - 1)),
                ("--new-layout", ints_outside(0, 2 ** 32 - 1)), ("--seed", ints_outside(0, 2 ** 32 - 1)),
                ("--truncation", floats_outside(0, 2)), ("--op", _bad_op()), ("--device", BAD_DEVICE)]


@FUZZ
@given(bad=option(EDIT_OPTIONS))
def test_edit_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    refused(["edit", "--model", "rooms", *arg(bad), "--out", str(c.out / "e")], capsys, c.out)


@FUZZ
@given(state=bad_state(), command=st.sampled_from(["edit", "drag", "compose"]))
def test_edit_state_files(tmp_path, capsys, state, command):
    c = Case(tmp_path)
    path = c.inp / "state.json"
    path.write_text(state)
    tail = {"edit": ["--move", "0:2,0"], "drag": ["--points", "20,20>22,20", "--max-steps", "1"],
            "compose": []}[command]
    refused([command, "--state", str(path), *tail, "--out", str(c.out / "e")], capsys, c.out)


BAD_POINTS = st.one_of(
    TEXT.filter(lambda s: ">" not in s),
    st.sampled_from(["", ";", "1,2>3", "1,2,3>4,5", ">", "1,2>", "a,b>c,d", "nan,0>1,1", "1,1>inf,2", "1e999,1>1,1"]),
    st.tuples(st.floats(-100, 100), NON_FINITE).map(lambda t: f"{t[0]!r},{t[1]}>1,1"))
DRAG_OPTIONS = [("--points", BAD_POINTS), ("--max-steps", ints_outside(0)), ("--tolerance", floats_outside(0)),
                ("--lr", floats_outside(0, lo_open=True)), ("--r1", floats_outside(0, lo_open=True)),
                ("--r2", floats_outside(0, lo_open=True)), ("--patience", ints_outside(0)),
                ("--coarse-steps", ints_outside(0)), ("--seed", ints_outside(0, 2 ** 32 - 1)),
                ("--truncation", floats_outside(0, 2)),
                ("--mode", TEXT.filter(lambda s: s not in ("drag", "joint", "hybrid", "heatmap"))),
                ("--device", BAD_DEVICE)]


@FUZZ
@given(bad=option(DRAG_OPTIONS))
def test_drag_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    points = [] if bad[0].startswith("--points") else ["--points", "20,20>22,20"]
    steps = [] if bad[0].startswith("--max-steps") else ["--max-steps", "1"]
    refused(["drag", "--model", "rooms", "--seed", "0", *points, *steps, *arg(bad), "--out", str(c.out / "d")],
            capsys, c.out)


@FUZZ
@given(image=unreadable_image())
def test_drag_unreadable_masks(tmp_path, capsys, image):
    c = Case(tmp_path)
    mask = write(c.inp / "mask.png", image)
    refused(["drag", "--model", "rooms", "--seed", "0", "--points", "20,20>22,20", "--max-steps", "1",
             "--mask", str(mask), "--out", str(c.out / "d")], capsys, c.out)


COMPOSE_CLASSES = ["wall", "floor", "bed", "window", "painting", "lamp", "table", "plant"]   # the bundled model's
COMPOSE_OPTIONS = [
    ("--swap-texture", TEXT.filter(lambda s: s not in COMPOSE_CLASSES and not s.strip().isdigit())),
    ("--resample-shape", st.one_of(TEXT.filter(lambda s: s not in COMPOSE_CLASSES and not s.strip().isdigit()),
                                   st.integers(64, HUGE).map(str), st.integers(-HUGE, -1).map(str))),
    ("--from-seed", ints_outside(0, 2 ** 32 - 1)), ("--resample-seed", ints_outside(0, 2 ** 32 - 1)),
    ("--seed", ints_outside(0, 2 ** 32 - 1)), ("--truncation", floats_outside(0, 2)), ("--device", BAD_DEVICE)]


@FUZZ
@given(bad=option(COMPOSE_OPTIONS))
def test_compose_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    donor = ["--from-seed", "1"] if bad[0].startswith("--swap-texture") else []
    swap = ["--swap-texture", "floor"] if bad[0].startswith("--from-seed") else []
    refused(["compose", "--model", "semantic", *donor, *swap, *arg(bad), "--out", str(c.out / "c")], capsys, c.out)


# ----------------------------------------------------------------------------- resample, eval, attention

BAD_LINKS = st.one_of(JSON_GARBAGE, NOT_OBJECT.filter(lambda v: not isinstance(v, list)).map(json.dumps),
                      st.just("[]"), st.lists(NOT_OBJECT, min_size=1, max_size=3).map(json.dumps),
                      st.dictionaries(st.text(max_size=6).filter(lambda k: k not in ("links", "layout")), JSON_VALUE,
                                      max_size=2).map(json.dumps),
                      st.one_of(NOT_LIST, st.just([])).map(lambda v: json.dumps({"links": v})),
                      JSON_VALUE.filter(lambda v: v != "quadrants").map(lambda v: json.dumps({"layout": v})),
                      st.tuples(NOT_OBJECT, st.integers(1, 8)).map(
                          lambda t: json.dumps([{"region": t[0], "axes": t[1]}])),
                      st.one_of(NOT_INT_JSON, st.integers(-HUGE, 0), st.integers(129, HUGE)).map(
                          lambda a: json.dumps([{"region": {"box": [0, 0.5, 0.5, 1]}, "axes": a}])),
                      st.lists(NOT_FINITE_JSON, min_size=4, max_size=4).map(
                          lambda b: json.dumps([{"region": {"box": b}, "axes": 8}])),
                      st.text(max_size=6).filter(lambda s: s not in COMPOSE_CLASSES).map(
                          lambda name: json.dumps([{"region": {"class": name}, "axes": 8}])))
RESAMPLE_OPTIONS = [("--n", ints_outside(1, 256)), ("--seed", ints_outside(0, 2 ** 32 - 1)),
                    ("--link", st.one_of(NOT_INT, st.integers(-HUGE, -1).map(str), st.integers(1, HUGE).map(str))),
                    ("--truncation", floats_outside(0, 2)), ("--links", BAD_LINKS), ("--device", BAD_DEVICE)]


@FUZZ
@given(bad=option(RESAMPLE_OPTIONS))
def test_resample_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    model = "rooms-stylegan2" if bad[0].startswith("--links") else "linkgan"
    refused(["resample", "--model", model, "--n", "1", *arg(bad), "--out", str(c.out / "r")], capsys, c.out)


EVAL_OPTIONS = [("--n", ints_outside(2)),
                ("--metric", TEXT.filter(lambda s: s not in ("fd_judge", "fd_effnet", "fd_seg", "fid", "fd_random",
                                                             "comove", "link", "locality", "miou"))),
                ("--truncation", floats_outside(0, 2)), ("--device", BAD_DEVICE)]


@FUZZ
@given(bad=option(EVAL_OPTIONS), kind=st.sampled_from(["options", "options", "links", "link", "data", "segmenter"]),
       links=BAD_LINKS, link=st.integers(1, HUGE), image=unreadable_image())
def test_eval(tmp_path, capsys, images, bad, kind, links, link, image):
    """Valid real images and a --cache-dir inside the watched folder: an accepted input would write stats."""
    c = Case(tmp_path)
    base = ["eval", "--n", "2", "--data", str(images), "--cache-dir", str(c.out / "cache")]
    if kind == "options":
        args = [*base, "--model", "rooms-stylegan2", *arg(bad)]
    elif kind == "links":
        args = [*base, "--model", "rooms-stylegan2", "--metric", "link", "--links", links]
    elif kind == "link":
        args = [*base, "--model", "linkgan", "--metric", "link", "--link", str(link)]
    elif kind == "data":
        data = write(c.inp / "bad" / "a.png", image).parent
        args = [*base, "--model", "rooms-stylegan2", "--metric", "fd_judge", "--data", str(data)]
    else:
        seg = write(c.inp / "seg.safetensors", image)
        args = [*base, "--model", "rooms", "--metric", "comove", "--segmenter", str(seg)]
    refused(args, capsys, c.out)


ATTENTION_OPTIONS = [("--n", ints_outside(1, 64)), ("--seed", ints_outside(0, 2 ** 32 - 6)),
                     ("--real", ints_outside(1, 64))]


@FUZZ
@given(bad=option(ATTENTION_OPTIONS))
def test_attention_options(tmp_path, capsys, bad):
    c = Case(tmp_path)
    refused(["attention", "rooms", "--data", str(c.inp), *arg(bad), "--out", str(c.out / "a.png")], capsys, c.out)


# ----------------------------------------------------------------------------- data make / info / emoji

DATA_MAKE_OPTIONS = [("--resolution", st.one_of(ints_outside(16, 1024), st.integers(17, 1023).filter(
                         lambda r: r & (r - 1)).map(str))),
                     ("--n", ints_outside(1, 10_000_000)), ("--seed", ints_outside(0, 2 ** 63 - 1)),
                     ("--workers", ints_outside(1, 256))]


@FUZZ
@given(bad=option(DATA_MAKE_OPTIONS), kind=st.sampled_from(["rooms", "creatures"]))
def test_data_make(tmp_path, capsys, bad, kind):
    c = Case(tmp_path)
    refused(["data", "make", kind, "--out", str(c.out / "d"), "--n", "2", *arg(bad)], capsys, c.out)


@FUZZ
@given(kind=st.sampled_from(["missing", "not_zip", "bad_zip", "empty", "meta_only", "meta_images"]),
       blob=st.binary(max_size=64), meta=st.one_of(JSON_GARBAGE, JSON_VALUE.map(json.dumps)),
       command=st.sampled_from(["info", "make"]))
def test_data_info_and_existing_targets(tmp_path, capsys, kind, blob, meta, command):
    """``data info`` on what is no dataset; ``data make`` into a non-empty folder that is not one of its own."""
    c = Case(tmp_path)
    path = c.inp / "ds"
    if kind == "not_zip":
        write(path, blob.replace(b"PK", b"pk"))
    elif kind == "bad_zip":
        write(path, b"PK\x05\x06" + b"\0" * 18)        # an empty central directory: no images
    elif kind == "empty":
        path.mkdir()
    elif kind == "meta_only":
        write(path / "dataset.json", meta.encode())
    elif kind == "meta_images":
        write(path / "dataset.json", meta.encode())
        write(path / "notes.txt", blob)
    if command == "make":
        assume(kind not in ("missing", "empty"))       # a new or empty folder is a valid target
        target = c.out / f"target-{c.inp.name}"
        path.rename(target)
        refused(["data", "make", "rooms", "--out", str(target), "--n", "2"], capsys, c.out)
    else:
        refused(["data", "info", str(path)], capsys, c.out)


def _emoji_package(root: Path, meta: bytes) -> Path:
    img = root / "img" / "google" / "64"
    img.mkdir(parents=True)
    (img / "0.png").write_bytes(_noise_png(0, 64))
    (root / "emoji.json").write_bytes(meta)
    return root


GOOD_ENTRY = {"image": "0.png", "category": "Smileys", "has_img_google": True}


@st.composite
def bad_emoji_json(draw) -> bytes:
    kind = draw(st.sampled_from(["garbage", "not_list", "entry", "image", "category", "flag", "bytes"]))
    if kind == "garbage":
        return draw(JSON_GARBAGE).encode()
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=32).filter(lambda b: _bytes_not_json(b)))
    if kind == "not_list":
        return json.dumps(draw(NOT_LIST)).encode()
    if kind == "entry":
        return json.dumps([GOOD_ENTRY, draw(NOT_OBJECT)]).encode()
    e = dict(GOOD_ENTRY)
    if kind == "image":
        e["image"] = draw(st.one_of(NOT_TEXT_JSON.filter(lambda v: v is not None),
                                    st.sampled_from(["../0.png", "/etc/passwd", "..", ".", "a/0.png", "../../x"])))
    elif kind == "category":
        e["category"] = draw(NOT_TEXT_JSON.filter(lambda v: v is not None))
    else:
        e["has_img_google"] = draw(JSON_VALUE.filter(lambda v: not isinstance(v, bool)))
    return json.dumps([e]).encode()


def _bytes_not_json(b):
    try:
        json.loads(b.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    return False


EMOJI_OPTIONS = [("--resolution", ints_outside(8, 1024)), ("--copies", ints_outside(1, 1000)),
                 ("--scale", st.one_of(TEXT.filter(lambda s: s.count(",") != 1),
                                       st.tuples(NON_FINITE, st.floats(0.05, 1)).map(lambda t: f"{t[0]},{t[1]!r}"),
                                       st.tuples(st.floats(0.5, 1), st.floats(0.05, 0.49)).map(
                                           lambda t: f"{t[0]!r},{t[1]!r}"),
                                       st.floats(max_value=0.05, exclude_max=True, allow_nan=False).map(
                                           lambda lo: f"{lo!r},0.5"))),
                 ("--vendor", TEXT.filter(lambda s: s not in ("google", "apple", "twitter", "facebook"))),
                 ("--placement", TEXT.filter(lambda s: s not in ("centre", "random")))]


@FUZZ
@given(meta=bad_emoji_json(), bad=option(EMOJI_OPTIONS), kind=st.sampled_from(["json", "json", "option", "tgz",
                                                                                "images"]),
       image=unreadable_image())
def test_data_emoji(tmp_path, capsys, meta, bad, kind, image):
    c = Case(tmp_path)
    good = json.dumps([GOOD_ENTRY]).encode()
    pkg = _emoji_package(c.inp / "pkg", meta if kind == "json" else good)
    extra = []
    if kind == "option":
        extra = arg(bad) if bad[0] == "--placement" else ["--placement", "random", *arg(bad)]
    elif kind == "tgz":
        pkg = write(c.inp / "pkg.tgz", image)
    elif kind == "images":
        (pkg / "img" / "google" / "64" / "0.png").write_bytes(image)
    refused(["data", "emoji", "--source", str(pkg), "--out", str(c.out / "e"), *extra], capsys, c.out)


# ----------------------------------------------------------------------------- invert

@FUZZ
@given(kind=st.sampled_from(["image", "image", "missing", "steps", "model"]), image=unreadable_image(),
       steps=ints_outside(0, 100_000), model=corrupt_model())
def test_invert(tmp_path, capsys, kind, image, steps, model):
    """Every image is read before anything is written: one bad file among good ones writes nothing."""
    c = Case(tmp_path)
    good = str(write(c.inp / "good.png", _noise_png(1, 64)))
    args = ["invert", good, "--model", "rooms-stylegan2", "--steps", "1", "--out", str(c.out / "inv")]
    if kind == "image":
        args.insert(2, str(write(c.inp / "bad.png", image)))
    elif kind == "missing":
        args.insert(2, str(c.inp / "missing.png"))
    elif kind == "steps":
        args.append(f"--steps={steps}")
    else:
        args[3] = str(write(c.inp / "m.safetensors", model))
    refused(args, capsys, c.out)


# ----------------------------------------------------------------------------- ui

def _bindable(host: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


@FUZZ
@given(kind=st.sampled_from(["port", "host", "busy", "sessions", "threads", "ckpt"]),
       port=st.one_of(ints_outside(0, 65535)), octet=st.integers(1, 254),
       net=st.sampled_from(["192.0.2", "198.51.100", "203.0.113"]), model=corrupt_model())
def test_ui_fails_before_serving(tmp_path, capsys, monkeypatch, kind, port, octet, net, model):
    import uvicorn

    def serve(*a, **k):
        raise AssertionError("the editor started serving on a bad input")
    monkeypatch.setattr(uvicorn.Server, "run", serve)
    c = Case(tmp_path)
    args = ["ui", "--ckpt", "rooms-stylegan2"]
    busy = None
    if kind == "port":
        args += [f"--port={port}"]
    elif kind == "host":                          # documentation addresses (one may be this machine's)
        host = f"{net}.{octet}"
        assume(not _bindable(host))
        args += ["--host", host, "--port", "0"]
    elif kind == "busy":
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args += ["--port", str(busy.getsockname()[1])]
    elif kind == "sessions":
        args += [f"--max-sessions={port}"]
    elif kind == "threads":
        args += [f"--threads={port}"]
    else:
        args = ["ui", "--ckpt", str(write(c.inp / "m.safetensors", model))]
    try:
        refused(args, capsys, c.out)
    finally:
        if busy is not None:
            busy.close()


# ----------------------------------------------------------------------------- a real process

def test_a_real_process_prints_one_line(tmp_path):
    """In-process runs cannot see what logging and warnings print; a real ``steergan`` process can:
    a refusal is one line, and so is a warning (a skipped unreadable image) before a result."""
    import subprocess
    import sys
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(*args):
        p = subprocess.run([sys.executable, "-m", "steergan.cli.main", *args], capture_output=True, text=True,
                           env=env, timeout=300)
        assert "Traceback" not in p.stdout + p.stderr, p.stderr
        return p.returncode, [line for line in p.stderr.splitlines() if line.strip()]

    bad_only = write(tmp_path / "bad" / "a.png", b"not a png").parent
    model = write(tmp_path / "m.safetensors", b"\x08\0\0\0\0\0\0\0{}")
    for args in (["train", "--data", str(bad_only), "--out", str(tmp_path / "out" / "run"), *TRAIN_BASE],
                 ["generate", str(model), "--seeds", "0", "--out", str(tmp_path / "out" / "g.png")]):
        code, lines = run(*args)
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (args, lines)
    assert not (tmp_path / "out").exists()
    mixed = write_pngs(tmp_path / "mixed", n=2, res=64)
    (mixed / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code, lines = run("eval", "--model", "rooms-stylegan2", "--n", "2", "--data", str(mixed),
                      "--cache-dir", str(tmp_path / "cache"))
    assert code == 0 and lines == ["warning: skipped 1 of 3 files that could not be read: zz.png"], lines

"""Data: scenes agree with their ground truth; folders, zips and emoji fail clearly."""
import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from steergan.data import ImageDataset, classes, make_dataset, render
from steergan.data.emoji import import_emoji
from steergan.errors import UserError


@pytest.mark.parametrize("kind", ["rooms", "creatures"])
def test_scene_masks_agree_with_json(kind):
    for i in range(12):
        s = render(kind, i, 32, seed=5)
        assert s.image.shape == (32, 32, 3) and s.image.std() > 5
        ids = [o["instance"] for o in s.objects]
        assert ids == list(range(1, len(ids) + 1))
        assert set(np.unique(s.instances)) - {0} == set(ids)
        for o in s.objects:
            ys, xs = np.nonzero(s.instances == o["instance"])
            assert o["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert o["centre"] == pytest.approx([xs.mean() + 0.5, ys.mean() + 0.5], abs=1e-3)
            assert (s.semantic[ys, xs] == o["class_id"]).all()
            assert classes(kind)[o["class_id"]] == o["class"]
            assert o["parent"] is None or o["parent"] in ids


def test_scenes_are_deterministic_and_varied():
    a, b = render("rooms", 3, 32, seed=1), render("rooms", 3, 32, seed=1)
    assert np.array_equal(a.image, b.image) and a.objects == b.objects
    assert not np.array_equal(a.image, render("rooms", 3, 32, seed=2).image)
    counts = {len([o for o in render("rooms", i, 32, 0).objects if o["class"] not in ("wall", "floor")])
              for i in range(60)}
    assert len(counts) >= 3
    seen = {o["class"] for i in range(120) for o in render("rooms", i, 32, 0).objects}
    assert {"bed", "window", "painting", "lamp"} <= seen
    parts = {o["class"] for o in render("creatures", 0, 64, 0).objects}
    assert {"head", "ear", "eye", "mouth"} <= parts


def test_make_dataset_writes_ground_truth_and_refuses_foreign_dirs(tmp_path):
    out = make_dataset("creatures", tmp_path / "c", n=6, resolution=16, workers=1, progress=False)
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["kind"] == "creatures" and meta["n"] == 6
    lines = (out / "objects.jsonl").read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[2])["file"] == "images/00000002.png"
    ds = ImageDataset(out, resolution=16)
    assert len(ds) == 6 and ds.classes[1] == "head"
    assert ds.instances(2).max() == len(ds.objects(2))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(UserError, match="not a steergan scene dataset"):
        make_dataset("rooms", foreign, n=2, resolution=16, progress=False)
    assert (foreign / "thesis.txt").read_text() == "precious"


def _png(path, rgba=None, size=20):
    arr = rgba if rgba is not None else np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, format="PNG")


def test_folder_resizes_composites_and_skips_corrupt_files(tmp_path):
    _png(tmp_path / "a.png", size=40)
    rgba = np.zeros((16, 24, 4), np.uint8)          # fully transparent, non-square
    _png(tmp_path / "b.png", rgba)
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "sub" / "c.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.warns(UserWarning, match="skipped 1 of 4 files"):
        ds = ImageDataset(tmp_path, resolution=16, background=(10, 20, 30))
    assert ds.images.shape == (3, 3, 16, 16) and ds.skipped == 1
    b = ds.images[ds.names.index("b.png")]
    assert (b[:, 0, 0].tolist()) == [10, 20, 30]
    assert len(ds.fingerprint) == 16


def test_zip_input_and_errors(tmp_path):
    buf = io.BytesIO()
    _png(buf)
    z = tmp_path / "imgs.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("x/one.png", buf.getvalue())
        f.writestr("x/two.png", buf.getvalue())
    assert len(ImageDataset(z, resolution=8)) == 2
    with pytest.raises(UserError, match="does not exist"):
        ImageDataset(tmp_path / "missing", resolution=8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no PNG/JPEG/WebP"):
        ImageDataset(tmp_path / "empty", resolution=8)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserError, match="neither a directory nor a .zip"):
        ImageDataset(tmp_path / "file.txt", resolution=8)


def _fake_emoji_package(root):
    img = root / "img" / "google" / "64"
    img.mkdir(parents=True)
    entries = []
    for i, cat in enumerate(["Smileys & Emotion", "Smileys & Emotion", "Animals & Nature"]):
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[16:48, 16:48] = [200, 50 * i, 0, 255]
        _png(img / f"{i}.png", rgba)
        entries.append({"image": f"{i}.png", "category": cat, "has_img_google": True,
                        "subcategory": ["face-smiling", "heart", "animal-mammal"][i]})
    (root / "emoji.json").write_text(json.dumps(entries))
    return root


def test_emoji_import_filters_category(tmp_path):
    pkg = _fake_emoji_package(tmp_path / "pkg")
    info = import_emoji("google", tmp_path / "out", category="Smileys & Emotion", source=str(pkg))
    assert info["n"] == 2 and len(list((tmp_path / "out" / "images").iterdir())) == 2
    first = np.asarray(Image.open(tmp_path / "out" / "images" / "00000000.png"))
    assert first[0, 0].tolist() == [255, 255, 255] and first[32, 32].tolist() == [200, 0, 0]
    with pytest.raises(UserError, match="unknown category"):
        import_emoji("google", tmp_path / "out2", category="Food", source=str(pkg))
    faces = import_emoji("google", tmp_path / "faces", category="Smileys & Emotion", subcategory="face-",
                         source=str(pkg))
    assert faces["n"] == 1 and faces["subcategory"] == "face-"
    with pytest.raises(UserError, match="subcategory"):
        import_emoji("google", tmp_path / "none", subcategory="flag-", source=str(pkg))
    with pytest.raises(UserError, match="unknown vendor"):
        import_emoji("samsung", tmp_path / "out3", source=str(pkg))
    # instance maps from alpha, read by the dataset; the label folder is not taken for images
    ds = ImageDataset(tmp_path / "out", 64)
    assert len(ds) == 2
    inst, _ = ds.load_masks("instances")
    assert inst.shape == (2, 64, 64) and inst[0, 16:48, 16:48].eq(1).all() and inst.sum() == 2 * 32 * 32


def test_emoji_random_placement_moves_and_scales_the_emoji_with_its_mask(tmp_path):
    pkg = _fake_emoji_package(tmp_path / "pkg")
    info = import_emoji("google", tmp_path / "out", category="Smileys & Emotion", source=str(pkg),
                        placement="random", copies=3, scale=(0.5, 0.9), seed=1)
    assert info["n"] == 6 and info["placement"] == "random"
    inst, _ = ImageDataset(tmp_path / "out", 64).load_masks("instances")
    centres, areas = set(), set()
    for k in range(6):
        img = np.asarray(Image.open(tmp_path / "out" / "images" / f"{k:08d}.png")).astype(int)
        m = inst[k].numpy().astype(bool)
        ys, xs = np.nonzero(m)
        # the square (half the source side) is pasted at scale 0.5..0.9 of the canvas
        assert 0.25 * 0.5 * 64 ** 2 * 0.8 <= m.sum() <= 0.25 * 0.9 * 64 ** 2 * 1.2 + 64
        near = np.pad(m, 1)
        near = near[:-2, 1:-1] | near[2:, 1:-1] | near[1:-1, :-2] | near[1:-1, 2:] | m   # 1-pixel rim
        assert (img[m] != 255).any(-1).all() and (img[~near] == 255).all()     # mask = the pasted pixels
        centres.add((round(xs.mean()), round(ys.mean())))
        areas.add(int(m.sum()))
    assert len(centres) > 3 and len(areas) > 3                                  # positions and sizes vary
    again = import_emoji("google", tmp_path / "again", category="Smileys & Emotion", source=str(pkg),
                         placement="random", copies=3, scale=(0.5, 0.9), seed=1)
    assert again["n"] == 6 and all(
        (tmp_path / "out" / "images" / f"{k:08d}.png").read_bytes()
        == (tmp_path / "again" / "images" / f"{k:08d}.png").read_bytes() for k in range(6))
    for bad in (dict(placement="grid"), dict(copies=0), dict(copies=2), dict(placement="random", scale=(0.9, 0.5))):
        with pytest.raises(UserError):
            import_emoji("google", tmp_path / "bad", source=str(pkg), **bad)


def test_emoji_tarball_with_path_traversal_is_refused(tmp_path):
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"pwned"
        ti = tarfile.TarInfo("../../escape.txt")
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    with pytest.raises(UserError, match="unsafe path"):
        import_emoji("google", tmp_path / "out", source=str(evil))
    assert not (tmp_path.parent / "escape.txt").exists()


def test_cli_emoji_placement_and_bad_scale(tmp_path, capsys):
    from cli_runner import invoke
    pkg = _fake_emoji_package(tmp_path / "pkg")
    code, out, err = invoke(["data", "emoji", "--source", str(pkg), "--out", str(tmp_path / "e"),
                             "--placement", "random", "--copies", "2", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["n"] == 6 and len(list((tmp_path / "e" / "instances").iterdir())) == 6
    code, out, err = invoke(["data", "emoji", "--source", str(pkg), "--out", str(tmp_path / "f"),
                             "--placement", "random", "--scale", "0.5"], capsys)
    assert code == 2 and "--scale" in err and not (tmp_path / "f").exists()


def test_oversized_archive_members_are_refused_before_they_are_unpacked(tmp_path, monkeypatch):
    """Issue 17 leftover: a tarball or zip of a few kB can claim gigabytes."""
    import steergan.data.emoji as emoji_mod
    import steergan.data.folder as folder_mod
    big = tmp_path / "big.tgz"
    with tarfile.open(big, "w:gz") as tar:
        data = b"\0" * 4096
        ti = tarfile.TarInfo("package/emoji.json")
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    monkeypatch.setattr(emoji_mod, "MAX_MEMBER_BYTES", 1024)
    with pytest.raises(UserError, match="larger than steergan unpacks"):
        import_emoji("google", tmp_path / "out", source=str(big))
    assert not (tmp_path / "out").exists()
    # a zip dataset: the member that inflates past the limit is skipped (counted), the others load
    z = tmp_path / "imgs.zip"
    buf = io.BytesIO()
    _png(buf)
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("a.png", buf.getvalue())
        f.writestr("bomb.png", b"\0" * (1 << 20))          # 1 MB of zeros: ~1 kB compressed
    monkeypatch.setattr(folder_mod, "MAX_FILE_BYTES", 64 << 10)
    with pytest.warns(UserWarning, match="skipped 1 of 2"):
        ds = ImageDataset(z, resolution=8)
    assert len(ds) == 1

"""The CLI: every bad input is one line on stderr and exit code 2; happy paths work."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from steergan import checkpoint as ckpt_io
from steergan.cli.main import main


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def ok_cli(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    assert code in (0, None), out.err
    return out.out


def write_pngs(folder: Path, n=12, res=16, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (res, res, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def one_line_error(code, err, fragment):
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


@pytest.mark.parametrize("args,fragment", [
    (["generate", "--model", "no-such-model"], "no bundled model"),
    (["generate", "missing/dir/ckpt.safetensors"], "does not exist"),
    (["generate", "--seeds", "x-y", "--model", "missing/x.safetensors"], "does not exist"),
    (["train", "--data", "/no/such/folder", "--out", "/tmp/steergan-never"], "/no/such/folder"),
    (["train", "--data", ".", "--out", "/tmp/steergan-never", "--method", "nope"], "is not one of"),
    (["info", "/no/such.safetensors"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(args, fragment, capsys):
    code, _, err = run_cli(args, capsys)
    one_line_error(code, err, fragment)


def test_usage_errors_exit_2(capsys):
    code, _, err = run_cli(["generate", "--truncation", "abc"], capsys)
    assert code == 2 and "Invalid value" in err


def test_corrupt_checkpoint_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    code, _, err = run_cli(["generate", str(bad), "--out", str(tmp_path / "g.png")], capsys)
    one_line_error(code, err, "bad.safetensors")


def test_train_generate_info_export_round_trip(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs")
    run = tmp_path / "run"
    ok_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test", "--kimg", "0.008",
            "--batch", "4", "--tick-kimg", "0.004", "--device", "cpu"], capsys)
    assert len(ckpt_io.list_checkpoints(run / "checkpoints")) == 2
    assert (run / "stats.jsonl").is_file() and list((run / "samples").glob("*.png"))
    out = ok_cli(["generate", str(run), "--seeds", "0-3", "--out", str(tmp_path / "g.png"), "--json"], capsys)
    assert json.loads(out)["n"] == 4 and Image.open(tmp_path / "g.png").size[0] > 16
    ok_cli(["generate", str(run), "--seeds", "1,2", "--out", str(tmp_path / "files")], capsys)
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == ["seed000001.png", "seed000002.png"]
    ok_cli(["export", str(run), str(tmp_path / "g.safetensors")], capsys)
    info = json.loads(ok_cli(["info", str(tmp_path / "g.safetensors"), "--json"], capsys))
    assert info["kind"] == "generator" and info["method"] == "stylegan2" and info["resolution"] == 16
    # a second `train` without --resume is refused rather than overwriting
    code, _, err = run_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test",
                            "--no-resume"], capsys)
    one_line_error(code, err, "already holds checkpoints")


def test_sigkill_loses_at_most_one_tick_and_resume_continues(tmp_path):
    data = write_pngs(tmp_path / "imgs")
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "steergan.cli.main", "train", "--data", str(data), "--out", str(run),
           "--preset", "test", "--batch", "4", "--kimg", "0.4", "--tick-kimg", "0.004", "--keep", "2",
           "--device", "cpu"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(ckpt_io.list_checkpoints(run / "checkpoints")) < 2:
        time.sleep(0.05)
    time.sleep(0.37)            # land somewhere inside a later step or checkpoint write
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ckpts = ckpt_io.list_checkpoints(run / "checkpoints")
    assert ckpts, "no checkpoint was written before the kill"
    last_step = int(ckpts[-1].name.split("-")[1])
    for c in ckpts:              # every visible checkpoint is complete and loadable
        ckpt_io.read_training_checkpoint(c)
    cmd[cmd.index("0.4")] = f"{(last_step + 2) * 4 / 1000}"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resumed from {ckpts[-1]}" in done.stderr
    final = ckpt_io.list_checkpoints(run / "checkpoints")[-1]
    assert int(final.name.split("-")[1]) == last_step + 2
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]


def test_spatial_edit_state_reloads_to_the_same_image(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs")
    run = tmp_path / "run"
    ok_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test", "--method", "spatial",
            "--method-options", '{"sampling": "multi"}', "--kimg", "0.008", "--batch", "4",
            "--tick-kimg", "0.008", "--device", "cpu"], capsys)
    out = json.loads(ok_cli(["edit", str(run), "--seed", "3", "--move", "0:4,-2", "--remove", "1",
                             "--restyle", "2:77", "--out", str(tmp_path / "e1"), "--json"], capsys))
    assert [op["op"] for op in out["ops"]] == ["move", "remove", "set_style"] and out["mean_abs_change"] > 0
    ok_cli(["edit", "--state", str(tmp_path / "e1" / "state.json"), "--out", str(tmp_path / "e2")], capsys)
    a = np.asarray(Image.open(tmp_path / "e1" / "after.png"))
    b = np.asarray(Image.open(tmp_path / "e2" / "after.png"))
    assert np.array_equal(a, b)
    code, _, err = run_cli(["edit", str(run), "--move", "7:1,1", "--out", str(tmp_path / "e3")], capsys)
    one_line_error(code, err, "centre index 7 does not exist")
    code, _, err = run_cli(["edit", str(run), "--move", "0:1", "--out", str(tmp_path / "e3")], capsys)
    one_line_error(code, err, "cannot read --move")

    # D's attention sheet: from the run, and from a generator file exported with D (not without)
    ok_cli(["attention", str(run), "--n", "2", "--real", "2", "--data", str(data),
            "--out", str(tmp_path / "att.png")], capsys)
    sheet = Image.open(tmp_path / "att.png")
    assert sheet.size == (5 * 16 * 3, 14 + 4 * 16 * 3)        # image, 3 CAMs, heatmap; 2 real + 2 fake
    ok_cli(["export", str(run), str(tmp_path / "g.safetensors")], capsys)
    code, _, err = run_cli(["attention", str(tmp_path / "g.safetensors"), "--out", str(tmp_path / "a.png")], capsys)
    one_line_error(code, err, "carries no discriminator")
    ok_cli(["export", str(run), str(tmp_path / "gd.safetensors"), "--with-discriminator"], capsys)
    ok_cli(["attention", str(tmp_path / "gd.safetensors"), "--n", "1", "--out", str(tmp_path / "a.png")], capsys)
    ok_cli(["edit", str(tmp_path / "gd.safetensors"), "--seed", "3", "--out", str(tmp_path / "e4")], capsys)


def test_edit_refuses_models_without_heatmaps(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs")
    run = tmp_path / "run"
    ok_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test", "--kimg", "0.004",
            "--batch", "4", "--device", "cpu"], capsys)
    code, _, err = run_cli(["edit", str(run), "--move", "0:1,1", "--out", str(tmp_path / "e")], capsys)
    one_line_error(code, err, "has no heatmaps")


def test_eval_fd_effnet_end_to_end_and_cache(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs", n=6)
    run = tmp_path / "run"
    ok_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test", "--kimg", "0.004",
            "--batch", "4", "--device", "cpu"], capsys)
    args = ["eval", str(run), "--data", str(data), "--n", "4", "--cache-dir", str(tmp_path / "cache"), "--json"]
    default = json.loads(ok_cli(args, capsys))                       # the evaluation-only judge
    assert default["metric"] == "fd_judge" and np.isfinite(default["value"])
    args += ["--metric", "fd_effnet"]
    first = json.loads(ok_cli(args, capsys))
    assert first["metric"] == "fd_effnet" and first["value"] > 0 and np.isfinite(first["value"])
    assert list((tmp_path / "cache").iterdir())                      # real statistics cached
    assert json.loads(ok_cli(args, capsys))["value"] == pytest.approx(first["value"])
    code, _, err = run_cli(["eval", str(run), "--data", str(data), "--metric", "fid", "--n", "4"], capsys)
    one_line_error(code, err, "inception")


def test_train_with_projected_d_then_eval_fd_seg(tmp_path, capsys):
    data = write_pngs(tmp_path / "imgs", n=6)
    run = tmp_path / "run"
    ok_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test", "--kimg", "0.004",
            "--batch", "4", "--device", "cpu", "--discriminator", "projected"], capsys)
    info = json.loads(ok_cli(["info", str(run), "--json"], capsys))
    assert "projected" in json.dumps(info)
    r = json.loads(ok_cli(["eval", str(run), "--data", str(data), "--metric", "fd_seg", "--n", "4",
                           "--cache-dir", str(tmp_path / "cache"), "--json"], capsys))
    assert r["metric"] == "fd_seg_rooms" and np.isfinite(r["value"]) and r["value"] > 0
    code, _, err = run_cli(["attention", str(run), "--n", "1", "--out", str(tmp_path / "a.png")], capsys)
    one_line_error(code, err, "projected discriminator")
    # the other discriminator on the same run directory is refused, the run is left alone
    code, _, err = run_cli(["train", "--data", str(data), "--out", str(run), "--preset", "test",
                            "--kimg", "0.008", "--batch", "4", "--device", "cpu"], capsys)
    one_line_error(code, err, "projected discriminator")
    code, _, err = run_cli(["train", "--data", str(data), "--out", str(tmp_path / "r2"), "--preset", "test",
                            "--method", "spatial", "--discriminator", "projected", "--device", "cpu"], capsys)
    one_line_error(code, err, "reads GradCAM from the StyleGAN2")


def test_train_refuses_bad_arch_and_clock_in_one_line(tmp_path, capsys):
    from cli_runner import invoke
    for args, fragment in ((["--arch", "[1]"], "--arch must be a JSON object"),
                           (["--arch", '{"channel_minn": 3}'], "unknown architecture fields"),
                           (["--arch", '{"channel_min": 0}'], "channel_min"),
                           (["--clock", "sundial"], "--clock")):
        code, out, err = invoke(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run"), *args],
                                capsys)
        assert code == 2 and fragment in err and "Traceback" not in err, (args, err)
        assert not (tmp_path / "run").exists()

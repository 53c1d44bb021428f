"""Two CPU processes under torchrun (gloo): replicas must stay identical."""
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file


@pytest.mark.slow
@pytest.mark.parametrize("discriminator", ["stylegan2", "projected"])
def test_two_process_training_keeps_replicas_identical(tmp_path, discriminator):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "tests/ddp_worker.py", str(tmp_path), discriminator]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"replicas diverged at {k}"
    step, seen, per_gpu = map(int, (tmp_path / "rank0.txt").read_text().split())
    assert (step, seen, per_gpu) == (3, 24, 4)   # batch 8 split over 2 processes
    # and only rank 0 wrote checkpoints, which are complete
    ckpts = sorted((tmp_path / "run" / "checkpoints").iterdir())
    assert [c.name for c in ckpts] == ["step-00000002", "step-00000003"]

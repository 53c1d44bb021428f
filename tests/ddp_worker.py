"""Run under torchrun by test_distributed.py: a few training steps, then dump weights."""
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.distributed as dist

from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

out = Path(sys.argv[1])
discriminator = sys.argv[2] if len(sys.argv) > 2 else "stylegan2"
g = torch.Generator().manual_seed(0)
data = SimpleNamespace(images=torch.randint(0, 256, (32, 3, 16, 16), generator=g, dtype=torch.uint8))
opts = TrainOptions(data="fake", out=str(out / "run"), preset="test", batch=8, kimg=0.024, tick_kimg=0.016,
                    device="cpu", seed=1, discriminator=discriminator)
trainer = Trainer(opts, data, arch=get_preset("test"), progress=False)
trainer.run()
rank = dist.get_rank()
tensors = {f"{prefix}.{k}": v.contiguous() for prefix, m in (("G", trainer.G), ("D", trainer.D), ("G_ema", trainer.G_ema))
           for k, v in m.state_dict().items()}
from safetensors.torch import save_file
save_file(tensors, str(out / f"rank{rank}.safetensors"))
(out / f"rank{rank}.txt").write_text(f"{trainer.step} {trainer.images_seen} {trainer.batch_gpu}")
dist.destroy_process_group()

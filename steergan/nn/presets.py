"""Architecture configuration: a typed dataclass saved into every checkpoint as JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from ..errors import UserError


@dataclass
class ArchConfig:
    resolution: int = 64
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 2
    mapping_lr_mul: float = 0.01
    # channels per resolution: min(channel_base // res, channel_max), at least channel_min
    channel_base: int = 4096
    channel_max: int = 128
    channel_min: int = 16
    d_channel_base: int | None = None   # None -> same as G
    d_channel_max: int | None = None
    mbstd_group: int = 4
    # the projected D's patch heads get a minibatch-stddev channel (StyleGAN2's own collapse
    # guard, which the Projected GAN heads lack); False keeps earlier runs' heads as they were
    projected_mbstd: bool = False
    img_channels: int = 3
    blur_kernel: list = field(default_factory=lambda: [1, 3, 3, 1])

    def channels(self, res: int, discriminator: bool = False) -> int:
        base = self.d_channel_base if discriminator and self.d_channel_base else self.channel_base
        cmax = self.d_channel_max if discriminator and self.d_channel_max else self.channel_max
        return max(self.channel_min, min(base // res, cmax))

    @property
    def num_ws(self) -> int:
        """Entries of W+: two per resolution from 8 up, plus the 4x4 conv and the last toRGB."""
        return 2 * (self.resolution.bit_length() - 1) - 2

    def to_dict(self) -> dict:
        return asdict(self)

    def same_generator(self, other: "ArchConfig") -> bool:
        """Whether a generator of ``other`` fits this config (fields of the D alone may differ:
        fine-tuning from a generator file starts D fresh anyway)."""
        d_only = {"d_channel_base", "d_channel_max", "mbstd_group", "projected_mbstd"}
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name not in d_only)

    @classmethod
    def from_dict(cls, d: dict) -> "ArchConfig":
        if not isinstance(d, dict):
            raise UserError(f"architecture config must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise UserError(f"unknown architecture fields {sorted(unknown)}: checkpoint from a newer steergan?")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Types and bounds, checked before anything is built: a config can come from a file
        someone sent (a resolution of 65536 would allocate gigabytes)."""
        for name, (lo, hi) in INT_BOUNDS.items():
            v = getattr(self, name)
            if v is None and name.startswith("d_"):
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise UserError(f"architecture field {name} must be an integer in [{lo}, {hi}], got {v!r}")
        r = self.resolution
        if r & (r - 1):
            raise UserError(f"resolution must be a power of two between 8 and {MAX_RESOLUTION}, got {r}")
        m = self.mapping_lr_mul
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not math.isfinite(m) or not 0 < m <= 10:
            raise UserError(f"architecture field mapping_lr_mul must be a number in (0, 10], got {m!r}")
        k = self.blur_kernel
        if (not isinstance(k, list) or not 1 <= len(k) <= 8
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0
                           for x in k) or sum(k) <= 0):
            raise UserError(f"architecture field blur_kernel must be 1-8 non-negative numbers, got {k!r}")
        if not isinstance(self.projected_mbstd, bool):
            raise UserError(f"architecture field projected_mbstd must be true or false, got {self.projected_mbstd!r}")
        if self.img_channels not in (1, 3):
            raise UserError(f"architecture field img_channels must be 1 or 3, got {self.img_channels!r}")


MAX_RESOLUTION = 1024
INT_BOUNDS = {"resolution": (8, MAX_RESOLUTION), "z_dim": (1, 4096), "w_dim": (1, 4096), "mapping_layers": (1, 16),
              "channel_base": (1, 1 << 20), "channel_max": (1, 4096), "channel_min": (1, 4096),
              "d_channel_base": (1, 1 << 20), "d_channel_max": (1, 4096), "mbstd_group": (1, 256),
              "img_channels": (1, 4)}


PRESETS: dict[str, ArchConfig] = {
    # 64 px for CPUs: narrow at high resolution where convolutions are expensive,
    # a 2-layer mapping network (StyleGAN2-ADA's setting for small data).
    # Channels 128,128,64,32,16 at 4..64 px: ~8x fewer FLOPs per image than StyleGAN2
    # at 64 px with cbase 4096 / cmax 128 (bench/train_speed.py).
    "tiny": ArchConfig(resolution=64, z_dim=128, w_dim=128, mapping_layers=2,
                       channel_base=1024, channel_max=128, channel_min=16),
    # The papers' 256x256 StyleGAN2 (config-f widths halved: cbase 16384, cmax 512), 8-layer mapping.
    "paper256": ArchConfig(resolution=256, z_dim=512, w_dim=512, mapping_layers=8,
                           channel_base=16384, channel_max=512, channel_min=16),
    # For unit tests only.
    "test": ArchConfig(resolution=16, z_dim=16, w_dim=16, mapping_layers=2,
                       channel_base=128, channel_max=16, channel_min=8),
}


def get_preset(name: str, **overrides) -> ArchConfig:
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    cfg = ArchConfig.from_dict({**PRESETS[name].to_dict(), **overrides})
    return cfg

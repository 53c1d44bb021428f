"""Running Gaussian statistics of features and the Fréchet distance between two.

Statistics are kept as float64 sums (not mean/cov) so that chunks, ranks and
saved files can be merged exactly; the covariance is only formed at the end.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import torch

from steergan.errors import UserError

_FORMAT = "steergan-frechet-stats-v1"


class FrechetStats:
    """Accumulates sum(x), sum(x x^T) and N for features x of dimension D."""

    def __init__(self, dim: int | None = None, meta: dict | None = None):
        self.dim = dim
        self.meta = dict(meta or {})  # e.g. {"extractor": "fd_effnet", "n": 10000}
        self.count = 0
        self.sum = None if dim is None else torch.zeros(dim, dtype=torch.float64)
        self.outer = None if dim is None else torch.zeros(dim, dim, dtype=torch.float64)

    def _ensure(self, dim: int, device: torch.device) -> None:
        if self.dim is None:
            self.dim = dim
        if dim != self.dim:
            raise UserError(f"feature dimension {dim} does not match stats dimension {self.dim}")
        if self.sum is None:
            self.sum = torch.zeros(dim, dtype=torch.float64, device=device)
            self.outer = torch.zeros(dim, dim, dtype=torch.float64, device=device)

    @torch.no_grad()
    def update(self, features) -> "FrechetStats":
        """Add a batch of features [N, D] (torch tensor or numpy array)."""
        f = torch.as_tensor(features).detach()
        if f.dim() != 2:
            raise UserError(f"features must be [N, D], got shape {tuple(f.shape)}")
        if not torch.isfinite(f).all():
            raise UserError("features contain NaN or Inf")
        # Accumulate where the sums already live (first batch decides), in float64:
        # float32 sums of outer products lose digits over tens of thousands of samples.
        self._ensure(f.shape[1], f.device)
        f = f.to(device=self.sum.device, dtype=torch.float64)
        self.sum += f.sum(0)
        self.outer += f.T @ f
        self.count += f.shape[0]
        return self

    def merge(self, other: "FrechetStats") -> "FrechetStats":
        """Add another accumulator's samples into this one (in place)."""
        if other.count == 0:
            return self
        self._ensure(other.dim, other.sum.device)
        self.sum += other.sum.to(self.sum.device)
        self.outer += other.outer.to(self.outer.device)
        self.count += other.count
        return self

    def all_reduce(self) -> "FrechetStats":
        """Sum statistics over all ranks if torch.distributed is initialised; no-op otherwise."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self
        if self.dim is None:
            # Every rank must contribute a tensor of the same shape to the collective.
            raise RuntimeError("all_reduce needs the feature dimension: pass dim= when creating FrechetStats")
        self._ensure(self.dim, torch.device("cpu"))
        device = self.sum.device
        if dist.get_backend() == "nccl":  # NCCL only reduces CUDA tensors
            device = torch.device("cuda", torch.cuda.current_device())
        # One packed collective instead of three; counts are exact in float64 up to 2**53.
        packed = torch.cat([
            torch.tensor([float(self.count)], dtype=torch.float64, device=device),
            self.sum.to(device),
            self.outer.to(device).flatten(),
        ])
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        d = self.dim
        self.count = int(round(packed[0].item()))
        self.sum = packed[1:1 + d].to(self.sum.device).clone()
        self.outer = packed[1 + d:].view(d, d).to(self.outer.device).clone()
        return self

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean [D] and unbiased covariance [D, D] as float64 numpy arrays."""
        if self.count < 2:
            raise UserError(f"need at least 2 samples for a covariance, have {self.count}")
        n = self.count
        mu = self.sum.cpu().numpy() / n
        cov = (self.outer.cpu().numpy() - n * np.outer(mu, mu)) / (n - 1)
        return mu, (cov + cov.T) / 2  # symmetrise away rounding asymmetry

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz (no pickle) atomically: temp file in the same folder, then os.replace."""
        if self.sum is None:
            raise UserError("cannot save empty FrechetStats")
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:  # a file object stops np.savez appending ".npz"
                np.savez(
                    f,
                    format=np.array(_FORMAT),
                    count=np.array(self.count, dtype=np.int64),
                    sum=self.sum.cpu().numpy(),
                    outer=self.outer.cpu().numpy(),
                    meta=np.array(json.dumps(self.meta, sort_keys=True)),
                )
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FrechetStats":
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise UserError(f"stats file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != _FORMAT:
                    raise ValueError(str(z["format"]))
                count = int(z["count"])
                s, outer = z["sum"].astype(np.float64), z["outer"].astype(np.float64)
                meta = json.loads(str(z["meta"]))
        except Exception as e:  # corrupt, truncated or foreign file
            raise UserError(f"not a steergan Fréchet stats file: {path} ({type(e).__name__})") from None
        if s.ndim != 1 or outer.shape != (s.shape[0], s.shape[0]):
            raise UserError(f"malformed stats file: {path}")
        out = cls(dim=s.shape[0], meta=meta)
        out.sum, out.outer, out.count = torch.from_numpy(s), torch.from_numpy(outer), count
        return out

    def __repr__(self) -> str:
        return f"FrechetStats(dim={self.dim}, count={self.count}, meta={self.meta})"


def _f64(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1-mu2||^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2), all in float64.

    With S1 = B B^T, the eigenvalues of S1 S2 are those of B^T S2 B, which is symmetric
    PSD, so tr sqrt(S1 S2) = sum of sqrt of its (clamped) eigenvalues from a symmetric
    eigensolver. That avoids scipy's sqrtm of a non-symmetric product, which goes
    complex or unstable for near-singular covariances (the norm when N is not much
    larger than D).
    """
    mu1, mu2 = (_f64(m).reshape(-1) for m in (mu1, mu2))
    s1, s2 = _f64(sigma1), _f64(sigma2)
    d = mu1.shape[0]
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise UserError(
            f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    w, v = np.linalg.eigh(s1)
    # Keep only numerically non-zero directions of S1 (rank tolerance as in matrix_rank):
    # the rest are rounding noise whose clamped square roots would only add bias, and
    # dropping them makes B^T S2 B tiny when N << D.
    keep = w > max(w.max(initial=0.0), 0.0) * d * np.finfo(np.float64).eps
    b = v[:, keep] * np.sqrt(w[keep])
    m = b.T @ s2 @ b
    eig = np.linalg.eigvalsh((m + m.T) / 2) if keep.any() else np.zeros(0)
    tr_covmean = np.sqrt(np.clip(eig, 0.0, None)).sum()  # clamp tiny negative rounding
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)

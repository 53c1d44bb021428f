"""steergan: spatially steerable GANs on one StyleGAN2 backbone.

Layers, lowest first: ``nn`` (backbone) -> ``methods`` (control methods) -> ``checkpoint``
-> ``train`` / ``models`` (loading by name or path) -> ``edit`` -> ``metrics`` -> ``ui`` -> ``cli``.
``data`` and ``errors`` stand alone.
"""
__version__ = "0.1.0"


def load(name_or_path=None, device="cpu"):
    """Load a bundled model by name, or a checkpoint / run directory / generator file."""
    from .models import load_model
    return load_model(name_or_path, device=device)


__all__ = ["load", "__version__"]

"""``steergan info``: what a checkpoint or bundled model is."""
from __future__ import annotations

import click

from ..models import bundled_models, load_model
from .common import emit, json_option


@click.command()
@click.argument("checkpoint", required=False)
@json_option
def info(checkpoint, as_json):
    """Describe CHECKPOINT (a path or bundled model name); without one, list bundled models."""
    if checkpoint is None:
        models = bundled_models()
        emit({"bundled": models}, as_json,
             [f"{name}: {e.get('description', '')}" for name, e in models.items()] or ["no bundled models"])
        return
    m = load_model(checkpoint)
    G = m.G
    result = {
        "source": m.source, "kind": m.config.get("kind"), "method": m.method.name,
        "capabilities": list(m.capabilities), "arch": m.config["arch"],
        "resolution": G.resolution, "num_ws": G.num_ws,
        "parameters": sum(p.numel() for p in G.parameters()),
        "trained": m.config.get("trained") or {k: m.config.get(k) for k in ("step", "images_seen", "train_seconds", "dataset")},
    }
    emit(result, as_json, [f"{k}: {v}" for k, v in result.items()])

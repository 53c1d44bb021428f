"""``steergan export``: a run's EMA generator as one small fp16 safetensors file."""
from __future__ import annotations

import click

from ..models import export_generator


@click.command()
@click.argument("checkpoint")
@click.argument("dest")
@click.option("--fp32", is_flag=True, help="Keep float32 weights (default: fp16, half the size).")
@click.option("--with-discriminator", is_flag=True, help="Also store D (for `steergan attention`).")
def export(checkpoint, dest, fp32, with_discriminator):
    """Export CHECKPOINT (run dir or checkpoint dir) to DEST.safetensors."""
    path = export_generator(checkpoint, dest, fp16=not fp32, with_discriminator=with_discriminator)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")

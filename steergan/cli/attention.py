"""``steergan attention``: where the discriminator looks (GradCAM), on real and generated images."""
from __future__ import annotations

import click
import torch

from ..data.folder import ImageDataset
from ..errors import UserError
from ..edit.attention import attention_sheet
from ..methods.spatial.gradcam import minmax_normalise
from ..methods.spatial.heatmaps import Heatmaps
from ..models import load_discriminator, load_model
from .common import save_png

MAX_ROWS = 64               # one sheet: more rows than this is a typo, not a figure


@click.command()
@click.argument("model")
@click.option("--out", required=True, help="PNG to write.")
@click.option("--n", default=6, show_default=True, help=f"Generated images (rows), 1..{MAX_ROWS}.")
@click.option("--seed", default=0, show_default=True, help="First seed.")
@click.option("--real", "real_data", default=None, type=int, help="Also show this many real images from --data.")
@click.option("--data", default=None, help="Image folder / dataset for the real rows.")
def attention(model, out, n, seed, real_data, data):
    """D's GradCAM at its 4/8/16 px blocks (SpatialGAN Fig. 3/13) for MODEL (a run directory, a
    training checkpoint, or a model exported with --with-discriminator)."""
    if not 1 <= n <= MAX_ROWS:
        raise UserError(f"--n must be between 1 and {MAX_ROWS}, got {n}")
    if not (0 <= seed and seed + n <= 2 ** 32):
        raise UserError("--seed must be between 0 and 2^32-1 (and so must the last seed, --seed + --n - 1)")
    if real_data is not None and not 1 <= real_data <= MAX_ROWS:
        raise UserError(f"--real must be between 1 and {MAX_ROWS}, got {real_data}")
    if real_data and not data:
        raise UserError("--real needs --data")
    D, method, _ = load_discriminator(model)
    G = load_model(model)
    seeds = list(range(seed, seed + n))
    ws = torch.cat([G.ws_from_seed(s) for s in seeds])
    controls = [G.control_from_seed(s) for s in seeds]
    control = G.method.collate_control(controls) if controls[0] is not None else None
    images = G.synthesize(ws, control, noise_mode="const")
    labels = [f"seed {s}" for s in seeds]
    heat = None
    if isinstance(control, Heatmaps):
        heat = minmax_normalise(control.render_sum(G.resolution))
    # A D that judges extra planes (a paired D's heatmap) sees them as the method makes them
    # for training: fakes through fake_for_d, reals with the dataset's maps through real_for_d.
    extra = getattr(D, "in_channels", 3) > 3
    if extra and not G.method.uses_masks:
        raise UserError(f"{model}: its discriminator takes {D.in_channels} planes, which this command cannot make")
    d_inputs = None
    if extra:
        with torch.no_grad():
            planes = G.method.fake_for_d(G.G, ws, control)[0][:, 3:]
        d_inputs = torch.cat([images, planes.to(images.dtype)], 1)
    if real_data:
        ds = ImageDataset(data, G.resolution)
        k = min(real_data, len(ds))
        real = ds.images[:k].float() / 127.5 - 1
        if extra:
            real_in = G.method.real_for_d(real, G.method.training_masks(ds.load_masks)[:k])
            d_inputs = torch.cat([real_in, d_inputs])
        images = torch.cat([real, images])
        labels = [f"real {i}" for i in range(k)] + labels
        if heat is not None:
            heat = torch.cat([torch.full((k, 1, G.resolution, G.resolution), float("nan")), heat])
    sheet = attention_sheet(D, images, heat, labels, d_inputs=d_inputs)
    save_png(sheet, out)
    click.echo(f"wrote {out} ({len(labels)} rows)")

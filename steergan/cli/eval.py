"""``steergan eval``: metrics of a generator against its data."""
from __future__ import annotations

import time

import click

from ..errors import UserError
from ..metrics.extractors import FRECHET_METRICS
from .common import check_truncation, device_option, emit, json_option, model_option


@click.command("eval")
@click.argument("checkpoint", required=False)
@model_option
@click.option("--data", default=None, help="Real images (default: the dataset recorded in the checkpoint).")
@click.option("--metric", type=click.Choice([*FRECHET_METRICS, "comove", "link", "locality", "miou"]),
              default="fd_judge", show_default=True,
              help=" ".join(f"{k}: {v}." for k, v in FRECHET_METRICS.items()) + " comove: SpatialGAN's "
                   "Co-move Ratio (heatmap models; the segmenter the model was aligned with, else the bundled rooms one, unless --segmenter). link: LinkGAN's "
                   "masked MSE inside/outside a link's region when its axes are resampled, and their ratio. "
                   "locality (SemanticStyleGAN): the same for swapping one class's texture code. miou "
                   "(SemanticStyleGAN): generated masks vs the segmenter's labels of the generated images.")
@click.option("--segmenter", default=None, help="Segmenter file or bundled kind (rooms, creatures) for --metric "
              "comove, fd_seg, miou or class links; 'foreground' (comove) for plain-background data such as emoji.")
@click.option("--level", default=0, show_default=True, type=click.IntRange(0, 2),
              help="For --metric comove: 0 moves an object's centre; 1 or 2 moves one deeper centre of a "
                   "hierarchical model and follows its part (part-level Co-move Ratio).")
@click.option("--link", "link", default=0, show_default=True, help="Which link, for --metric link.")
@click.option("--links", "links_json", default=None,
              help="For --metric link on a model without links (the baseline row): JSON as in "
                   "--method-options, e.g. '[{\"region\": {\"class\": \"floor\"}, \"axes\": 32}]'.")
@click.option("--n", default=5000, show_default=True, help="Images from each side.")
@click.option("--inception", default=None, help="Path to pt_inception-2015-12-05 weights (for --metric fid).")
@click.option("--cache-dir", default=None, help="Where real-data statistics are cached.")
@click.option("--truncation", default=1.0, show_default=True)
@device_option
@json_option
def evaluate(checkpoint, model, data, metric, n, inception, cache_dir, truncation, device, as_json, segmenter,
             level, link, links_json):
    """Evaluate CHECKPOINT (or --model) with METRIC on N images."""
    from pathlib import Path

    import torch

    from ..data import ImageDataset
    from ..metrics import fake_stats, fd, get_extractor, real_stats
    from ..models import load_model, to_uint8
    if n < 2:
        raise UserError("--n must be at least 2")
    check_truncation(truncation)
    m = load_model(checkpoint or model, device=device)
    # comove / fd_seg: the segmenter given, else the one the model was aligned with, else rooms'
    seg_name = segmenter or m.method.options().get("segmenter") or "rooms"
    if metric == "comove":
        from ..metrics import co_move_ratio, load_segmenter
        t0 = time.time()
        seg = load_segmenter(seg_name)
        if level:
            from ..metrics.part_comove import part_co_move_ratio
            r = part_co_move_ratio(m, n, seg, level=level, truncation=truncation)
            r.update(metric="part_co_move_ratio", model=m.source, segmenter=seg_name,
                     seconds=round(time.time() - t0, 1))
            emit(r, as_json, [f"part_co_move_ratio (level {level}) = {r['mean']:.3f} (median {r['median']:.3f}, "
                              f"{r['n_valid']} valid of {r['n']}; other parts moved {r['others_px_median']:.2f} px)"])
            return
        r = co_move_ratio(m, n, seg, truncation=truncation)
        r = {k: v for k, v in r.items() if k != "per_sample"}
        r.update(metric="co_move_ratio", model=m.source, segmenter=seg_name, seconds=round(time.time() - t0, 1))
        emit(r, as_json, [f"co_move_ratio = {r['mean']:.3f} (median {r['median']:.3f}, "
                          f"{r['n_valid']} valid of {r['n']})",
                          f"content (pixel patch, no segmenter) = {r['content_mean']:.3f} "
                          f"(median {r['content_median']:.3f})"])
        return
    if metric in ("locality", "miou"):
        from .semantic_metrics import evaluate_semantic
        return evaluate_semantic(metric, m, n, truncation, segmenter, as_json)
    if metric == "link":
        from ..metrics.link_locality import link_locality
        from .resample import parse_links_option
        t0 = time.time()
        r = link_locality(m, parse_links_option(links_json), link, n, truncation=truncation, segmenter=segmenter)
        r.update(metric="link_locality", model=m.source, seconds=round(time.time() - t0, 1))
        emit(r, as_json, [f"link {link}: masked MSE inside {r['inside'] * 1e3:.2f}e-3, outside "
                          f"{r['outside'] * 1e3:.2f}e-3, ratio outside/inside {r['ratio']:.3f} (n={n})"])
        return
    trained = m.config.get("trained") or m.config
    data = data or ((trained.get("dataset") or {}).get("path"))
    if not data:
        raise UserError("no --data given and the checkpoint records no dataset path")
    extractor = get_extractor(metric, inception_path=inception, device=device, segmenter=seg_name)
    ds = ImageDataset(data, resolution=m.resolution)
    cache = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "steergan" / "stats"
    t0 = time.time()
    real = real_stats(ds, extractor, n=min(n, len(ds)), cache_dir=cache, fingerprint=ds.fingerprint)
    gen = torch.Generator().manual_seed(12345)
    torch.manual_seed(12345)   # per-pixel noise comes from the global RNG: same command, same figure

    def sample(batch, start):
        z = torch.randn(batch, m.G.cfg.z_dim, generator=gen).to(m.device)
        controls = [m.control_from_seed(start + i) for i in range(batch)]
        control = m.method.collate_control(controls) if controls[0] is not None else None
        with torch.no_grad():
            return to_uint8(m.G(z, control, truncation=truncation, noise_mode="random"))

    fake = fake_stats(sample, extractor, n=n)
    value = fd(real, fake)
    dt = time.time() - t0
    emit({"metric": extractor.name, "value": value, "n": n, "data": str(data), "model": m.source,
          "seconds": round(dt, 1)}, as_json, [f"{extractor.name} = {value:.3f}  (n={n}, {dt:.0f} s)"])

"""Locality metrics of inverted images: ``start_ws`` edits the given latents instead of seeds'.
Given the seeds' own latents they must reproduce the seeded measurement exactly (same donors)."""
import torch

from steergan.metrics.link_locality import link_locality
from steergan.metrics.semantic import texture_swap_locality
from steergan.models import load_model


def test_link_locality_of_given_latents_equals_the_seeded_run():
    m = load_model("linkgan")
    seeded = link_locality(m, n=3)
    ws = torch.cat([m.ws_from_seed(s) for s in range(3)])
    given = link_locality(m, n=999, start_ws=ws)
    assert given["n"] == 3 and given["ratio"] == seeded["ratio"] and given["inside"] == seeded["inside"]
    moved = link_locality(m, start_ws=ws.flip(0))                # other starts: another measurement
    assert moved["inside"] != seeded["inside"]


def test_texture_swap_of_given_latents_equals_the_seeded_run():
    m = load_model("semantic")
    seeded = texture_swap_locality(m, n=3, batch=2)
    ws = torch.cat([m.ws_from_seed(s) for s in range(3)])
    given = texture_swap_locality(m, n=999, batch=2, start_ws=ws)
    assert given["n"] == 3 and given["ratio"] == seeded["ratio"] and given["per_class"] == seeded["per_class"]

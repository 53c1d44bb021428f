"""--init-from auto: fine-tune from the bundled generator that fits, else from scratch."""
from pathlib import Path

import pytest

from steergan.errors import UserError
from steergan.nn import get_preset
from steergan.train.warm_start import resolve_init_from


def test_auto_picks_the_bundled_projected_generator_only_where_it_fits():
    tiny = get_preset("tiny")
    picked = resolve_init_from("auto", "projected", "stylegan2", tiny)
    assert picked is not None and Path(picked).name == "rooms-projected.safetensors"
    assert resolve_init_from("auto", "projected", "spatial", tiny) == picked       # SpatialGAN's G is StyleGAN2's
    assert resolve_init_from("auto", "stylegan2", "stylegan2", tiny) is None       # the papers' baseline: scratch
    assert resolve_init_from("auto", "projected", "semantic", tiny) is None        # no shared tensors
    assert resolve_init_from("auto", "projected", "stylegan2", get_preset("test")) is None   # another size
    assert resolve_init_from("auto", "projected", "stylegan2", get_preset("tiny", channel_base=2048)) is None
    # the D's own fields do not matter: a generator file starts D fresh anyway
    assert resolve_init_from("auto", "projected", "stylegan2", get_preset("tiny", projected_mbstd=True)) == picked


def test_none_trains_from_scratch_and_a_named_source_must_fit():
    tiny = get_preset("tiny")
    assert resolve_init_from("none", "projected", "stylegan2", tiny) is None
    assert resolve_init_from(None, "projected", "stylegan2", tiny) is None
    assert Path(resolve_init_from("rooms-stylegan2", "stylegan2", "stylegan2", tiny)).is_file()
    with pytest.raises(UserError, match="different architecture"):
        resolve_init_from("rooms-stylegan2", "stylegan2", "stylegan2", get_preset("test"))
    with pytest.raises(UserError, match="no bundled model"):
        resolve_init_from("no-such-model", "projected", "stylegan2", tiny)

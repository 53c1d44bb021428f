"""Drag content metrics (pixels only, no generator features) and the drag's "lost" stop."""
import math

import numpy as np
import pytest
import torch

from steergan.edit.drag import DragOptions, DragSession, initial_state
from steergan.errors import UserError
from steergan.metrics.drag_content import drag_content, ncc_search, near_drag_mask


def _scene(R=64, seed=0):
    """A dim, slightly noisy background and a bright textured 8x8 square at (20..27, 20..27)."""
    g = torch.Generator().manual_seed(seed)
    bg = 0.4 + 0.05 * torch.rand(3, R, R, generator=g)
    square = 0.5 + 0.5 * torch.rand(3, 8, 8, generator=g)
    return bg, square


def _place(bg, square, x, y):
    img = bg.clone()
    img[:, y:y + 8, x:x + 8] = square
    return img


def _u8(img):
    return (img * 255).round().to(torch.uint8)


def test_ncc_finds_a_known_shift_exactly():
    bg, sq = _scene()
    before = _place(bg, sq, 20, 20)
    for dx, dy in [(5, 3), (-4, 6), (0, 0), (7, -2)]:
        after = _place(bg, sq, 20 + dx, 20 + dy)
        (fx, fy), score, std = ncc_search(before.double(), after.double(), (24, 24), 4, 10)
        assert (fx, fy) == (dx, dy) and score > 0.95 and std > 0.05
    # uint8 in, the same answer; the end point is the handle plus the shift
    after = _place(bg, sq, 25, 23)
    res = drag_content(_u8(before), _u8(after), (24, 24), (29, 27))
    assert res["content_end"] == [29.0, 27.0] and res["content_end_distance"] == 0.0


def test_content_progress_full_partial_none_and_backwards():
    bg, sq = _scene()
    before = _place(bg, sq, 20, 20)
    handle, target = (24.0, 24.0), (34.0, 24.0)                # 10 px to the right
    full = drag_content(before, _place(bg, sq, 30, 20), handle, target)
    half = drag_content(before, _place(bg, sq, 25, 20), handle, target)
    none = drag_content(before, before, handle, target)
    back = drag_content(before, _place(bg, sq, 16, 20), handle, target)
    assert full["content_progress"] == pytest.approx(1.0) and full["content_end_distance"] == pytest.approx(0.0)
    assert half["content_progress"] == pytest.approx(0.5) and half["content_end_distance"] == pytest.approx(5.0)
    assert none["content_progress"] == pytest.approx(0.0) and none["content_end_distance"] == pytest.approx(10.0)
    assert back["content_progress"] == pytest.approx(-0.4)
    # a move across the drag direction is no progress
    side = drag_content(before, _place(bg, sq, 20, 26), handle, target)
    assert side["content_progress"] == pytest.approx(0.0) and side["content_end_distance"] == pytest.approx(
        math.hypot(10, 6))


def test_a_flat_template_reads_as_no_move():
    flat = torch.full((3, 32, 32), 0.5)
    res = drag_content(flat, flat, (10, 10), (16, 10))
    assert res["content_end"] == [10.0, 10.0] and res["template_std"] == pytest.approx(0.0)


def test_scene_change_counts_far_changes_only():
    bg, sq = _scene()
    before = _place(bg, sq, 20, 20)
    after = _place(bg, sq, 25, 23)                              # the drag itself: all near it
    res = drag_content(before, after, (24, 24), (29, 27))
    assert res["scene_change"] == 0.0 and res["near_radius"] == 8.0
    far = after.clone()
    far[:, 50:60, 50:60] += 0.3                                 # 100 changed pixels far away
    near = drag_content(before, far, (24, 24), (29, 27))
    outside = int((~near_drag_mask(64, (24, 24), (29, 27), 8.0)).sum())
    assert near["scene_change"] == pytest.approx(100 / outside)
    small = after.clone()
    small[:, 50:60, 50:60] += 0.05                              # below the 0.1 threshold
    assert drag_content(before, small, (24, 24), (29, 27))["scene_change"] == 0.0
    # the near region is the capsule around handle -> target, radius max(8, d / 2) at 64 px
    m = near_drag_mask(64, (10, 10), (40, 10), 15.0)
    assert m[10, 25] and m[24, 25] and not m[26, 25] and m[10, 54] and not m[10, 56]


def test_instance_masks_give_the_object_move_and_are_left_out_of_scene_change():
    bg, sq = _scene()
    big_bg = bg.clone()
    before = big_bg.clone()
    before[:, 10:40, 10:20] = 0.9                               # a tall object, 30x10
    before[:, 20:28, 12:20] = sq
    after = big_bg.clone()
    after[:, 10:40, 22:32] = 0.9                                # moved 12 px right
    after[:, 20:28, 24:32] = sq
    ib = np.zeros((64, 64), np.int32)
    ia = np.zeros((64, 64), np.int32)
    ib[10:40, 10:20] = 3
    ia[10:40, 22:32] = 7
    res = drag_content(before, after, (16, 24), (28, 24), instances_before=ib, instances_after=ia)
    assert res["object_found"] and res["object_progress"] == pytest.approx(1.0)
    assert res["content_progress"] == pytest.approx(1.0) and res["scene_change"] == 0.0
    plain = drag_content(before, after, (16, 24), (28, 24))
    assert plain["scene_change"] > 0                            # the object's far ends, without masks
    assert drag_content(before, after, (50, 50), (55, 50), instances_before=ib,
                        instances_after=ia)["object_found"] is False


# ---------------------------------------------------------------------- the drag's "lost" stop

@pytest.fixture(scope="module")
def rooms_baseline():
    from steergan.models import load_model
    return load_model("rooms-stylegan2")


def test_a_tiny_lost_error_stops_the_drag_as_lost(rooms_baseline):
    m = rooms_baseline
    s = DragSession(m, initial_state(m, 3), [[20, 30]], [[40, 30]],
                    options=DragOptions(mode="drag", max_steps=20, lost_error=1e-6))
    summary = s.run()
    assert summary["steps"] == 1 and summary["lost"] and not summary["reached"] and s.lost and s.done
    assert summary["lost_reason"] in ("feature error", "jump")
    assert summary["handle_feature_error"] > 1e-6
    off = DragSession(m, initial_state(m, 3), [[20, 30]], [[40, 30]],
                      options=DragOptions(mode="drag", max_steps=3, lost_error=0.0, max_jump=0.0))
    res = off.run()
    assert res["steps"] == 3 and res["lost"] is False
    for bad in (-0.1, float("nan"), True, "1"):
        with pytest.raises(UserError):
            DragOptions(mode="drag", lost_error=bad).resolved(m)

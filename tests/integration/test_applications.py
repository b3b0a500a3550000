"""The applications on the session's tiny model: shapes, types, masks, GIFs, super-resolution."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from domain.errors import InvalidRequest, ScaleOutOfRange, ShapeMismatch
from domain.injection import blend_weights, default_radius
from tests.integration.conftest import TINY_IMAGE, tiny_config


def pasted(model, top=8, left=10, size=9):
    """The training image with a bright square pasted in, and the square's mask."""
    image = model.image.copy()
    image[top : top + size, left : left + size] = (250, 240, 20)
    mask = np.zeros(image.shape[:2], np.float32)
    mask[top : top + size, left : left + size] = 1.0
    return image, mask


def untouched(model, mask):
    radius = default_radius(model.plan.finest_shape)
    return blend_weights(mask, dilation=radius, feathering=radius) == 0


@pytest.mark.parametrize("name", ["harmonize", "edit"])
def test_injection_changes_only_the_masked_region(tiny_run, name):
    import app.applications as apps

    reference, mask = pasted(tiny_run)
    out = getattr(apps, name)(tiny_run, reference, mask, start_scale=1, seed=0)
    assert out.shape == reference.shape and out.dtype == np.uint8
    outside = untouched(tiny_run, mask)
    assert outside.any() and (~outside).any()
    np.testing.assert_array_equal(out[outside], reference[outside])
    assert not np.array_equal(out[mask > 0], reference[mask > 0])


def test_a_missing_mask_is_derived_from_where_the_reference_differs(tiny_run):
    from app.applications import harmonize

    reference, mask = pasted(tiny_run)
    derived = harmonize(tiny_run, reference, None, start_scale=1, seed=0)
    given = harmonize(tiny_run, reference, mask, start_scale=1, seed=0)
    np.testing.assert_array_equal(derived, given)


def test_a_mask_of_another_size_is_resized_and_a_soft_mask_thresholded(tiny_run, tmp_path):
    from app.applications import harmonize

    reference, mask = pasted(tiny_run, top=8, left=8, size=8)
    big = np.kron(mask, np.ones((2, 2), np.float32)) * 0.8 + 0.1  # twice the size, values 0.1 / 0.9
    Image.fromarray((big * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    out_file = harmonize(tiny_run, reference, str(tmp_path / "mask.png"), start_scale=1, seed=0)
    out_array = harmonize(tiny_run, reference, mask, start_scale=1, seed=0)
    np.testing.assert_array_equal(out_file, out_array)


def test_a_reference_with_another_aspect_is_refused(tiny_run):
    from app.applications import edit

    wide = np.zeros((tiny_run.plan.finest_shape[0], 3 * tiny_run.plan.finest_shape[1], 3), np.uint8)
    with pytest.raises(ShapeMismatch, match="aspect"):
        edit(tiny_run, wide, None, start_scale=1)


def test_an_injection_scale_of_zero_names_the_valid_range(tiny_run):
    from app.applications import harmonize

    reference, mask = pasted(tiny_run)
    with pytest.raises(ScaleOutOfRange, match="between 1 and 2"):
        harmonize(tiny_run, reference, mask, start_scale=0)


def test_paint_to_image_returns_the_models_shape(tiny_run):
    from app.applications import paint_to_image

    painting = np.zeros_like(tiny_run.image)
    painting[:, : painting.shape[1] // 2] = (20, 20, 60)
    painting[:, painting.shape[1] // 2 :] = (200, 180, 120)
    out = paint_to_image(tiny_run, painting, start_scale=1, seed=0)
    assert out.shape == tiny_run.image.shape and out.dtype == np.uint8


def test_quantized_paint_to_image_fine_tunes_a_copy_and_leaves_the_model_alone(tiny_run):
    import app
    from app.applications import paint_to_image

    before = app.generate(tiny_run, 1, seed=4)[0]
    painting = np.full_like(tiny_run.image, 90)
    plain = paint_to_image(tiny_run, painting, start_scale=1, seed=0)
    tuned = paint_to_image(tiny_run, painting, start_scale=1, seed=0, quantize_colours=True, finetune_iterations=2)
    assert tuned.shape == plain.shape and not np.array_equal(tuned, plain)
    np.testing.assert_array_equal(app.generate(tiny_run, 1, seed=4)[0], before)


def test_animation_frames_move_smoothly(tiny_run):
    from app.applications import animation_frames

    frames = animation_frames(tiny_run, frames=16, seed=1, alpha=0.1, beta=0.9)
    assert len(frames) == 16 and all(f.shape == tiny_run.image.shape for f in frames)
    f = [x.astype(np.float64) for x in frames]
    near = np.mean([np.abs(f[i] - f[i + 1]).mean() for i in range(15)])
    far = np.mean([np.abs(f[i] - f[i + 8]).mean() for i in range(8)])
    assert 0 < near < far


def test_animate_writes_a_gif_with_the_requested_frames_and_never_overwrites(tiny_run, tmp_path):
    from app.applications import animate

    first = animate(tiny_run, frames=5, fps=5, seed=2, out=tmp_path)
    second = animate(tiny_run, frames=5, fps=5, seed=2, out=tmp_path)
    assert first != second and first.suffix == ".gif" and "seed2" in first.name
    with Image.open(first) as gif:
        assert gif.n_frames == 5 and gif.size == tiny_run.image.shape[1::-1]


def test_bad_animation_settings_are_refused(tiny_run, tmp_path):
    from app.applications import animate

    with pytest.raises(InvalidRequest, match="beta"):
        animate(tiny_run, frames=4, beta=1.5, out=tmp_path)
    with pytest.raises(ScaleOutOfRange):
        animate(tiny_run, frames=4, start_scale=9, out=tmp_path)


def test_super_resolution_returns_factor_times_the_input(tmp_path):
    from app.applications import super_resolve

    image = np.asarray(Image.open(TINY_IMAGE).convert("RGB"))
    config = tiny_config(iterations=2)
    out = super_resolve(image, factor=2, config=config, out=tmp_path, seed=0)
    assert out.shape == (2 * image.shape[0], 2 * image.shape[1], 3) and out.dtype == np.uint8
    (run,) = tmp_path.iterdir()
    assert (run / "super_resolution_x2_seed0.png").is_file()


def test_a_bad_super_resolution_factor_fails_before_training(tmp_path):
    from app.applications import super_resolve

    with pytest.raises(InvalidRequest, match="factor"):
        super_resolve(str(TINY_IMAGE), factor=0.5, out=tmp_path)
    assert list(tmp_path.iterdir()) == []

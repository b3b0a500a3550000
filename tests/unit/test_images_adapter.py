"""The Pillow adapter: every image mode a user may have loads as RGB, orientation as shown."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from adapters.images import PillowImages
from domain.errors import BadImage, SinGANError

images = PillowImages()


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "RGB", "1"])
def test_every_common_mode_loads_as_rgb_uint8(mode, tmp_path):
    path = tmp_path / f"x_{mode}.png" if mode != "CMYK" else tmp_path / "x.jpg"
    Image.new("RGB", (7, 5), (200, 100, 50)).convert(mode).save(path)
    loaded = images.load(str(path))
    assert loaded.shape == (5, 7, 3) and loaded.dtype == np.uint8


def test_sixteen_bit_gray_is_rescaled_not_clipped(tmp_path):
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)  # Pillow stores uint16 arrays as 16-bit PNG
    loaded = images.load(str(path))
    np.testing.assert_array_equal(loaded[0, :, 0], [0, 128, 255])
    assert (loaded[..., 0] == loaded[..., 2]).all()


def test_transparent_pixels_become_black_and_opaque_ones_keep_their_colour(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)
    rgba[1, 1] = (250, 250, 250, 0)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = images.load(str(path))
    assert tuple(loaded[0, 0]) == (10, 20, 30) and tuple(loaded[1, 1]) == (0, 0, 0)


def test_exif_orientation_is_honoured(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.new("RGB", (40, 20), (0, 0, 255)).save(path, exif=exif)
    assert images.load(str(path)).shape == (40, 20, 3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("not an image"), "not an image"),
        (lambda p: p.write_bytes(_png_bytes()[:60]), "corrupt"),
        (lambda p: p.mkdir(), "folder"),
    ],
    ids=["missing", "text", "truncated", "folder"],
)
def test_unreadable_inputs_raise_one_named_error(make, match, tmp_path):
    path = tmp_path / "input.png"
    make(path)
    with pytest.raises(BadImage, match=match) as caught:
        images.load(str(path))
    assert isinstance(caught.value, SinGANError) and "\n" not in str(caught.value)


def _png_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_saving_round_trips_and_leaves_no_partial_file(tmp_path):
    picture = np.random.default_rng(1).integers(0, 255, (9, 11, 3), dtype=np.uint8)
    images.save(str(tmp_path / "a.png"), picture)
    np.testing.assert_array_equal(images.load(str(tmp_path / "a.png")), picture)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_masks_load_as_floats_in_unit_range(tmp_path):
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    loaded = images.load_mask(str(tmp_path / "m.png"))
    assert loaded.shape == (4, 6) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, mask / 255.0)

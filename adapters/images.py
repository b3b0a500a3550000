"""``PillowImages``: the ``ImageStore`` port on Pillow, the only module that imports it."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from domain.collection import natural_key
from domain.errors import BadImage


def _open(path: str) -> Image.Image:
    if not os.path.exists(path):
        raise BadImage(f"{path}: no such file")
    if os.path.isdir(path):
        raise BadImage(f"{path} is a folder, not an image file")
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        reason = "not an image Pillow can read" if isinstance(exc, UnidentifiedImageError) else "truncated or corrupt"
        raise BadImage(f"{path}: {reason}") from None
    # Cameras store rotation as a tag; users expect the picture the way their viewer shows it.
    return ImageOps.exif_transpose(image)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any mode -> (H, W, 3) uint8: 16-bit and float gray rescaled, alpha and palettes flattened."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        gray = np.rint(np.clip(values / top, 0, 1) * 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        backdrop = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(backdrop, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class PillowImages:
    def list_images(self, folder: str) -> list[str]:
        """The image files directly in ``folder`` (by suffix), sorted by name, numbers as numbers
        (``2.png`` before ``10.png``)."""
        if not os.path.isdir(folder):
            raise BadImage(f"{folder}: no such folder")
        names = [n for n in os.listdir(folder) if n.lower().endswith(IMAGE_SUFFIXES) and not n.startswith(".")]
        names.sort(key=natural_key)
        return [os.path.join(folder, n) for n in names]

    def load(self, path: str) -> np.ndarray:
        return _to_rgb(_open(path))

    def load_mask(self, path: str) -> np.ndarray:
        rgb = _to_rgb(_open(path)).astype(np.float32)
        return rgb.max(axis=2) / 255.0

    def save(self, path: str, image: np.ndarray) -> None:
        """Write atomically (a temporary file, then a rename) so a crash never leaves half a PNG."""
        tmp = f"{path}.partial"
        Image.fromarray(np.asarray(image, np.uint8)).save(tmp, format=_format(path))
        os.replace(tmp, path)

    def save_gif(self, path: str, frames: Sequence[np.ndarray], fps: float) -> None:
        images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
        tmp = f"{path}.partial"
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
        )
        os.replace(tmp, path)


def _format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP", ".webp": "WEBP"}.get(
        ext, "PNG"
    )

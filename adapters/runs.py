"""Run folders: one numbered folder per training, never reused, with a JSON manifest.

Layout::

    runs/00003-hubble/
        manifest.json          config, pyramid plan, noise amplitudes, seed, versions, status
        image.png              the training image, fitted to max_size (what every scale learns from)
        checkpoints/scale_NN.ckpt
        scales/scale_NN/       real.png, reconstruction.png, sample_K.png
        losses.jsonl           one line per logged iteration: its losses, seconds since its scale began
        samples/               random samples written at the end of training
        <outputs>/             generate and the applications, one new folder per call
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from domain.errors import NotAModel

MANIFEST = "manifest.json"
FORMAT = "singan-mindspore/1"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @classmethod
    def create(cls, root: str | os.PathLike, name: str) -> "RunFolder":
        """A new folder ``root/NNNNN-name`` numbered after the highest existing one; never reused."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
        number = max(numbers, default=0) + 1
        while True:
            path = root / f"{number:05d}-{_safe_name(name)}"
            try:
                path.mkdir()  # exclusive: a concurrent run cannot take the same folder
                return cls(path)
            except FileExistsError:
                number += 1

    @classmethod
    def create_at(cls, path: str | os.PathLike) -> "RunFolder":
        """A new run folder at exactly ``path``; an existing one is never reused."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise NotAModel(f"{path} already exists; a new run needs a new folder") from None
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "RunFolder":
        """An existing run; anything that is not one raises ``NotAModel`` saying what is wrong."""
        folder = cls(path)
        if not folder.path.is_dir():
            raise NotAModel(f"{path}: no such run folder")
        manifest = folder.path / MANIFEST
        if not manifest.is_file():
            raise NotAModel(f"{path} is not a SinGAN run folder (it has no {MANIFEST})")
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError):
            raise NotAModel(f"{path}: {MANIFEST} is unreadable or corrupt") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise NotAModel(f"{path}: {MANIFEST} is not a {FORMAT} manifest")
        return folder

    # manifest
    def read_manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    def write_manifest(self, data: Mapping[str, Any]) -> None:
        write_json_atomic(self.path / MANIFEST, {"format": FORMAT, **data})

    def update_manifest(self, **changes: Any) -> dict[str, Any]:
        data = {**self.read_manifest(), **changes}
        self.write_manifest(data)
        return data

    # files
    @property
    def image_path(self) -> Path:
        return self.path / "image.png"

    def checkpoint_path(self, scale: int) -> Path:
        folder = self.path / "checkpoints"
        folder.mkdir(exist_ok=True)
        return folder / f"scale_{scale:02d}.ckpt"

    def scale_dir(self, scale: int) -> Path:
        folder = self.path / "scales" / f"scale_{scale:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def append_losses(self, records: Iterable[Mapping[str, Any]]) -> None:
        with open(self.path / "losses.jsonl", "a") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")

    def read_losses(self) -> list[dict[str, Any]]:
        path = self.path / "losses.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def truncate_losses(self, before_scale: int) -> None:
        """Drop records of scales >= ``before_scale`` (a resumed run retrains them)."""
        kept = [r for r in self.read_losses() if r.get("scale", 0) < before_scale]
        tmp = self.path / "losses.jsonl.partial"
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, self.path / "losses.jsonl")


def _claim(parent: str | os.PathLike, names, claim) -> Path:
    """The first of ``names`` under ``parent`` that ``claim`` can create exclusively."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            return claim(parent / name)
        except FileExistsError:
            continue
    raise RuntimeError(f"no free output name under {parent}")


def _numbered(base: str, suffix: str = ""):
    yield f"{base}{suffix}"
    for k in range(2, 10_000):
        yield f"{base}-{k}{suffix}"


def _make_dir(path: Path) -> Path:
    path.mkdir()
    return path


def _make_file(path: Path) -> Path:
    with open(path, "x"):
        return path


def new_output_dir(parent: str | os.PathLike, name: str) -> Path:
    """A fresh folder ``parent/name`` (or ``name-2``, ``name-3``...): outputs never overwrite."""
    return _claim(parent, _numbered(_safe_name(name)), _make_dir)


def new_output_file(parent: str | os.PathLike, stem: str, suffix: str) -> Path:
    """A path ``parent/stem.suffix`` (or ``stem-2.suffix``...) that no file has yet, reserved by
    creating it empty, so outputs never overwrite."""
    return _claim(parent, _numbered(_safe_name(stem), suffix), _make_file)

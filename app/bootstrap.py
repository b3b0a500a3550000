"""The composition root: the one place that picks adapters. Imports them lazily, so ``import app``
starts no framework and loads no Pillow."""
from __future__ import annotations

import platform
from typing import Any

from domain.config import NetworkConfig
from domain.ports import ImageStore, ProgressSink, PyramidBackend


def backend(network: NetworkConfig, *, device: str = "CPU") -> PyramidBackend:
    from adapters.mindspore.backend import MindSporePyramid

    return MindSporePyramid(network, device=device)


def launched_by_msrun() -> bool:
    from adapters.mindspore.device import launched_by_msrun as launched

    return launched()


def launcher_shard(device: str = "CPU"):
    """This worker's ``Shard`` when msrun started the process, ``None`` for msrun's scheduler
    process, and ``False`` when no launcher is involved."""
    from adapters.mindspore import device as devices

    if not devices.launched_by_msrun():
        return False
    from domain.collection import Shard

    joined = devices.join_msrun(device)
    return None if joined is None else Shard(index=joined[0], count=joined[1])


def memory(device: str, generator_fake: str):
    """(the backend's memory model or None, bytes available or None): what the check before
    training compares; either None skips it."""
    from adapters.machine import available_memory_bytes
    from adapters.mindspore.memory import model_for

    return model_for(device, generator_fake), available_memory_bytes()


def convolutions() -> str:
    """Which convolutions the MindSpore backend runs on, and why (oneDNN's built here, or MindSpore's)."""
    from adapters.mindspore.native import conv_choice

    return conv_choice().note


def images() -> ImageStore:
    from adapters.images import PillowImages

    return PillowImages()


def progress(show: bool | ProgressSink) -> ProgressSink:
    """``True``: a tqdm bar per scale; ``False``: silent; or any ``ProgressSink`` as given."""
    if show is True:
        from adapters.progress import TqdmProgress

        return TqdmProgress()
    if show is False or show is None:
        from adapters.progress import NullProgress

        return NullProgress()
    return show


def versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("singan-mindspore", "mindspore", "numpy", "pillow"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found

"""Per-scale checkpoints in MindSpore's protobuf format (no pickle), written atomically.

Keys are role-qualified paths inside each cell (``generator/net.head.conv.weight``), so they do
not depend on the prefixes MindSpore adds to parameter names; ``z_star`` and ``amplitude`` ride
along so a scale can be rebuilt from its file alone.
"""
from __future__ import annotations

import os
from typing import Mapping

import mindspore as ms
import numpy as np
from mindspore import Tensor, nn

from adapters.mindspore.networks import named_parameters
from domain.errors import NotAModel


def adam_state(optimizer: nn.Adam, cell: nn.Cell) -> dict[str, Tensor]:
    """Adam's moments keyed by the parameter's path in ``cell``, plus its step counters and rate."""
    path = {id(p): name for name, p in named_parameters(cell).items()}
    state = {}
    for param, m1, m2 in zip(optimizer.parameters, optimizer.moment1, optimizer.moment2):
        state[f"moment1.{path[id(param)]}"] = m1
        state[f"moment2.{path[id(param)]}"] = m2
    for name in ("beta1_power", "beta2_power", "global_step", "learning_rate"):
        state[name] = getattr(optimizer, name)
    return state


def save(path: str, groups: Mapping[str, Mapping[str, object]]) -> None:
    """Write ``{group: {name: tensor or array}}`` to ``path`` via a temporary file and a rename."""
    items = []
    for group, tensors in groups.items():
        for name, value in tensors.items():
            data = value if isinstance(value, Tensor) else Tensor(np.asarray(value, np.float32))
            items.append({"name": f"{group}/{name}", "data": data})
    tmp = f"{path}.partial.ckpt"  # save_checkpoint insists on the .ckpt suffix
    ms.save_checkpoint(items, tmp)
    os.replace(tmp, path)


def load(path: str) -> dict[str, dict[str, np.ndarray]]:
    """``{group: {name: array}}`` from ``path``; an unreadable file raises ``NotAModel``."""
    if not os.path.isfile(path):
        raise NotAModel(f"checkpoint {path} is missing")
    try:
        raw = ms.load_checkpoint(path)
    except Exception as exc:  # MindSpore raises ValueError/RuntimeError variants for corrupt files
        raise NotAModel(f"checkpoint {path} is unreadable or corrupt ({type(exc).__name__})") from None
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, param in raw.items():
        group, _, name = key.partition("/")
        groups.setdefault(group, {})[name] = param.asnumpy()
    return groups


def restore(cell: nn.Cell, values: Mapping[str, np.ndarray], *, what: str) -> None:
    """Set every parameter of ``cell`` from ``values``; any missing, extra or misshapen entry fails."""
    params = named_parameters(cell)
    missing = sorted(params.keys() - values.keys())
    extra = sorted(values.keys() - params.keys())
    if missing or extra:
        raise NotAModel(f"{what} does not match the network: missing {missing[:3]}, unexpected {extra[:3]}")
    for name, param in params.items():
        if tuple(values[name].shape) != tuple(param.shape):
            raise NotAModel(f"{what}: {name} has shape {values[name].shape}, the network expects {param.shape}")
        param.set_data(Tensor(values[name].astype(np.float32)))

"""Animation: a smooth random walk in noise space that keeps returning to a scale's anchor noise.

As the official SinGAN: each frame's noise is pulled towards the anchor (z* at the coarsest scale,
zeros above) by ``alpha`` and keeps ``beta`` of the previous step's momentum, so consecutive frames
differ a little and the walk never drifts far from the training image's reconstruction.

    step_k  = beta * (z_{k-1} - z_{k-2}) + (1 - beta) * fresh_noise
    z_k     = alpha * anchor + (1 - alpha) * (z_{k-1} + step_k)
"""
from __future__ import annotations

import numpy as np

from domain.errors import InvalidRequest

DEFAULT_ALPHA = 0.1  # pull towards the anchor: larger stays closer to the training image
DEFAULT_BETA = 0.9  # momentum: larger moves more smoothly


def check_walk(alpha: float, beta: float, frames: int) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise InvalidRequest(f"alpha must be in [0, 1], got {alpha!r}")
    if not 0.0 <= beta < 1.0:
        raise InvalidRequest(f"beta must be in [0, 1), got {beta!r}")
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 1000:
        raise InvalidRequest(f"frames must be an integer in [2, 1000], got {frames!r}")


def noise_walk(
    rng: np.random.Generator,
    anchor: np.ndarray,
    frames: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    channels: int | None = None,
) -> list[np.ndarray]:
    """``frames`` noise maps shaped like ``anchor`` along the walk described in the module doc.
    With ``channels=1`` the fresh noise is one grey map repeated over the anchor's channels."""
    check_walk(alpha, beta, frames)
    anchor = np.asarray(anchor, np.float32)
    channels = anchor.shape[0] if channels is None else channels

    def fresh() -> np.ndarray:
        values = rng.standard_normal((channels, *anchor.shape[1:]), dtype=np.float32)
        return np.broadcast_to(values, anchor.shape)

    previous2 = anchor
    previous = 0.95 * anchor + 0.05 * fresh()  # as the official code: start a little off the anchor
    out = []
    for _ in range(frames):
        step = beta * (previous - previous2) + (1.0 - beta) * fresh()
        current = alpha * anchor + (1.0 - alpha) * (previous + step)
        out.append(current.astype(np.float32))
        previous2, previous = previous, current
    return out

"""Cells of finished models kept, with their compiled graphs, for the next model that needs the same.

MindSpore compiles a graph per cell object and input shape, and compiling one scale's train steps
takes seconds (most of a short run). A model that is gone gives its cells back here; the next model
of the same scale, tag, widths, shape and network takes them, re-initialises their weights and
Adam state, and runs the graphs already compiled. A folder of same-size images then compiles once.
Free cells of another shape are dropped on a miss, so memory never holds more than one finished
model's cells per scale.
"""
from __future__ import annotations

import gc
from typing import Hashable

import mindspore as ms
import numpy as np
from mindspore import Tensor

from adapters.mindspore.networks import Critic, Generator
from adapters.mindspore.steps import GeneratorSteps, TrainStep, make_adam, make_critic_step, make_generator_steps
from domain.config import TrainConfig


def trainer_key(cfg: TrainConfig, execution: str) -> tuple:
    """What a scale's optimizers and steps compile from: the loss and its weights, the generator
    steps' kind, Adam's betas, and how they run. Iterations, rates and seeds are set at run time."""
    return (cfg.loss, cfg.gp_weight, cfg.reconstruction_weight, cfg.generator_fake, cfg.beta1, cfg.beta2, execution)


class Trainer:
    """One scale's optimizers and steps for one ``trainer_key``."""

    def __init__(self, generator: Generator, critic: Critic, cfg: TrainConfig):
        self.g_adam = make_adam(generator, cfg.lr_generator, cfg)
        self.d_adam = make_adam(critic, cfg.lr_critic, cfg)
        self.critic_step: TrainStep = make_critic_step(critic, generator, self.d_adam, cfg)
        self.generator_steps: GeneratorSteps = make_generator_steps(generator, critic, self.g_adam, cfg)

    def restart(self, cfg: TrainConfig) -> None:
        """Adam as new (zero moments, step 0, the config's rates) and every step in train mode."""
        for adam, lr in ((self.g_adam, cfg.lr_generator), (self.d_adam, cfg.lr_critic)):
            for moment in (*adam.moment1, *adam.moment2):
                moment.set_data(Tensor(np.zeros(moment.shape, np.float32)))
            for name in ("beta1_power", "beta2_power"):
                power = getattr(adam, name)
                power.set_data(Tensor(np.ones(power.shape, np.float32)))
            adam.global_step.set_data(Tensor(np.zeros(adam.global_step.shape, np.int32)))
            adam.learning_rate.set_data(Tensor(lr, ms.float32))
        self.critic_step.set_train()
        self.generator_steps.set_train()


class ScaleCells:
    """One scale's generator and critic, and the trainers made for them so far."""

    def __init__(self, generator: Generator, critic: Critic):
        self.generator = generator
        self.critic = critic
        self._trainers: dict[tuple, Trainer] = {}

    def trainer(self, cfg: TrainConfig, execution: str) -> Trainer:
        """The trainer for ``cfg`` run as ``execution``, made once and restarted on every reuse."""
        key = trainer_key(cfg, execution)
        if key in self._trainers:
            self._trainers[key].restart(cfg)
        else:
            self._trainers[key] = Trainer(self.generator, self.critic, cfg)
        # Direct calls of the two cells (the reconstruction pass) compile under their own phase.
        self.generator.set_train()
        self.critic.set_train()
        return self._trainers[key]


class CellPool:
    """Free ``ScaleCells`` by key ``(scale, tag, shape, network key)``; one per key at most."""

    def __init__(self):
        self._free: dict[Hashable, ScaleCells] = {}
        self.hits = 0
        self.misses = 0

    def take(self, key: tuple) -> ScaleCells | None:
        if key not in self._free:
            gc.collect()  # a finished model in a reference cycle gives its cells back only when collected
        cells = self._free.pop(key, None)
        if cells is None:
            self.misses += 1
            scale, tag, _, network = key
            for other in [k for k in self._free if (k[0], k[1], k[3]) == (scale, tag, network)]:
                del self._free[other]  # another shape at this scale: its graphs would only take memory
        else:
            self.hits += 1
        return cells

    def give_back(self, borrowed: list[tuple[tuple, ScaleCells]]) -> None:
        for key, cells in borrowed:
            self._free[key] = cells
        borrowed.clear()

    def clear(self) -> None:
        self._free.clear()


POOL = CellPool()

"""Compiled train steps: one graph per scale for the critic and one for the generator."""
from __future__ import annotations

import mindspore as ms
from mindspore import Tensor, nn

from domain.config import TrainConfig
from adapters.mindspore.losses import CriticLoss, GeneratorLoss
from adapters.mindspore.networks import Critic, Generator


class TrainStep(nn.Cell):
    """Loss, gradients over the optimizer's parameters only, one optimizer update; returns the loss
    and its logged terms."""

    def __init__(self, loss: nn.Cell, optimizer: nn.Optimizer):
        super().__init__()
        self.loss = loss
        self.optimizer = optimizer
        self.weights = optimizer.parameters

    def construct(self, *inputs):
        (total, terms), grads = ms.value_and_grad(self.loss, None, self.weights, has_aux=True)(*inputs)
        self.optimizer(grads)
        return total, terms


def make_adam(cell: nn.Cell, lr: float, cfg: TrainConfig) -> nn.Adam:
    # A tensor learning rate becomes a Parameter we can lower in place at the scheduled drop.
    return nn.Adam(cell.trainable_params(), learning_rate=Tensor(lr, ms.float32), beta1=cfg.beta1, beta2=cfg.beta2)


def set_learning_rate(optimizer: nn.Adam, lr: float) -> None:
    optimizer.learning_rate.set_data(Tensor(lr, ms.float32))


def make_critic_step(critic: Critic, generator: Generator, optimizer: nn.Adam, cfg: TrainConfig) -> TrainStep:
    """step(real, x, prev, alpha) -> (loss, (d_real, d_fake, penalty)); the fake is made inside."""
    step = TrainStep(CriticLoss(critic, generator, kind=cfg.loss, gp_weight=cfg.gp_weight), optimizer)
    step.set_train()
    return step


def make_generator_step(generator: Generator, critic: Critic, optimizer: nn.Adam, cfg: TrainConfig) -> TrainStep:
    """step(real, x, prev, rec_x, rec_prev) -> (loss, (adversarial, reconstruction))."""
    loss = GeneratorLoss(generator, critic, kind=cfg.loss, reconstruction_weight=cfg.reconstruction_weight)
    step = TrainStep(loss, optimizer)
    step.set_train()
    return step

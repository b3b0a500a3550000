"""Compiled train steps, built once per scale: the critic's, and the generator's in two variants.

Generator steps with ``generator_fake="reuse"`` follow the official code, whose generator steps
all back-propagate through the fake of the last critic step: the adversarial gradient is taken once
an iteration (through that fake and the current critic) and every generator step applies it plus a
fresh reconstruction gradient. A step then costs one generator forward and backward pass instead
of two plus a critic's. The official's generator steps never run the generator on the fake again,
so its BatchNorm statistics only see the reconstruction: the pass that takes the adversarial
gradient restores them inside its graph.
"""
from __future__ import annotations

import mindspore as ms
from mindspore import ParameterTuple, Tensor, nn, ops

from domain.config import TrainConfig
from adapters.mindspore.losses import AdversarialLoss, CriticLoss, GeneratorLoss, ReconstructionLoss
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


class AdversarialGradient(nn.Cell):
    """grad(x, prev) -> (adversarial loss, its gradient over the optimizer's parameters), leaving
    ``statistics`` (the generator's BatchNorm running statistics) as they were before the pass.
    The restore happens in the graph: copying them through the host cost 2 ms an iteration."""

    def __init__(self, adversarial: nn.Cell, optimizer: nn.Optimizer, statistics: list):
        super().__init__()
        self.adversarial = adversarial
        self.weights = optimizer.parameters
        self.statistics = ParameterTuple(statistics)

    def construct(self, x, prev):
        saved = [ops.stop_gradient(p * 1.0) for p in self.statistics]
        loss, grads = ms.value_and_grad(self.adversarial, None, self.weights)(x, prev)
        for p, value in zip(self.statistics, saved):
            grads = ops.depend(grads, ops.assign(p, value))
        return loss, grads


class KeptAdversarialStep(nn.Cell):
    """step(real, rec_x, rec_prev, adversarial gradients) -> (loss, (reconstruction,)): the kept
    adversarial gradient plus a fresh reconstruction gradient."""

    def __init__(self, reconstruction: nn.Cell, optimizer: nn.Optimizer):
        super().__init__()
        self.reconstruction = reconstruction
        self.optimizer = optimizer
        self.weights = optimizer.parameters

    def construct(self, real, rec_x, rec_prev, *adv_grads):
        (rec, mse), rec_grads = ms.value_and_grad(self.reconstruction, None, self.weights, has_aux=True)(
            real, rec_x, rec_prev
        )
        grads = tuple(a + r for a, r in zip(adv_grads, rec_grads))
        self.optimizer(grads)
        return rec, mse


def make_adam(cell: nn.Cell, lr: float, cfg: TrainConfig) -> nn.Adam:
    # A tensor learning rate becomes a Parameter we can lower in place at the milestone.
    return nn.Adam(cell.trainable_params(), learning_rate=Tensor(lr, ms.float32), beta1=cfg.beta1, beta2=cfg.beta2)


def set_learning_rate(optimizer: nn.Adam, lr: float) -> None:
    optimizer.learning_rate.set_data(Tensor(lr, ms.float32))


def make_critic_step(critic: Critic, generator: Generator, optimizer: nn.Adam, cfg: TrainConfig) -> TrainStep:
    """step(real, x, prev, alpha) -> (loss, (d_real, d_fake, penalty)); the fake is made inside."""
    step = TrainStep(CriticLoss(critic, generator, kind=cfg.loss, gp_weight=cfg.gp_weight), optimizer)
    step.set_train()
    return step


class GeneratorSteps:
    """The generator steps of one iteration: ``run(real, x, prev, rec_x, rec_prev)`` does all
    ``cfg.generator_steps`` of them and returns the last (loss, adversarial, reconstruction) as
    tensors (read them only when they are logged: reading is a host-device sync point)."""

    def __init__(self, generator: Generator, critic: Critic, optimizer: nn.Adam, cfg: TrainConfig):
        self.count = cfg.generator_steps
        self.reuse = cfg.generator_fake == "reuse"
        if self.reuse:
            adversarial = AdversarialLoss(generator, critic, kind=cfg.loss)
            reconstruction = ReconstructionLoss(generator, weight=cfg.reconstruction_weight)
            statistics = [p for name, p in generator.parameters_and_names() if ".moving_" in name]
            self.adversarial_gradient = AdversarialGradient(adversarial, optimizer, statistics)
            self.step = KeptAdversarialStep(reconstruction, optimizer)
            self.adversarial_gradient.set_train()
            self.step.set_train()
        else:
            loss = GeneratorLoss(generator, critic, kind=cfg.loss, reconstruction_weight=cfg.reconstruction_weight)
            self.fresh = TrainStep(loss, optimizer)
            self.fresh.set_train()

    def run(self, real, x, prev, rec_x, rec_prev):
        if not self.reuse:
            for _ in range(self.count):
                total, (adversarial, reconstruction) = self.fresh(real, x, prev, rec_x, rec_prev)
            return total, adversarial, reconstruction
        adversarial, adv_grads = self.adversarial_gradient(x, prev)
        for _ in range(self.count):
            rec_total, reconstruction = self.step(real, rec_x, rec_prev, *adv_grads)
        return adversarial + rec_total, adversarial, reconstruction


def make_generator_steps(generator: Generator, critic: Critic, optimizer: nn.Adam, cfg: TrainConfig) -> GeneratorSteps:
    return GeneratorSteps(generator, critic, optimizer, cfg)

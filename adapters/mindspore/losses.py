"""Loss cells for one scale: the critic's (adversarial + penalty) and the generator's
(adversarial + weighted reconstruction). Each returns ``(total, (terms...))`` for logging."""
from __future__ import annotations

from mindspore import nn, ops

from adapters.mindspore.networks import Critic, Generator

_EPS = 1e-12  # keeps sqrt differentiable where a gradient vanishes


class InputGradient(nn.Cell):
    """d(sum critic(x)) / dx: the inner gradient of the gradient penalty."""

    def __init__(self, critic: Critic):
        super().__init__()
        self.critic = critic
        self.grad = ops.GradOperation()

    def construct(self, x):
        return self.grad(self.critic)(x)


class CriticLoss(nn.Cell):
    """The critic's loss on a real image and a fake made inside the step from the current generator.

    wgan-gp: D(fake) - D(real) + w * mean over pixels of (|grad D(mix)| - 1)^2, where the norm runs
             over channels per pixel as in the official code, and mix = a real + (1 - a) fake;
    zero-gp: non-saturating loss + w/2 * |grad D(real)|^2 (zero-centred penalty on reals);
    lsgan:   (D(real) - 1)^2 + D(fake)^2, no penalty.
    """

    def __init__(self, critic: Critic, generator: Generator, *, kind: str, gp_weight: float):
        super().__init__()
        self.critic = critic
        self.generator = generator
        self.input_grad = InputGradient(critic)
        self.kind = kind
        self.gp_weight = gp_weight

    def construct(self, real, x, prev, alpha):
        fake = ops.stop_gradient(self.generator(x, prev))
        d_real = self.critic(real)
        d_fake = self.critic(fake)
        if self.kind == "wgan-gp":
            adversarial = d_fake.mean() - d_real.mean()
            mixed = alpha * real + (1.0 - alpha) * fake
            grad = self.input_grad(mixed)
            penalty = ((ops.sqrt((grad * grad).sum(axis=1) + _EPS) - 1.0) ** 2).mean()
        elif self.kind == "zero-gp":
            adversarial = ops.softplus(-d_real).mean() + ops.softplus(d_fake).mean()
            grad = self.input_grad(real)
            penalty = 0.5 * (grad * grad).sum()
        else:  # lsgan
            adversarial = ((d_real - 1.0) ** 2).mean() + (d_fake**2).mean()
            penalty = ops.zeros((), d_real.dtype)
        total = adversarial + self.gp_weight * penalty
        return total, (d_real.mean(), d_fake.mean(), penalty)


class CriticScore(nn.Cell):
    """The generator's adversarial loss of an image ``fake`` under the critic."""

    def __init__(self, critic: Critic, *, kind: str):
        super().__init__()
        self.critic = critic
        self.kind = kind

    def construct(self, fake):
        d_fake = self.critic(fake)
        if self.kind == "wgan-gp":
            return -d_fake.mean()
        if self.kind == "zero-gp":
            return ops.softplus(-d_fake).mean()
        return ((d_fake - 1.0) ** 2).mean()  # lsgan


class AdversarialLoss(nn.Cell):
    """The generator's adversarial term alone, on the fake of ``x`` and ``prev``."""

    def __init__(self, generator: Generator, critic: Critic, *, kind: str):
        super().__init__()
        self.generator = generator
        self.score = CriticScore(critic, kind=kind)

    def construct(self, x, prev):
        return self.score(self.generator(x, prev))


class ReconstructionLoss(nn.Cell):
    """``weight`` x the MSE of the reconstruction path's output against the real image, and the
    MSE itself (for the log)."""

    def __init__(self, generator: Generator, *, weight: float):
        super().__init__()
        self.generator = generator
        self.weight = weight

    def construct(self, real, rec_x, rec_prev):
        diff = self.generator(rec_x, rec_prev) - real
        mse = (diff * diff).mean()
        return self.weight * mse, mse


class GeneratorLoss(nn.Cell):
    """Adversarial loss on a fresh fake plus ``weight`` x MSE of the reconstruction path's output."""

    def __init__(self, generator: Generator, critic: Critic, *, kind: str, reconstruction_weight: float):
        super().__init__()
        self.adversarial = AdversarialLoss(generator, critic, kind=kind)
        self.reconstruction = ReconstructionLoss(generator, weight=reconstruction_weight)

    def construct(self, real, x, prev, rec_x, rec_prev):
        adversarial = self.adversarial(x, prev)
        weighted, mse = self.reconstruction(real, rec_x, rec_prev)
        return adversarial + weighted, (adversarial, mse)

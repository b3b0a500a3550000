"""Compiled train steps, built once per scale: the critic's, and the generator's in three variants.

The official code's generator steps all back-propagate through the fake of the last critic step,
whose graph PyTorch keeps: its saved activations are those of that forward pass, while the weights
the backward pass multiplies by are the ones the previous generator steps have meanwhile updated
in place. ``generator_fake="stale"`` does exactly that: ``RecordedFake`` makes the fake and keeps
what autograd would, ``StaleStep`` takes each step's adversarial gradient through it with the
current weights (``StaleGradient``, the backward pass written out on the compiled kernels, or
the derivatives of ``StaleSurrogate`` on any convolutions) plus a fresh reconstruction gradient. ``"reuse"`` takes the
first step's adversarial gradient and applies it in every step (equal to "stale" while the weights
have not moved); ``"fresh"`` remakes the fake from the current generator in every step. In the
first two, as in the official, the generator's BatchNorm statistics only see the reconstruction
passes: the pass that makes the fake leaves them as they were.
"""
from __future__ import annotations

import os

import mindspore as ms
from mindspore import ParameterTuple, Tensor, nn, ops

from domain.config import TrainConfig
from adapters.mindspore.losses import AdversarialLoss, CriticLoss, CriticScore, GeneratorLoss, ReconstructionLoss
from adapters.mindspore.networks import Critic, Generator, by_channel, channel_mean, from_channels


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


def _block(generator: Generator, index: int):
    """The generator's conv block ``index``: 0 is the head, then the body's."""
    return generator.net.head if index == 0 else generator.net.body[index - 1]


class RecordedFake(nn.Cell):
    """fake(x, prev) -> (adversarial loss, its gradient at the fake, *the saved graph): the
    generator's train-mode pass as the last critic step made it, and what a backward pass through
    it needs, as PyTorch's autograd keeps it: each conv's input and output, each LeakyReLU's input
    (BatchNorm's output), the tanh output; BatchNorm's statistics and the activations' slopes
    follow from those. BatchNorm is applied from the batch statistics computed here, so its
    running statistics stay as they are (the official makes this pass once, in the critic step).

    With the compiled kernels the pass runs on them. MindSpore's CPU ops that broadcast a
    per-channel (C, 1) value over a map hold a workspace of about four times the map for as long
    as the graph lives: the BatchNorm written out in such ops, and its backward pass, cost about 3.5 GB
    of the 5.7 GB a paper-preset run at 250 px peaked at (2.27 GB now)."""

    def __init__(self, generator: Generator, critic: Critic, *, kind: str):
        super().__init__()
        from adapters.mindspore.conv import compiled_kernels

        self.generator = generator
        self.score = CriticScore(critic, kind=kind)
        self.depth = len(generator.net.body)
        self.native = compiled_kernels()

    def _normalise(self, bn, c):
        if self.native:
            return bn.native(c, bn.gamma, bn.beta)[0]
        flat = by_channel(c)  # (C, pixels): BatchNorm's reductions along the last axis
        centred = flat - channel_mean(flat)
        xhat = centred * ops.rsqrt(channel_mean(centred * centred) + bn.eps)
        return from_channels(bn.gamma.reshape(-1, 1) * xhat + bn.beta.reshape(-1, 1), c.shape)

    def construct(self, x, prev):
        h = self.generator.pad(x)
        inputs, convs, activated = (), (), ()
        for i in range(self.depth + 1):
            block = _block(self.generator, i)
            inputs += (h,)
            c = block.conv(h)
            y = self._normalise(block.bn, c)
            h = block.act(y)
            convs += (c,)
            activated += (y,)
        inputs += (h,)
        t = ops.tanh(self.generator.net.tail(h))
        fake = t + prev
        loss, at_fake = ms.value_and_grad(self.score)(fake)
        # Flat: a graph's nested-tuple inputs recompile it on every call.
        return (loss, at_fake) + inputs + convs + activated + (t,)


class NativeRecordedFake(nn.Cell):
    """``RecordedFake`` (wgan-gp) as one kernel (``kernels/steps.cc``): the same outputs, the fake's
    score and gradient, the saved graph, and the critic's running statistics as its pass over the
    fake leaves them, assigned here."""

    def __init__(self, generator: Generator, critic: Critic):
        super().__init__()
        from adapters.mindspore.aot import kernel_op

        self.generator = generator
        g_blocks = [generator.net.head] + list(generator.net.body)
        d_blocks = [critic.net.head] + list(critic.net.body)
        self.depth = depth = len(g_blocks)
        self.inputs = ParameterTuple(_kernel_inputs(g_blocks, generator.net.tail) + _kernel_inputs(d_blocks, critic.net.tail))
        self.statistics = ParameterTuple([p for b in d_blocks for p in (b.bn.moving_mean, b.bn.moving_variance)])
        self.settings = Tensor([d_blocks[0].act.slope, d_blocks[0].bn.momentum], ms.float32)
        outputs = 2 + (3 * depth + 2) + 2 * depth  # loss, gradient, saved graph, statistics
        self.kernel = kernel_op(f"SinganRecordFake{depth}", 3 + len(self.inputs), outputs)

    def construct(self, x, prev):
        out = self.kernel(self.generator.pad(x), prev, self.settings, *self.inputs)
        loss = out[0][0]
        for p, value in zip(self.statistics, out[-2 * self.depth :]):
            loss = ops.depend(loss, ops.assign(p, value))
        return (loss,) + out[1 : 2 + 3 * self.depth + 2]


def _saved(graph, depth: int):
    """``RecordedFake``'s saved graph as (conv inputs, conv outputs, activation inputs, tanh output)."""
    n = depth + 1  # blocks: the graph holds n + 1 inputs, then n of each saved kind, then t
    return graph[: n + 1], graph[n + 1 : 2 * n + 1], graph[2 * n + 1 : 3 * n + 1], graph[-1]


class StaleSurrogate(nn.Cell):
    """A scalar whose gradient over the generator's weights is PyTorch's backward pass through a
    saved graph (``RecordedFake``) with the weights as they are now: each layer's weight gradient
    from its saved input, each input gradient through the current weights, BatchNorm's backward
    from its saved statistics and the current scale, the activations' slopes as saved. Every term
    below is the saved value plus a zero-valued carrier of the gradient (``v - stop_gradient(v)``),
    so the function's value never matters, only its derivatives."""

    def __init__(self, generator: Generator):
        super().__init__()
        self.generator = generator
        self.depth = len(generator.net.body)

    def construct(self, at_fake, graph):
        inputs, convs, activated, t = _saved(graph, self.depth)
        carrier = inputs[0] * 0.0  # the head's input needs no gradient
        for i in range(self.depth + 1):
            block = _block(self.generator, i)
            # The saved statistics and slopes, as (C, pixels) views.
            flat = by_channel(convs[i])
            centred = flat - channel_mean(flat)
            inv_std = ops.rsqrt(channel_mean(centred * centred) + block.bn.eps)
            xhat = centred * inv_std
            slope = block.act.slope
            slopes = slope + (1.0 - slope) * (by_channel(activated[i]) > 0).astype(flat.dtype)
            # One conv of the saved input plus the carrier: its weight gradient sees the saved
            # input, its input gradient the current weights.
            c = block.conv(inputs[i] + carrier)
            dc = by_channel(c - ops.stop_gradient(c))
            projected = dc - channel_mean(dc) - xhat * channel_mean(dc * xhat)
            y = block.bn.gamma.reshape(-1, 1) * (xhat + inv_std * projected) + block.bn.beta.reshape(-1, 1)
            carrier = from_channels(slopes * (y - ops.stop_gradient(y)), c.shape)
        tail = self.generator.net.tail
        pre = tail(inputs[-1] + carrier)
        out = (1.0 - t * t) * (pre - ops.stop_gradient(pre))
        return (ops.stop_gradient(at_fake) * out).sum()


class SurrogateGradient(nn.Cell):
    """grad(at_fake, graph) -> the official stale adversarial gradient over ``weights``, as the
    derivatives of ``StaleSurrogate``: on any convolutions."""

    def __init__(self, generator: Generator, weights):
        super().__init__()
        self.surrogate = StaleSurrogate(generator)
        self.weights = weights

    def construct(self, at_fake, graph):
        return ms.grad(self.surrogate, None, self.weights)(at_fake, graph)


def _channel_sums(v):
    return v.sum(axis=1)


class StaleGradient(nn.Cell):
    """grad(at_fake, graph) -> the same gradient as ``SurrogateGradient``, as PyTorch computes it:
    the backward pass written out layer by layer on the compiled kernels (``conv.py``,
    ``activation.py``, ``batchnorm.py``), weight gradients from the saved inputs, input gradients
    through the current weights, BatchNorm's backward from the saved conv outputs (its statistics)
    and the current scale. It skips the surrogate's forward convolutions, whose values never
    mattered, and its carriers, and it broadcasts nothing per channel over a map (see
    ``RecordedFake``). The gradients come in the order of ``generator.trainable_params()``."""

    ORDER = ("conv.weight", "conv.bias", "bn.gamma", "bn.beta")

    def __init__(self, generator: Generator):
        super().__init__()
        from adapters.mindspore import activation, batchnorm, conv

        self.generator = generator
        self.depth = len(generator.net.body)
        conv.onednn_convolution()
        activation.kernel()
        batchnorm.kernels()
        self.backward_data, self.backward_weights = conv._backward_data, conv._backward_weights
        self.activation_backward, self.norm_backward = activation._leaky_grad, batchnorm._grad
        blocks = ["net.head"] + [f"net.body.{i}" for i in range(self.depth)]
        expected = [f"{b}.{name}" for b in blocks for name in self.ORDER] + ["net.tail.weight", "net.tail.bias"]
        names = {id(p): name for name, p in generator.parameters_and_names()}
        actual = [names[id(p)] for p in generator.trainable_params()]
        if actual != expected:
            raise ValueError(f"StaleGradient expects the generator's parameters as {expected}, not {actual}")

    def construct(self, at_fake, graph):
        inputs, convs, activated, t = _saved(graph, self.depth)
        tail = self.generator.net.tail
        g = at_fake * (1.0 - t * t)
        tail_grads = (self.backward_weights(inputs[-1], g), _channel_sums(by_channel(g)))
        g = self.backward_data(g, tail.weight)
        blocks = ()
        for i in range(self.depth, -1, -1):
            block = _block(self.generator, i)
            gy = self.activation_backward(activated[i], g, block.act.slope_tensor)
            gc, gamma_grad, beta_grad = self.norm_backward(gy, convs[i], block.bn.gamma)
            blocks = ((self.backward_weights(inputs[i], gc), _channel_sums(by_channel(gc)), gamma_grad, beta_grad),) + blocks
            if i > 0:
                g = self.backward_data(gc, block.conv.weight)
        grads = ()
        for block_grads in blocks:
            grads += block_grads
        return grads + tail_grads


def stale_gradient(generator: Generator, weights) -> nn.Cell:
    """The official stale adversarial gradient's cell: written out on the compiled kernels, else
    as the surrogate's derivatives."""
    from adapters.mindspore.conv import compiled_kernels

    return StaleGradient(generator) if compiled_kernels() else SurrogateGradient(generator, weights)


class StaleStep(nn.Cell):
    """step(real, rec_x, rec_prev, at_fake, *saved graph) -> (reconstruction loss, mse): one
    official generator step: the adversarial gradient through the saved graph with the current
    weights, plus a fresh reconstruction gradient, one Adam update."""

    def __init__(self, generator: Generator, reconstruction: nn.Cell, optimizer: nn.Optimizer):
        super().__init__()
        self.adversarial = stale_gradient(generator, optimizer.parameters)
        self.reconstruction = reconstruction
        self.optimizer = optimizer
        self.weights = optimizer.parameters

    def construct(self, real, rec_x, rec_prev, at_fake, *graph):
        adv_grads = self.adversarial(at_fake, graph)
        (rec, mse), rec_grads = ms.value_and_grad(self.reconstruction, None, self.weights, has_aux=True)(
            real, rec_x, rec_prev
        )
        self.optimizer(tuple(a + r for a, r in zip(adv_grads, rec_grads)))
        return rec, mse


def _kernel_inputs(blocks, tail) -> list:
    """A net's parameters as the step kernels take them: per block the conv's weight and bias,
    BatchNorm's scale, shift and running statistics, then the tail conv's weight and bias."""
    inputs = []
    for block in blocks:
        inputs += [block.conv.weight, block.conv.bias, block.bn.gamma, block.bn.beta, block.bn.moving_mean,
                   block.bn.moving_variance]
    return inputs + [tail.weight, tail.bias]


def _check_order(cell: nn.Cell, optimizer: nn.Optimizer, depth: int, what: str) -> None:
    """The kernels return gradients in the optimizer's order, which must be the blocks' in turn."""
    order = ("conv.weight", "conv.bias", "bn.gamma", "bn.beta")
    blocks = ["net.head"] + [f"net.body.{i}" for i in range(depth - 1)]
    expected = [f"{b}.{name}" for b in blocks for name in order] + ["net.tail.weight", "net.tail.bias"]
    by_id = {id(p): name for name, p in cell.parameters_and_names()}
    actual = [by_id[id(p)] for p in optimizer.parameters]
    if actual != expected:
        raise ValueError(f"{what} expects the parameters as {expected}, not {actual}")


def _apply(out, count: int, statistics, optimizer):
    """A step kernel's outputs (terms, ``count`` gradients, running statistics) put to use: the
    statistics assigned, one optimizer update; returns the terms, after both."""
    terms = out[0]
    for p, value in zip(statistics, out[1 + count :]):
        terms = ops.depend(terms, ops.assign(p, value))
    return ops.depend(terms, optimizer(out[1 : 1 + count]))


class _KernelStep(nn.Cell):
    """What the step kernels' cells share: ``net``'s parameters as the kernel takes them, its
    running statistics, the kernel ``name`` + depth with ``extra`` inputs before the parameters,
    and outputs of ``terms`` values, the gradients in the optimizer's order and the statistics;
    ``settings`` = (``first``, the LeakyReLU slope, BatchNorm's weight of a new batch)."""

    def __init__(self, net: nn.Cell, optimizer: nn.Optimizer, *, name: str, extra: int, terms: int, first: float):
        super().__init__()
        from adapters.mindspore.aot import kernel_op

        self.optimizer = optimizer
        blocks = [net.net.head] + list(net.net.body)
        _check_order(net, optimizer, len(blocks), type(self).__name__)
        self.inputs = ParameterTuple(_kernel_inputs(blocks, net.net.tail))
        self.statistics = ParameterTuple([p for b in blocks for p in (b.bn.moving_mean, b.bn.moving_variance)])
        # MindSpore's momentum is the new batch's weight
        self.settings = Tensor([first, blocks[0].act.slope, blocks[0].bn.momentum], ms.float32)
        grads = [tuple(p.shape) for p in optimizer.parameters]
        self.count = len(grads)
        shapes = [(terms,)] + grads + [tuple(p.shape) for p in self.statistics]
        self.kernel = kernel_op(f"{name}{len(blocks)}", extra + len(self.inputs), len(shapes), shapes=shapes)


class NativeStaleStep(_KernelStep):
    """``StaleStep`` as one kernel (``kernels/steps.cc``): the adversarial gradient through the
    saved graph with the current weights and the reconstruction's loss and gradient, written out
    on the compiled kernels; the graph around it pads the reconstruction input, assigns the
    generator's running statistics as the reconstruction pass leaves them and applies Adam."""

    def __init__(self, generator: Generator, optimizer: nn.Optimizer, *, weight: float):
        saved = 3 * (len(generator.net.body) + 1) + 2  # RecordedFake's graph
        super().__init__(generator, optimizer, name="SinganGeneratorStep", extra=5 + saved, terms=2, first=weight)
        self.generator = generator

    def construct(self, real, rec_x, rec_prev, at_fake, *graph):
        padded = self.generator.pad(rec_x)
        out = self.kernel(real, padded, rec_prev, at_fake, self.settings, *graph, *self.inputs)
        terms = _apply(out, self.count, self.statistics, self.optimizer)
        return terms[0], terms[1]


def make_adam(cell: nn.Cell, lr: float, cfg: TrainConfig) -> nn.Adam:
    # A tensor learning rate becomes a Parameter we can lower in place at the milestone.
    return nn.Adam(cell.trainable_params(), learning_rate=Tensor(lr, ms.float32), beta1=cfg.beta1, beta2=cfg.beta2)


def set_learning_rate(optimizer: nn.Adam, lr: float) -> None:
    optimizer.learning_rate.set_data(Tensor(lr, ms.float32))


class NativeCriticStep(_KernelStep):
    """step(real, x, prev, alpha) -> (loss, (d_real, d_fake, penalty)): ``TrainStep`` on
    ``CriticLoss`` (wgan-gp) with the loss and every gradient from one kernel,
    ``kernels/steps.cc``: the three critic passes, the penalty and its double backward written
    out on the compiled kernels. The graph around it makes the fake (the generator's train-mode
    pass, whose BatchNorm statistics move as in the autodiff step), assigns the critic's running
    statistics as its three passes leave them, and applies Adam. The autodiff step compiles to
    about 700 nodes; its first call at 25x38 took 2.0-2.4 s, this one's 0.74-0.77 s (README,
    "Train steps as single kernels")."""

    def __init__(self, critic: Critic, generator: Generator, optimizer: nn.Optimizer, *, gp_weight: float):
        super().__init__(critic, optimizer, name="SinganCriticStep", extra=4, terms=4, first=gp_weight)
        self.generator = generator

    def construct(self, real, x, prev, alpha):
        fake = ops.stop_gradient(self.generator(x, prev))
        out = self.kernel(real, fake, alpha, self.settings, *self.inputs)
        terms = _apply(out, self.count, self.statistics, self.optimizer)
        return terms[0], (terms[1], terms[2], terms[3])


MAX_NATIVE_DEPTH = 8  # kernels/steps.cc's entry points: critics of 2 to 9 layers


def native_below() -> float:
    """FLOPs of a scale's largest conv below which its steps run on the step kernels
    (``SINGAN_NATIVE_STEPS_MFLOP`` million, default 2000: the paper preset's 32- and 64-channel
    scales; kernels/steps.cc reads the same variable to run their two tasks on two threads).
    There the kernels take about half the time of the autodiff graphs and compile in a fraction of
    it; above it the convolutions dominate, and the autodiff graphs, whose memory MindSpore reuses
    from graph to graph, hold less than the kernels' own maps (a 250 px paper run peaked at 3.2 GB
    with the kernels at every scale, 2.4 GB without them at its two 128-channel scales). 0 turns
    them off."""
    return float(os.environ.get("SINGAN_NATIVE_STEPS_MFLOP", "2000")) * 1e6  # checked by native.check_tuning


def release_step_kernels() -> None:
    """Free the step kernels' maps (kept between calls, they are held until this is called)."""
    import ctypes

    from adapters.mindspore.native import conv_choice

    library = conv_choice().library
    if library is not None:
        ctypes.CDLL(str(library)).SinganStepsRelease()  # the library MindSpore loaded: one instance


def native_critic(cfg: TrainConfig, execution: str, depth: int, flops: float = 0.0) -> bool:
    """Whether the critic step runs as ``NativeCriticStep``: on the compiled kernels, for the
    wgan-gp loss, compiled (``graph`` and ``split`` executions; ``eager`` keeps the op-by-op step),
    for critics of at most ``MAX_NATIVE_DEPTH`` blocks before the tail whose largest conv costs
    ``flops`` below ``native_below()``."""
    from adapters.mindspore.conv import compiled_kernels

    return (cfg.loss == "wgan-gp" and execution != "eager" and depth <= MAX_NATIVE_DEPTH and flops < native_below()
            and compiled_kernels())


def native_generator(execution: str, depth: int, flops: float = 0.0) -> bool:
    """Whether the official generator steps (``generator_fake="stale"``) run as
    ``NativeStaleStep``: on the compiled kernels, compiled (not under ``split`` or ``eager``), for
    generators of at most ``MAX_NATIVE_DEPTH`` blocks before the tail, below ``native_below()``."""
    from adapters.mindspore.conv import compiled_kernels

    return execution == "graph" and depth <= MAX_NATIVE_DEPTH and flops < native_below() and compiled_kernels()


def make_critic_step(critic: Critic, generator: Generator, optimizer: nn.Adam, cfg: TrainConfig, *,
                     execution: str = "graph", flops: float = 0.0) -> nn.Cell:
    """step(real, x, prev, alpha) -> (loss, (d_real, d_fake, penalty)); the fake is made inside.
    ``flops``: the scale's largest conv (``domain.networks.largest_conv_flops``)."""
    if native_critic(cfg, execution, len(critic.net.body) + 1, flops):
        step = NativeCriticStep(critic, generator, optimizer, gp_weight=cfg.gp_weight)
    else:
        step = TrainStep(CriticLoss(critic, generator, kind=cfg.loss, gp_weight=cfg.gp_weight), optimizer)
    step.set_train()
    return step


class GeneratorSteps:
    """The generator steps of one iteration: ``run(real, x, prev, rec_x, rec_prev)`` does all
    ``cfg.generator_steps`` of them and returns the last (loss, adversarial, reconstruction) as
    tensors (read them only when they are logged: reading is a host-device sync point)."""

    def __init__(self, generator: Generator, critic: Critic, optimizer: nn.Adam, cfg: TrainConfig, *,
                 execution: str = "graph", flops: float = 0.0):
        self.count = cfg.generator_steps
        self.mode = cfg.generator_fake
        reconstruction = ReconstructionLoss(generator, weight=cfg.reconstruction_weight)
        if self.mode == "stale":
            if native_generator(execution, len(generator.net.body) + 1, flops):
                native_record = cfg.loss == "wgan-gp"
                self.record = NativeRecordedFake(generator, critic) if native_record else RecordedFake(generator, critic, kind=cfg.loss)
                self.step = NativeStaleStep(generator, optimizer, weight=cfg.reconstruction_weight)
            else:
                self.record = RecordedFake(generator, critic, kind=cfg.loss)
                self.step = StaleStep(generator, reconstruction, optimizer)
            self.record.set_train()
            self.step.set_train()
        elif self.mode == "reuse":
            adversarial = AdversarialLoss(generator, critic, kind=cfg.loss)
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
        if self.mode == "fresh":
            for _ in range(self.count):
                total, (adversarial, reconstruction) = self.fresh(real, x, prev, rec_x, rec_prev)
            return total, adversarial, reconstruction
        if self.mode == "stale":
            adversarial, at_fake, *graph = self.record(x, prev)
            for _ in range(self.count):
                rec_total, reconstruction = self.step(real, rec_x, rec_prev, at_fake, *graph)
            return adversarial + rec_total, adversarial, reconstruction
        adversarial, adv_grads = self.adversarial_gradient(x, prev)
        for _ in range(self.count):
            rec_total, reconstruction = self.step(real, rec_x, rec_prev, *adv_grads)
        return adversarial + rec_total, adversarial, reconstruction


def make_generator_steps(generator: Generator, critic: Critic, optimizer: nn.Adam, cfg: TrainConfig, *,
                         execution: str = "graph", flops: float = 0.0) -> GeneratorSteps:
    return GeneratorSteps(generator, critic, optimizer, cfg, execution=execution, flops=flops)

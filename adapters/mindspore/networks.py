"""Per-scale cells: the generator and the patch critic share a body of unpadded conv blocks."""
from __future__ import annotations

import numpy as np
from mindspore import Parameter, Tensor, nn, ops
from mindspore.common import dtype as mstype

from adapters.mindspore import activation, batchnorm, inference
from adapters.mindspore.conv import compiled_kernels, conv2d
from domain.config import NetworkConfig
from domain.networks import generator_padding
from domain.noise import IMAGE_CHANNELS


class LeakyReLU(nn.Cell):
    """LeakyReLU(slope): one compiled kernel each way (``adapters/mindspore/activation.py``) when the
    process has them, else ``relu(x) - slope * relu(-x)``: the same values as ``nn.LeakyReLU``, whose
    ``maximum(slope * x, x)`` differentiates through Select, Greater, Equal and Less kernels at every
    layer (and again in the penalty's double backward). ReLU's gradient kernels are one pass each:
    measured 25 ms -> 18 ms a critic step at 25x38 and 1.25 s -> 1.05 s at 100x130, 128 channels."""

    def __init__(self, slope: float):
        super().__init__()
        self.slope = slope
        self.native = activation.kernel() if compiled_kernels() else None
        self.slope_tensor = Tensor(np.array([slope], np.float32))

    def construct(self, x):
        if self.native is not None:
            return self.native(x, self.slope_tensor)
        return ops.relu(x) - self.slope * ops.relu(-x)


def by_channel(x):
    """(N, C, H, W) -> (C, N*H*W): a view (a copy only when N > 1) in which BatchNorm's per-channel
    statistics and its scale's gradient are reductions over the last axis. MindSpore's CPU reductions
    over axes (0, 2, 3), and the Tile that their gradients make, run 4.5-5.5x slower than over the
    last axis (a mean at 64x131x151: 3.0 ms against 0.54 ms)."""
    channels = x.shape[1]
    if x.shape[0] != 1:
        x = x.swapaxes(0, 1)
    return x.reshape(channels, -1)


def from_channels(v, shape):
    """The inverse of ``by_channel`` for an (N, C, H, W) ``shape``."""
    n, c, h, w = shape
    if n == 1:
        return v.reshape(shape)
    return v.reshape(c, n, h, w).swapaxes(0, 1)


def channel_mean(v):
    """Per-channel mean of a ``by_channel`` view, (C, 1)."""
    return v.mean(axis=1, keep_dims=True)


class BatchNorm(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training-mode pass runs on the compiled kernels of
    ``adapters/mindspore/batchnorm.py`` when the process has them (``native``), or can run from mean
    and variance ops (``by_hand``); every way gives the same values and the same running-statistics
    update (unbiased variance). Inference always uses MindSpore's kernel and the running statistics.

    Without the compiled kernels, eager steps need ``by_hand`` in the critic: MindSpore's PyNative
    double backward of its fused kernel (BatchNormGradGrad, in the gradient penalty) reads freed
    memory once a process has run it before: "'reserve_space_2' must be no less than zero" or a
    segmentation fault. The fused kernel is 1.4-1.7x faster than these ops in compiled steps."""

    def __init__(self, channels: int, momentum: float):
        super().__init__(channels, momentum=momentum)
        self.by_hand = False
        self.native = batchnorm.kernels() if compiled_kernels() else None
        if self.native is not None and self.eps != batchnorm.EPS:
            raise ValueError(f"the compiled BatchNorm kernels use eps {batchnorm.EPS}, not {self.eps}")

    def construct(self, x):
        if not self.training:
            return super().construct(x)
        if self.by_hand:
            # Over axes (0, 2, 3), not a by_channel view: PyNative's second derivative through
            # that view's ops comes out 2% off (tests/integration/test_gradients.py), and these
            # ops only ever run op by op.
            mean = x.mean(axis=(0, 2, 3), keep_dims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=(0, 2, 3), keep_dims=True)
            self._follow(mean.reshape(-1), var.reshape(-1), x)
            return centred / ops.sqrt(var + self.eps) * self.gamma.reshape(1, -1, 1, 1) + self.beta.reshape(1, -1, 1, 1)
        if self.native is not None:
            y, mean, var = self.native(x, self.gamma, self.beta)
            self._follow(mean, var, x)
            return y
        return super().construct(x)

    def _follow(self, mean, biased_var, x):
        """The running statistics' update from one batch's mean and biased variance."""
        count = x.size // x.shape[1]
        new = self.momentum  # nn.BatchNorm2d keeps the weight of the new batch here (PyTorch's momentum)
        batch_mean = ops.stop_gradient(mean)
        batch_var = ops.stop_gradient(biased_var) * (count / max(count - 1, 1))
        ops.assign(self.moving_mean, (1.0 - new) * self.moving_mean + new * batch_mean)
        ops.assign(self.moving_variance, (1.0 - new) * self.moving_variance + new * batch_var)


def normalise_by_hand(cell: nn.Cell, on: bool = True) -> None:
    """Switch every ``BatchNorm`` of ``cell`` to (or back from) the mean-and-variance form."""
    for _, child in cell.cells_and_names():
        if isinstance(child, BatchNorm):
            child.by_hand = on


class ConvBlock(nn.Cell):
    """3x3 conv (no padding), BatchNorm, LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = conv2d(in_channels, out_channels, kernel_size)
        # MindSpore's momentum weighs the old statistics: 0.9 here is PyTorch's 0.1.
        self.bn = BatchNorm(out_channels, momentum=0.9)
        self.act = LeakyReLU(0.2)

    def construct(self, x):
        return self.act(self.bn(self.conv(x)))


class Body(nn.Cell):
    """Conv blocks of the given output ``widths`` (head first; ``domain.networks.layer_widths``)
    followed by the tail conv to ``out_channels``."""

    def __init__(self, widths: tuple[int, ...], out_channels: int, cfg: NetworkConfig):
        super().__init__()
        k = cfg.kernel_size
        self.head = ConvBlock(IMAGE_CHANNELS, widths[0], k)
        self.body = nn.SequentialCell([ConvBlock(a, b, k) for a, b in zip(widths, widths[1:])])
        self.tail = conv2d(widths[-1], out_channels, k)

    def construct(self, x):
        return self.tail(self.body(self.head(x)))


class Generator(nn.Cell):
    """Input ``x = amplitude * noise + prev`` and ``prev``; returns ``prev + tanh(body(pad(x)))``."""

    def __init__(self, widths: tuple[int, ...], cfg: NetworkConfig):
        super().__init__()
        pad = generator_padding(cfg)
        self.pad = nn.ZeroPad2d((pad, pad, pad, pad))
        self.net = Body(widths, IMAGE_CHANNELS, cfg)
        self.tanh = nn.Tanh()

    def construct(self, x, prev):
        return self.tanh(self.net(self.pad(x))) + prev


class Critic(nn.Cell):
    """Patch critic: one score per receptive field (a map ``2 * padding`` px smaller than the input)."""

    def __init__(self, widths: tuple[int, ...], cfg: NetworkConfig):
        super().__init__()
        self.net = Body(widths, 1, cfg)

    def construct(self, x):
        return self.net(x)


def any_shape(generator: Generator) -> None:
    """Let ``generator``'s compiled graphs take any batch size, height and width: an inference
    generator is called at its scale's shape, at a batch of the critic steps' coarser samples while
    the finer scales train, at sample batches and at every size a user asks for, and each new shape
    would otherwise compile its graph again (0.2-0.4 s a scale). Forward passes lose nothing to the
    open shape (measured at 43x64, 32 channels); train steps lose 3-5 ms a call (README, "Open
    shapes, built"), so only trained generators get it. With the compiled kernels ``run_inference``
    skips the graph (``inference``); it serves MindSpore's convolutions, GPU and Ascend."""
    image = Tensor(shape=[None, IMAGE_CHANNELS, None, None], dtype=mstype.float32)
    generator.set_inputs(image, image)


def named_parameters(cell: nn.Cell) -> dict[str, Parameter]:
    """Parameters by their path inside ``cell`` (stable whatever prefixes MindSpore adds to .name)."""
    return dict(cell.parameters_and_names())


def initialise(cell: nn.Cell, rng: np.random.Generator, *, bias_init: str = "uniform") -> None:
    """Official SinGAN init from an explicit stream: conv weights N(0, 0.02), BatchNorm scale
    N(1, 0.02) and shift 0; conv biases as PyTorch leaves them (the official never sets them),
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * k * k, or 0 with
    ``bias_init="zero"``. Drawn on the host so runs are reproducible anywhere."""
    params = named_parameters(cell)
    for name, param in sorted(params.items()):
        stem, _, leaf = name.rpartition(".")
        shape = param.shape
        if leaf == "weight":
            value = rng.normal(0.0, 0.02, shape)
        elif leaf == "gamma":
            value = rng.normal(1.0, 0.02, shape)
        elif leaf == "moving_variance":
            value = np.ones(shape)
        elif leaf == "bias" and bias_init == "uniform":
            fan_in = int(np.prod(params[f"{stem}.weight"].shape[1:]))
            bound = 1.0 / np.sqrt(fan_in)
            value = rng.uniform(-bound, bound, shape)
        else:  # zero biases, beta, moving_mean
            value = np.zeros(shape)
        param.set_data(Tensor(value.astype(np.float32)))


def copy_weights(source: nn.Cell, target: nn.Cell) -> None:
    """Start ``target`` from ``source``'s weights and BatchNorm statistics (same architecture)."""
    src = named_parameters(source)
    dst = named_parameters(target)
    if src.keys() != dst.keys():
        raise ValueError(f"cannot copy weights between different cells: {sorted(src.keys() ^ dst.keys())[:4]}")
    for name, param in dst.items():
        param.set_data(src[name].value().copy())


def to_tensor(image: np.ndarray) -> Tensor:
    """(C, H, W) float array -> (1, C, H, W) float32 tensor."""
    return Tensor(np.ascontiguousarray(image, dtype=np.float32)[None])


def run_inference(generator: Generator, x: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """The generator on one (C, H, W) input, or on a batch (B, C, H, W) (in inference mode each
    sample is independent of the others): in inference mode on the compiled kernels when the process
    has them (``inference``), else through the cell's graph."""
    single = x.ndim == 3
    x, prev = (x[None], prev[None]) if single else (x, prev)
    if inference.available(generator):
        out = inference.generate(generator, x, prev)
    else:
        tensors = (Tensor(np.ascontiguousarray(a, np.float32)) for a in (x, prev))
        out = generator(*tensors).asnumpy()
    return out[0] if single else out


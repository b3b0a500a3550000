"""The generator's inference pass on the compiled kernels (``adapters/mindspore/inference.py``,
``SinganGenerate`` in kernels/steps.cc) against the cell's own graph, and ``run_inference``'s choice
between them."""
from __future__ import annotations

import numpy as np
import pytest

from domain.config import NetworkConfig


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


def _generator(widths, net: NetworkConfig, tag: str, seed: int):
    """A generator in inference mode, with weights and running statistics away from their start
    (so the folding of BatchNorm and bias shows)."""
    from mindspore import Tensor

    from adapters.mindspore.networks import Generator, initialise, named_parameters

    generator = Generator(widths, net)
    generator.update_parameters_name(f"infer{tag}.")
    rng = np.random.default_rng(seed)
    initialise(generator, rng)
    for name, p in named_parameters(generator).items():
        value = p.value().asnumpy()
        if name.endswith("weight"):
            value = value * 5
        elif name.endswith("moving_variance"):
            value = rng.uniform(0.2, 3.0, value.shape)
        elif name.endswith("moving_mean") or name.endswith("beta") or name.endswith("bias"):
            value = rng.normal(0.0, 0.3, value.shape)
        p.set_data(Tensor(value.astype(np.float32)))
    generator.set_train(False)
    return generator


CASES = [
    # widths, layers, batch, (H, W)
    ((8, 4, 4, 4), 5, 1, (13, 17)),
    ((8, 4, 4, 4), 5, 3, (11, 9)),
    ((6, 6), 3, 2, (7, 12)),
]


@pytest.mark.parametrize("widths,layers,batch,shape", CASES)
def test_compiled_generator_matches_the_cells_graph(ms, widths, layers, batch, shape):
    from adapters.mindspore import inference
    from adapters.mindspore.conv import compiled_kernels

    if not compiled_kernels():
        pytest.fail("the compiled kernels were not built; CI builds them (adapters/mindspore/native.py)")
    net = NetworkConfig(num_layers=layers)
    generator = _generator(widths, net, f"{layers}{batch}", seed=layers + batch)
    rng = np.random.default_rng(batch)
    x = rng.normal(0, 1, (batch, 3, *shape)).astype(np.float32)
    prev = rng.uniform(-1, 1, (batch, 3, *shape)).astype(np.float32)
    expected = generator(ms.Tensor(x), ms.Tensor(prev)).asnumpy()
    got = inference.generate(generator, x, prev)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 2e-5
    # the residual is not trivial: the net's output moves the image
    assert np.abs(got - prev).mean() > 0.05


def test_run_inference_takes_the_compiled_pass_in_inference_mode_only(ms, monkeypatch):
    from adapters.mindspore import inference, networks

    generator = _generator((4, 4), NetworkConfig(num_layers=3), "route", seed=1)
    calls = []
    real_generate = inference.generate

    def counting(g, x, prev):
        calls.append(x.shape)
        return real_generate(g, x, prev)

    monkeypatch.setattr(inference, "generate", counting)
    x = np.zeros((3, 9, 10), np.float32)
    single = networks.run_inference(generator, x, x)
    batch = networks.run_inference(generator, x[None].repeat(2, 0), x[None].repeat(2, 0))
    assert calls == [(1, 3, 9, 10), (2, 3, 9, 10)]
    assert single.shape == (3, 9, 10) and batch.shape == (2, 3, 9, 10)
    np.testing.assert_allclose(batch[1], single, atol=1e-6)
    generator.set_train(True)  # batch statistics: the cell's own pass
    assert not inference.available(generator)


def test_mismatched_inputs_are_refused(ms):
    from adapters.mindspore import inference

    generator = _generator((4, 4), NetworkConfig(num_layers=3), "bad", seed=2)
    with pytest.raises(ValueError, match="one shape"):
        inference.generate(generator, np.zeros((1, 3, 8, 8), np.float32), np.zeros((1, 3, 8, 9), np.float32))


def test_large_batches_run_a_sample_at_a_time_with_the_same_values(ms, monkeypatch):
    from adapters.mindspore import inference

    generator = _generator((6, 4, 4, 4), NetworkConfig(num_layers=5), "split", seed=3)
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (3, 3, 12, 15)).astype(np.float32)
    prev = rng.uniform(-1, 1, (3, 3, 12, 15)).astype(np.float32)
    together = inference.generate(generator, x, prev)
    calls = []
    real_run = inference._run

    def counting(*args):
        calls.append(args[0].shape[0])
        return real_run(*args)

    monkeypatch.setattr(inference, "_run", counting)
    monkeypatch.setattr(inference, "SAMPLE_AT_ONCE_BYTES", 0)
    apart = inference.generate(generator, x, prev)
    assert calls == [1, 1, 1]
    np.testing.assert_allclose(apart, together, atol=1e-6)

"""Device setup: environment defaults that must exist before MindSpore loads, and the context."""
from __future__ import annotations

import os
from contextlib import contextmanager

DEVICES = ("CPU", "GPU", "Ascend")


def prepare_environment() -> None:
    """Defaults the user may override; they only work before ``import mindspore``.

    With MindSpore's own convolutions (``native``), oneDNN is capped at AVX2: on AVX-512 hosts it
    otherwise picks a reference convolution about 80x slower than its AVX2 gemm kernel (measured:
    104 ms against 1.25 ms for a 32-channel 3x3 conv at 64x64). With the oneDNN convolutions built
    by ``native`` nothing is capped, and OpenMP (their thread pool) sleeps between calls rather
    than spinning on the cores MindSpore's own kernels need next (measured at 64x64: 0.37 s an
    iteration against 0.54 s spinning).
    """
    from adapters.mindspore.native import conv_choice

    if conv_choice().backend == "mindspore":
        os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
    else:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GLOG_v", "3")  # MindSpore's C++ log: errors only


_configured: str | None = None


def configure(device: str = "CPU") -> str:
    """Graph mode on ``device`` (CPU, GPU or Ascend). Idempotent; MindSpore allows one device per process."""
    global _configured  # the process-wide MindSpore context is global by nature; mirror it
    if device not in DEVICES:
        from domain.errors import ConfigError

        raise ConfigError(f"device must be one of {DEVICES}, got {device!r}")
    if _configured is not None:
        if _configured != device:
            from domain.errors import ConfigError

            raise ConfigError(f"MindSpore already runs on {_configured} in this process; cannot switch to {device}")
        return device
    prepare_environment()
    import gc

    import mindspore as ms

    # MindSpore runs a full gc.collect() before every graph compile (5 a scale): with MindSpore's
    # own hundreds of thousands of objects tracked that took 0.1 s each. Frozen, they are skipped.
    gc.freeze()
    ms.set_context(mode=ms.GRAPH_MODE)
    # Launchers (msrun, mpirun wrappers) give each worker its device in DEVICE_ID; CPU has one.
    device_id = os.environ.get("DEVICE_ID")
    try:
        if device != "CPU" and device_id is not None:
            ms.set_device(device, int(device_id))
        else:
            ms.set_device(device)
    except (RuntimeError, ValueError) as exc:
        from domain.errors import ConfigError

        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"MindSpore cannot run on {device} here ({first_line}); only CPU is tested") from None
    _configured = device
    return device


@contextmanager
def execution(kind: str):
    """Run the enclosed steps compiled ("graph", the process default) or op by op ("eager",
    MindSpore's PyNative mode), and come back to the mode before. What each costs depends on the
    convolutions (``native``): with oneDNN's, a 218x250 128-channel scale's steps hold 7.3 GB
    compiled, and the paper preset at 250 px peaks at 2.72 GB with eager generator steps ("split")
    against 7.55 GB compiled, 23 s an iteration there against 17 s; with MindSpore's, each compiled
    conv node keeps its own workspace and eager steps hold a third of it (6.1 against 19.2 GB)."""
    import mindspore as ms

    previous = ms.get_context("mode")
    wanted = ms.PYNATIVE_MODE if kind == "eager" else ms.GRAPH_MODE
    if wanted == previous:
        yield
        return
    ms.set_context(mode=wanted)
    try:
        yield
    finally:
        ms.set_context(mode=previous)


def launched_by_msrun() -> bool:
    """msrun starts every process (workers and its scheduler) with MS_ROLE set."""
    return "MS_ROLE" in os.environ


def join_msrun(device: str = "CPU") -> tuple[int, int] | None:
    """Join the msrun cluster. A worker gets (rank, number of workers); msrun's scheduler process
    gets None once the workers are gone, and must do no work of its own."""
    configure(device)
    from mindspore.communication import get_group_size, get_rank, init

    init()
    if os.environ.get("MS_ROLE") == "MS_SCHED":
        return None
    return get_rank(), get_group_size()

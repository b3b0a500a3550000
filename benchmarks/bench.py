"""Training and sampling speed per scale, against the machine's matrix-multiply peak.

    make bench                      # paper preset on the embedded image
    make bench ARGS="--preset quick --timed 5"

For every scale: seconds per training iteration (the configured critic and generator steps, with
the coarser scales' random path), seconds per critic step and per generator step, seconds per
sample up to that scale, achieved GFLOP/s from counted convolution FLOPs, and the scale's peak
resident memory (Linux; elsewhere the process's peak so far). Prints a table and writes JSON (default bench-out/bench.json).

Counted FLOPs (an approximation, stated so numbers stay comparable): a conv stack's forward pass
costs F = sum of 2 Cin Cout k^2 Hout Wout; a backward pass costs 2F. A WGAN-GP critic step is
F_G + 13 F_D (three critic forwards, two backward passes, the input gradient and its backward
counted as 2F_D + 4F_D); a generator step is 6 F_G + 3 F_D (two generator forwards and their
backward passes, one critic forward and a data-only backward), or with ``generator_fake=stale``
(the official steps) F_G + 3 F_D once an iteration and 5 F_G a step.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli import default_image  # noqa: E402
from domain.config import NetworkConfig, preset  # noqa: E402
from domain.networks import channels_at, generator_padding  # noqa: E402
from domain.networks import conv_flops as stack_flops  # noqa: E402


def conv_flops(shape, scale: int, out_channels: int, cfg: NetworkConfig, *, padded: bool) -> float:
    """Forward FLOPs of one generator (padded input) or critic (unpadded) of ``scale`` at ``shape``."""
    pad = generator_padding(cfg) if padded else 0
    return float(stack_flops((shape[0] + 2 * pad, shape[1] + 2 * pad), scale, cfg, out_channels=out_channels))


def matmul_peak(seconds: float = 2.0) -> float:
    """GFLOP/s of float32 numpy matmul on 2048x2048 (the BLAS peak this machine reaches)."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    a @ a
    runs, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        a @ a
        runs += 1
    return runs * 2 * 2048**3 / (time.perf_counter() - began) / 1e9


def machine_matmul_peak(seconds: float = 2.0) -> float:
    """The machine's float32 matmul peak: numpy's in this process and, on an AVX-512 CPU, in a
    process with OpenBLAS told to use its AVX-512 kernels, whichever is higher. OpenBLAS picks its
    AVX2 (Haswell) kernels when told to (``OPENBLAS_CORETYPE=Haswell`` is set on the machines this
    was measured on) or on some AVX-512 CPUs (an AMD EPYC: 191 GFLOP/s, against 377 with
    ``OPENBLAS_CORETYPE=SkylakeX``), which would flatter every fraction of the peak by 2x."""
    # The other process first: this one's OpenBLAS threads spin for a while after a matmul and
    # would halve the other's (measured: 197 instead of 352 GFLOP/s).
    peak = 0.0
    try:
        avx512 = " avx512f " in Path("/proc/cpuinfo").read_text()
    except OSError:
        avx512 = False
    if avx512 and os.environ.get("OPENBLAS_CORETYPE") != "SkylakeX":  # this machine sets Haswell
        code = f"from benchmarks.bench import matmul_peak; print(matmul_peak({seconds}))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "OPENBLAS_CORETYPE": "SkylakeX"},
                              cwd=Path(__file__).resolve().parents[1])
        if done.returncode == 0:
            peak = float(done.stdout.split()[-1])
    return max(peak, matmul_peak(seconds))


def peak_rss_mb() -> float:
    """Peak resident memory since the last ``reset_peak_rss`` (Linux), else since the start."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start a new peak (Linux: writing 5 to clear_refs resets VmHWM), so each scale reports its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--image", default=default_image())
    parser.add_argument("--max-size", type=int, help="override pyramid.max_size")
    parser.add_argument("--warmup", type=int, default=2, help="iterations per scale before timing (compiles)")
    parser.add_argument("--timed", type=int, default=3, help="timed iterations per scale")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="any config field, as train's --set (repeatable)")
    parser.add_argument("--out", default="bench-out/bench.json")
    args = parser.parse_args(argv)

    import adapters.mindspore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
    from adapters.mindspore.native import conv_choice
    from adapters.images import PillowImages
    from adapters.mindspore.backend import MindSporePyramid
    from app.model import Model
    from app.training import fit_image
    from domain.networks import inherits_weights
    from domain.noise import draw_noise
    from domain.ports import ScaleJob
    from domain.sampling import random_noises, walk

    from app.cli import _parse_override

    cfg = preset(args.preset).with_overrides(dict(_parse_override(text) for text in args.set))
    if args.max_size:
        cfg = cfg.with_overrides({"pyramid.max_size": args.max_size})
    iterations = args.warmup + args.timed
    cfg = cfg.with_overrides({"train.iterations": iterations})
    t = cfg.train
    plan, fitted = fit_image(PillowImages().load(args.image), cfg)
    probe = Model(config=cfg, plan=plan, amplitudes=(), z_star=np.zeros(0), image=fitted, backend=None)
    reals, resampling, grey = probe.reals(), probe.resampling, cfg.network.coarsest_noise_channels
    peak = machine_matmul_peak()
    print(f"{args.preset} preset on {args.image}: {plan.num_scales} scales up to {plan.finest_shape}; "
          f"float32 matmul peak {peak:.1f} GFLOP/s; ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA')}")
    print(f"convolutions: {conv_choice().note}")
    from app.training import memory_plan

    executions = memory_plan(plan, cfg, device="CPU", check=False).executions
    backend = MindSporePyramid(cfg.network)
    model = Model(config=cfg, plan=plan, amplitudes=(), z_star=np.zeros(0), image=fitted, backend=backend)
    rng = np.random.default_rng(0)
    rows = []
    header = (f"{'scale':>5} {'H x W':>9} {'ch':>4} {'exec':>5} {'s/iter':>8} {'s/D':>7} {'s/G':>7} {'s/sample':>9} "
              f"{'GFLOP/s':>8} {'% peak':>7} {'RSS MB':>7}")
    print(header)
    amplitudes = []
    for n, shape in enumerate(plan.shapes):
        channels = channels_at(n, cfg.network)
        amplitudes.append(1.0 if n == 0 else 0.1)
        stamps = []
        reset_peak_rss()  # a finished scale's steps are released: each scale's own peak counts
        job = ScaleJob(
            scale=n, shapes=plan.shapes[: n + 1], amplitudes=tuple(amplitudes), real=reals[n],
            z_star=draw_noise(rng, shape), reconstruction_prev=np.zeros_like(reals[n]), channels=channels,
            inherit=inherits_weights(n, cfg.network), network=cfg.network, train=t, resampling=resampling,
            execution=executions[n],
        )
        backend.train_scale(job, rng, lambda i, losses: stamps.append(time.perf_counter()))
        # Up to the last iteration but one: the last makes the official BatchNorm-statistics pass
        # of the train-mode generator (its first call compiles it), once in a training run, at
        # iteration 0, where a run's compiles are.
        timed = max(args.timed - 1, 1)
        per_iter = (stamps[args.warmup - 1 + timed] - stamps[args.warmup - 1]) / timed
        model.amplitudes = tuple(amplitudes)
        shapes = plan.shapes[: n + 1]
        def sample():
            noises = random_noises(rng, shapes, coarsest_channels=grey)
            walk(model.generator, shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling)

        sample()  # compile
        began = time.perf_counter()
        for _ in range(3):
            sample()
        per_sample = (time.perf_counter() - began) / 3
        # The steps alone, without the host-side coarser path: time the compiled cells directly.
        d_step, g_step = step_times(backend, job, repeats=max(2, args.timed))
        f_g = conv_flops(shape, n, 3, cfg.network, padded=True)
        f_d = conv_flops(shape, n, 1, cfg.network, padded=False)
        # Critic step: fake, D on real/fake/mix, the penalty's double backward (about 13 D passes).
        # Generator steps with a reused fake: the first does fake + D + reconstruction passes, the
        # later ones only the reconstruction (forward and two backward: 3 G passes).
        if t.generator_fake == "reuse":
            g_flops = (6 * f_g + 3 * f_d) + (t.generator_steps - 1) * 3 * f_g
        elif t.generator_fake == "stale":  # the recorded fake and the critic's input gradient, then
            # per step a backward pass through the saved graph and the reconstruction's 3 passes
            g_flops = (f_g + 3 * f_d) + t.generator_steps * 5 * f_g
        else:
            g_flops = t.generator_steps * (6 * f_g + 3 * f_d)
        flops_iter = t.critic_steps * (f_g + 13 * f_d) + g_flops
        gflops = flops_iter / per_iter / 1e9
        row = {
            "scale": n, "shape": list(shape), "channels": channels, "execution": executions[n],
            "seconds_per_iteration": per_iter,
            "seconds_per_critic_step": d_step, "seconds_per_generator_step": g_step,
            "seconds_per_sample": per_sample, "gflop_per_iteration": flops_iter / 1e9, "gflops": gflops,
            "fraction_of_peak": gflops / peak, "peak_rss_mb": peak_rss_mb(),
        }
        rows.append(row)
        print(f"{n:>5} {shape[0]:>4}x{shape[1]:<4} {channels:>4} {executions[n]:>5} {per_iter:>8.3f} "
              f"{d_step:>7.3f} {g_step:>7.3f} "
              f"{per_sample:>9.4f} {gflops:>8.2f} {100 * gflops / peak:>6.1f}% {row['peak_rss_mb']:>7.0f}")
    total = sum(r["seconds_per_iteration"] for r in rows)
    full = sum(r["seconds_per_iteration"] for r in rows) * preset(args.preset).train.iterations
    print(f"peak memory: {max(r['peak_rss_mb'] for r in rows) / 1024:.2f} GB (at scale "
          f"{max(rows, key=lambda r: r['peak_rss_mb'])['scale']})")
    print(f"one iteration at every scale: {total:.2f} s; the preset's {preset(args.preset).train.iterations} "
          f"iterations a scale: about {full / 60:.1f} min of training (plus compiles)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "preset": args.preset, "image": args.image, "plan": plan.to_dict(), "matmul_peak_gflops": peak,
        "warmup": args.warmup, "timed": args.timed, "scales": rows,
        "estimated_training_minutes": full / 60,
    }, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def step_times(backend, job, *, repeats: int) -> tuple[float, float]:
    """Seconds per critic step and generator step at this scale (run as the scale's job says), on
    fresh cells."""
    from adapters.mindspore.device import execution
    from adapters.mindspore.networks import to_tensor
    from adapters.mindspore.steps import make_adam, make_critic_step, make_generator_steps
    from mindspore import Tensor

    cfg = job.train
    generator, critic = backend._new_cells(job.scale)  # noqa: SLF001  (a benchmark may look inside)
    from domain.networks import largest_conv_flops

    flops = largest_conv_flops(job.shape, job.scale, job.network)
    d = make_critic_step(critic, generator, make_adam(critic, cfg.lr_critic, cfg), cfg, execution=job.execution,
                         flops=flops)
    generator_execution = "eager" if job.execution in ("split", "eager") else "graph"
    g = make_generator_steps(generator, critic, make_adam(generator, cfg.lr_generator, cfg), cfg,
                             execution=generator_execution, flops=flops)
    x = to_tensor(job.real)
    alpha = Tensor(np.float32(0.5))
    timings = []
    # The generator's figure is one iteration's generator steps divided by their number.
    with execution(job.execution):
        for step, inputs, count in ((d, (x, x, x, alpha), 1), (g.run, (x, x, x, x, x), cfg.generator_steps)):
            step(*inputs)[0].asnumpy()  # compile
            began = time.perf_counter()
            for _ in range(repeats):
                step(*inputs)[0].asnumpy()
            timings.append((time.perf_counter() - began) / repeats / count)
    return timings[0], timings[1]


if __name__ == "__main__":
    sys.exit(main())

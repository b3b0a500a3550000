"""``MindSporePyramid``: the ``PyramidBackend`` port on MindSpore. Trains scales one at a time,
keeps the trained generators in inference mode and evaluates them for every use."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from mindspore import Tensor

from adapters.mindspore import checkpoints
from adapters.mindspore.conv import compiled_kernels
from adapters.mindspore.device import configure, execution
from adapters.mindspore.networks import (
    Critic,
    Generator,
    any_shape,
    copy_weights,
    initialise,
    named_parameters,
    normalise_by_hand,
    run_inference,
    to_tensor,
)
from adapters.mindspore.steps import (
    make_adam,
    make_critic_step,
    make_generator_steps,
    release_step_kernels,
    set_learning_rate,
)
from domain.config import NetworkConfig, TrainConfig
from domain.errors import NotAModel
from domain.networks import largest_conv_flops, layer_widths
from domain.noise import draw_noise, noise_channels
from domain.ports import IterationCallback, ScaleJob
from domain.pyramid import Shape
from domain.sampling import random_noises, walk


class LazyLosses(Mapping):
    """One iteration's losses as ``{name: float}``, each read from its tensor only when asked for:
    a read is a host-device sync, and the progress bar and the log look at one iteration in ten
    or fewer."""

    def __init__(self, tensors: dict[str, Tensor]):
        self._tensors = tensors
        self._values: dict[str, float] = {}

    def __getitem__(self, name: str) -> float:
        if name not in self._values:
            self._values[name] = float(self._tensors[name].asnumpy())
        return self._values[name]

    def __iter__(self):
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)


class MindSporePyramid:
    def __init__(self, network: NetworkConfig, *, device: str = "CPU"):
        configure(device)
        self.network = network
        self.generators: list[Generator] = []
        self.critics: list[Critic] = []  # kept for same-width scales to start from, and fine-tuning
        self._adam_state: dict[str, dict] = {}  # the last scale's optimizer states, for its checkpoint

    @property
    def num_trained(self) -> int:
        return len(self.generators)

    def generate(self, scale: int, x: np.ndarray, prev: np.ndarray) -> np.ndarray:
        return run_inference(self.generators[scale], x, prev)

    def _new_cells(self, scale: int, tag: str = "") -> tuple[Generator, Critic]:
        widths = layer_widths(scale, self.network)
        generator, critic = Generator(widths, self.network), Critic(widths, self.network)
        # Unique names per scale: graphs holding two scales' cells must not collide.
        generator.update_parameters_name(f"g{scale}{tag}.")
        critic.update_parameters_name(f"d{scale}{tag}.")
        return generator, critic

    def _critic_inputs(self, job: ScaleJob, rng: np.random.Generator, count: int) -> tuple[np.ndarray, list]:
        """For ``count`` critic steps: random samples of the coarser scales upsampled to this scale
        (zeros at the coarsest), (count, 3, H, W), and each step's mixing weight. Drawn in the
        official order (a step's coarser noises, then its weight) and walked as one batch: one
        generator call per coarser scale instead of one per step."""
        coarser = job.shapes[: job.scale]
        draws, alphas = [], []
        for _ in range(count):
            if coarser:
                draws.append(random_noises(rng, coarser, coarsest_channels=job.network.coarsest_noise_channels))
            alphas.append(Tensor(np.float32(rng.uniform())))
        if not coarser:
            return np.zeros((count, *job.real.shape), np.float32), alphas
        noises = [np.stack([d[n] for d in draws]) for n in range(len(coarser))]
        image = walk(self.generate, shapes=coarser, amplitudes=job.amplitudes, noises=noises, resampling=job.resampling)
        return job.resampling.up(image, job.shape), alphas

    def train_scale(self, job: ScaleJob, rng: np.random.Generator, on_iteration: IterationCallback) -> np.ndarray:
        if job.scale != self.num_trained:
            raise ValueError(f"scale {job.scale} cannot train before scales 0..{job.scale - 1}")
        init_rng, step_rng = rng.spawn(2)
        generator, critic = self._new_cells(job.scale)
        if job.inherit:
            copy_weights(self.generators[-1], generator)
            copy_weights(self.critics[-1], critic)
        else:
            initialise(generator, init_rng, bias_init=job.network.bias_init)
            initialise(critic, init_rng, bias_init=job.network.bias_init)
        self._adam_state, z_star = self._fit(generator, critic, job, step_rng, on_iteration)
        self.generators.append(generator)
        self.critics.append(critic)
        return z_star

    def finetune_scale(self, job: ScaleJob, rng: np.random.Generator, on_iteration: IterationCallback):
        """Train a copy of a trained scale further on ``job.real``; the model itself is unchanged.
        Returns a ``GeneratorFn`` that uses the copy at that scale and the originals elsewhere."""
        if not 0 < job.scale < self.num_trained:
            raise ValueError(f"only trained scales 1..{self.num_trained - 1} can be fine-tuned, not {job.scale}")
        generator, critic = self._new_cells(job.scale, tag="ft")
        copy_weights(self.generators[job.scale], generator)
        copy_weights(self.critics[job.scale], critic)
        self._fit(generator, critic, job, rng, on_iteration)

        def tuned(scale: int, x: np.ndarray, prev: np.ndarray) -> np.ndarray:
            return run_inference(generator if scale == job.scale else self.generators[scale], x, prev)

        return tuned

    def _fit(self, generator: Generator, critic: Critic, job: ScaleJob, rng, on_iteration) -> tuple[dict, np.ndarray]:
        """The training loop of one scale, run as ``job.execution`` says; leaves both cells in
        inference mode, returns Adam's state and the scale's z* (the last reconstruction noise it
        trained with)."""
        cfg: TrainConfig = job.train
        # Without the compiled BatchNorm, eager steps differentiate the critic twice through mean and
        # variance ops, not MindSpore's fused kernel (see ``networks.BatchNorm``); the values are the same.
        normalise_by_hand(critic, job.execution == "eager" and not compiled_kernels())
        # "split": the critic steps compiled (they hold least there), the generator steps op by op.
        generator_execution = "eager" if job.execution in ("split", "eager") else "graph"
        g_adam = make_adam(generator, cfg.lr_generator, cfg)
        d_adam = make_adam(critic, cfg.lr_critic, cfg)
        flops = largest_conv_flops(job.shape, job.scale, job.network)  # small scales: the step kernels
        critic_step = make_critic_step(critic, generator, d_adam, cfg, execution=job.execution, flops=flops)
        generator_steps = make_generator_steps(generator, critic, g_adam, cfg, execution=generator_execution,
                                               flops=flops)

        amplitude = job.amplitudes[job.scale]
        channels = noise_channels(job.scale, job.network.coarsest_noise_channels)
        real = to_tensor(job.real)
        rec_prev = to_tensor(job.reconstruction_prev)
        z_star = job.z_star
        # As the official code, the coarsest scale learns to reconstruct the image from a new z*
        # every iteration (and keeps the last); above it, the reconstruction noise is zero.
        redraw = job.scale == 0 and cfg.reconstruction_noise == "redraw"
        rec_x = to_tensor(amplitude * z_star + job.reconstruction_prev)
        with execution(job.execution):
            for iteration in range(cfg.iterations):
                if iteration == cfg.lr_milestone:
                    set_learning_rate(g_adam, cfg.lr_generator * cfg.lr_drop_factor)
                    set_learning_rate(d_adam, cfg.lr_critic * cfg.lr_drop_factor)
                if redraw:
                    z_star = draw_noise(rng, job.shape, channels)
                    rec_x = to_tensor(amplitude * z_star + job.reconstruction_prev)
                noise = draw_noise(rng, job.shape, channels)
                # As the official code: fresh coarser samples for every critic step; the noise at
                # this scale is drawn once per iteration.
                prevs, alphas = self._critic_inputs(job, rng, cfg.critic_steps)
                for prev, alpha in zip(prevs, alphas):
                    x, prev_t = to_tensor(amplitude * noise + prev), to_tensor(prev)
                    d_loss, (d_real, d_fake, penalty) = critic_step(real, x, prev_t, alpha)
                with execution(generator_execution):
                    g_loss, adversarial, reconstruction = generator_steps.run(real, x, prev_t, rec_x, rec_prev)
                if iteration % 500 == 0 or iteration == cfg.iterations - 1:
                    # The official code saves G(z*) at these iterations with the generator still
                    # in train mode: one more reconstruction pass that its BatchNorm statistics
                    # see, the last thing they see before sampling.
                    generator(rec_x, rec_prev)
                losses = {"critic": d_loss, "d_real": d_real, "d_fake": d_fake, "penalty": penalty,
                          "generator": g_loss, "adversarial": adversarial, "reconstruction": reconstruction}
                on_iteration(iteration, LazyLosses(losses))
        release_step_kernels()
        generator.set_train(False)
        critic.set_train(False)
        any_shape(generator)
        adam = {
            "generator_adam": checkpoints.adam_state(g_adam, generator),
            "critic_adam": checkpoints.adam_state(d_adam, critic),
        }
        return adam, np.asarray(z_star, np.float32)

    def save_scale(self, scale: int, path: str, *, z_star: np.ndarray, amplitude: float) -> None:
        if scale != self.num_trained - 1:
            raise ValueError(f"only the last trained scale ({self.num_trained - 1}) can be saved, not {scale}")
        checkpoints.save(
            path,
            {
                "generator": named_parameters(self.generators[scale]),
                "critic": named_parameters(self.critics[scale]),
                **self._adam_state,
                "scale": {"z_star": z_star, "amplitude": np.float32(amplitude)},
            },
        )

    def load_scale(self, scale: int, path: str, *, shape: Shape) -> tuple[np.ndarray, float]:
        if scale != self.num_trained:
            raise ValueError(f"scale {scale} cannot load before scales 0..{scale - 1}")
        groups = checkpoints.load(path)
        for group in ("generator", "critic", "scale"):
            if group not in groups:
                raise NotAModel(f"checkpoint {path} has no {group} weights")
        generator, critic = self._new_cells(scale)
        checkpoints.restore(generator, groups["generator"], what=f"{path} (generator)")
        checkpoints.restore(critic, groups["critic"], what=f"{path} (critic)")
        z_star = groups["scale"].get("z_star")
        amplitude = groups["scale"].get("amplitude")
        if z_star is None or amplitude is None or z_star.shape[-2:] != tuple(shape):
            raise NotAModel(f"checkpoint {path} lacks z* or the noise amplitude for a {shape} scale")
        generator.set_train(False)
        critic.set_train(False)
        any_shape(generator)
        self.generators.append(generator)
        self.critics.append(critic)
        return z_star.astype(np.float32), float(amplitude)


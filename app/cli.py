"""The command line: ``python -m app train|generate ...`` (``--help`` on each).

Errors a user can cause print one line to stderr and exit with status 2; Ctrl-C during training
exits with 130 and says how to resume.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any, Sequence

from domain.config import PRESETS, SinGANConfig, preset
from domain.errors import SinGANError

DEFAULT_IMAGE = "assets/hubble_deep_field.png"


def default_image() -> str:
    return str(files("app") / DEFAULT_IMAGE)


def _parse_override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set expects section.field=value, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def build_config(args: argparse.Namespace) -> SinGANConfig:
    overrides: dict[str, Any] = dict(args.set or [])
    for flag, key in (
        ("max_size", "pyramid.max_size"),
        ("min_size", "pyramid.min_size"),
        ("iterations", "train.iterations"),
        ("seed", "train.seed"),
        ("loss", "train.loss"),
    ):
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    return preset(args.preset).with_overrides(overrides)


def _print_plan(config: SinGANConfig, image_shape, source: str) -> None:
    from domain.networks import channels_at, inherits_weights
    from domain.pyramid import plan_pyramid

    plan = plan_pyramid(image_shape, config.pyramid)
    t = config.train
    print(f"image {source}: {image_shape[0]}x{image_shape[1]} px -> {plan.finest_shape[0]}x{plan.finest_shape[1]}")
    print(f"{plan.num_scales} scales, factor {plan.factor:.4f}; {t.iterations} iterations a scale, "
          f"{t.critic_steps} critic + {t.generator_steps} generator steps, loss {t.loss}, seed {t.seed}")
    print(f"{'scale':>5}  {'H x W':>9}  {'channels':>8}  starts from")
    for n, shape in enumerate(plan.shapes):
        origin = f"scale {n - 1}" if inherits_weights(n, config.network) else "random init"
        print(f"{n:>5}  {shape[0]:>4}x{shape[1]:<4}  {channels_at(n, config.network):>8}  {origin}")


def cmd_train(args: argparse.Namespace) -> int:
    from app import training

    if args.resume:
        if args.image is not None:
            raise SinGANError("give either an image or --resume RUN, not both")
        model = training.resume(args.resume, progress=not args.quiet, device=args.device)
    else:
        config = build_config(args)
        image = args.image or default_image()
        if args.dry_run:
            from app.bootstrap import images

            _print_plan(config, images().load(image).shape[:2], image)
            return 0
        model = training.train(image, config, out=args.out, progress=not args.quiet, device=args.device)
    print(f"model: {model.run_dir}")
    print(f"samples: {Path(model.run_dir) / 'samples'}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from adapters.runs import new_output_dir
    from app.bootstrap import images
    from app.generation import generate, new_seed
    from app.training import load

    model = load(args.run, device=args.device)
    seed = new_seed() if args.seed is None else args.seed
    samples = generate(
        model, args.num, seed=seed, scale_h=args.scale_h, scale_v=args.scale_v, start_scale=args.start_scale
    )
    name = f"samples_seed{seed}_start{args.start_scale}_v{args.scale_v:g}_h{args.scale_h:g}"
    folder = new_output_dir(args.out or Path(args.run) / "generated", name)
    store = images()
    for k, sample in enumerate(samples):
        store.save(str(folder / f"{k:03d}.png"), sample)
    print(f"{len(samples)} samples in {folder}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="SinGAN on MindSpore: one image, many samples.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a model on one image",
        description="Train a SinGAN on one image into a new numbered run folder under --out.",
    )
    train.add_argument("image", nargs="?", help="training image (default: the embedded Hubble deep field)")
    train.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="recipe (default: quick)")
    train.add_argument("--max-size", type=int, help="finest long side in px (preset: quick 96, paper 250)")
    train.add_argument("--min-size", type=int, help="coarsest short side in px (default 25)")
    train.add_argument("--iterations", type=int, help="iterations per scale (preset: quick 200, paper 2000)")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--loss", choices=["wgan-gp", "zero-gp", "lsgan"], help="adversarial loss (default wgan-gp)")
    train.add_argument(
        "--set", action="append", type=_parse_override, metavar="SECTION.FIELD=VALUE",
        help="any config field, e.g. --set network.max_channels=64 (repeatable)",
    )
    train.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    train.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its last completed scale")
    train.add_argument("--dry-run", action="store_true", help="print the pyramid plan and exit")
    train.add_argument("--device", default="CPU", choices=["CPU", "GPU", "Ascend"], help="(default: CPU)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=cmd_train)

    gen = commands.add_parser(
        "generate",
        help="draw random samples from a trained model",
        description="Write random samples of a trained run into a new folder (RUN/generated/... by default).",
    )
    gen.add_argument("run", help="a finished run folder")
    gen.add_argument("-n", "--num", type=int, default=8, help="number of samples (default 8)")
    gen.add_argument("--seed", type=int, help="random seed (default: a fresh one, written in the folder name)")
    gen.add_argument("--scale-h", type=float, default=1.0, help="output width / training width (default 1)")
    gen.add_argument("--scale-v", type=float, default=1.0, help="output height / training height (default 1)")
    gen.add_argument(
        "--start-scale", type=int, default=0,
        help="scales below follow the reconstruction; noise enters here (default 0: fully random)",
    )
    gen.add_argument("--out", help="parent folder for the output folder (default: RUN/generated)")
    gen.add_argument("--device", default="CPU", choices=["CPU", "GPU", "Ascend"], help="(default: CPU)")
    gen.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except SinGANError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(str(exc) or "interrupted", file=sys.stderr)
        return 130

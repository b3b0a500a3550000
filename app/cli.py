"""The command line: ``python -m app COMMAND ...`` (``python -m app --help`` lists the commands,
``--help`` on each explains it).

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


def _print_plan(config: SinGANConfig, image_shape, source: str, args: argparse.Namespace) -> None:
    from domain.networks import inherits_weights, layer_widths
    from domain.pyramid import plan_pyramid

    plan = plan_pyramid(image_shape, config.pyramid)
    t = config.train
    print(f"image {source}: {image_shape[0]}x{image_shape[1]} px -> {plan.finest_shape[0]}x{plan.finest_shape[1]}")
    print(f"{plan.num_scales} scales, factor {plan.factor:.4f}; {t.iterations} iterations a scale, "
          f"{t.critic_steps} critic + {t.generator_steps} generator steps, loss {t.loss}, seed {t.seed}")
    print(f"{'scale':>5}  {'H x W':>9}  {'layer widths':>16}  starts from")
    for n, shape in enumerate(plan.shapes):
        origin = f"scale {n - 1}" if inherits_weights(n, config.network) else "random init"
        widths = "-".join(str(w) for w in layer_widths(n, config.network))
        print(f"{n:>5}  {shape[0]:>4}x{shape[1]:<4}  {widths:>16}  {origin}")
    from app.training import memory_plan
    from domain.memory import InsufficientMemory, format_gb

    try:
        memory = memory_plan(plan, config, device=args.device, limit=args.memory_limit)
    except InsufficientMemory as exc:  # the plan is shown either way; other errors end the command
        print(f"memory: {exc}")
    else:
        described = memory.describe()
        how = f"; {described} (op by op: less memory, slower)" if described else ""
        if memory.need is not None:
            print(f"memory: about {format_gb(memory.need)} at the peak (estimated; fits){how}")
        elif how:
            print(f"memory: not estimated on {args.device}{how}")
    from app.bootstrap import convolutions

    print(f"convolutions: {convolutions()}")


def cmd_train(args: argparse.Namespace) -> int:
    from app import training

    if args.resume:
        clashing = [flag for flag, value in (
            ("an image", args.image), ("--dry-run", args.dry_run), ("--out", args.out != "runs"),
        ) if value] + _config_flags_given(args)
        if clashing:
            raise SinGANError(f"--resume continues a run with its own settings; drop {', '.join(clashing)}")
        model = training.resume(args.resume, progress=not args.quiet, device=args.device, **_memory(args))
    else:
        config = build_config(args)
        image = args.image or default_image()
        if args.dry_run:
            from app.bootstrap import images

            _print_plan(config, images().load(image).shape[:2], image, args)
            return 0
        model = training.train(image, config, out=args.out, progress=not args.quiet, device=args.device,
                               **_memory(args))
    print(f"model: {model.run_dir}")
    print(f"samples: {Path(model.run_dir) / 'samples'}")
    return 0


def _folder_shard(args: argparse.Namespace):
    """This process's Shard, from msrun or from the flags; None for msrun's own scheduler process."""
    from app.bootstrap import launcher_shard
    from domain.collection import Shard

    by_hand = args.shard_index is not None or args.num_shards is not None
    if by_hand and (args.shard_index is None or args.num_shards is None):
        raise SinGANError("--shard-index and --num-shards go together")
    if by_hand:
        shard = Shard(index=args.shard_index, count=args.num_shards)
    launched = launcher_shard(args.device)
    if launched is False:
        return shard if by_hand else Shard()
    if by_hand:
        raise SinGANError("under msrun the launcher gives each worker its share; drop --shard-index/--num-shards")
    return launched


def _print_folder_plan(args: argparse.Namespace, config: SinGANConfig | None, names: list[str]) -> int:
    """--dry-run: which worker takes which file, and whether the collection folder would be
    accepted; writes nothing."""
    from adapters.collection import CollectionFolder, NotACollection
    from app.collection import default_out
    from domain.collection import Shard

    if args.shard_index is not None and args.num_shards is None:
        raise SinGANError("--shard-index needs --num-shards")
    folder = CollectionFolder(args.out or default_out(args.dir))
    stored = folder.check(config.to_dict()) if config is not None else folder.stored()
    if args.resume and stored is None:
        raise NotACollection(f"{folder.path} is not a collection to resume (it has no collection.json)")
    count = args.num_shards or 1
    print(f"{len(names)} files in {args.dir} -> {folder.path} ({'continues' if stored else 'new'}), {count} workers")
    for position, name in enumerate(names):
        owner = Shard(index=position % count, count=count)
        if args.shard_index is None or args.shard_index == owner.index:
            print(f"  {owner.name}  {name}")
    return 0


def cmd_train_folder(args: argparse.Namespace) -> int:
    from app.collection import check_folder, default_out, train_folder
    from domain.collection import FAILED, counts

    if args.resume:
        clashing = _config_flags_given(args)
        if clashing:
            raise SinGANError(f"--resume continues a collection with its own config; drop {', '.join(clashing)}")
        config = None
    else:
        config = build_config(args)
    names = check_folder(args.dir)  # every process (msrun's scheduler too) fails at once on a bad folder
    if args.dry_run:
        return _print_folder_plan(args, config, names)
    shard = _folder_shard(args)
    if shard is None:
        return 0  # msrun's scheduler: it has served the workers and does no training itself
    out = args.out or default_out(args.dir)
    states = train_folder(args.dir, config, out=out, shard=shard, resume=args.resume,
                          progress=not args.quiet, device=args.device, **_memory(args))
    tally = counts(states, len(names))
    print(f"collection: {out} ({', '.join(f'{v} {k}' for k, v in tally.items() if v)}); "
          f"report: {Path(out) / 'index.html'}")
    mine = [states.get(n, {}) for n in shard.take(names)]
    failed = [s for s in mine if s.get("status") == FAILED]
    if failed:
        print(f"{len(failed)} of this worker's images failed (reasons in {Path(out) / 'manifest.json'})", file=sys.stderr)
    from app.bootstrap import launched_by_msrun

    # Under msrun a worker that exits non-zero makes msrun stop every other worker mid-image.
    return 1 if failed and not launched_by_msrun() else 0


def cmd_generate(args: argparse.Namespace) -> int:
    from adapters.runs import new_output_dir
    from app.bootstrap import images
    from app.generation import generate
    from app.training import load

    model = load(args.run, device=args.device)
    seed = _seed(args)
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


def _output_folder(args, kind: str) -> Path:
    return Path(args.out) if args.out else Path(args.run) / kind


def _save_new(folder: Path, stem: str, image) -> Path:
    from adapters.runs import new_output_file
    from app.bootstrap import images

    path = new_output_file(folder, stem, ".png")
    images().save(str(path), image)
    return path


def _seed(args) -> int:
    from app.generation import new_seed
    from domain.sampling import check_seed

    return new_seed() if check_seed(args.seed) is None else args.seed


def _loaded_with_start(args):
    """The run's model, a seed and the injection scale (the middle one unless given)."""
    from app import applications
    from app.training import load

    model = load(args.run, device=args.device)
    start = applications.default_injection_scale(model) if args.start_scale is None else args.start_scale
    return model, _seed(args), start


def cmd_animate(args: argparse.Namespace) -> int:
    from app.applications import animate
    from app.training import load

    model = load(args.run, device=args.device)
    path = animate(
        model, frames=args.frames, fps=args.fps, start_scale=args.start_scale, alpha=args.alpha, beta=args.beta,
        seed=_seed(args), out=_output_folder(args, "animations"),
    )
    print(f"animation: {path}")
    return 0


def _cmd_injection(args: argparse.Namespace, kind: str) -> int:
    from app import applications

    model, seed, start = _loaded_with_start(args)
    function = {"harmonized": applications.harmonize, "edited": applications.edit}[kind]
    result = function(model, args.image, args.mask, start_scale=start, seed=seed)
    stem = f"{kind}_{Path(args.image).stem}_start{start}_seed{seed}"
    print(f"{kind}: {_save_new(_output_folder(args, kind), stem, result)}")
    return 0


def cmd_harmonize(args: argparse.Namespace) -> int:
    return _cmd_injection(args, "harmonized")


def cmd_edit(args: argparse.Namespace) -> int:
    return _cmd_injection(args, "edited")


def cmd_paint(args: argparse.Namespace) -> int:
    from app import applications

    if args.finetune_iterations is not None and not args.quantize:
        raise SinGANError("--finetune-iterations only applies with --quantize")
    model, seed, start = _loaded_with_start(args)
    result = applications.paint_to_image(
        model, args.image, start_scale=start, quantize_colours=args.quantize, seed=seed,
        finetune_iterations=args.finetune_iterations, progress=not args.quiet,
    )
    stem = f"painted_{Path(args.image).stem}_start{start}{'_quantized' if args.quantize else ''}_seed{seed}"
    print(f"painted: {_save_new(_output_folder(args, 'painted'), stem, result)}")
    return 0


def cmd_sr(args: argparse.Namespace) -> int:
    from app.applications import super_resolve_into

    config = build_config(args)
    _, path = super_resolve_into(
        args.image, factor=args.factor, config=config, out=args.out, seed=_seed(args), progress=not args.quiet,
        device=args.device,
    )
    print(f"super-resolution: {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from app.evaluation import evaluate, format_metrics, report
    from app.training import load

    metrics = evaluate(load(args.run, device=args.device), args.num, seed=args.seed)
    print(format_metrics(metrics))
    print(f"metrics: {Path(args.run) / 'metrics.json'}; report: {report(args.run)}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from app.comparison import COMPARE_FILE, compare, format_comparison
    from app.evaluation import report
    from app.training import load

    result = compare(load(args.run, device=args.device), *args.folders, n=args.num, seed=args.seed)
    print(format_comparison(result))
    print(f"comparison: {Path(args.run) / COMPARE_FILE}; report: {report(args.run)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from app.evaluation import report

    print(f"report: {report(args.run)}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app", description="SinGAN on MindSpore: one image, many samples.",
        epilog="environment: SINGAN_CONV=auto|onednn|mindspore picks the convolutions, BatchNorm and "
               "LeakyReLU kernels (auto: oneDNN's and ours, compiled for this machine with g++, else "
               "MindSpore's); SINGAN_CACHE_DIR holds the compiled library (default ~/.cache/singan-mindspore); "
               "SINGAN_CONV_SERIAL_MFLOP (default 30) runs smaller convolutions in one thread; "
               "SINGAN_NATIVE_STEPS_MFLOP (default 2000, 0 for none) trains scales whose largest convolution "
               "is smaller on the step kernels; "
               "SINGAN_CONV_LAYOUT=f,d,w (each nchw, nhwc or any) overrides the activation layouts the "
               "convolutions run on (default: the fastest measured for the CPU's vectors)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a model on one image",
        description="Train a SinGAN on one image into a new numbered run folder under --out.",
    )
    train.add_argument("image", nargs="?", help="training image (default: the embedded Hubble deep field)")
    _config_flags(train)
    train.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    train.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its last completed scale")
    train.add_argument("--dry-run", action="store_true", help="print the pyramid plan and its memory, and exit")
    _memory_flags(train)
    _device(train)
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=cmd_train)

    folder = commands.add_parser(
        "train-folder",
        help="train one model per image of a folder, optionally sharded over workers",
        description="Train every image of DIR (sorted; files that are not images, or too small, are "
        "skipped with their reason) into its own run folder under one collection folder, with a merged "
        "manifest.json and an index.html. Rerunning the same command continues: finished images are "
        "skipped, interrupted ones resume from their last completed scale. Under msrun every worker "
        "takes its share (the files whose position modulo the number of workers is its rank) from the "
        "launcher; elsewhere give --shard-index and --num-shards (Slurm arrays, other schedulers).",
    )
    folder.add_argument("dir", help="folder of images")
    _config_flags(folder)
    folder.add_argument("--out", help="collection folder (default: runs/collections/<DIR's name>)")
    folder.add_argument("--resume", action="store_true",
                        help="continue the collection with the config it was made with (no config flags)")
    folder.add_argument("--shard-index", type=int, help="this worker's share, 0..num-shards-1 (not under msrun)")
    folder.add_argument("--num-shards", type=int, help="how many workers share the folder (not under msrun)")
    _device(folder)
    _memory_flags(folder)
    folder.add_argument("--dry-run", action="store_true",
                        help="print which worker takes which file, check the collection folder, and exit")
    folder.add_argument("--quiet", action="store_true", help="no line per finished image")
    folder.set_defaults(func=cmd_train_folder)

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
    _device(gen)
    gen.set_defaults(func=cmd_generate)

    anim = commands.add_parser(
        "animate",
        help="write a looping GIF of a random walk around the reconstruction",
        description="Every scale from --start-scale walks around its reconstruction noise: "
        "z_k = alpha * anchor + (1 - alpha) * (z_k-1 + beta * (z_k-1 - z_k-2) + (1 - beta) * noise).",
    )
    anim.add_argument("run", help="a finished run folder")
    anim.add_argument("--frames", type=int, default=32, help="number of frames (default 32)")
    anim.add_argument("--fps", type=float, default=10.0, help="frames per second (default 10)")
    anim.add_argument("--start-scale", type=int, default=0, help="scales below stay on the reconstruction (default 0)")
    anim.add_argument("--alpha", type=float, default=0.1, help="pull towards the reconstruction, 0..1 (default 0.1)")
    anim.add_argument("--beta", type=float, default=0.9, help="momentum of the walk, 0..1 (default 0.9)")
    _common(anim, "animations")
    anim.set_defaults(func=cmd_animate)

    for name, kind, func, what in (
        ("harmonize", "harmonized", cmd_harmonize, "a composite (an object pasted into a training-like image)"),
        ("edit", "edited", cmd_edit, "a crudely edited copy of the training image"),
    ):
        sub = commands.add_parser(
            name,
            help={"harmonize": "give a pasted object the image's style", "edit": "make a crude edit seamless"}[name],
            description=f"Inject {what} at --start-scale and regenerate the masked region; pixels away from "
            "the (dilated, feathered) mask keep the input's values.",
        )
        sub.add_argument("run", help="a finished run folder")
        sub.add_argument("image", help=f"{what}, with the training image's aspect")
        sub.add_argument("mask", nargs="?", help="white where to regenerate (default: where it differs from the "
                         "training image)")
        sub.add_argument("--start-scale", type=int, help="injection scale, >= 1 (default: the middle scale)")
        _common(sub, kind)
        sub.set_defaults(func=func)

    paint = commands.add_parser(
        "paint", help="turn a flat-colour painting into a realistic image",
        description="Inject a painting (the training image's aspect) at --start-scale.",
    )
    paint.add_argument("run", help="a finished run folder")
    paint.add_argument("image", help="the painting")
    paint.add_argument("--start-scale", type=int, help="injection scale, >= 1 (default: the middle scale)")
    paint.add_argument("--quantize", action="store_true",
                       help="map to a 5-colour palette of the training image and fine-tune the injection scale on it")
    paint.add_argument("--finetune-iterations", type=int, help="with --quantize (default: the model's iterations)")
    paint.add_argument("--quiet", action="store_true", help="no progress bar while fine-tuning")
    _common(paint, "painted")
    paint.set_defaults(func=cmd_paint)

    sr = commands.add_parser(
        "sr", help="super-resolution: train on a low-resolution image and enlarge it",
        description="Train on IMAGE with the paper's SR settings (the whole image, 3 scales an octave, an 18 px "
        "coarsest side, reconstruction weight 100), then enlarge by --factor with the finest generator.",
    )
    sr.add_argument("image", help="the low-resolution image")
    sr.add_argument("--factor", type=float, default=4.0, help="enlargement (default 4)")
    sr.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="recipe (default: quick)")
    sr.add_argument("--iterations", type=int, help="iterations per scale")
    sr.add_argument("--set", action="append", type=_parse_override, metavar="SECTION.FIELD=VALUE",
                    help="a config field (repeatable); the SR settings above override max_size, min_size, "
                    "scale_factor and reconstruction_weight")
    sr.add_argument("--out", default="runs", help="folder for the run folder (default: runs)")
    sr.add_argument("--seed", type=int, help="random seed for training and enlarging")
    sr.add_argument("--quiet", action="store_true", help="no progress bars")
    _device(sr)
    sr.set_defaults(func=cmd_sr, max_size=None, min_size=None, loss=None)

    ev = commands.add_parser(
        "eval", help="measure a model: patch distance (SWD), diversity, reconstruction error",
        description="Draw samples, compute the metrics of domain/metrics.py, print a table, write "
        "RUN/metrics.json (earlier results kept under history) and refresh RUN/report.html.",
    )
    ev.add_argument("run", help="a finished run folder")
    ev.add_argument("-n", "--num", type=int, default=50, help="number of samples (default 50)")
    ev.add_argument("--seed", type=int, default=0, help="random seed of the samples (default 0)")
    _device(ev)
    ev.set_defaults(func=cmd_eval)

    cmp_ = commands.add_parser(
        "compare", help="score the run's samples and other folders of images against its training image",
        description="Draw the run's own samples and read every image in each FOLDER (another "
        "implementation's samples, say), score them all against the run's training image with the "
        "metrics of domain/metrics.py (patch SWD, diversity), print a table, write RUN/compare.json and "
        "refresh RUN/report.html. Images of another size are resized to the training image's, and "
        "the table says so.",
    )
    cmp_.add_argument("run", help="a finished run folder")
    cmp_.add_argument("folders", nargs="*", metavar="FOLDER", help="folders of images to score beside the run's")
    cmp_.add_argument("-n", "--num", type=int, default=50, help="number of the run's own samples (default 50)")
    cmp_.add_argument("--seed", type=int, default=0, help="random seed of the run's samples (default 0)")
    _device(cmp_)
    cmp_.set_defaults(func=cmd_compare)

    rep = commands.add_parser(
        "report", help="write RUN/report.html", description="Write the run's visual report, report.html "
        "(relative links only): images per scale, samples, loss curves, noise amplitudes, times, metrics.",
    )
    rep.add_argument("run", help="a run folder (finished or not)")
    rep.set_defaults(func=cmd_report)
    return parser


def _memory_flags(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--memory-limit", type=_size, metavar="SIZE",
                     help="memory budget, e.g. 8GB (default: what is available): checked before training, and "
                          "scales whose compiled steps would not fit run op by op (train.execution=auto)")
    sub.add_argument("--skip-memory-check", action="store_true",
                     help="train even when the estimate says the plan does not fit")


def _size(text: str) -> int:
    from domain.memory import parse_size

    try:
        return parse_size(text)
    except SinGANError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _memory(args: argparse.Namespace) -> dict:
    return {"memory_limit": args.memory_limit, "skip_memory_check": args.skip_memory_check}


def _config_flags_given(args: argparse.Namespace) -> list[str]:
    """The config flags of ``_config_flags`` the user gave (they clash with a resume)."""
    return [flag for flag, value in (
        ("--max-size", args.max_size), ("--min-size", args.min_size), ("--iterations", args.iterations),
        ("--seed", args.seed), ("--loss", args.loss), ("--set", args.set), ("--preset", args.preset != "quick"),
    ) if value]


def _config_flags(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="recipe (default: quick)")
    sub.add_argument("--max-size", type=int, help="finest long side in px (preset: quick 96, paper 250)")
    sub.add_argument("--min-size", type=int, help="coarsest short side in px (default 25)")
    sub.add_argument("--iterations", type=int, help="iterations per scale (preset: quick 200, paper 2000)")
    sub.add_argument("--seed", type=int, help="random seed (default 0)")
    sub.add_argument("--loss", choices=["wgan-gp", "zero-gp", "lsgan"], help="adversarial loss (default wgan-gp)")
    sub.add_argument(
        "--set", action="append", type=_parse_override, metavar="SECTION.FIELD=VALUE",
        help="any config field, e.g. --set network.max_channels=64 (repeatable)",
    )


def _device(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--device", default="CPU", choices=["CPU", "GPU", "Ascend"], help="(default: CPU; only CPU is tested)")


def _common(sub: argparse.ArgumentParser, kind: str) -> None:
    sub.add_argument("--seed", type=int, help="random seed (default: a fresh one, written in the file name)")
    sub.add_argument("--out", help=f"folder for the output (default: RUN/{kind})")
    _device(sub)


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

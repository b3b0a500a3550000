"""The convolutions SinGAN's networks run on: oneDNN's own kernels, compiled for this machine
from ``kernels/conv.cc`` (the default), or MindSpore's ``nn.Conv2d``.

Why two. MindSpore 2.10 hands oneDNN its convolutions with plain weights; on an AVX-512 CPU oneDNN
then has only a reference kernel for them (about 100x slower), so MindSpore's convolutions need
oneDNN capped at AVX2 (``ONEDNN_MAX_CPU_ISA``), where they run as im2col and gemm with a workspace
kept per graph node. ``kernels/conv.cc`` asks oneDNN for the same convolutions with weights in
oneDNN's preferred layout, and the activations reordered into the layout that is fastest on the
CPU (``SINGAN_CONV_LAYOUT``): it then picks its fastest kernels for the widest vectors the CPU has,
and all the convolutions share a few small scratch buffers.

The choice is made once per process, before MindSpore loads (it decides the oneDNN cap):
``SINGAN_CONV=auto`` (the default) builds the library if it can (a C++17 compiler, ``CXX`` or
g++, and the oneDNN headers of the ``onednn-devel`` package) and falls back to MindSpore's
convolutions if not; ``onednn`` insists; ``mindspore`` never builds. The library is cached under
``SINGAN_CACHE_DIR`` (default ``~/.cache/singan-mindspore``), keyed by its source, the compiler,
MindSpore's oneDNN and the CPU (it is compiled for the CPU it runs on), so it is compiled once per
machine kind (a few seconds).

No MindSpore import here: this runs before MindSpore loads.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import subprocess
import sysconfig
import tempfile
from pathlib import Path

import attrs

from domain.errors import ConfigError

CONV_BACKENDS = ("auto", "onednn", "mindspore")
LAYOUTS = ("nchw", "nhwc", "any")  # SINGAN_CONV_LAYOUT's values, read by kernels/conv.cc
# The convolutions, and the training-mode BatchNorm and the LeakyReLU the same networks use (plain
# C++ and OpenMP).
SOURCES = tuple(Path(__file__).with_name("kernels") / name for name in ("conv.cc", "batchnorm.cc", "activation.cc", "steps.cc", "shapes.cc"))
DNNL_LIBRARY = "libdnnl.so.3"  # MindSpore's own oneDNN (3.10 in MindSpore 2.10); the headers are 3.9, ABI-compatible


@attrs.frozen(kw_only=True)
class ConvChoice:
    """Which convolutions run, the compiled library if oneDNN's, and why (for messages)."""

    backend: str  # "onednn" or "mindspore"
    library: Path | None
    note: str


def choose(requested: str, library: Path | None, failure: str) -> ConvChoice:
    """The rule: ``auto`` takes the library when it was built; ``onednn`` without one is an error."""
    if requested not in CONV_BACKENDS:
        raise ConfigError(f"SINGAN_CONV must be one of {', '.join(CONV_BACKENDS)}, got {requested!r}")
    if requested == "mindspore":
        return ConvChoice(backend="mindspore", library=None, note="MindSpore's convolutions (SINGAN_CONV=mindspore)")
    if library is not None:
        return ConvChoice(backend="onednn", library=library, note=f"oneDNN convolutions built for this machine ({library})")
    if requested == "onednn":
        raise ConfigError(f"SINGAN_CONV=onednn, but the oneDNN convolutions could not be built: {failure}")
    return ConvChoice(backend="mindspore", library=None, note=f"MindSpore's convolutions (the oneDNN ones could not be built: {failure})")


def check_tuning(environ) -> None:
    """The compiled kernels' tuning variables, which ``kernels/conv.cc`` and ``kernels/steps.cc``
    read as given: ``SINGAN_CONV_SERIAL_MFLOP`` a number of MFLOP (below it, a convolution runs in
    the calling thread), ``SINGAN_NATIVE_STEPS_MFLOP`` one too (scales whose largest conv is below
    it train on the step kernels, ``steps.native_below``), and ``SINGAN_CONV_LAYOUT`` three
    activation layouts (forward, backward data, backward weights), each nchw, nhwc or any
    (oneDNN's choice)."""
    for name in ("SINGAN_CONV_SERIAL_MFLOP", "SINGAN_NATIVE_STEPS_MFLOP"):
        value = environ.get(name)
        if value is not None:
            try:
                ok = float(value) >= 0
            except ValueError:
                ok = False
            if not ok:
                raise ConfigError(f"{name} must be a number of MFLOP, 0 or more, got {value!r}")
    layout = environ.get("SINGAN_CONV_LAYOUT")
    if layout is not None:
        parts = layout.split(",")
        if len(parts) != 3 or any(part not in LAYOUTS for part in parts):
            raise ConfigError("SINGAN_CONV_LAYOUT must be three of nchw, nhwc, any (forward, backward data, "
                              f"backward weights), e.g. any,any,nchw; got {layout!r}")


@functools.cache
def conv_choice() -> ConvChoice:
    """The process's choice (cached: MindSpore reads the oneDNN cap once, at load)."""
    requested = os.environ.get("SINGAN_CONV", "auto").strip().lower() or "auto"
    if requested == "mindspore":
        return choose(requested, None, "")
    check_tuning(os.environ)
    library, failure = build_library()
    return choose(requested, library, failure)


def mindspore_library_dir() -> Path | None:
    spec = importlib.util.find_spec("mindspore")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def onednn_include_dir() -> Path | None:
    include = Path(sysconfig.get_paths()["data"]) / "include"
    return include if (include / "oneapi" / "dnnl" / "dnnl.h").is_file() else None


def cache_dir() -> Path:
    if "SINGAN_CACHE_DIR" in os.environ:
        return Path(os.environ["SINGAN_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "singan-mindspore"


def cpu_signature() -> str:
    """The CPU's model and instruction-set flags: the library is compiled for this CPU
    (``-march=native``), so a cache shared between machines keeps one build per CPU kind."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        import platform

        return f"{platform.machine()} {platform.processor()}"
    wanted = ("model name", "flags", "Features", "CPU part")
    return "\n".join(dict.fromkeys(line for line in lines if line.split(":")[0].strip() in wanted))


def compile_command(compiler: str, sources, output: Path, include: Path, lib_dir: Path) -> list[str]:
    # -march=native: the element-wise kernels vectorise with the CPU's widest registers (their loops
    # are written without selects, which GCC 12 leaves as branches unless AVX-512 is there).
    return [compiler, "-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-fopenmp", f"-I{include}", *map(str, sources),
            "-o", str(output), f"-L{lib_dir}", f"-l:{DNNL_LIBRARY}", f"-Wl,-rpath,{lib_dir}"]


def build_library() -> tuple[Path | None, str]:
    """The compiled library, built if not cached; or None and the reason it could not be."""
    lib_dir, include = mindspore_library_dir(), onednn_include_dir()
    if lib_dir is None or not (lib_dir / DNNL_LIBRARY).is_file():
        return None, f"MindSpore's {DNNL_LIBRARY} was not found"
    if include is None:
        return None, "the oneDNN headers were not found (pip install onednn-devel)"
    compiler = os.environ.get("CXX", "g++")
    dnnl = (lib_dir / DNNL_LIBRARY).stat()
    key = hashlib.sha256()
    for part in (*(source.read_bytes() for source in SOURCES), compiler.encode(), cpu_signature().encode(),
                 f"{dnnl.st_size}:{dnnl.st_mtime_ns}".encode(),
                 " ".join(compile_command(compiler, [s.name for s in SOURCES], Path("out"), include, lib_dir)).encode()):
        key.update(part)
    target = cache_dir() / f"singan-conv-{key.hexdigest()[:16]}.so"
    if target.is_file():
        return target, ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(suffix=".so.partial", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        return None, f"cannot write {target.parent}: {exc}"
    partial = Path(name)
    try:
        done = subprocess.run(compile_command(compiler, SOURCES, partial, include, lib_dir),
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            return None, f"{compiler} failed: {last}"
        os.replace(partial, target)  # atomic: concurrent workers each build, one file wins
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{compiler} could not run: {exc}"
    finally:
        partial.unlink(missing_ok=True)
    return target, ""


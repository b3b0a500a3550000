"""The run report: ``report.html`` with relative links only, loss plots drawn by matplotlib."""
from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path

from adapters.runs import RunFolder
from domain.config import NetworkConfig
from domain.networks import channel_schedule

ADVERSARIAL = (("critic", "critic"), ("generator", "generator"))


def _plot_losses(run: RunFolder, folder: Path) -> dict[int, str]:
    """One small PNG per scale of its losses over iterations; returns {scale: relative path}."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    per_scale: dict[int, list[dict]] = defaultdict(list)
    for record in run.read_losses():
        per_scale[record["scale"]].append(record)
    paths = {}
    for scale, records in sorted(per_scale.items()):
        iterations = [r["iteration"] for r in records]
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.2), dpi=100)
        for key, label in ADVERSARIAL:
            axes[0].plot(iterations, [r[key] for r in records], label=label, linewidth=1)
        axes[0].set_title(f"scale {scale}: adversarial", fontsize=9)
        axes[0].legend(fontsize=7)
        axes[1].plot(iterations, [r["reconstruction"] for r in records], color="tab:green", linewidth=1)
        axes[1].set_yscale("log")
        axes[1].set_title("reconstruction MSE", fontsize=9)
        for ax in axes:
            ax.set_xlabel("iteration", fontsize=8)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        name = f"losses_scale_{scale:02d}.png"
        fig.savefig(folder / name)
        plt.close(fig)
        paths[scale] = f"report/{name}"
    return paths


def _img(src: str, alt: str, *, cls: str = "") -> str:
    return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" class="{cls}" loading="lazy">'


def _figure(src: str, caption: str) -> str:
    return f"<figure>{_img(src, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _channels(network: dict, num_scales: int) -> tuple[int, ...]:
    return channel_schedule(num_scales, NetworkConfig(**network))


def _channel_range(widths: tuple[int, ...]) -> str:
    low, high = min(widths), max(widths)
    return f"{low}" if low == high else f"{low}&ndash;{high}"


def _comparison(result: dict) -> list[str]:
    """The last ``compare``: one row per sample set, against the training image."""
    h, w = result["reference"]["shape"]
    base = result["rows"][0]["swd"] if result["rows"] else 0.0
    parts = [
        "<h2>Comparison</h2>",
        f"<p>Every set scored against the training image ({h}x{w}) with the metrics above "
        f"({html.escape(str(result.get('compared')))}).</p>",
        "<table><tr><th>samples</th><th>from</th><th>count</th><th>SWD</th><th>x first</th>"
        "<th>SWD per level</th><th>diversity</th><th>resized from</th></tr>",
    ]
    for r in result["rows"]:
        ratio = f"{r['swd'] / base:.2f}" if base > 0 else "&ndash;"
        resized = ", ".join(f"{a}x{b}" for a, b in r["resized_from"]) or "&ndash;"
        parts.append(
            f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['source'])}</td><td>{r['count']}</td>"
            f"<td>{r['swd']:.4f}</td><td>{ratio}</td><td>{', '.join(f'{d:.4f}' for d in r['swd_per_level'])}</td>"
            f"<td>{r['diversity']:.4f}</td><td>{resized}</td></tr>"
        )
    parts.append("</table>")
    return parts


_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}"
    "img{image-rendering:pixelated;border:1px solid #ccc;margin:2px;height:128px}"
    "img.plot{height:auto;width:640px;border:none;image-rendering:auto}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}"
    "th{background:#f4f4f4}.scale{margin:18px 0;padding-top:8px;border-top:1px solid #eee}"
    "code{background:#f4f4f4;padding:1px 4px}figure{display:inline-block;margin:2px 4px;text-align:center}"
    "figcaption{font-size:12px;color:#555}td.left{text-align:left}</style>"
)
COLLECTION_SAMPLES = 3  # samples shown per image in the collection index


def _write_html(path: Path, parts: list[str]) -> Path:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text("\n".join(parts))
    tmp.replace(path)
    return path


def write_collection_index(folder: Path, files: list[str], states: dict, counts: dict) -> Path:
    """``index.html`` of a collection: per image its training image, a few samples, its metrics and
    a link to its run's own report; relative links only, so the folder can be moved or served."""
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>SinGAN collection {html.escape(folder.name)}</title>",
        _STYLE,
        "</head><body>",
        f"<h1>SinGAN collection <code>{html.escape(folder.name)}</code></h1>",
        f"<p>{len(files)} files: {html.escape(summary)}.</p>",
        "<table><tr><th>image</th><th>status</th><th>training image</th><th>samples</th><th>SWD</th>"
        "<th>diversity</th><th>minutes</th><th>run</th></tr>",
    ]
    for name in files:
        state = states.get(name, {})
        status = state.get("status", "pending")
        run = state.get("run")
        images, samples, link = "", "", ""
        if run:
            run_dir = folder / run
            if (run_dir / "image.png").exists():
                images = _img(f"{run}/image.png", f"{name}: training image")
            samples = "".join(
                _img(f"{run}/samples/{p.name}", f"{name}: {p.stem}")
                for p in sorted((run_dir / "samples").glob("*.png"))[:COLLECTION_SAMPLES]
            )
            if (run_dir / "report.html").exists():
                link = f'<a href="{html.escape(run)}/report.html">report</a>'
            else:
                link = html.escape(run)
        metrics = state.get("metrics") or {}
        swd = f"{metrics['swd']:.4f}" if "swd" in metrics else "&ndash;"
        div = f"{metrics['diversity']:.3f}" if "diversity" in metrics else "&ndash;"
        minutes = f"{state['seconds'] / 60:.1f}" if isinstance(state.get("seconds"), (int, float)) else "&ndash;"
        reason = f"<br><small>{html.escape(state['reason'])}</small>" if state.get("reason") else ""
        parts.append(
            f"<tr><td class='left'>{html.escape(name)}</td><td class='left'>{html.escape(status)}{reason}</td>"
            f"<td>{images}</td><td>{samples}</td><td>{swd}</td><td>{div}</td><td>{minutes}</td><td>{link}</td></tr>"
        )
    parts += ["</table>", "</body></html>"]
    return _write_html(folder / "index.html", parts)


def write_report(run: RunFolder) -> Path:
    manifest = run.read_manifest()
    folder = run.path / "report"
    folder.mkdir(exist_ok=True)
    plots = _plot_losses(run, folder)
    metrics_path = run.path / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    shapes = manifest["plan"]["shapes"]
    amplitudes = manifest.get("amplitudes", [])
    seconds = manifest.get("seconds_per_scale", [])
    completed = manifest.get("completed_scales", 0)
    cfg = manifest["config"]
    widths = _channels(cfg["network"], len(shapes))

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>SinGAN run {html.escape(run.path.name)}</title>",
        _STYLE,
        "</head><body>",
        f"<h1>SinGAN run <code>{html.escape(run.path.name)}</code></h1>",
        f"<p>Status: <b>{html.escape(str(manifest.get('status')))}</b>, {completed} of {len(shapes)} scales; "
        f"source {html.escape(str(manifest.get('source')))}; seed {manifest.get('seed')}; "
        f"device {html.escape(str(manifest.get('device')))}; created {html.escape(str(manifest.get('created')))}.</p>",
        f"<p>Config: {cfg['train']['iterations']} iterations a scale, {cfg['train']['critic_steps']} critic + "
        f"{cfg['train']['generator_steps']} generator steps, loss {html.escape(cfg['train']['loss'])}, "
        f"max size {cfg['pyramid']['max_size']} px, channels {_channel_range(widths)}. Total training time {sum(seconds) / 60:.1f} min.</p>",
        "<h2>Training image</h2>",
        _img("image.png", "training image"),
    ]
    if metrics:
        parts += [
            "<h2>Metrics</h2>",
            f"<table><tr><th>samples</th><th>SWD (mean)</th><th>SWD per level (fine to coarse)</th>"
            f"<th>diversity</th></tr><tr><td>{metrics['n']} (seed {metrics['seed']})</td>"
            f"<td>{metrics['swd']:.4f}</td><td>{', '.join(f'{d:.4f}' for d in metrics['swd_per_level'])}</td>"
            f"<td>{metrics['diversity']:.4f}</td></tr></table>",
            "<p>SWD: sliced Wasserstein distance between 7x7 patches of samples and of the training image "
            "over a Laplacian pyramid (lower is closer). Diversity: per-pixel standard deviation across samples "
            "over the image's standard deviation (0: all samples identical).</p>",
        ]
    comparison_path = run.path / "compare.json"
    if comparison_path.exists():
        parts += _comparison(json.loads(comparison_path.read_text()))
    samples = sorted((run.path / "samples").glob("*.png"))
    if samples:
        parts += ["<h2>Random samples</h2>", "<div>"]
        parts += [_img(f"samples/{p.name}", p.stem) for p in samples]
        parts += ["</div>"]
    rec = metrics["reconstruction_rmse"] if metrics else []
    parts += [
        "<h2>Scales</h2><table><tr><th>scale</th><th>H x W</th><th>channels</th><th>noise amplitude</th>"
        "<th>reconstruction RMSE</th><th>seconds</th></tr>"
    ]
    for n, shape in enumerate(shapes):
        amp = f"{amplitudes[n]:.4f}" if n < len(amplitudes) else "&ndash;"
        r = f"{rec[n]:.4f}" if n < len(rec) else "&ndash;"
        s = f"{seconds[n]:.1f}" if n < len(seconds) else "&ndash;"
        parts.append(
            f"<tr><td>{n}</td><td>{shape[0]}x{shape[1]}</td><td>{widths[n]}</td><td>{amp}</td><td>{r}</td>"
            f"<td>{s}</td></tr>"
        )
    parts.append("</table>")
    for n in range(completed):
        scale_dir = run.path / "scales" / f"scale_{n:02d}"
        images = sorted(scale_dir.glob("*.png"))
        images.sort(key=lambda p: (p.name != "real.png", p.name != "reconstruction.png", p.name))
        parts.append(f"<div class='scale'><h3>Scale {n}: {shapes[n][0]}x{shapes[n][1]}</h3><div>")
        parts += [_figure(f"scales/{scale_dir.name}/{p.name}", p.stem.replace("_", " ")) for p in images]
        parts.append("</div>")
        if n in plots:
            parts.append(_img(plots[n], f"scale {n} losses", cls="plot"))
        parts.append("</div>")
    parts.append("</body></html>")
    return _write_html(run.path / "report.html", parts)

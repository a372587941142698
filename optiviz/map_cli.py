"""python -m optiviz map KIND ...: the maps (optiviz.maps) as PNG, SVG or CSV from the command line.

    python -m optiviz map basin --surface himmelblau --optimizer adam:lr=0.05 \\
        --optimizer sgd:lr=0.01 --grid 128 --steps 300 --out basins.png
    python -m optiviz map hyper --surface rosenbrock --optimizer adam \\
        --x lr:1e-4:1:64:log --y beta1:0.5:0.99:64 --steps 500 --out adam_lr_beta1.csv
    python -m optiviz map ensemble --surface saddle --optimizer sgd:lr=0.02 --noise 0.5 \\
        --runs 200 --out spread.png

The conventions of `export` (optiviz.cli): --out's extension picks the format (png, svg, csv;
or --format), --lang ko puts the picture's words in Korean (help and error lines stay English),
progress goes to stderr (--quiet silences it), the file appears only when
complete, bad input exits 2 with one line "error: ...", a failed render 1 (PNG/SVG need Chrome
or Chromium, as export). Every input is checked before the long computation starts.
Optimizer specs are export's (NAME[:lr=...,HYPER=...]); without lr, the app's demo rate.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys

from . import cli
from .cli import UsageError

__all__ = ["add_parser", "run", "parse_axis", "parse_grid"]

MAP_FORMATS = {".png": "png", ".svg": "svg", ".csv": "csv"}
DEFAULT_SURFACE = "rosenbrock"          # the app's default scene
DEFAULT_OPTIMIZER = "adam"
NEUTRAL = {"optimizer": "sgd", "lr": 1e-3}     # checks the shared inputs (start, bounds, ...)


# ---- arguments ----------------------------------------------------------------------------------

def _common(p, dask: bool) -> None:
    out = p.add_argument_group("what to write")
    out.add_argument("--out", "-o", required=True, metavar="PATH",
                     help="the file to write: .png, .svg (need a browser) or .csv (the grid); "
                          "'-': standard output (with --format)")
    out.add_argument("--format", "-f", choices=("png", "svg", "csv"),
                     help="png, svg or csv (default: from --out's extension)")
    out.add_argument("--scale", type=float, metavar="S",
                     help="png: pixel density (default 2: sharp on slides)")
    out.add_argument("--width", type=int, metavar="W", help="picture width in CSS px")
    out.add_argument("--height", type=int, metavar="H", help="picture height in CSS px")
    out.add_argument("--lang", choices=("en", "ko"), default="en",
                     help="language of the words in the picture (titles, axes, legend, colour "
                          "bar): en or ko (Korean needs a CJK font, e.g. Debian's "
                          "fonts-noto-cjk; default en). The CSV's columns stay as they are")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    sc = p.add_argument_group("the runs")
    sc.add_argument("--surface", metavar="NAME[:k=v,...]",
                    help=f"the surface and its parameters (default {DEFAULT_SURFACE}), e.g. "
                         "rosenbrock:b=10")
    sc.add_argument("--formula", metavar="F",
                    help="a typed surface f(x, y) instead, e.g. '(x^2 - 1)^2 + y^2' (checked, "
                         "never run as code)")
    sc.add_argument("--window", nargs=4, type=float, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                    help="the typed surface's window (default -5 5 -5 5)")
    sc.add_argument("--optimizer", action="append", metavar="SPEC",
                    help="NAME[:lr=...,HYPER=...,schedule=...]; repeat for side-by-side maps "
                         f"(default {DEFAULT_OPTIMIZER}); without lr, the app's demo rate")
    sc.add_argument("--steps", type=int, default=500, metavar="N",
                    help="steps per run (default 500)")
    sc.add_argument("--tolerance", type=float, metavar="T",
                    help="'reached' = loss within T of the minimum's value (default 1e-3)")
    sc.add_argument("--noise", type=float, metavar="SIGMA", help="gradient noise σ (default 0)")
    sc.add_argument("--seed", type=int, metavar="N", help="noise seed (default 0)")
    sc.add_argument("--schedule", metavar="NAME[:k=v,...]",
                    help="schedule for every optimizer without its own, e.g. cosine")
    if dask:
        sc.add_argument("--independent-noise", action="store_true",
                        help="with noise: cell c draws trajectory c's noise (default: every "
                             "cell the race's draws, so a cell is its race run)")
        sc.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS",
                        help="run the chunks on Dask: a LocalCluster (no ADDRESS) or the "
                             "scheduler at ADDRESS, e.g. tcp://host:8786 (pip install -r "
                             "requirements-dask.txt)")


def add_parser(sub) -> argparse.ArgumentParser:
    """The `map` command and its kinds, under the `python -m optiviz` subparsers `sub`."""
    m = sub.add_parser(
        "map", help="write a basin, hyperparameter or noise-ensemble map as PNG, SVG or CSV",
        description="Many runs at once, one picture: where every start ends up (basin), which "
                    "settings work (hyper), how noisy runs spread (ensemble).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python -m optiviz map basin --surface himmelblau --optimizer adam:lr=0.05 "
               "--optimizer sgd:lr=0.01 --grid 128 --steps 300 --out basins.png\n"
               "  python -m optiviz map hyper --surface rosenbrock --optimizer adam "
               "--x lr:1e-4:1:64:log --y beta1:0.5:0.99:64 --steps 500 --out adam.csv\n"
               "  python -m optiviz map ensemble --surface saddle --optimizer sgd:lr=0.02 "
               "--noise 0.5 --runs 200 --out spread.png")
    kinds = m.add_subparsers(dest="map_kind", metavar="KIND", parser_class=cli._Parser)
    kinds.required = True
    b = kinds.add_parser("basin", help="which minimum each start of a grid ends in, how fast",
                         description="A grid of starts over the surface's window; each cell "
                                     "coloured by the minimum its run ends in (a hue each), "
                                     "darker the fewer steps it needed.")
    _common(b, dask=True)
    g = b.add_argument_group("the grid")
    g.add_argument("--grid", default="128", metavar="N|NXxNY",
                   help="cells per side (default 128), or e.g. 160x90")
    g.add_argument("--bounds", nargs=4, type=float, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                   help="the window of starts (default: the surface's)")
    g.add_argument("--radius", type=float, metavar="R",
                   help="'ends at a minimum' = within R of it (default 2%% of the window)")
    h = kinds.add_parser("hyper", help="final loss or steps over a grid of two settings",
                         description="One start, a grid over two settings of each optimizer; "
                                     "each cell coloured by its final loss (log) or steps to "
                                     "tolerance, one colour scale for every optimizer.")
    _common(h, dask=True)
    g = h.add_argument_group("the grid")
    g.add_argument("--x", required=True, metavar="PARAM[:LOW:HIGH][:N][:log|linear]",
                   help="the x axis: 'lr' or a numeric hyperparameter, its range, cells "
                        "(default 32) and scale (default: log for lr, ε, weight decay), e.g. "
                        "lr:1e-4:1:64:log")
    g.add_argument("--y", required=True, metavar="PARAM[:LOW:HIGH][:N][:log|linear]",
                   help="the y axis, as --x, e.g. beta1:0.5:0.99:64")
    g.add_argument("--metric", choices=("loss", "steps"), default="loss",
                   help="colour by final loss (log; default) or steps to tolerance")
    g.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"),
                   help="start point (default: the surface's)")
    e = kinds.add_parser("ensemble", help="K noisy runs from one start: median and spread",
                         description="K runs with gradient noise from one start: the median "
                                     "path and the 10-90 %% and 25-75 %% bands on the map, the "
                                     "same quantiles of the loss per step.")
    _common(e, dask=False)
    g = e.add_argument_group("the ensemble")
    g.add_argument("--runs", type=int, default=100, metavar="K",
                   help="runs per optimizer (default 100)")
    g.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"),
                   help="start point (default: the surface's)")
    return m


# ---- parsing ------------------------------------------------------------------------------------

def parse_grid(text: str) -> tuple[int, int]:
    """'128' -> (128, 128); '160x90' -> (160, 90) (cells along x, along y)."""
    from . import maps

    parts = str(text).lower().replace("×", "x").split("x")
    try:
        if len(parts) not in (1, 2):
            raise ValueError
        nums = [int(p.strip()) for p in parts]
    except ValueError:
        raise UsageError(f"--grid must be N or NXxNY (e.g. 128 or 160x90), got {text!r:.40}") \
            from None
    if any(not 1 <= n <= maps.MAX_GRID for n in nums):
        raise UsageError(f"--grid: cells per side must be in [1, {maps.MAX_GRID}], got "
                         f"{text!r:.40}")
    return (nums[0], nums[0]) if len(nums) == 1 else (nums[0], nums[1])


def parse_axis(text: str, flag: str) -> dict:
    """'lr:1e-4:1:64:log' -> {"param": "lr", "low": 1e-4, "high": 1.0, "n": 64, "scale":
    "log"}; PARAM alone takes maps.axis_values' default range; N defaults to 32."""
    parts = [p.strip() for p in str(text).split(":")]
    param = parts[0]
    if not param:
        raise UsageError(f"{flag} {text!r:.60}: the parameter is missing "
                         f"(PARAM[:LOW:HIGH][:N][:log|linear])")
    rest = parts[1:]
    scale = None
    if rest and rest[-1].lower() in ("log", "linear"):
        scale = rest.pop().lower()
    try:
        if len(rest) == 3:
            low, high, n = float(rest[0]), float(rest[1]), int(rest[2])
        elif len(rest) == 2:
            low, high, n = float(rest[0]), float(rest[1]), 32
        elif len(rest) == 1:
            low, high, n = None, None, int(rest[0])
        elif not rest:
            low, high, n = None, None, 32
        else:
            raise ValueError
    except ValueError:
        raise UsageError(f"{flag} {text!r:.60}: expected PARAM[:LOW:HIGH][:N][:log|linear], "
                         f"e.g. lr:1e-4:1:64:log") from None
    return {"param": param, "low": low, "high": high, "n": n, "scale": scale}


def _format(args) -> str:
    if args.format:
        return args.format
    ext = os.path.splitext(args.out)[1].lower()
    if ext not in MAP_FORMATS:
        raise UsageError(f"cannot tell the format from {args.out!r:.60}: a map is written as "
                         f".png, .svg or .csv (or give --format)")
    return MAP_FORMATS[ext]


def _surface(args):
    import landscapes

    name, params = cli.parse_spec(args.surface or DEFAULT_SURFACE, "--surface")
    if args.formula is not None or args.window is not None:
        if args.surface is not None and name != "custom":
            raise UsageError(f"--formula and --window are for a typed surface, not --surface "
                             f"{name!r:.40}")
        if args.formula is None and "formula" not in params:
            raise UsageError("--window is the window of a typed surface: give --formula too")
        name = "custom"
        if args.formula is not None:
            params["formula"] = args.formula
        if args.window is not None:
            params.update(zip(("xmin", "xmax", "ymin", "ymax"), args.window))
    what = "--formula" if name == "custom" and args.formula is not None else "--surface"
    try:
        return landscapes.from_spec({"name": name, **params})
    except (ValueError, TypeError) as err:
        raise UsageError(f"{what}: {err}") from None


def _entries(args) -> list[tuple[str, dict]]:
    """(spec text, maps optimizer entry) per --optimizer; lr defaults to the app's demo rate."""
    from optim_core import OPTIMIZERS

    from .scene import DEMO_LR

    texts = args.optimizer or [DEFAULT_OPTIMIZER]
    out = []
    for text in texts:
        entry = cli._optimizer(text)
        name = entry["optimizer"]
        if name not in OPTIMIZERS:
            raise UsageError(f"--optimizer {text!r:.60}: unknown optimizer {name!r:.40}; one of "
                             f"{', '.join(OPTIMIZERS)}")
        entry.setdefault("lr", DEMO_LR.get(name))
        if entry.get("schedule") is None and args.schedule is not None:
            entry["schedule"] = cli._schedule(args.schedule)
        out.append((text, entry))
    return out


def _check(what: str, fn, *a, **kw):
    """Run fn; its ValueError (bad input, as every maps function raises) becomes exit 2."""
    try:
        return fn(*a, **kw)
    except UsageError:
        raise
    except (ValueError, TypeError) as err:
        raise UsageError(f"{what}: {err}" if what else str(err)) from None


# ---- running ------------------------------------------------------------------------------------

def _runner(args):
    address = getattr(args, "dask", None)
    if address is None:
        return None
    from . import dask_maps
    from .renderer import ExportError

    try:
        return dask_maps.DaskRunner(None if address == "local" else address)
    except dask_maps.DaskMissing as err:
        raise ExportError(str(err)) from None
    except ValueError as err:
        raise UsageError(f"--dask: {err}") from None


def _combined_csv(results, labels) -> str:
    """grid_csv of each map; with several, one table with a first column 'label'."""
    from . import maps

    if len(results) == 1:
        return maps.grid_csv(results[0])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for i, (r, label) in enumerate(zip(results, labels)):
        rows = csv.reader(io.StringIO(maps.grid_csv(r)))
        header = next(rows)
        if i == 0:
            w.writerow(["label", *header])
        for row in rows:
            w.writerow([label, *row])
    return out.getvalue()


def run(args) -> int:
    """Run `python -m optiviz map KIND ...` (parsed by cli.build_parser); returns the status."""
    import optim_core
    from optim_core.validation import check_int

    from . import map_figures, maps, renderer

    cli._log_to_stderr(args.quiet)
    kind = args.map_kind
    fmt = _format(args)
    cli._check_destination(args.out)
    scale = 2.0 if args.scale is None else _check("--scale", renderer._float_option, "scale",
                                                   args.scale, 0.25, 8)
    for flag in ("width", "height"):
        value = getattr(args, flag)
        if value is not None:
            _check(f"--{flag}", renderer._int_option, flag, value, 200, 8000)
    surf = _surface(args)
    entries = _entries(args)
    steps = _check("--steps", check_int, "steps", args.steps, 1, optim_core.MAX_STEPS)
    tolerance = maps.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if getattr(args, "start", None) is not None:
        (xl, xh), (yl, yh) = surf.divergence_box
        x, y = args.start
        if not (xl <= x <= xh and yl <= y <= yh):
            raise UsageError(f"--start ({x:g}, {y:g}) lies outside the surface's box x in "
                             f"[{xl:g}, {xh:g}], y in [{yl:g}, {yh:g}]")
    common = dict(tolerance=tolerance, noise=args.noise, seed=args.seed) if kind != "ensemble" \
        else dict(noise=args.noise, seed=args.seed)

    # Every input is checked before the long run: what all maps share on a one-cell, one-step
    # map of plain GD (so an error there names no optimizer), then each optimizer the same way.
    if kind == "basin":
        grid = parse_grid(args.grid)
        bounds = None if args.bounds is None else ((args.bounds[0], args.bounds[1]),
                                                   (args.bounds[2], args.bounds[3]))
        kw = dict(bounds=bounds, radius=args.radius, independent_noise=args.independent_noise,
                  **common)
        _check("", maps.basin_map, surf, NEUTRAL, n=1, steps=1, **kw)
        for text, entry in entries:
            _check(f"--optimizer {text}", maps.basin_map, surf, entry, n=1, steps=1, **kw)
    elif kind == "hyper":
        axes = [parse_axis(args.x, "--x"), parse_axis(args.y, "--y")]
        kw = dict(start=None if args.start is None else tuple(args.start),
                  independent_noise=args.independent_noise, **common)
        _check("", maps.hyper_map, surf, NEUTRAL, "lr", [1e-3], "weight_decay", [0.0], steps=1,
               **kw)
        for a in axes:          # a range from 0 (or below) cannot be a log axis: linear
            if a["scale"] is None and a["low"] is not None and a["low"] <= 0:
                a["scale"] = "linear"
        values = []
        for text, entry in entries:
            name = entry["optimizer"]
            vx, vy = (_check(f"{flag} for {name}", maps.axis_values, name, a["param"], a["n"],
                             a["low"], a["high"], a["scale"])
                      for flag, a in (("--x", axes[0]), ("--y", axes[1])))
            _check(f"--optimizer {text}", maps.noise_ensemble, surf, entry, k=1, steps=1,
                   start=kw["start"])
            _check(f"--x/--y for {name}", maps.hyper_map, surf, entry, axes[0]["param"], vx,
                   axes[1]["param"], vy, steps=1, **kw)
            values.append((vx, vy))
    else:
        if args.noise is None or not args.noise > 0:
            raise UsageError("an ensemble needs --noise SIGMA > 0 (without noise every run is "
                             "the same)")
        runs = _check("--runs", check_int, "runs", args.runs, 1, maps.MAX_ENSEMBLE)
        kw = dict(start=None if args.start is None else tuple(args.start), **common)
        _check("", maps.noise_ensemble, surf, NEUTRAL, k=1, steps=1, **kw)
        for text, entry in entries:
            _check(f"--optimizer {text}", maps.noise_ensemble, surf, entry, k=1, steps=1, **kw)
    if fmt in ("png", "svg") and not renderer.running() and renderer.browser_path() is None:
        raise renderer.BrowserMissing()

    progress = cli._Progress(args.quiet)
    labels, _colors = map_figures.labels_and_colors([maps._public(maps._settings(e))
                                                     for _, e in entries])
    share = 0.9 if fmt != "csv" else 1.0
    results = []
    runner = _runner(args) if kind in ("basin", "hyper") else None
    try:
        for i, ((text, entry), label) in enumerate(zip(entries, labels)):
            head = f"{kind} map {i + 1}/{len(entries)}: {label}" if len(entries) > 1 else \
                f"{kind} map: {label}"

            def report(done, total, i=i, head=head):
                progress(share * (i + done / max(total, 1)) / len(entries),
                         f"{head} ({done}/{total} runs)")

            if kind == "basin":
                results.append(maps.basin_map(surf, entry, n=grid, steps=steps, progress=report,
                                              runner=runner, **kw))
            elif kind == "hyper":
                vx, vy = values[i]
                results.append(maps.hyper_map(surf, entry, axes[0]["param"], vx,
                                              axes[1]["param"], vy, steps=steps,
                                              progress=report, runner=runner, **kw))
            else:
                report(0, runs)
                results.append(maps.noise_ensemble(surf, entry, k=runs, steps=steps, **kw))
                report(runs, runs)
        if fmt == "csv":
            data = _combined_csv(results, labels).encode("utf-8")
        else:
            figure = {"basin": map_figures.basin_figure, "hyper": map_figures.hyper_figure,
                      "ensemble": map_figures.ensemble_figure}[kind]
            extra = {"metric": args.metric} if kind == "hyper" else {}
            fig = figure(results, surface=surf, width=args.width, height=args.height,
                         lang=args.lang, **extra)
            d = fig.to_plotly_json()
            progress(share, f"rendering the {fmt.upper()}")
            data = renderer.static_image(d, fmt, scale=scale, width=d["layout"]["width"],
                                         height=d["layout"]["height"])
        progress(1.0, "done")
    finally:
        progress.end()
        if runner is not None:
            runner.close()
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        cli.atomic_write(args.out, data)
        if not args.quiet:
            sys.stderr.write(f"wrote {args.out} ({cli._size_text(len(data))})\n")
    return 0


cli.COMMANDS["map"] = (add_parser, run)      # python -m optiviz map basin|hyper|ensemble

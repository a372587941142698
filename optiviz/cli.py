"""The command line: every export without a browser window.

    python -m optiviz export --config scene.json --format gif --out race.gif
    python -m optiviz export --optimizer adam:lr=0.05 --optimizer sgd:lr=0.001 --out race.png
    python -m optiviz export --help
    python -m optiviz map basin|hyper|ensemble ... (the maps: optiviz.map_cli)

Without --config (or --preset) the app's default scene is used; the scene flags (--surface,
--start, --steps, --optimizer, ...) change it. The format comes from --format, else from the
extension of --out. The file appears only when complete (written to a temporary file in the same
directory, then renamed); on any failure or interruption nothing is left behind.

Exit status: 0 written; 1 the export failed (e.g. PNG/SVG without a browser: the message says
how to install one); 2 bad input (options, scene file, scene values); 130 interrupted. Errors are
one line on stderr, ``error: ...``; progress goes to stderr too (--quiet silences it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time

__all__ = ["main", "build_parser", "parse_spec", "scene_from_args", "atomic_write"]

EXTENSIONS = {".png": "png", ".svg": "svg", ".gif": "gif", ".mp4": "mp4", ".html": "html",
              ".htm": "html", ".csv": "csv"}


class UsageError(ValueError):
    """Bad input: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):                   # one line instead of usage + message
        raise UsageError(f"{message} (see {self.prog} --help)")


# --------------------------------------------------------------------------------------------
# Specs: NAME[:key=value,...]


def _value(text: str):
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    try:
        if len(t) > 60:
            raise ValueError
        v = int(t) if t.lstrip("+-").isdigit() else float(t)
    except ValueError:
        return t
    if isinstance(v, float) and not math.isfinite(v):
        raise UsageError(f"{text!r:.40} is not a finite number")
    return v


def parse_spec(text: str, what: str) -> tuple[str, dict]:
    """'adam:lr=0.05,beta1=0.9' -> ('adam', {'lr': 0.05, 'beta1': 0.9})."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{what}: empty")
    name, _, rest = text.strip().partition(":")
    name = name.strip()
    if not name:
        raise UsageError(f"{what} {text!r:.60}: the name is missing (NAME[:key=value,...])")
    params = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, val = part.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"{what} {text!r:.60}: expected key=value, got {part!r:.40}")
        params[key.strip()] = _value(val)
    return name, params


def _schedule(text: str):
    t = text.strip()
    if t.lower() in ("none", "null", "constant", ""):
        return None
    if t.startswith("{"):
        try:
            return json.loads(t)
        except ValueError as err:
            raise UsageError(f"--schedule: not valid JSON: {err}") from None
    name, params = parse_spec(t, "--schedule")
    return {"name": name, **params} if params else name


def _optimizer(text: str) -> dict:
    name, params = parse_spec(text, "--optimizer")
    entry = {"optimizer": name.lower()}
    if "lr" in params:
        entry["lr"] = params.pop("lr")
    if "schedule" in params:
        value = params.pop("schedule")
        entry["schedule"] = None if value is None else _schedule(str(value))
    entry["hyperparameters"] = params
    return entry


# --------------------------------------------------------------------------------------------
# Arguments


# More subcommands, registered by their own modules when imported (optiviz.__main__ imports
# them), so this module imports none of them: name -> (add_parser(subparsers), run(args)).
COMMANDS: dict = {}


def build_parser() -> argparse.ArgumentParser:
    from . import export as ex

    parser = _Parser(prog="python -m optiviz",
                     description="Optimizers racing on 2-D loss surfaces: exports without a "
                                 "browser window.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(
        "export", help="write the race (or another view) as PNG, SVG, GIF, MP4, HTML, CSV, JSON",
        description="Write one export of a scene. Without --config or --preset, the app's\n"
                    "default scene; the scene flags change it. PNG and SVG need Chrome or\n"
                    "Chromium (apt-get install chromium); every other format works without.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="formats:\n" + "\n".join(f"  {f.key:<7} {f.label}" + (" (needs a browser)"
                                                                      if f.needs_browser else "")
                                        for f in ex.FORMATS.values()) +
               "\n\nexamples:\n"
               "  python -m optiviz export --format gif --out race.gif\n"
               "  python -m optiviz export --config scene.json --view panels --out panels.png\n"
               "  python -m optiviz export --surface himmelblau --optimizer adam:lr=0.1 "
               "--optimizer momentum:lr=0.01,momentum=0.9 --frames 60 --out race.mp4\n"
               "  python -m optiviz export --surface custom --formula "
               "'sin(x)*cos(y) + 0.1*(x^2 + y^2)' --window -3 3 -3 3 --out race.png\n"
               "  python -m optiviz export --preset "
               "<name> --format config --out scene.json")
    io_ = p.add_argument_group("what to write")
    io_.add_argument("--out", "-o", required=True, metavar="PATH",
                     help="the file to write ('-': standard output)")
    io_.add_argument("--format", "-f", choices=list(ex.FORMATS), metavar="FORMAT",
                     help="one of: " + ", ".join(ex.FORMATS) + " (default: from --out's "
                          "extension; .json needs --format json or config)")
    io_.add_argument("--view", default="race", choices=list(ex.VIEWS),
                     help="png/svg/html: which view (default race; gif/mp4 are the race)")
    io_.add_argument("--step", type=int, metavar="K",
                     help="png/svg/html: the step shown (default the last)")
    io_.add_argument("--scale", type=float, metavar="S",
                     help="pixel density: 2 = twice the pixels, for slides (default 2 for png, "
                          "1 for gif/mp4)")
    io_.add_argument("--width", type=int, metavar="W", help="picture width in CSS px")
    io_.add_argument("--height", type=int, metavar="H", help="picture height in CSS px")
    io_.add_argument("--frames", type=int, default=100, metavar="N",
                     help="gif/mp4 (and html): at most N frames (default 100)")
    io_.add_argument("--fps", type=float, metavar="F",
                     help="gif/mp4: frames per second (default 20)")
    io_.add_argument("--duration", type=float, metavar="SECONDS",
                     help="gif/mp4: play time, instead of --fps (fps = frames / duration)")
    io_.add_argument("--hold", type=float, default=1.0, metavar="SECONDS",
                     help="gif/mp4: extra time on the last frame (default 1)")
    io_.add_argument("--no-caption", action="store_true",
                     help="leave out the 'Compared: ...' caption")
    io_.add_argument("--lang", choices=("en", "ko"), default="en",
                     help="language of the words in pictures, animations and HTML: en or ko "
                          "(Korean needs a CJK font, e.g. Debian's fonts-noto-cjk; default en)")
    io_.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    sc = p.add_argument_group("the scene")
    sc.add_argument("--config", "-c", metavar="FILE",
                    help="a scene config JSON file (as the app saves it; '-': standard input)")
    sc.add_argument("--preset", metavar="NAME", help="start from one of the app's presets")
    sc.add_argument("--surface", metavar="NAME[:k=v,...]",
                    help="the surface and its parameters, e.g. rosenbrock:a=1,b=100")
    sc.add_argument("--formula", metavar="F",
                    help="a typed surface f(x, y), e.g. 'sin(x)*cos(y) + 0.1*(x^2 + y^2)' "
                         "(the surface becomes custom; checked, never run as code)")
    sc.add_argument("--window", nargs=4, type=float, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                    help="the typed surface's plot window (default -5 5 -5 5)")
    sc.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"),
                    help="start point (default: the surface's own when --surface changes)")
    sc.add_argument("--steps", type=int, metavar="N", help="number of steps")
    sc.add_argument("--noise", type=float, metavar="SIGMA", help="gradient noise")
    sc.add_argument("--seed", type=int, metavar="N", help="noise seed")
    sc.add_argument("--tolerance", type=float, metavar="T",
                    help="'reached the minimum' = loss within T of its value")
    sc.add_argument("--optimizer", action="append", metavar="SPEC",
                    help="NAME[:lr=...,HYPER=...,schedule=...]; repeat for each optimizer "
                         "(replaces the scene's list), e.g. adam:lr=0.05,beta1=0.9")
    sc.add_argument("--schedule", metavar="NAME[:k=v,...]",
                    help="schedule for every optimizer without its own (none: constant), "
                         "e.g. cosine or step:step_size=100,gamma=0.5")
    sc.add_argument("--shared-lr", metavar="LR",
                    help="one learning rate for every optimizer (none: each its own)")
    for add_parser, _ in COMMANDS.values():    # e.g. optiviz.map_cli: python -m optiviz map ...
        add_parser(sub)
    return parser


def _read_config(path: str) -> dict:
    from . import export as ex

    limit = ex.MAX_UPLOAD_BYTES
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        try:
            size = os.stat(path).st_size
            if size > limit:
                raise UsageError(f"{path}: the file is too large for a scene config "
                                 f"({ex._size(size)}; at most {ex._size(limit)})")
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except UsageError:
            raise
        except IsADirectoryError:
            raise UsageError(f"{path}: is a directory, not a scene config file") from None
        except OSError as err:
            raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return ex.load_scene_file(data)
    except ValueError as err:
        raise UsageError(f"{'stdin' if path == '-' else path}: {err}") from None


def scene_from_args(args) -> dict:
    """The normalized scene the arguments describe."""
    from . import scene as sc

    if args.config and args.preset:
        raise UsageError("give --config or --preset, not both")
    if args.config:
        scene = _read_config(args.config)
    elif args.preset:
        from . import presets

        try:
            scene = presets.preset_scene(args.preset)
        except (KeyError, ValueError):
            keys = ", ".join(presets.preset_keys())
            raise UsageError(f"unknown preset {args.preset!r:.40}; presets: {keys}") from None
    else:
        scene = sc.default_scene()
    scene = dict(scene)
    if args.surface is not None:
        name, params = parse_spec(args.surface, "--surface")
        scene["surface"] = {"name": name, **params}
        if args.start is None:
            scene.pop("start", None)              # the new surface's own start
    formula, window = getattr(args, "formula", None), getattr(args, "window", None)
    if formula is not None or window is not None:
        scene["surface"] = _typed_surface(scene.get("surface"), args.surface is not None,
                                          formula, window)
        if args.start is None:
            scene.pop("start", None)
    elif isinstance(scene.get("surface"), dict) and scene["surface"].get("name") == "custom" \
            and "formula" not in scene["surface"]:
        raise UsageError("--surface custom needs --formula, e.g. --formula 'x^2 + 3*y^2'")
    if args.start is not None:
        scene["start"] = list(args.start)
    for key in ("steps", "noise", "seed", "tolerance"):
        value = getattr(args, key)
        if value is not None:
            scene[key] = value
    if args.optimizer:
        scene["optimizers"] = [_optimizer(text) for text in args.optimizer]
    if args.surface is not None and not args.config and not args.preset:
        # The app's rule for a changed surface: an optimizer given no lr gets that surface's.
        from .url_state import surface_rates

        raw = {"surface": scene["surface"]}
        if args.optimizer:
            raw["optimizers"] = scene["optimizers"]
        surface_rates(raw)
        scene["optimizers"] = raw.get("optimizers", scene["optimizers"])
    if args.schedule is not None:
        scene["schedule"] = _schedule(args.schedule)
    if args.shared_lr is not None:
        text = args.shared_lr.strip().lower()
        if text in ("none", "null", "off", ""):
            scene["shared_lr"] = None
        else:
            value = _value(args.shared_lr)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise UsageError(f"--shared-lr must be a number or none, got {args.shared_lr!r:.40}")
            scene["shared_lr"] = value
    try:
        return sc.normalize_scene(scene)
    except (ValueError, TypeError) as err:
        raise UsageError(f"invalid scene: {' '.join(str(err).split())}") from None


def _typed_surface(current, named: bool, formula, window) -> dict:
    """The scene's surface after --formula / --window: a typed one (custom). They change the
    typed surface of --surface custom or of the config, or make one from --formula."""
    from landscapes.formula import CUSTOM

    surface = current if isinstance(current, dict) else {"name": current}
    if surface.get("name") != CUSTOM:
        if named:
            raise UsageError(f"--formula and --window are for --surface custom, not "
                             f"{surface.get('name')!r:.40}")
        if formula is None:
            raise UsageError("--window is the window of a typed surface: give --formula too")
        surface = {"name": CUSTOM}
    surface = dict(surface)
    if formula is not None:
        surface["formula"] = formula
    if window is not None:
        surface.update(zip(("xmin", "xmax", "ymin", "ymax"), window))
    return surface


def _format(args) -> str:
    if args.format:
        return args.format
    ext = os.path.splitext(args.out)[1].lower()
    if ext == ".json":
        raise UsageError("a .json output can be the trajectories (--format json) or the scene "
                         "config (--format config): say which with --format")
    if ext not in EXTENSIONS:
        raise UsageError(f"cannot tell the format from {args.out!r:.60}; give --format "
                         f"(one of png, svg, gif, mp4, html, csv, json, config)")
    return EXTENSIONS[ext]


# --------------------------------------------------------------------------------------------
# Output


def _check_destination(path: str) -> None:
    if path == "-":
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"--out {path!r:.80} is a directory; give a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"the directory {folder!r:.80} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write to the directory {folder!r:.80}")


def atomic_write(path: str, data: bytes) -> None:
    """Write data to path all at once: a temporary file in the same directory, flushed to disk,
    then renamed over path (readers see the old file or the whole new one, never a part).
    The temporary file is removed on any failure, KeyboardInterrupt included."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Progress:
    """progress(fraction, message) on stderr: updated in place on a terminal, else a line per
    tenth."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last_tenth = -1
        self.shown = False
        self.start = time.monotonic()

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        pct = int(round(100 * min(max(fraction, 0.0), 1.0)))
        if self.tty:
            sys.stderr.write(f"\r[{pct:3d}%] {message:<60.60}")
            sys.stderr.flush()
            self.shown = True
        else:
            tenth = pct // 10
            if tenth != self.last_tenth:
                self.last_tenth = tenth
                sys.stderr.write(f"[{pct:3d}%] {message}\n")
                sys.stderr.flush()

    def end(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\r" + " " * 68 + "\r")
            sys.stderr.flush()
            self.shown = False


def _size_text(n: int) -> str:
    from . import export as ex

    return ex._size(n)


def _log_to_stderr(quiet: bool) -> None:
    """optiviz's log lines (e.g. "no browser: drawing with PIL") as one 'note:' line each."""
    import logging

    logger = logging.getLogger("optiviz")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


def _run_export(args) -> int:
    from . import export as ex
    from . import scene as sc

    _log_to_stderr(args.quiet)

    fmt = _format(args)
    _check_destination(args.out)
    scene = scene_from_args(args)
    fps = args.fps
    if args.duration is not None:
        if fps is not None:
            raise UsageError("give --fps or --duration, not both")
        if not (math.isfinite(args.duration) and args.duration > 0):
            raise UsageError(f"--duration must be a positive number of seconds, got "
                             f"{args.duration:g}")
        fps = args.frames / args.duration
    fps = 20.0 if fps is None else fps
    progress = _Progress(args.quiet)
    result = sc.compute_scene(scene)
    try:
        data, _mime, _name = ex.export(
            result, fmt, view=args.view, step=args.step, scale=args.scale, frames=args.frames,
            fps=fps, hold=args.hold, width=args.width, height=args.height,
            caption=not args.no_caption, progress=progress, lang=args.lang)
    except ValueError as err:
        raise UsageError(str(err)) from None
    finally:
        progress.end()
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        atomic_write(args.out, data)
        if not args.quiet:
            sys.stderr.write(f"wrote {args.out} ({_size_text(len(data))})\n")
    return 0


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    from . import export as ex

    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):                   # not the main thread
        pass
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command in COMMANDS:
            return COMMANDS[args.command][1](args)
        if args.command != "export":
            parser.print_help(sys.stderr)
            return 2
        return _run_export(args)
    except UsageError as err:
        _error(str(err))
        return 2
    except ex.BrowserMissing as err:
        _error(str(err))
        return 1
    except ex.ExportError as err:
        _error(str(err))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; no file written")
        return 130
    except OSError as err:
        _error(f"{err.strerror or err}" + (f": {err.filename}" if err.filename else ""))
        return 1
    except MemoryError:
        _error("out of memory; try fewer frames, a smaller --scale or --width/--height")
        return 1
    except Exception as err:                        # noqa: BLE001 - one line, never a traceback
        if os.environ.get("OPTIVIZ_DEBUG"):
            raise
        _error(f"internal error: {type(err).__name__}: {err} (set OPTIVIZ_DEBUG=1 for details)")
        return 1


def _error(message: str) -> None:
    """One line on stderr; echoed arguments cannot hide behind control codes or bidi marks."""
    from .text import plain

    text = plain(" ".join(str(message).split()), 400)
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()

"""Custom surfaces typed as a formula f(x, y): parsed without executing it, differentiated exactly.

    >>> import landscapes
    >>> ls = landscapes.from_formula("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    >>> len(ls.minima), ls.params["formula"]
    (4, '(x^2 + y - 11)^2 + (x + y^2 - 7)^2')

How the typed text is kept from running (issue 13):

1. Characters: only ASCII letters, digits, space and ``_ . , + - * / ^ ( )``. This comes first
   because Python's parser NFKC-normalizes identifiers (``ｘ`` would silently become ``x``) and
   because quotes, brackets, colons, ``=``, ``<``, ``@``... then never reach the parser at all.
2. ``ast.parse(mode="eval")`` (``^`` rewritten to ``**`` first, so ``x^2 + 1`` keeps the
   precedence of mathematics). Parsing builds a tree; nothing is compiled or run.
3. An allowlist walk of that tree (vet()): int/float literals of bounded magnitude, the names
   x, y, pi, e, the operators + - * / ** and unary +/-, and calls of FUNCTIONS by plain name with
   exactly their number of positional arguments. Every other node (attributes, subscripts,
   lambdas, comprehensions, keywords, starred, walrus, comparisons, boolean ops, strings, unknown
   or dunder names...) is refused with a FormulaError naming it and its column. The result is a
   tree of plain Node records: the only thing the SymPy side ever reads.
4. landscapes._symbolic builds SymPy objects from those Nodes (``sympy.Symbol("x")``,
   ``sympy.sin(...)``), differentiates, and hands back plain data: expression trees of a closed
   set of operations, which closure() here turns into NumPy calls. The text never reaches
   ``sympify``, ``parse_expr``, ``eval``, ``exec`` or ``lambdify``.

Denial of service: length (MAX_LENGTH), tree nodes (MAX_NODES), nesting of the SymPy tree
(MAX_DEPTH; flat sums and products do not nest), literal magnitude (MAX_LITERAL), every constant
exponent after SymPy combines powers (MAX_EXPONENT: ``((x^9)^9)^9`` = x^729 and
``((9^9)^99)^99`` are refused before any big power is computed), exact constants (MAX_DIGITS),
``exp(c*log(b))`` (SymPy turns it into the exact integer b^c, also inside sums; c is bounded
first) and the size of each gradient component (MAX_GRADIENT_NODES). There is no ``simplify``.
Behind those caps, the SymPy half runs in a worker process (``python -c`` of
landscapes._symbolic.serve, started on first use, one formula at a time, address space capped
at about 1 GiB above its start): a formula taking longer than TIME_LIMIT seconds gets the worker
killed and a FormulaError. SymPy's automatic evaluation has more paths than any list of caps
can be sure to cover; the worker is what bounds the ones not foreseen. Where a worker cannot be
started (not POSIX, or USE_WORKER = False) the same code runs in this process with the caps alone.

Not real-valued (refused): any constant part that is complex (``sqrt(-1)``, ``log(-1)``, ``1j``),
undefined or infinite (``1/0``, ``log(0)``, ``exp(1000)``). Where a valid formula is not finite at
points of the window (``sqrt(x)`` left of 0, the gradient of ``sqrt(x^2 + y^2)`` at the origin),
the surface is still built and ``CustomLandscape.warnings`` says where; only a formula finite
nowhere in the window, or a given start where f or the gradient is not finite, is a ValueError.
"""

from __future__ import annotations

import ast
import atexit
import functools
import json
import math
import os
import select
import string
import subprocess
import sys
import threading
import unicodedata
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .landscape import Box, Landscape, Param, Point

CUSTOM = "custom"                 # the name landscapes.get() knows the typed surface by
MAX_LENGTH = 300                  # characters of the formula
MAX_NODES = 200                   # numbers, names, operators and calls in the parsed tree
MAX_DEPTH = 20                    # nesting of the SymPy expression
MAX_LITERAL = 1e12                # |number| as typed
MAX_EXPONENT = 100                # |constant exponent|, after SymPy combines powers of powers
MAX_EXP_ARGUMENT = 690.0          # |constant term| inside exp(): e^690 ~ 1e300
MAX_DIGITS = 30                   # digits of an exact rational constant (numerator, denominator)
MAX_CONSTANT = 1e300              # |value| of any constant part
MAX_GRADIENT_NODES = 5000         # SymPy nodes in each gradient component
MAX_WINDOW = 1e6                  # |xmin|, |xmax|, |ymin|, |ymax|
TIME_LIMIT = 10.0                 # seconds the worker may spend on one formula
STARTUP_LIMIT = 120.0             # seconds a new worker may take to import SymPy
USE_WORKER = os.name == "posix"   # False: the SymPy half runs in this process, caps only
DEFAULT_BOUNDS: Box = ((-5.0, 5.0), (-5.0, 5.0))
GRID = 201                        # the colour scale's grid (optiviz.surface_image.Scale)
MINIMA_GRID = 101                 # seeds for the minima search
MAX_CANDIDATES = 400              # grid seeds refined at most
MAX_MINIMA = 128                  # minima listed at most (Rastrigin's 121 fit)
LOG_DECADES = 1.35                # log colours when the gap above f_min spans more decades

NAMES = ("x", "y", "pi", "e")
# name -> number of arguments; aliases spell NumPy's and math's names. _symbolic maps each to SymPy.
FUNCTIONS: dict[str, int] = {
    "sin": 1, "cos": 1, "tan": 1, "exp": 1, "log": 1, "ln": 1, "sqrt": 1, "abs": 1,
    "sinh": 1, "cosh": 1, "tanh": 1, "arcsin": 1, "asin": 1, "arccos": 1, "acos": 1,
    "arctan": 1, "atan": 1, "arcsinh": 1, "asinh": 1, "arccosh": 1, "acosh": 1,
    "arctanh": 1, "atanh": 1, "atan2": 2, "arctan2": 2,
}
ALLOWED = f"allowed: {', '.join(NAMES)} and {', '.join(FUNCTIONS)}"

_CHARS = frozenset(string.ascii_letters + string.digits + " _.,+-*/^()")

# Python parses these; the formula language has no use for them. Anything not listed here or
# handled by _Vetter is refused by its class name.
_REFUSED_NODES = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]')",
    ast.Lambda: "'lambda'", ast.IfExp: "'if ... else'", ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'", ast.NamedExpr: "':='", ast.Starred: "'*' unpacking",
    ast.Tuple: "a tuple (a comma outside a function's brackets)", ast.List: "a list",
    ast.Set: "a set", ast.Dict: "a dict", ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression", ast.JoinedStr: "a string",
    ast.Await: "'await'", ast.Yield: "'yield'", ast.YieldFrom: "'yield'", ast.Slice: "a slice",
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OP_TEXT = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
            ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}


class FormulaError(ValueError):
    """A formula refused, with the 1-based column of the offending character (None: the whole)."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class CustomLandscape(Landscape):
    """A Landscape typed as a formula; also carries its gradient in LaTeX and where it is not finite.

    ``formula`` is ``f(x, y) = <LaTeX>``; ``gradient_formula`` is ``\\nabla f(x, y) = (∂x, ∂y)``
    in LaTeX; ``warnings`` lists, in words, non-finite values of f or of its gradient on a
    201 x 201 grid over the window (empty when there are none).
    """

    gradient_formula: str = ""
    warnings: tuple[str, ...] = ()


WINDOW_PARAMS = {
    key: Param(default, -MAX_WINDOW, MAX_WINDOW, label, help="Edge of the plot window.")
    for key, default, label in (("xmin", -5.0, "x min"), ("xmax", 5.0, "x max"),
                                ("ymin", -5.0, "y min"), ("ymax", 5.0, "y max"))
}
"""The window of landscapes.get("custom", ...): defaults and allowed range, for the app's inputs."""

CUSTOM_KEYS = ("formula", "xmin", "xmax", "ymin", "ymax", "start_x", "start_y")


# ------------------------------------------------------------------------------ public API


def from_formula(text: str, bounds: Box = DEFAULT_BOUNDS, start: Point | None = None
                 ) -> CustomLandscape:
    """The surface f(x, y) = text over bounds ((xmin, xmax), (ymin, ymax)), started at `start`
    (default: a point inset from a corner of the window, far from the global minimum).

    Raises FormulaError (a ValueError) naming the problem and its column, or ValueError for a bad
    window or start. Results (refusals too) are cached by text and window; each call returns a
    new record.
    """
    if not isinstance(text, str):
        raise FormulaError(f"the formula must be a string, got {type(text).__name__}")
    text = str.__str__(text)  # a plain str: a subclass's own methods never run below
    bounds = _check_bounds(bounds)
    given = None if start is None else _check_start(start, bounds)
    a = _analyse(text, bounds)
    if given is not None:
        with np.errstate(all="ignore"):
            theta = np.array([[given[0]], [given[1]]])
            g = np.empty_like(theta)
            v = a.compiled.vg(theta[0], theta[1], g[0], g[1])
        if not (np.isfinite(v).all() and np.isfinite(g).all()):
            raise ValueError(f"f or its gradient is not a finite number at the start "
                             f"({given[0]:g}, {given[1]:g}); choose another start")
    (x0, x1), (y0, y1) = bounds
    params = {"formula": text, "xmin": x0, "xmax": x1, "ymin": y0, "ymax": y1}
    if given is not None:
        params |= {"start_x": given[0], "start_y": given[1]}
    c = a.compiled
    return CustomLandscape(
        name=CUSTOM, title=_title(text), params=params, bounds=bounds, minima=a.minima,
        minima_values=a.minima_values, start=given if given is not None else a.start,
        description="A surface typed as a formula, with its gradient derived exactly.",
        log_scale=a.log_scale, formula=c.latex, f_min=a.f_min, citation="typed by the user",
        _f=c.f, _vg=c.vg, gradient_formula=c.gradient_latex, warnings=a.warnings,
    )


def custom(**params) -> CustomLandscape:
    """landscapes.get("custom", formula=..., xmin=..., xmax=..., ymin=..., ymax=...,
    [start_x=..., start_y=...]): from_formula by name, so a scene's surface entry
    {"name": "custom", "formula": ..., ...} carries it. Window defaults: WINDOW_PARAMS."""
    for key in params:
        if key not in CUSTOM_KEYS:
            raise ValueError(f"unknown parameter {_show(key)} for landscape {CUSTOM!r}; valid "
                             f"parameters: {', '.join(CUSTOM_KEYS)}")
    if "formula" not in params:
        raise ValueError(f"landscape {CUSTOM!r} needs a formula, e.g. "
                         f"formula='sin(x)*cos(y) + 0.1*(x^2 + y^2)'")
    text = params["formula"]
    if not isinstance(text, str):
        raise ValueError(f"parameter 'formula' of landscape {CUSTOM!r} must be a string, "
                         f"got {_show(text)}")
    w = {k: _number(f"parameter {k!r} of landscape {CUSTOM!r}", params.get(k, p.default),
                    p.min, p.max) for k, p in WINDOW_PARAMS.items()}
    start = None
    if "start_x" in params or "start_y" in params:
        if not ("start_x" in params and "start_y" in params):
            raise ValueError(f"landscape {CUSTOM!r} needs both start_x and start_y, or neither")
        start = tuple(_number(f"parameter {k!r} of landscape {CUSTOM!r}", params[k],
                              -MAX_WINDOW, MAX_WINDOW) for k in ("start_x", "start_y"))
    return from_formula(text, ((w["xmin"], w["xmax"]), (w["ymin"], w["ymax"])), start)


def choose_log_scale(values, f_min: float) -> bool:
    """Log colours when the gap f - f_min over the window spans decades: its 99.5th percentile
    over its 5th more than 10^LOG_DECADES. This threshold reproduces the hand-set choice of every
    catalog surface (log ones span >= 1.59 decades, linear ones <= 1.14)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        return False
    with np.errstate(all="ignore"):   # a gap beyond the float range is just a wide one
        gap = np.maximum(v - f_min, 0.0)
        hi, lo = np.percentile(gap, 99.5), np.percentile(gap, 5.0)
        if not hi > 0.0:
            return False
        return bool(lo <= 0.0 or hi / lo > 10.0 ** LOG_DECADES)


# ------------------------------------------------------------------------- checks of input


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(what: str, value, low: float, high: float) -> float:
    number = (isinstance(value, (int, float, np.integer, np.floating))
              and not isinstance(value, (bool, np.bool_)))
    try:
        x = float(value) if number else math.nan
    except OverflowError:
        x = math.inf
    if not (math.isfinite(x) and low <= x <= high):
        raise ValueError(f"{what} must be a finite number in [{low:g}, {high:g}], "
                         f"got {_show(value)}")
    return x


def _check_bounds(bounds) -> Box:
    try:
        (x0, x1), (y0, y1) = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {_show(bounds)}") from None
    out = []
    for axis, lo, hi in (("x", x0, x1), ("y", y0, y1)):
        lo = _number(f"{axis}min", lo, -MAX_WINDOW, MAX_WINDOW)
        hi = _number(f"{axis}max", hi, -MAX_WINDOW, MAX_WINDOW)
        if not hi - lo >= 1e-6 * max(1.0, abs(lo), abs(hi)):
            raise ValueError(f"{axis}min must be less than {axis}max (by at least a millionth of "
                             f"their size), got {lo:g} and {hi:g}")
        out.append((lo, hi))
    return (out[0], out[1])


def _check_start(start, bounds: Box) -> Point:
    try:
        sx, sy = start
    except (TypeError, ValueError):
        raise ValueError(f"start must be (x, y), got {_show(start)}") from None
    (x0, x1), (y0, y1) = bounds
    return (_number("start x", sx, x0, x1), _number("start y", sy, y0, y1))


def _title(text: str) -> str:
    short = " ".join(text.split())
    return "Custom: " + (short if len(short) <= 48 else short[:47] + "…")


# ------------------------------------------------------------- text -> vetted tree of Nodes


@dataclass(frozen=True)
class Node:
    """One vetted piece of a formula: what the SymPy side builds from (never the text itself).

    kind: "num" (value an int or float), "name" (value one of NAMES), "neg", "+", "-", "*",
    "/", "**", or "call" (value a FUNCTIONS name). col: 1-based column of its first character in
    the typed text; text: its typed text, for messages.
    """

    kind: str
    value: object
    args: tuple
    col: int
    text: str


def vet(text) -> Node:
    """The allowlist check of a typed formula: its tree of Nodes, or FormulaError naming the
    problem and pointing at its column. Pure Python: no SymPy, nothing compiled or run."""
    return _Vetter(text).tree()


class _Vetter:
    """One formula's check: characters, then Python's parse tree, node by node."""

    def __init__(self, text):
        if not isinstance(text, str):
            raise FormulaError(f"the formula must be a string, got {type(text).__name__}")
        if len(text) > MAX_LENGTH:
            raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_LENGTH} "
                               f"allowed", MAX_LENGTH + 1)
        for i, ch in enumerate(text):
            if ch not in _CHARS:
                raise FormulaError(_char_message(ch, i), i + 1)
        if not text.strip():
            raise FormulaError("the formula is empty; type f(x, y), e.g. "
                               "sin(x)*cos(y) + 0.1*(x^2 + y^2)")
        self.text = text
        # '^' -> '**' (same precedence as in mathematics); cols maps the new text to the typed one
        self.source = text.replace("^", "**")
        self.cols = [i for i, ch in enumerate(text) for _ in range(2 if ch == "^" else 1)]
        self.cols.append(len(text))

    def col(self, offset: int) -> int:
        """1-based column in the typed text of an offset into the parsed source."""
        return self.cols[min(max(offset, 0), len(self.cols) - 1)] + 1

    def segment(self, node) -> str:
        lo = self.cols[min(node.col_offset, len(self.cols) - 1)]
        hi = self.cols[min(max(node.end_col_offset - 1, 0), len(self.cols) - 1)] + 1
        s = self.text[lo:hi].strip()
        return s if len(s) <= 40 else s[:39] + "…"

    def refuse(self, message: str, node) -> FormulaError:
        return FormulaError(message, self.col(node.col_offset))

    def make(self, kind, value, args, node) -> Node:
        return Node(kind, value, tuple(args), self.col(node.col_offset), self.segment(node))

    def tree(self) -> Node:
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as err:
            offset = (err.offset or 1) - 1
            if err.lineno and err.lineno > 1:
                offset = len(self.source)
            hint = (" (a product is written with '*', e.g. 2*x)"
                    if "decimal literal" in str(err.msg) else "")
            raise FormulaError(f"syntax error at column {self.col(offset)}: {err.msg}{hint}",
                               self.col(offset)) from None
        except (ValueError, MemoryError, RecursionError):
            raise FormulaError("the formula could not be parsed") from None
        nodes = sum(isinstance(n, ast.expr) for n in ast.walk(tree))
        if nodes > MAX_NODES:
            raise FormulaError(f"the formula has {nodes} numbers, names and operations; at most "
                               f"{MAX_NODES} allowed")
        try:
            return self.node(tree.body)
        except RecursionError:
            raise FormulaError("the formula is nested too deeply") from None

    def node(self, node) -> Node:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        what = _REFUSED_NODES.get(type(node), type(node).__name__)
        raise self.refuse(f"{what} at column {self.col(node.col_offset)} is not allowed in a "
                          f"formula", node)

    def constant(self, node) -> Node:
        v = node.value
        c = self.col(node.col_offset)
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise self.refuse(f"{v!r} at column {c} is not allowed in a formula", node)
        if isinstance(v, (str, bytes)):
            raise self.refuse(f"a string at column {c} is not allowed in a formula", node)
        if isinstance(v, complex):
            raise self.refuse(f"the imaginary number {self.segment(node)} at column {c} is not "
                              f"allowed: f must be real-valued", node)
        if type(v) is int or type(v) is float:
            if not (math.isfinite(v) and abs(v) <= MAX_LITERAL):
                raise self.refuse(f"the number {self.segment(node)} at column {c} is too large; "
                                  f"at most {MAX_LITERAL:g} in magnitude", node)
            return self.make("num", v, (), node)
        raise self.refuse(f"{type(v).__name__} at column {c} is not allowed", node)

    def name(self, node) -> Node:
        c = self.col(node.col_offset)
        if node.id in NAMES:
            return self.make("name", node.id, (), node)
        if node.id in FUNCTIONS:
            raise self.refuse(f"{node.id!r} at column {c} is a function: write {node.id}(...)",
                              node)
        hint = next((f" (did you mean {n!r}?)" for n in NAMES if n == node.id.lower()), "")
        raise self.refuse(f"unknown name {_show(node.id)} at column {c}{hint}; {ALLOWED}", node)

    def unary(self, node) -> Node:
        if isinstance(node.op, ast.USub):
            return self.make("neg", None, (self.node(node.operand),), node)
        if isinstance(node.op, ast.UAdd):
            return self.node(node.operand)
        word = {ast.Not: "'not'", ast.Invert: "'~'"}.get(type(node.op), "this operator")
        raise self.refuse(f"{word} at column {self.col(node.col_offset)} is not allowed; "
                          f"allowed operators: + - * / ^ **", node)

    def binop(self, node) -> Node:
        op = type(node.op)
        if op not in _BINOPS:
            symbol = _OP_TEXT.get(op, op.__name__)
            gap = self.source[node.left.end_col_offset:node.right.col_offset]
            at = node.left.end_col_offset + max(gap.find(symbol), 0)
            raise FormulaError(f"operator {symbol!r} at column {self.col(at)} is not allowed; "
                               f"allowed operators: + - * / ^ **", self.col(at))
        return self.make(_BINOPS[op], None, (self.node(node.left), self.node(node.right)), node)

    def call(self, node) -> Node:
        c = self.col(node.col_offset)
        if isinstance(node.func, ast.Constant):
            raise self.refuse(f"a product is written with '*': {self.segment(node.func)}*(...) "
                              f"at column {c}", node)
        if not isinstance(node.func, ast.Name):
            self.node(node.func)  # an attribute, say, is refused under its own name first
            raise self.refuse(f"only a function named by itself can be called (column {c})", node)
        name = node.func.id
        if name not in FUNCTIONS:
            if name in NAMES:
                raise self.refuse(f"{name!r} at column {c} is not a function; write "
                                  f"{name}*(...) to multiply", node)
            raise self.refuse(f"unknown function {_show(name)} at column {c}; {ALLOWED}", node)
        if node.keywords:
            kw = node.keywords[0]
            word = f"keyword argument {kw.arg}=" if kw.arg else "'**' unpacking"
            raise FormulaError(f"{word} at column {self.col(kw.col_offset)} is not allowed",
                               self.col(kw.col_offset))
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(f"'*' unpacking at column {self.col(arg.col_offset)} is not "
                                  f"allowed", arg)
        arity = FUNCTIONS[name]
        if len(node.args) != arity:
            raise self.refuse(f"{name}() at column {c} takes {arity} argument"
                              f"{'s' if arity > 1 else ''}, got {len(node.args)}", node)
        return self.make("call", name, [self.node(a) for a in node.args], node)


def _char_message(ch: str, i: int) -> str:
    where = f"at column {i + 1}"
    if ch == "\n" or ch == "\r":
        return f"a line break {where} is not allowed; write the formula on one line"
    if ch == "\t":
        return f"a tab {where} is not allowed; use spaces"
    if ch == "[" or ch == "]":
        return f"{ch!r} {where} is not allowed; use ( ) for brackets"
    if ch.isascii() and ch.isprintable():
        return (f"character {ch!r} {where} is not allowed; a formula uses x, y, numbers, "
                f"+ - * / ^ ( ) , and function names")
    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    return (f"character {ch!r} ({name}) {where} is not allowed: type plain ASCII "
            f"(x, y, numbers, + - * / ^ ( ) , and function names)")


# ----------------------------------------------------------- the SymPy half, in a worker


class _Worker:
    """One long-lived child process running landscapes._symbolic.serve(), asked one formula at a
    time over pipes (JSON lines). A formula that takes longer than TIME_LIMIT gets it killed; the
    next formula starts a new one. If none can be started, `broken` is set and callers fall back
    to running the SymPy half in-process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.owner = os.getpid()  # a forked copy of this process must not share the pipes
        self.broken = False

    def ask(self, text: str, limit: float) -> dict:
        with self.lock:
            if self.owner != os.getpid():
                self.proc, self.owner = None, os.getpid()
            proc = self.proc if self.proc is not None and self.proc.poll() is None else self.start()
            try:
                proc.stdin.write(json.dumps({"text": text}).encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                self.stop()
                raise FormulaError("the formula could not be analysed (the worker stopped)") from None
            line = self.read_line(proc, limit)
            if line is None:
                self.stop()
                raise FormulaError(f"the formula took longer than {limit:g} s to analyse; "
                                   f"write it more simply")
            if not line:
                self.stop()
                raise FormulaError("the formula could not be analysed (the worker stopped, "
                                   "e.g. out of memory)")
            return json.loads(line)

    def start(self) -> subprocess.Popen:
        self.stop()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        boot = "import sys; sys.path.insert(0, sys.argv[1]); import landscapes._symbolic as s; s.serve()"
        try:
            proc = subprocess.Popen([sys.executable, "-c", boot, root], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                    close_fds=True)
        except OSError:
            self.broken = True
            raise _NoWorker() from None
        self.proc = proc
        if self.read_line(proc, STARTUP_LIMIT) != b"ready\n":
            self.stop()
            self.broken = True
            raise _NoWorker()
        return proc

    @staticmethod
    def read_line(proc, limit: float) -> bytes | None:
        """One line from the worker, b"" if it exited, None if none came within `limit` s."""
        ready, _, _ = select.select([proc.stdout], [], [], max(limit, 0.0))
        return proc.stdout.readline() if ready else None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and self.owner == os.getpid():
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                pipe.close()


class _NoWorker(Exception):
    pass


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def _symbolic(text: str) -> dict:
    """What landscapes._symbolic.analyse(text) returns, from the worker when there is one."""
    if USE_WORKER and not _WORKER.broken:
        try:
            return _WORKER.ask(text, TIME_LIMIT)
        except _NoWorker:
            pass
    from . import _symbolic as symbolic  # SymPy loads here, in this process

    return symbolic.analyse(text)


# --------------------------------------------------- plain expression trees -> NumPy calls


def _k(value: float) -> np.ndarray:
    """A 0-d float64 constant (cheaper than a Python float as a ufunc operand; see surfaces)."""
    return np.array(value, dtype=np.float64)


_ONE = _k(1.0)


def _identity(v):
    return v


def _imaginary_part(v):
    return v * 0.0  # 0 where v is a real number, NaN where it is not finite


# The closed set of functions a tree may call. re/im/arg/conjugate/sign come from derivatives of
# abs(...): on real values re = conjugate = identity, im = 0 and arg is 0 or pi (np.angle).
UFUNCS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "abs": np.abs, "sign": np.sign, "re": _identity,
    "im": _imaginary_part, "arg": np.angle, "conjugate": _identity, "arctan2": np.arctan2,
}


def closure(tree) -> Callable:
    """A function env -> value for a plain expression tree; env[i] holds slot i (x, y, then
    common subexpressions). Trees are nested lists, as JSON carries them:

    ["k", v] constant, ["s", i] slot, ["add", [t...]], ["mul", [numerator...], [denominator...]],
    ["sq", t], ["sqrt", t], ["inv", t] (1/t), ["rsqrt", t], ["powk", t, v], ["pow", t, u],
    ["fn", name, [t...]] with name in UFUNCS. Anything else is a FormulaError.
    """
    op = tree[0] if isinstance(tree, list) and tree else None
    if op == "k":
        k = _k(float(tree[1]))
        return lambda env: k
    if op == "s":
        i = int(tree[1])
        return lambda env: env[i]
    if op == "add":
        return _fold([closure(t) for t in tree[1]], np.add)
    if op == "mul":
        top = _fold([closure(t) for t in tree[1]], np.multiply) if tree[1] else (lambda env: _ONE)
        if not tree[2]:
            return top
        bottom = _fold([closure(t) for t in tree[2]], np.multiply)
        return lambda env: top(env) / bottom(env)
    if op in ("sq", "sqrt", "inv", "rsqrt"):
        a = closure(tree[1])
        if op == "sq":
            return lambda env: np.square(a(env))
        if op == "sqrt":
            return lambda env: np.sqrt(a(env))
        if op == "inv":
            return lambda env: _ONE / a(env)
        return lambda env: _ONE / np.sqrt(a(env))
    if op == "powk":
        a, k = closure(tree[1]), _k(float(tree[2]))
        return lambda env: np.power(a(env), k)
    if op == "pow":
        a, b = closure(tree[1]), closure(tree[2])
        return lambda env: np.power(a(env), b(env))
    if op == "fn" and tree[1] in UFUNCS:
        fn = UFUNCS[tree[1]]
        args = [closure(t) for t in tree[2]]
        if len(args) == 1:
            (a,) = args
            return lambda env: fn(a(env))
        if len(args) == 2:
            a, b = args
            return lambda env: fn(a(env), b(env))
    raise FormulaError(f"the formula uses an operation that cannot be evaluated here ({_show(op)})")


def _fold(fns, op):
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda env: op(a(env), b(env))
    first, rest = fns[0], fns[1:]

    def folded(env):
        v = first(env)
        for fn in rest:
            v = op(v, fn(env))
        return v

    return folded


def _shaped(v, like: np.ndarray) -> np.ndarray:
    """v as a float64 array of like's shape (constants broadcast)."""
    if isinstance(v, np.ndarray) and v.shape == like.shape and v.dtype == np.float64:
        return v
    return np.array(np.broadcast_to(v, like.shape), dtype=np.float64)


@dataclass(frozen=True)
class _Compiled:
    """The formula's value and gradient as NumPy functions with the surfaces' (f, vg) contract."""

    f: Callable
    vg: Callable
    latex: str
    gradient_latex: str


@functools.lru_cache(maxsize=128)
def _outcome(text: str):
    """_Compiled for text, or the (message, column) of its refusal: refusals are cached too, so
    a formula that runs into the time limit costs it once, not on every rerun of the app."""
    try:
        vet(text)  # the cheap refusals, here, before any process or SymPy is involved
        r = _symbolic(text)
        if "error" in r:
            return (str(r["error"]), r.get("column"))
        value = closure(r["f"])
        steps = [closure(t) for t in r["temps"]]
        fv, fgx, fgy = (closure(t) for t in r["out"])
    except FormulaError as err:
        return (str(err), err.column)
    except (RecursionError, MemoryError, KeyError, TypeError, ValueError, IndexError):
        return ("the formula could not be analysed", None)

    def f(x, y):
        x = np.asarray(x)
        v = value((x, y))
        return v.copy() if v is x or v is y else _shaped(v, x)

    def vg(x, y, gx_out, gy_out, value=True):
        env = [x, y]
        for step in steps:
            env.append(step(env))
        np.copyto(gx_out, fgx(env))
        np.copyto(gy_out, fgy(env))
        if not value:
            return None
        v = fv(env)
        return v.copy() if v is x or v is y else _shaped(v, x)

    return _Compiled(f=f, vg=vg, latex=str(r["latex"]), gradient_latex=str(r["gradient_latex"]))


def _compiled(text: str) -> _Compiled:
    outcome = _outcome(text)
    if isinstance(outcome, tuple):
        raise FormulaError(*outcome)
    return outcome


# ------------------------------------------------------- the window: minima, colours, start


@dataclass(frozen=True)
class _Analysis:
    compiled: _Compiled
    minima: tuple
    minima_values: tuple
    f_min: float
    log_scale: bool
    start: Point
    warnings: tuple


def _grad_rows(vg, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 2) -> value (M,), gradient (M, 2) through the fused vg."""
    q = np.ascontiguousarray(p.T)
    g = np.empty_like(q)
    v = vg(q[0], q[1], g[0], g[1])
    return v, g.T


@functools.lru_cache(maxsize=64)
def _analyse(text: str, bounds: Box) -> _Analysis:
    c = _compiled(text)
    (x0, x1), (y0, y1) = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    with np.errstate(all="ignore"):
        values = c.f(gx, gy)
        _, grads = _grad_rows(c.vg, np.column_stack([gx.ravel(), gy.ravel()]))
    finite = np.isfinite(values)
    if not finite.any():
        raise FormulaError("f is not a finite real number anywhere in the window; check the "
                           "formula or move the window")
    warnings = []
    points = GRID * GRID
    bad_f = ~finite.ravel()
    bad_g = ~np.isfinite(grads).all(axis=1) & ~bad_f
    for bad, what in ((bad_f, "f is not a finite number"),
                      (bad_g, "the gradient is not a finite number")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            warnings.append(f"{what} at {int(bad.sum())} of {points} points of a {GRID} x {GRID} "
                            f"grid over the window, e.g. at ({gx.ravel()[i]:.6g}, "
                            f"{gy.ravel()[i]:.6g}); an optimizer reaching them diverges")
    with np.errstate(all="ignore"):
        minima, minima_values = _find_minima(c, bounds, float(np.max(np.abs(values[finite]))))
    lowest = float(np.min(values[finite]))
    f_min = min(min(minima_values), lowest) if minima else lowest
    return _Analysis(
        compiled=c, minima=minima, minima_values=minima_values, f_min=f_min,
        log_scale=choose_log_scale(values[finite], f_min), start=_default_start(c, bounds, minima),
        warnings=tuple(warnings),
    )


def _find_minima(c: _Compiled, bounds: Box, scale: float) -> tuple[tuple, tuple]:
    """Every local minimum found inside the window, global first: seeds are the grid points no
    higher than their 8 neighbours (the grid extends one cell past the window, so minima on its
    edge are seen), refined by compass search on f (robust, also at kinks such as abs), then
    polished by Newton's method on the exact gradient where the Hessian is positive definite.
    A point is kept if no probe around it, in 16 directions at 1/8 and 1/1000 of a cell, is
    lower by more than 1e-12 of the largest |f| on the window grid (`scale`); points closer
    than a millionth of the window merge."""
    (x0, x1), (y0, y1) = bounds
    n = MINIMA_GRID
    hx, hy = (x1 - x0) / (n - 1), (y1 - y0) / (n - 1)
    xs = np.concatenate([[x0 - hx], np.linspace(x0, x1, n), [x1 + hx]])
    ys = np.concatenate([[y0 - hy], np.linspace(y0, y1, n), [y1 + hy]])
    gx, gy = np.meshgrid(xs, ys)
    grid = np.where(np.isfinite(v := c.f(gx, gy)), v, np.inf)
    centre = grid[1:-1, 1:-1]
    around = np.stack([grid[1 + dj:n + 1 + dj, 1 + di:n + 1 + di]
                       for dj in (-1, 0, 1) for di in (-1, 0, 1) if dj or di])
    seeds = np.isfinite(centre) & (centre <= around.min(axis=0)) & (centre < around.max(axis=0))
    j, i = np.nonzero(seeds)
    if not j.size:
        return (), ()
    order = np.argsort(centre[j, i], kind="stable")[:MAX_CANDIDATES]
    p = np.column_stack([xs[1 + i[order]], ys[1 + j[order]]])
    cell = np.array([hx, hy])

    def fv(q):
        v = c.f(q[..., 0], q[..., 1])
        return np.where(np.isnan(v), np.inf, v)

    # compass search: move to the best of 4 axis neighbours if lower, else halve the step
    fp = fv(p)
    step = np.ones(len(p))
    moves = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) * cell
    for _ in range(400):
        active = step > 1e-13
        if not active.any():
            break
        trial = p[None] + moves[:, None, :] * step[None, :, None]
        ft = fv(trial)
        k = np.argmin(ft, axis=0)
        best = ft[k, np.arange(len(p))]
        better = active & (best < fp)
        p[better] = trial[k[better], np.flatnonzero(better)]
        fp[better] = best[better]
        step[active & ~better] *= 0.5
    slack = 1e-12 * max(scale, 1e-300)
    p = _newton_polish(c, p, fp, cell, slack)
    fp = fv(p)
    inside = (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
    angles = np.arange(16) * (np.pi / 8)
    dirs = np.column_stack([np.cos(angles), np.sin(angles)]) * cell
    lowest = np.full(len(p), np.inf)
    for r in (1 / 8, 1 / 1000):
        lowest = np.minimum(lowest, fv(p[None] + r * dirs[:, None, :]).min(axis=0))
    keep = inside & np.isfinite(fp) & (lowest >= fp - slack)
    p, fp = p[keep], fp[keep]
    # merge duplicates, lowest first
    order = np.argsort(fp, kind="stable")
    p, fp = p[order], fp[order]
    merge = 1e-6 * max(x1 - x0, y1 - y0)
    kept: list[int] = []
    for idx in range(len(p)):
        if not kept or np.hypot(*(p[kept] - p[idx]).T).min() > merge:
            kept.append(idx)
            if len(kept) == MAX_MINIMA:
                break
    p = p[kept]
    values = c.f(p[:, 0], p[:, 1])
    # global first; values equal to 1e-9 (relative) tie and go by position
    unit = 1e-9 * max(1.0, float(np.max(np.abs(values)))) if len(values) else 1.0
    order = np.lexsort((p[:, 1], p[:, 0], np.round((values - values.min()) / unit)
                        if len(values) else values))
    return (tuple((float(a), float(b)) for a, b in p[order]),
            tuple(float(v) for v in values[order]))


def _newton_polish(c: _Compiled, p: np.ndarray, fp: np.ndarray, cell: np.ndarray,
                   slack: float) -> np.ndarray:
    """Newton's method on the exact gradient, a step taken only where the Hessian (central
    differences of the gradient) is positive definite, f does not rise beyond round-off and the
    point stays within two cells of where compass search left it."""
    q = p.copy()
    fq = fp.copy()
    for _ in range(60):
        _, g = _grad_rows(c.vg, q)
        h = 1e-6 * np.maximum(1.0, np.abs(q))
        cols = []
        for axis in (0, 1):
            e = np.zeros_like(q)
            e[:, axis] = h[:, axis]
            cols.append((_grad_rows(c.vg, q + e)[1] - _grad_rows(c.vg, q - e)[1])
                        / (2 * h[:, axis:axis + 1]))
        a, b1 = cols[0][:, 0], cols[0][:, 1]
        b2, d = cols[1][:, 0], cols[1][:, 1]
        b = 0.5 * (b1 + b2)
        det = a * d - b * b
        ok = np.isfinite(det) & (det > 0) & (a > 0) & np.isfinite(g).all(axis=1)
        safe = np.where(ok, det, 1.0)
        sx = (d * g[:, 0] - b * g[:, 1]) / safe
        sy = (a * g[:, 1] - b * g[:, 0]) / safe
        new = q - np.column_stack([sx, sy])
        fn = c.f(new[:, 0], new[:, 1])
        ok &= (np.isfinite(new).all(axis=1) & np.isfinite(fn)
               & (fn <= fq + slack)
               & (np.abs(new - p) <= 2 * cell).all(axis=1))
        if not ok.any():
            break
        moved = np.abs(new[ok] - q[ok]).max(axis=1)
        q[ok] = new[ok]
        fq[ok] = fn[ok]
        if np.all(moved <= 1e-15 * (1.0 + np.abs(q[ok]).max(axis=1))):
            break
    return q


def _default_start(c: _Compiled, bounds: Box, minima) -> Point:
    """Of the four points 15% in from the window's corners, the one farthest from the global
    minimum (ties: upper left first) where f and the gradient are finite; else the centre or the
    first finite grid point."""
    (x0, x1), (y0, y1) = bounds
    w, h = x1 - x0, y1 - y0
    candidates = [(x0 + 0.15 * w, y1 - 0.15 * h), (x0 + 0.15 * w, y0 + 0.15 * h),
                  (x1 - 0.15 * w, y1 - 0.15 * h), (x1 - 0.15 * w, y0 + 0.15 * h),
                  (x0 + 0.5 * w, y0 + 0.5 * h)]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 21), np.linspace(y0, y1, 21))
    pts = np.vstack([candidates, np.column_stack([gx.ravel(), gy.ravel()])])
    with np.errstate(all="ignore"):
        v, g = _grad_rows(c.vg, pts)
    good = np.isfinite(v) & np.isfinite(g).all(axis=1)
    corner = good[:4]
    if corner.any():
        if minima:
            dist = np.hypot(pts[:4, 0] - minima[0][0], pts[:4, 1] - minima[0][1])
            k = int(np.argmax(np.where(corner, dist, -1.0)))
        else:
            k = int(np.flatnonzero(corner)[0])
    else:
        k = int(np.flatnonzero(good)[0]) if good.any() else 4
    return (float(pts[k, 0]), float(pts[k, 1]))

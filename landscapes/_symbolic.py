"""The SymPy half of typed formulas: vetted Nodes -> SymPy -> exact gradient -> plain trees.

Runs in the worker process that landscapes.formula starts (serve(): one JSON line in, one out),
or in-process where no worker can be started. It reads only the Node tree of formula.vet(): each
Node kind maps to one SymPy constructor (Integer, Float, the symbols x and y, pi, E, +, -, *, /,
** and the functions of FUNCTIONS), so nothing typed is ever evaluated as code. Every node is
checked as it is built (real-valued, finite, bounded constants and exponents, nesting), and the
two automatic evaluations of SymPy that compute exact powers are bounded before they happen:
a constant power b**c (by its float size) and exp(c*log(b)) -> b**c (by c). The result goes back
as plain data: closure() trees of f, of the common subexpressions and of (f, df/dx, df/dy), and
the LaTeX of f and of its gradient.
"""

from __future__ import annotations

import json
import math
import os
import sys

import sympy

from .formula import (MAX_CONSTANT, MAX_DEPTH, MAX_DIGITS, MAX_EXP_ARGUMENT, MAX_EXPONENT,
                      MAX_GRADIENT_NODES, FormulaError, Node, closure, vet)

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
_NAMES = {"x": X, "y": Y, "pi": sympy.pi, "e": sympy.E}
_FUNCTIONS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp, "log": sympy.log,
    "ln": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs, "sinh": sympy.sinh,
    "cosh": sympy.cosh, "tanh": sympy.tanh, "arcsin": sympy.asin, "asin": sympy.asin,
    "arccos": sympy.acos, "acos": sympy.acos, "arctan": sympy.atan, "atan": sympy.atan,
    "arcsinh": sympy.asinh, "asinh": sympy.asinh, "arccosh": sympy.acosh, "acosh": sympy.acosh,
    "arctanh": sympy.atanh, "atanh": sympy.atanh, "atan2": sympy.atan2, "arctan2": sympy.atan2,
}
# SymPy class -> name in formula.UFUNCS, for every function a formula or its derivative can hold
_UFUNC_NAMES = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.exp: "exp", sympy.log: "log",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.asin: "arcsin",
    sympy.acos: "arccos", sympy.atan: "arctan", sympy.asinh: "arcsinh",
    sympy.acosh: "arccosh", sympy.atanh: "arctanh", sympy.Abs: "abs", sympy.sign: "sign",
    sympy.re: "re", sympy.im: "im", sympy.arg: "arg", sympy.conjugate: "conjugate",
    sympy.atan2: "arctan2",
}


class _Unsupported(Exception):
    pass


def analyse(text: str) -> dict:
    """Plain data for formula._outcome: {"f", "temps", "out", "latex", "gradient_latex"} or
    {"error": message, "column": column}."""
    try:
        return _analyse(text)
    except FormulaError as err:
        return {"error": str(err), "column": err.column}
    except RecursionError:
        return {"error": "the formula is nested too deeply", "column": None}
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - a SymPy failure refuses the formula, never crashes
        return {"error": f"the formula could not be analysed ({type(err).__name__})",
                "column": None}


def _analyse(text: str) -> dict:
    expr = _Builder().build(vet(text))
    gx, gy = sympy.diff(expr, X), sympy.diff(expr, Y)
    for g, axis in ((gx, "x"), (gy, "y")):
        size = sum(1 for _ in sympy.preorder_traversal(g))
        if size > MAX_GRADIENT_NODES:
            raise FormulaError(f"the derivative in {axis} is too large to use ({size} terms; "
                               f"at most {MAX_GRADIENT_NODES})")
        if g.has(sympy.Derivative, sympy.Subs, sympy.I, sympy.zoo, sympy.nan, sympy.oo):
            raise FormulaError(f"the derivative in {axis} has no real closed form")
    temps, (rv, rgx, rgy) = sympy.cse([expr, gx, gy],
                                      symbols=sympy.numbered_symbols("c", cls=sympy.Dummy))
    slots = {X: 0, Y: 1}
    try:
        f_tree = tree(expr, slots)
        temp_trees = []
        for sym, sub in temps:
            temp_trees.append(tree(sub, slots))
            slots[sym] = len(slots)
        out = [tree(e, slots) for e in (rv, rgx, rgy)]
    except _Unsupported as err:
        raise FormulaError(f"the formula uses {err.args[0]}, which cannot be evaluated "
                           f"here") from None
    return {
        "f": f_tree, "temps": temp_trees, "out": out,
        "latex": "f(x, y) = " + sympy.latex(expr),
        "gradient_latex": (r"\nabla f(x, y) = \left(" + sympy.latex(gx) + r",\; "
                           + sympy.latex(gy) + r"\right)"),
    }


# --------------------------------------------------------------------- Nodes -> SymPy


class _Builder:
    """SymPy objects from vetted Nodes, each checked as it is made."""

    def __init__(self):
        self.depths: dict = {}

    def build(self, node: Node):
        kind = node.kind
        if kind == "num":
            expr = sympy.Integer(node.value) if type(node.value) is int else sympy.Float(node.value)
        elif kind == "name":
            expr = _NAMES[node.value]
        elif kind == "neg":
            expr = -self.build(node.args[0])
        elif kind == "call":
            expr = self.call(node)
        else:
            left, right = (self.build(a) for a in node.args)
            if kind == "+":
                expr = left + right
            elif kind == "-":
                expr = left - right
            elif kind in ("*", "/"):
                self.exp_product(left, right, kind, node)
                expr = left * right if kind == "*" else left / right
            elif kind == "**":
                expr = self.power(left, right, node)
            else:
                raise FormulaError(f"unexpected {kind!r} at column {node.col}", node.col)
        self.check(expr, node)
        return expr

    def refuse(self, message: str, node: Node) -> FormulaError:
        return FormulaError(f"{node.text} at column {node.col} {message}", node.col)

    def call(self, node: Node):
        func = _FUNCTIONS[node.value]
        args = [self.build(a) for a in node.args]
        if func is sympy.exp:
            self.exp_guard(args[0], node)
        if not any(a.free_symbols for a in args):
            # a constant: its float value first, from the unevaluated call, so SymPy never
            # evaluates one that is not real or too large
            v = value(func(*args, evaluate=False))
            if math.isnan(v):
                raise self.refuse("is not a real number", node)
            if math.isinf(v):
                raise self.refuse("is infinite (or beyond the range of floating-point numbers)",
                                  node)
            if not abs(v) <= MAX_CONSTANT:
                raise self.refuse(f"is too large (beyond {MAX_CONSTANT:g})", node)
        return func(*args)

    def power(self, base, exponent, node: Node):
        """Checked before SymPy computes anything: a huge constant power is never evaluated."""
        if not exponent.free_symbols:
            e = value(exponent)
            if not abs(e) <= MAX_EXPONENT:
                raise FormulaError(f"the exponent in {node.text} at column {node.col} is too "
                                   f"large; at most {MAX_EXPONENT} in magnitude", node.col)
            if not base.free_symbols:
                b = value(base)
                if b != 0.0 and not abs(e * math.log10(abs(b))) <= 300:
                    raise self.refuse("is beyond the range of floating-point numbers", node)
        if base == sympy.E:
            self.exp_guard(exponent, node)
        for factor in sympy.Mul.make_args(base):
            if isinstance(factor, sympy.exp):   # exp(a)**b becomes exp(a*b)
                self.exp_guard(factor.args[0] * exponent, node)
        return base ** exponent

    def exp_product(self, left, right, kind, node: Node) -> None:
        """exp(a)*exp(b) becomes exp(a + b) (and exp(a)/exp(b) exp(a - b)): guard that sum."""
        sign = 1 if kind == "*" else -1
        args = [f.args[0] for f in sympy.Mul.make_args(left) if isinstance(f, sympy.exp)]
        args += [sign * f.args[0] for f in sympy.Mul.make_args(right) if isinstance(f, sympy.exp)]
        if len(args) > 1:
            self.exp_guard(sympy.Add(*args), node)

    def exp_guard(self, arg, node: Node) -> None:
        """SymPy evaluates exp(c*log(b)) to the exact b**c, also term by term inside a sum: with
        c = 10^12 that never returns. So every constant term of exp's argument must be at most
        MAX_EXP_ARGUMENT in size (beyond it exp over- or underflows anyway), and a term
        c*(something with a log) must have |c| <= MAX_EXPONENT (it would become a power)."""
        for term in sympy.Add.make_args(arg):
            if not term.free_symbols:
                if not abs(value(term)) <= MAX_EXP_ARGUMENT:
                    raise self.refuse(f"has a constant term {_short(term)} too large for exp "
                                      f"(at most {MAX_EXP_ARGUMENT:g} in magnitude)", node)
                continue
            factors = sympy.Mul.make_args(term)
            if any(f.free_symbols and f.has(sympy.log) for f in factors):
                c = math.prod(value(f) for f in factors if not f.free_symbols)
                if not abs(c) <= MAX_EXPONENT:
                    raise self.refuse(f"would raise to the power {c:g}; exponents are limited "
                                      f"to {MAX_EXPONENT} in magnitude", node)

    def depth(self, expr) -> int:
        d = self.depths.get(expr)
        if d is None:
            d = 1 + max((self.depth(a) for a in expr.args), default=0)
            self.depths[expr] = d
        return d

    def check(self, expr, node: Node) -> None:
        if self.depth(expr) > MAX_DEPTH:
            raise FormulaError(f"the formula is nested too deeply at column {node.col}: at most "
                               f"{MAX_DEPTH} levels of functions, powers and brackets", node.col)
        if expr.has(sympy.I):
            raise self.refuse("is not a real number: f must be real-valued", node)
        if expr.has(sympy.zoo, sympy.nan):
            raise self.refuse("is undefined (a division by zero, log(0), 0/0...)", node)
        if expr.has(sympy.oo, -sympy.oo):
            raise self.refuse("is infinite", node)
        for atom in expr.atoms(sympy.Rational, sympy.Float):
            if isinstance(atom, sympy.Rational):
                big = max(abs(atom.p), atom.q) >= 10 ** MAX_DIGITS
            else:
                big = not abs(float(atom)) <= MAX_CONSTANT
            if big:
                raise self.refuse("holds a constant too large to use", node)
        for p in expr.atoms(sympy.Pow):
            if not p.exp.free_symbols and not abs(value(p.exp)) <= MAX_EXPONENT:
                raise self.refuse(f"makes the power {_short(p)} whose exponent is beyond "
                                  f"{MAX_EXPONENT} in magnitude", node)
        if not expr.free_symbols:
            v = value(expr)
            if math.isnan(v):
                raise self.refuse("is not a real number", node)
            if not abs(v) <= MAX_CONSTANT:
                raise self.refuse(f"is too large (beyond {MAX_CONSTANT:g})", node)


def _short(expr) -> str:
    s = str(expr)
    return s if len(s) <= 40 else s[:39] + "…"


# ---------------------------------------------------------------- SymPy -> plain trees


def value(expr) -> float:
    """The float value of a constant expression, NaN where it is not a real number."""
    import numpy as np

    try:
        with np.errstate(all="ignore"):
            return float(closure(tree(expr, {}))(()))
    except (_Unsupported, TypeError, OverflowError, FormulaError):
        return math.nan


def tree(expr, slots: dict) -> list:
    """The closure() tree of expr; slots maps symbols (x, y, cse temporaries) to env indices.
    Constant parts are folded to ["k", float] once."""
    if expr.is_Number or expr.is_NumberSymbol:
        return ["k", float(expr)]
    if expr in slots:
        return ["s", slots[expr]]
    t = _node_tree(expr, slots)
    if not expr.free_symbols:
        import numpy as np

        with np.errstate(all="ignore"):
            return ["k", float(closure(t)(()))]
    return t


def _node_tree(expr, slots) -> list:
    if expr.is_Add:
        return ["add", [tree(a, slots) for a in expr.args]]
    if expr.is_Mul:
        num, den = [], []
        for a in expr.args:
            if a.is_Pow and a.exp.is_Number and a.exp < 0:
                den.append(tree(a.base ** -a.exp, slots))
            else:
                num.append(tree(a, slots))
        return ["mul", num, den]
    if expr.is_Pow:
        base = tree(expr.base, slots)
        if expr.exp.is_Number:
            e = float(expr.exp)
            special = {2.0: "sq", 0.5: "sqrt", -1.0: "inv", -0.5: "rsqrt"}.get(e)
            return [special, base] if special else ["powk", base, e]
        return ["pow", base, tree(expr.exp, slots)]
    name = _UFUNC_NAMES.get(expr.func)
    if name is None:
        raise _Unsupported(expr.func.__name__)
    return ["fn", name, [tree(a, slots) for a in expr.args]]


# ------------------------------------------------------------------------- the worker


def serve() -> None:
    """The worker's loop: one JSON request {"text": ...} per line on stdin, one JSON answer per
    line on stdout; ends at end of input. Stray prints go to stderr, never into the answers.
    Its address space is capped at 1 GiB above what it holds once SymPy is loaded (Linux), so a
    formula that allocates without bound fails here rather than starving the machine."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        import resource

        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = held + (1 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, OSError, ValueError):
        pass
    analyse("x")  # first use of every code path, before the first real formula is timed
    out.write(b"ready\n")
    out.flush()
    for line in sys.stdin.buffer:
        try:
            answer = analyse(str(json.loads(line)["text"]))
        except MemoryError:
            answer = {"error": "the formula needs too much memory", "column": None}
            out.write(json.dumps(answer).encode() + b"\n")
            out.flush()
            return
        except Exception as err:  # noqa: BLE001 - any failure is a refusal, never a crash
            answer = {"error": f"the formula could not be analysed ({type(err).__name__})",
                      "column": None}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()

"""The catalog: one entry per surface, and get(), names(), parameters().

Minima, domains and values follow optimizers.md section 4. Published minima are used as seeds
and polished by Newton's method at import, so every listed minimum has a gradient at round-off
level; the Rastrigin and Ackley lattices are found from the integer lattice points alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import surfaces as s
from .formula import custom
from .landscape import Box, Landscape, Param, Point, newton_minima


@dataclass(frozen=True)
class _Entry:
    """What is fixed about a surface; bounds and minima may depend on its parameters."""

    title: str
    build: Callable  # (**params) -> (f, vg)
    bounds: Box | Callable[..., Box]
    minima: tuple[Point, ...] | Callable[..., tuple[Point, ...]]
    start: Point
    log_scale: bool
    description: str
    formula: str
    citation: str
    params: dict[str, Param] = field(default_factory=dict)


def _polished(build, seeds) -> tuple[Point, ...]:
    """Seeds (in the published order, global first) refined to exact gradient zeros."""
    _, vg = build()
    return tuple((float(x), float(y)) for x, y in newton_minima(vg, seeds))


def _lattice(build, half: int) -> tuple[Point, ...]:
    """One minimum near each integer point of [-half, half]², found by Newton from it.

    Sorted by value rounded to 1e-9 (symmetric twins tie, then sort by position), so the
    global minimum at the origin comes first.
    """
    f, vg = build()
    ij = np.stack(np.meshgrid(np.arange(-half, half + 1.0), np.arange(-half, half + 1.0)), -1)
    ij = ij.reshape(-1, 2)
    ij = ij[np.any(ij != 0, axis=1)]  # the origin is exact; Ackley's cone tip has no Hessian
    pts = np.vstack([[0.0, 0.0], newton_minima(vg, ij)])
    order = np.lexsort((pts[:, 1], pts[:, 0], np.round(f(pts[:, 0], pts[:, 1]), 9)))
    return tuple((float(x), float(y)) for x, y in pts[order])


def _rosenbrock_bounds(a: float, b: float) -> Box:
    """The classic window, widened to keep (a, a²) inside when a is moved."""
    half = max(2.0, abs(a) + 1.0)
    return ((-half, half), (-1.0, max(3.0, a * a + 1.0)))


_SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano)"

_CATALOG: dict[str, _Entry] = {
    "rosenbrock": _Entry(
        title="Rosenbrock",
        build=s.rosenbrock,
        bounds=_rosenbrock_bounds,
        minima=lambda a, b: ((a, a * a),),
        start=(-1.5, 2.0),
        log_scale=True,
        description="A curved narrow valley: easy to find, slow to follow to the minimum at (a, a²).",
        formula=r"f(x, y) = (a - x)^2 + b\,(y - x^2)^2",
        citation="H. H. Rosenbrock, Comput. J. 3 (1960) 175-184; optimizers.md 4.1",
        params={
            "a": Param(1.0, -2.0, 2.0, "a", help="Moves the minimum to (a, a²)."),
            "b": Param(100.0, 1.0, 1000.0, "b", log=True,
                       help="Steepness of the valley walls: larger b, narrower valley."),
        },
    ),
    "elongated_quadratic": _Entry(
        title="Elongated quadratic",
        build=s.elongated_quadratic,
        bounds=((-3.0, 3.0), (-3.0, 3.0)),
        minima=lambda condition_number, angle: ((0.0, 0.0),),
        start=(-2.5, 2.0),
        log_scale=True,
        description=("A stretched bowl: gradient descent zig-zags across the steep axis and "
                     "crawls along the shallow one, and rotating it separates per-coordinate "
                     "methods from the rest."),
        formula=(r"f(z) = \tfrac12\, z^\top R_\theta\, \mathrm{diag}(L, L/\kappa)\, "
                 r"R_\theta^\top z,\quad L = " + f"{s.QUADRATIC_L:g}"),
        citation="optimizers.md 4.3",
        params={
            "condition_number": Param(10.0, 1.0, 1000.0, "condition number κ", log=True,
                                      help="Ratio of the steepest to the shallowest curvature."),
            "angle": Param(0.0, -90.0, 90.0, "angle θ (degrees)",
                           help="Rotates the bowl; Adam, RMSprop and Lion are not "
                                "rotation-invariant, SGD is."),
        },
    ),
    "saddle": _Entry(
        title="Saddle",
        build=s.saddle,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(),
        start=(-1.5, 0.01),  # on y = 0 exactly the y-gradient is 0 and nothing escapes
        log_scale=False,
        description=("A saddle point: the gradient vanishes at the origin, and only a small "
                     "offset from the line y = 0 lets an optimizer roll off downhill."),
        formula=r"f(x, y) = x^2 - y^2",
        citation="optimizers.md 4.2",
    ),
    "monkey_saddle": _Entry(
        title="Monkey saddle",
        build=s.monkey_saddle,
        bounds=((-1.5, 1.5), (-1.5, 1.5)),
        minima=(),
        start=(1.2, 0.05),
        log_scale=False,
        description=("A degenerate saddle with three downhill directions, where the gradient "
                     "fades quadratically near the centre and optimizers crawl before escaping."),
        formula=r"f(x, y) = x^3 - 3 x y^2",
        citation="optimizers.md 4.2",
    ),
    "multi_minima": _Entry(
        title="Gaussian wells",
        build=s.multi_minima,
        bounds=((-4.0, 4.0), (-4.0, 4.0)),
        minima=_polished(s.multi_minima, [(1.9176368547, 0.9588184375),
                                          (-1.8735078857, 1.8735277582),
                                          (-1.4126971856, -1.8836124039),
                                          (1.3935890614, -2.3217133268)]),
        start=(-3.5, -0.5),
        log_scale=False,
        description=("Four Gaussian wells on a bowl: the start and the momentum carried decide "
                     "which well an optimizer settles in."),
        formula=(r"f(x, y) = 0.1\,(x^2 + y^2) - \sum_{i=1}^{4} A_i\, "
                 r"e^{-\left((x - c_{x,i})^2 + (y - c_{y,i})^2\right) / 2 s_i^2}"),
        citation="optimizers.md 4.6 (this project's surface)",
    ),
    "himmelblau": _Entry(
        title="Himmelblau",
        build=s.himmelblau,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=_polished(s.himmelblau, [(3.0, 2.0), (-2.8051180870, 3.1313125183),
                                        (-3.7793102534, -3.2831859913),
                                        (3.5844283403, -1.8481265270)]),
        start=(-0.3, -0.9),  # beside the local maximum: optimizers part ways
        log_scale=True,
        description="Four equally deep minima: the optimizer and its start decide which one it reaches.",
        formula=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        citation="D. M. Himmelblau, Applied Nonlinear Programming (1972); optimizers.md 4.4",
    ),
    "six_hump_camel": _Entry(
        title="Six-hump camel",
        build=s.six_hump_camel,
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        minima=_polished(s.six_hump_camel, [(0.0898420131, -0.7126564030),
                                            (-0.0898420131, 0.7126564030),
                                            (1.7036067150, -0.7960835687),
                                            (-1.7036067150, 0.7960835687),
                                            (1.6071047529, 0.5686514549),
                                            (-1.6071047529, -0.5686514549)]),
        start=(-2.2, -1.5),
        log_scale=True,
        description="Six minima, two of them global: the basin an optimizer starts in decides where it ends.",
        formula=r"f(x, y) = \left(4 - 2.1 x^2 + \tfrac{x^4}{3}\right) x^2 + x y + (4 y^2 - 4)\, y^2",
        citation="L. C. W. Dixon and G. P. Szegő, Towards Global Optimisation 2 (1978); optimizers.md 4.4",
    ),
    "styblinski_tang": _Entry(
        title="Styblinski–Tang",
        build=s.styblinski_tang,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=_polished(s.styblinski_tang, [(-2.9035340278, -2.9035340278),
                                             (-2.9035340278, 2.7468027710),
                                             (2.7468027710, -2.9035340278),
                                             (2.7468027710, 2.7468027710)]),
        start=(4.5, 0.5),
        log_scale=False,
        description=("Four minima of different depths: the shallowest lies on the near side, "
                     "and gradient descent settles for whichever is downhill."),
        formula=r"f(x, y) = \tfrac12 \left(x^4 - 16 x^2 + 5 x + y^4 - 16 y^2 + 5 y\right)",
        citation="M. A. Styblinski and T.-S. Tang, Neural Networks 3 (1990); optimizers.md 4.4",
    ),
    "booth": _Entry(
        title="Booth",
        build=s.booth,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        minima=_polished(s.booth, [(1.0, 3.0)]),
        start=(-8.0, -6.0),
        log_scale=True,
        description="A plain tilted bowl (condition number 9) where every optimizer should succeed.",
        formula=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        citation=_SFU + "; optimizers.md 4.4",
    ),
    "matyas": _Entry(
        title="Matyas",
        build=s.matyas,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        minima=_polished(s.matyas, [(0.0, 0.0)]),
        start=(8.0, 6.0),
        log_scale=True,
        description=("A shallow diagonal valley (condition number 25): once in it the gradient is "
                     "tiny and plain gradient descent slows to a crawl."),
        formula=r"f(x, y) = 0.26\,(x^2 + y^2) - 0.48\, x y",
        citation=_SFU + "; optimizers.md 4.4",
    ),
    "dlfs_bowl": _Entry(
        title="x²/20 + y² (Deep Learning from Scratch)",
        build=s.dlfs_bowl,
        bounds=((-10.0, 10.0), (-5.0, 5.0)),
        minima=((0.0, 0.0),),
        start=(-7.0, 2.0),
        log_scale=True,
        description=("The bowl of the optimizer comparison in Deep Learning from Scratch, twenty "
                     "times steeper in y than in x: SGD zig-zags across y while it crawls along x."),
        formula=r"f(x, y) = \tfrac{1}{20}\, x^2 + y^2",
        citation=("Koki Saito, Deep Learning from Scratch (O'Reilly Japan 2016; Korean edition "
                  "Hanbit Media 2017), section 6.1 and ch06/optimizer_compare_naive.py"),
    ),
    "beale": _Entry(
        title="Beale",
        build=s.beale,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        minima=_polished(s.beale, [(3.0, 0.5)]),
        start=(-1.0, -1.0),
        log_scale=True,
        description=("Flat plateaus and steep walls around a narrow curved valley: a test of "
                     "how well the step size adapts."),
        formula=(r"f(x, y) = (1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 "
                 r"+ (2.625 - x + x y^3)^2"),
        citation="E. M. L. Beale, Princeton tech. report (1958); optimizers.md 4.4",
    ),
    "goldstein_price": _Entry(
        title="Goldstein–Price",
        build=s.goldstein_price,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        minima=_polished(s.goldstein_price, [(0.0, -1.0), (-0.6, -0.4), (1.8, 0.2), (1.2, 0.8)]),
        start=(1.0, 1.5),  # GD stops at f = 840, momentum reaches f = 3, Adam f = 84
        log_scale=True,
        description=("Values spanning six orders of magnitude, with three local minima that stop "
                     "optimizers short of the global one at (0, -1)."),
        formula=(r"f(x, y) = \left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
                 r"\left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]"),
        citation="A. A. Goldstein and I. F. Price, Math. Comp. 25 (1971); optimizers.md 4.4",
    ),
    "rastrigin": _Entry(
        title="Rastrigin",
        build=s.rastrigin,
        bounds=((-5.12, 5.12), (-5.12, 5.12)),
        minima=_lattice(s.rastrigin, 5),
        start=(-4.5, 3.5),
        log_scale=False,
        description=("An egg crate of 121 local minima on a bowl: gradient methods stop in "
                     "the nearest dimple unless momentum or noise carries them on."),
        formula=r"f(x, y) = 20 + x^2 - 10\cos 2\pi x + y^2 - 10 \cos 2\pi y",
        citation="L. A. Rastrigin, Systems of Extremal Control (1974); optimizers.md 4.4-4.5",
    ),
    "ackley": _Entry(
        title="Ackley",
        build=s.ackley,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=_lattice(s.ackley, 5),
        start=(3.2, -2.6),
        log_scale=False,
        description=("A nearly flat outer region full of small dimples around one deep funnel "
                     "at the origin."),
        formula=(r"f(x, y) = -20\, e^{-0.2 \sqrt{(x^2 + y^2)/2}} "
                 r"- e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20"),
        citation="D. H. Ackley, A Connectionist Machine for Genetic Hillclimbing (1987); "
                 "optimizers.md 4.4-4.5",
    ),
}


def names() -> tuple[str, ...]:
    """Registry keys in display order: the classic valley first, then simple to hard."""
    return tuple(_CATALOG)


def parameters(name: str) -> dict[str, Param]:
    """Tunable parameters of a surface (empty for most): default, range and slider hints."""
    return dict(_entry(name).params)


def _entry(name) -> _Entry:
    if not isinstance(name, str) or name not in _CATALOG:
        raise ValueError(f"unknown landscape {_show(name)}; valid landscapes are: {', '.join(_CATALOG)}")
    return _CATALOG[name]


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_params(name: str, entry: _Entry, given: dict) -> dict[str, float]:
    """Defaults overlaid by the given values, each a finite real in the Param's [min, max]."""
    for key in given:
        if key not in entry.params:
            valid = (f"valid parameters: {', '.join(entry.params)}" if entry.params
                     else "it has no parameters")
            raise ValueError(f"unknown parameter {_show(key)} for landscape {name!r}; {valid}")
    values = {}
    for key, p in entry.params.items():
        v = given.get(key, p.default)
        number = (isinstance(v, (int, float, np.integer, np.floating))
                  and not isinstance(v, (bool, np.bool_)))
        try:
            x = float(v) if number else math.nan
        except OverflowError:  # an int beyond float range
            x = math.inf
        if not (math.isfinite(x) and p.min <= x <= p.max):
            raise ValueError(f"parameter {key!r} of landscape {name!r} must be a finite number "
                             f"in [{p.min:g}, {p.max:g}], got {_show(v)}")
        values[key] = x
    return values


def get(name: str, **params) -> Landscape:
    """The named surface with the given parameter values (defaults for the rest). "custom" is a
    typed formula: get("custom", formula=..., xmin=..., ...), see landscapes.formula.custom."""
    if isinstance(name, str) and name == "custom":
        return custom(**params)
    entry = _entry(name)
    values = _check_params(name, entry, params)
    f, vg = entry.build(**values)
    bounds = entry.bounds(**values) if callable(entry.bounds) else entry.bounds
    minima = entry.minima(**values) if callable(entry.minima) else entry.minima
    minima = tuple((float(x), float(y)) for x, y in minima)
    with np.errstate(all="ignore"):
        m = np.array(minima, dtype=np.float64).reshape(-1, 2)
        minima_values = tuple(float(v) for v in f(m[:, 0], m[:, 1]))
        if minima_values:
            f_min = minima_values[0]
        else:  # unbounded below: the lowest value on a grid over the window, corners included
            (x0, x1), (y0, y1) = bounds
            gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
            f_min = float(np.min(f(gx, gy)))
    return Landscape(
        name=name, title=entry.title, params=values, bounds=bounds, minima=minima,
        minima_values=minima_values, start=entry.start, description=entry.description,
        log_scale=entry.log_scale, formula=entry.formula, f_min=f_min, citation=entry.citation,
        _f=f, _vg=vg, finite_in_box=True,
    )


def from_spec(spec) -> Landscape:
    """A surface from its JSON form, as configs and scenes carry it: a name, or
    {"name": ..., **params}. Raises ValueError naming what is wrong."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"surface must be a name or an object with a 'name', got {spec!r:.60}")
    return get(spec.get("name"), **{k: v for k, v in spec.items() if k != "name"})

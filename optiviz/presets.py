"""One-click scenarios: each preset is a scene that teaches ONE idea, with a sentence saying what to
look at. tests/test_preset_claims.py tests each preset's sentences on its own trajectories, with the
visibility of what they name measured in pixels of the app's map; tests/test_presets.py keeps
the older numeric lesson checks.

Scenes are stored in normalized form (normalize_scene(p.scene) == p.scene), so a preset's share
link and cache key are stable. Use `preset_scene(key)` for a copy you may edit.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from optiviz.scene import VERSION, normalize_scene


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    lesson: str        # the idea, in one sentence
    watch: str         # what to look at on screen, in one sentence
    scene: dict = field(hash=False, repr=False)
    why: int | None = None   # the run "Why it moves" opens on, when the lesson is about its state


def _entry(optimizer, lr, schedule=None, **hyperparameters):
    return {"optimizer": optimizer, "lr": float(lr), "hyperparameters": dict(hyperparameters),
            "schedule": schedule}


def _scene(surface, start, steps, optimizers, *, noise=0.0, seed=0, tolerance=1e-3,
           schedule=None, shared_lr=None):
    """A scene in normalized (canonical) form, so a preset's link and cache key are unique."""
    return normalize_scene({"version": VERSION, "surface": surface, "start": [float(start[0]), float(start[1])],
            "steps": steps, "noise": float(noise), "seed": seed, "shared_lr": shared_lr,
            "schedule": schedule, "tolerance": float(tolerance), "optimizers": optimizers})


def _rosenbrock(b):
    return {"name": "rosenbrock", "a": 1.0, "b": float(b)}


def _quadratic(condition_number, angle=0.0):
    return {"name": "elongated_quadratic", "condition_number": float(condition_number),
            "angle": float(angle)}


# Heavy ball on the elongated quadratic (L = 15, kappa = 100, m = L/kappa): optimizers.md 4.3.
_L, _KAPPA = 15.0, 100.0
_M = _L / _KAPPA
_GD_BEST_LR = round(2 / (_L + _M), 4)                                        # 0.132
_HB_LR = round(4 / (math.sqrt(_L) + math.sqrt(_M)) ** 2, 4)                  # 0.2204
_HB_MU = round(((math.sqrt(_KAPPA) - 1) / (math.sqrt(_KAPPA) + 1)) ** 2, 4)  # 0.6694

PRESETS: tuple[Preset, ...] = (
    Preset(
        "lr_too_large", "Too large a learning rate diverges",
        "Gradient descent is stable only while lr < 2/L (L = the steepest curvature, here 15, "
        "so 2/L ≈ 0.133); one notch above, every step overshoots by more than it corrects.",
        "The three GD runs differ only in lr: 0.05 (blue) glides in, 0.12 (dark blue) zig-zags "
        "across the valley but converges, 0.14 (light blue) bounces ever wider and flies off the plot.",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("sgd", 0.05), _entry("sgd", 0.12), _entry("sgd", 0.14)]),
    ),
    Preset(
        "zigzag_vs_adaptive", "Zig-zag in a narrow valley, and the adaptive cure",
        "On an ill-conditioned bowl the gradient points across the valley, so GD zig-zags "
        "between the steep walls; Adam and RMSProp rescale each coordinate and go straight.",
        "GD's path (blue) bounces left-right across the steep x direction dozens of times, while "
        "Adam (red) and RMSProp (orange) walk almost straight to the centre.",
        _scene(_quadratic(100.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    Preset(
        "rotation_breaks_adam", "Rotate the valley: Adam loses its edge",
        "Adam and RMSProp rescale along the x and y axes, so they only help when the valley "
        "is aligned with the axes; GD does not care about rotation.",
        "The zig-zag preset's valley turned by 45°: Adam (red) and RMSProp (orange) drop onto the "
        "tilted valley floor, then crawl along it and arrive after GD (blue) (set the angle back "
        "to 0 to compare).",
        _scene(_quadratic(100.0, 45.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    Preset(
        # Started near the valley floor (x = -0.6): the tuned heavy ball's first swings across the
        # steep axis are 3.7x its start offset, and from x = -2.5 they left the plot.
        "heavy_ball_optimal", "Tuned momentum beats the best plain GD",
        "On a quadratic, momentum with lr = 4/(√L+√m)² and μ = ((√κ−1)/(√κ+1))² contracts "
        "like (√κ−1)/(√κ+1) per step instead of (κ−1)/(κ+1): 0.82 versus 0.98 at κ = 100.",
        "After 100 steps GD (blue) at its best constant lr is still up the valley (y ≈ 0.34), "
        "while the tuned heavy ball (green), after wider swings across the steep axis at first, "
        "sits on the minimum: on the log loss panel its line falls ten times steeper.",
        _scene(_quadratic(_KAPPA), (-0.6, 2.5), 100,
               [_entry("sgd", _GD_BEST_LR), _entry("momentum", _HB_LR, momentum=_HB_MU)],
               tolerance=1e-6),
    ),
    Preset(
        # A wider valley (b = 5) started on its floor: momentum builds speed down the left arm and
        # is flung past the floor at the bend; GD at the same lr creeps.
        "momentum_overshoot", "Momentum overshoots in the Rosenbrock valley",
        "Momentum accumulates speed, so it races along a curved valley far faster than GD "
        "but swings past the valley floor and sloshes from wall to wall.",
        "GD (blue) creeps down the valley floor and is still on its left arm when the race ends; "
        "momentum (green, same lr, μ = 0.95) races down, is flung past the floor at the bend, "
        "snakes back and forth across the parabola y = x² and reaches the minimum.",
        _scene(_rosenbrock(5.0), (-1.7, 2.89), 300,
               [_entry("sgd", 4e-3), _entry("momentum", 4e-3, momentum=0.95)]),
    ),
    Preset(
        # A straight steep-walled valley (curvature 15 across it, lr·15 = 0.6): heavy ball's swings
        # across it shrink by sqrt(0.9) per step, Nesterov's by sqrt(0.9 * 0.4).
        "nesterov_brakes", "Nesterov brakes earlier than momentum",
        "Nesterov evaluates the gradient where momentum is about to carry it, so each swing across "
        "the valley floor is braked early: its oscillation dies out in a few steps, plain "
        "momentum's goes on for dozens.",
        "Same lr and μ in a steep-walled valley: momentum (green) swings from wall to wall across "
        "the floor x = 0 ten times; Nesterov (cyan) overshoots once and then slides "
        "straight down the floor.",
        _scene(_quadratic(100.0), (-2.5, 2.0), 200,
               [_entry("momentum", 0.04, momentum=0.9), _entry("nesterov", 0.04, momentum=0.9)]),
    ),
    Preset(
        # Equal first steps: AdaGrad's lr/|g| with lr 0.1 is RMSProp's 10·lr/|g| with lr 0.01.
        "adagrad_decay", "AdaGrad's learning rate only ever decays",
        "AdaGrad divides by the root of the sum of ALL past squared gradients, so the steep "
        "first steps lower its rate for good; RMSProp's fading average lets its rate recover.",
        "Both take the same first step, yet on the map AdaGrad (brown) is still crawling down the "
        "left arm of the valley when RMSProp (orange) has reached the minimum: the lr panel stays "
        "flat because the decay is inside AdaGrad's per-coordinate step, not in its lr: Why it "
        "moves draws that effective rate beside it, dashed (x) and dotted (y), falling for good.",
        _scene(_rosenbrock(20.0), (-1.9, 2.8), 1000,
               [_entry("adagrad", 0.1), _entry("rmsprop", 0.01)]),
        why=0,
    ),
    Preset(
        "saddle_stall", "Exactly on the ridge: gradient descent never leaves a saddle",
        "Started on the axis y = 0 the y-gradient is exactly zero, so GD, momentum and Adam "
        "all slide straight into the saddle point and stop there, although it is no minimum.",
        "All three paths, GD (blue), momentum (green) and Adam (red, drawn on top), stay on the "
        "line y = 0 and come to rest at the centre; then raise the noise (or open the 'noise "
        "escapes the saddle' preset) and watch them roll off.",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)]),
    ),
    Preset(
        "saddle_noise", "Noise escapes the saddle",
        "Stochastic gradients (here: gradient + Gaussian noise) knock the point off the axis "
        "y = 0, and the downhill direction −y² then amplifies the offset: SGD escapes where GD "
        "stalls (the saddle has no bottom, so escaping runs leave the plot and count as diverged).",
        "The same start and optimizers as the stall preset, with gradient noise: GD (blue) and "
        "momentum (green) wobble off the line y = 0 near the centre, Adam (red) sooner, still a "
        "full unit short of the centre (it scales the tiny noisy y-gradient up to full steps), "
        "and all run downhill off the plot.",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)],
               noise=0.5, seed=0),
    ),
    Preset(
        "start_decides_basin", "Where you start decides which minimum you reach",
        "Himmelblau has four equally deep minima whose basins meet near its hilltop; from "
        "there a tiny change of position (or a bigger first step) lands in another basin.",
        "Two GD runs leave the hilltop together: the small-lr one (blue) ends at (3, 2), the 5× "
        "larger one (dark blue) at (−2.8, 3.1); move the start 0.1 to the left and the small-lr "
        "run ends at (−3.8, −3.3).",
        _scene({"name": "himmelblau"}, (-0.3, -0.7), 500,
               [_entry("sgd", 0.002), _entry("sgd", 0.01)]),
    ),
    Preset(
        # Started uphill of the shallow well, in line with the deep one: the heavy ball crosses
        # the shallow well's bottom at speed.
        "momentum_escapes_well", "Momentum rolls through a shallow well",
        "Plain gradient methods stop in the first well they fall into; a heavy ball carries "
        "enough speed to climb out of a shallow one and reach the deep well.",
        "GD (blue) and Adam (red) settle together in the shallow well at the bottom right; "
        "momentum (green, same lr) rolls straight through its bottom, over the rim, into "
        "the deepest well at (1.9, 1.0).",
        _scene({"name": "multi_minima"}, (2.2, -3.0), 500,
               [_entry("sgd", 0.05), _entry("momentum", 0.05, momentum=0.9), _entry("adam", 0.05)]),
    ),
    Preset(
        "local_minima_trap", "Local minima trap small steps",
        "Rastrigin's egg crate has a local minimum every unit: small steps settle in the "
        "nearest dimple, only enough momentum hops over the ridges toward the global minimum.",
        "GD (blue) and Adam (red) stop together in the first dimple next to the start "
        "(loss ≈ 25); momentum (green) with μ = 0.95 bounces over ridge after ridge and ends one "
        "dimple from the centre (loss ≈ 1).",
        _scene({"name": "rastrigin"}, (-4.5, 3.5), 500,
               [_entry("sgd", 1e-3), _entry("adam", 0.05), _entry("momentum", 3e-3, momentum=0.95)]),
    ),
    Preset(
        "schedule_settles", "A decaying learning rate settles where a constant one bounces",
        "With noisy gradients a constant lr keeps the iterate jittering in a cloud whose size "
        "grows with lr; decaying the rate (cosine, step) shrinks the cloud and settles.",
        "Three SGD runs with the same noise draws (their paths pile up in one cloud): press play "
        "and watch the heads: the constant-lr one (blue) never stops jumping around the centre, "
        "the cosine (dark blue) and step-decay (light blue) ones slow down and stop on it, and "
        "their losses end more than ten times lower.",
        _scene(_quadratic(1.0), (-2.5, 2.0), 300,
               [_entry("sgd", 0.05),
                _entry("sgd", 0.05, schedule="cosine"),
                _entry("sgd", 0.05, schedule={"name": "step", "step_size": 75, "gamma": 0.3})],
               noise=5.0, seed=0),
    ),
    Preset(
        # lr 0.7 is 16 px per coordinate on the app's map of Booth's window; from (-8, 8) the way
        # to (1, 3) is not diagonal, so Lion's 45° strokes stand apart from Adam's curve.
        "lion_fixed_steps", "Lion takes fixed-size steps",
        "Lion moves every coordinate by exactly ±lr (the sign of a momentum blend), whatever "
        "the gradient's size: fast on gentle slopes, but it can never settle closer than about lr.",
        "Lion's path (black) is built only of 45° strokes, each coordinate moving exactly lr = 0.7 "
        "per step, and at the end it keeps jumping back and forth across the minimum; Adam (red, "
        "same lr) curves in, slows down and comes to rest on it.",
        _scene({"name": "booth"}, (-8.0, 8.0), 200,
               [_entry("lion", 0.7), _entry("adam", 0.7)]),
    ),
    Preset(
        # On Himmelblau's west slope |g| = |(38, -14)| = 40 at the start, so RAdam's unnormalised
        # warm-up steps (lr · bias-corrected momentum) are 14-29 times Adam's lr-sized ones.
        "radam_warmup", "RAdam's warm-up",
        "RAdam takes five plain momentum steps, then switches to Adam scaled by a rectifier "
        "that starts small and grows toward 1 as its variance estimate becomes reliable.",
        "Step through the first frames: Adam (red) sets off at a steady pace, while RAdam's (blue) "
        "first five steps are plain momentum steps, each many times longer, that carry it up to "
        "the top-left well; then it almost stops and only slowly speeds up.",
        _scene({"name": "himmelblau"}, (-2.0, 0.0), 300,
               [_entry("adam", 0.03), _entry("radam", 0.03)]),
    ),
    Preset(
        "adam_vs_adamw", "Adam's L2 decay versus AdamW's decoupled decay",
        "With the same λ, Adam adds λθ to the gradient and then divides it by √v̂ like the "
        "rest, so it barely acts; AdamW shrinks θ by lr·λ every step, outside the scaling.",
        "Adam with λ = 0.5 (dark red) ends next to the true minimum (1, 3) like plain Adam (red); "
        "AdamW (pink) with the same λ is held back visibly closer to the origin.",
        _scene({"name": "booth"}, (-8.0, -6.0), 1000,
               [_entry("adam", 0.05), _entry("adam", 0.05, weight_decay=0.5),
                _entry("adamw", 0.05, weight_decay=0.5)]),
    ),
    Preset(
        "rmsprop_first_step", "RMSProp's first step is 10× lr",
        "RMSProp has no bias correction: after one step its average of g² is only (1−ρ)·g², "
        "so the first step is lr/√(1−ρ) = 10·lr per coordinate; Adam corrects for this.",
        "Press +1 once: with the same lr = 0.05, RMSProp's head (orange) jumps 0.5 in each "
        "coordinate while Adam's (red) moves 0.05 and hardly leaves the start; RMSProp's next "
        "steps shrink as its average of g² fills up (Why it moves shows step 1's numbers).",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("rmsprop", 0.05), _entry("adam", 0.05)]),
        why=0,
    ),
    Preset(
        # ch06/optimizer_compare_naive.py: 30 updates from (-7, 2) with these rates; the book's
        # AdaGrad adds 1e-7 to the root (torch's rule with eps = 1e-7). The book's Adam adds its
        # 1e-7 to the uncorrected root: against torch's 1e-8 that moves no point by 1e-4.
        "dlfs_comparison", "Deep Learning from Scratch: SGD, Momentum, AdaGrad, Adam",
        "The comparison figure of Deep Learning from Scratch (ch. 6) with the book's rates: on a "
        "bowl twenty times steeper in y than in x, SGD wastes its steps across y, momentum rolls "
        "like a ball, AdaGrad's per-coordinate rate damps the y-motion at once, and Adam does "
        "some of both.",
        "SGD (blue) flips across y = 0 every step, each zig-zag 0.9 times the last; momentum "
        "(green) swings slowly from side to side and overshoots x = 0; AdaGrad (brown) drops onto "
        "y ≈ 0 in three steps and never crosses it; Adam (red) swings below y = 0 once, less far "
        "than momentum.",
        _scene({"name": "dlfs_bowl"}, (-7.0, 2.0), 30,
               [_entry("sgd", 0.95), _entry("momentum", 0.1, momentum=0.9),
                _entry("adagrad", 1.5, eps=1e-7), _entry("adam", 0.3)]),
    ),
)

_BY_KEY = {p.key: p for p in PRESETS}


def preset_keys() -> tuple[str, ...]:
    return tuple(_BY_KEY)


def get_preset(key: str) -> Preset:
    """The preset with this key; KeyError naming the valid keys otherwise."""
    try:
        return _BY_KEY[key]
    except (KeyError, TypeError):
        raise KeyError(f"unknown preset {key!r:.40}; valid presets: {', '.join(_BY_KEY)}") from None


def preset_scene(key: str) -> dict:
    """A copy of the preset's scene, safe to edit."""
    return copy.deepcopy(get_preset(key).scene)

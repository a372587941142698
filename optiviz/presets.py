"""One-click scenarios: each preset is a scene that teaches ONE idea, with a sentence saying what to
look at. tests/test_presets.py runs every preset and checks numerically that it still shows its lesson.

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


def _entry(optimizer, lr, schedule=None, **hyperparameters):
    return {"optimizer": optimizer, "lr": float(lr), "hyperparameters": dict(hyperparameters),
            "schedule": schedule}


def _scene(surface, start, steps, optimizers, *, noise=0.0, seed=0, tolerance=1e-3,
           schedule=None, shared_lr=None):
    """A scene in normalized (canonical) form, so a preset's link and cache key are unique."""
    return normalize_scene({"version": VERSION, "surface": surface, "start": [float(start[0]), float(start[1])],
            "steps": steps, "noise": float(noise), "seed": seed, "shared_lr": shared_lr,
            "schedule": schedule, "tolerance": float(tolerance), "optimizers": optimizers})


_ROSENBROCK = {"name": "rosenbrock", "a": 1.0, "b": 100.0}


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
        "The three GD runs differ only in lr: 0.05 glides in, 0.12 zig-zags but converges, "
        "0.14 bounces ever wider across the valley and flies off the plot.",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("sgd", 0.05), _entry("sgd", 0.12), _entry("sgd", 0.14)]),
    ),
    Preset(
        "zigzag_vs_adaptive", "Zig-zag in a narrow valley, and the adaptive cure",
        "On an ill-conditioned bowl the gradient points across the valley, so GD zig-zags "
        "between the steep walls; Adam and RMSProp rescale each coordinate and go straight.",
        "GD's path bounces left-right across the steep x direction dozens of times, while "
        "Adam and RMSProp walk almost straight to the centre.",
        _scene(_quadratic(100.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    Preset(
        "rotation_breaks_adam", "Rotate the valley: Adam loses its edge",
        "Adam and RMSProp rescale along the x and y axes, so they only help when the valley "
        "is aligned with the axes; GD does not care about rotation.",
        "The zig-zag preset's valley turned by 45°: Adam drops onto the tilted valley floor, "
        "then crawls along it and arrives after GD (set the angle back to 0 to compare).",
        _scene(_quadratic(100.0, 45.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    Preset(
        "heavy_ball_optimal", "Tuned momentum beats the best plain GD",
        "On a quadratic, momentum with lr = 4/(√L+√m)² and μ = ((√κ−1)/(√κ+1))² contracts "
        "like (√κ−1)/(√κ+1) per step instead of (κ−1)/(κ+1): 0.82 versus 0.98 at κ = 100.",
        "GD at its best constant lr is still crawling along the shallow axis when the tuned "
        "heavy ball has already spiralled into the minimum (compare the loss curves on a log scale).",
        _scene(_quadratic(_KAPPA), (-2.5, 2.0), 300,
               [_entry("sgd", _GD_BEST_LR), _entry("momentum", _HB_LR, momentum=_HB_MU)],
               tolerance=1e-6),
    ),
    Preset(
        "momentum_overshoot", "Momentum overshoots in the Rosenbrock valley",
        "Momentum accumulates speed, so it races along a curved valley far faster than GD "
        "but swings past the valley floor and sloshes from wall to wall.",
        "GD creeps along the valley floor; momentum (same lr) gets near the minimum but its "
        "path snakes back and forth across the parabola y = x².",
        _scene(_ROSENBROCK, (-1.5, 2.0), 500,
               [_entry("sgd", 1e-3), _entry("momentum", 1e-3, momentum=0.9)]),
    ),
    Preset(
        "nesterov_brakes", "Nesterov brakes earlier than momentum",
        "Nesterov evaluates the correction where momentum is about to carry it, so it starts "
        "braking before it crosses the valley floor instead of after.",
        "Same lr and μ: plain momentum snakes across the valley, Nesterov slides along its "
        "floor with hardly a wiggle.",
        _scene(_ROSENBROCK, (-1.5, 2.0), 500,
               [_entry("momentum", 1e-3, momentum=0.9), _entry("nesterov", 1e-3, momentum=0.9)]),
    ),
    Preset(
        "adagrad_decay", "AdaGrad's learning rate only ever decays",
        "AdaGrad divides by the root of the sum of ALL past squared gradients, so the steep "
        "first steps lower its rate for good; RMSProp's fading average lets its rate recover.",
        "AdaGrad leaps ahead in the first steps, then its steps shrink about a hundredfold and "
        "it crawls along the valley, while RMSProp's rate grows back and it overtakes.",
        _scene(_ROSENBROCK, (-1.5, 2.0), 1000,
               [_entry("adagrad", 0.5), _entry("rmsprop", 5e-3)]),
    ),
    Preset(
        "saddle_stall", "Exactly on the ridge: gradient descent never leaves a saddle",
        "Started on the axis y = 0 the y-gradient is exactly zero, so GD, momentum and Adam "
        "all slide straight into the saddle point and stop there, although it is no minimum.",
        "All three paths stay on the line y = 0 and come to rest at the centre; then raise "
        "the noise (or open the 'noise escapes the saddle' preset) and watch them roll off.",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)]),
    ),
    Preset(
        "saddle_noise", "Noise escapes the saddle",
        "Stochastic gradients (here: gradient + Gaussian noise) knock the point off the axis "
        "y = 0, and the downhill direction −y² then amplifies the offset: SGD escapes where GD "
        "stalls (the saddle has no bottom, so escaping runs leave the plot and count as diverged).",
        "The same start and optimizers as the stall preset, with gradient noise: the paths "
        "wobble off the line y = 0 near the centre and run downhill off the plot.",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)],
               noise=0.5, seed=0),
    ),
    Preset(
        "start_decides_basin", "Where you start decides which minimum you reach",
        "Himmelblau has four equally deep minima whose basins meet near its hilltop; from "
        "there a tiny change of position (or a bigger first step) lands in another basin.",
        "Two GD runs leave the hilltop together: the small-lr one ends at (3, 2), the 5× "
        "larger one at (−2.8, 3.1); move the start 0.1 to the left and the small-lr run ends "
        "at (−3.8, −3.3).",
        _scene({"name": "himmelblau"}, (-0.3, -0.7), 500,
               [_entry("sgd", 0.002), _entry("sgd", 0.01)]),
    ),
    Preset(
        "momentum_escapes_well", "Momentum rolls through a shallow well",
        "Plain gradient methods stop in the first well they fall into; a heavy ball carries "
        "enough speed to climb out of a shallow one and reach the deep well.",
        "GD and Adam settle in the shallow well at the bottom right; momentum (same lr) rolls "
        "through it, over the rim, into the deepest well at (1.9, 1.0).",
        _scene({"name": "multi_minima"}, (0.0, -3.6), 500,
               [_entry("sgd", 0.05), _entry("momentum", 0.05, momentum=0.9), _entry("adam", 0.05)]),
    ),
    Preset(
        "local_minima_trap", "Local minima trap small steps",
        "Rastrigin's egg crate has a local minimum every unit: small steps settle in the "
        "nearest dimple, only enough momentum hops over the ridges toward the global minimum.",
        "GD and Adam stop in the first dimple next to the start (loss ≈ 25); momentum with "
        "μ = 0.95 bounces over ridge after ridge and ends one dimple from the centre (loss ≈ 1).",
        _scene({"name": "rastrigin"}, (-4.5, 3.5), 500,
               [_entry("sgd", 1e-3), _entry("adam", 0.05), _entry("momentum", 3e-3, momentum=0.95)]),
    ),
    Preset(
        "schedule_settles", "A decaying learning rate settles where a constant one bounces",
        "With noisy gradients a constant lr keeps the iterate jittering in a cloud whose size "
        "grows with lr; decaying the rate (cosine, step) shrinks the cloud and settles.",
        "Three identical noisy SGD runs (same noise draws): the constant-lr one keeps "
        "bouncing around the centre, the cosine and step-decay ones calm down and stop near it.",
        _scene(_quadratic(1.0), (-2.5, 2.0), 300,
               [_entry("sgd", 0.05),
                _entry("sgd", 0.05, schedule="cosine"),
                _entry("sgd", 0.05, schedule={"name": "step", "step_size": 75, "gamma": 0.3})],
               noise=5.0, seed=0),
    ),
    Preset(
        "lion_fixed_steps", "Lion takes fixed-size steps",
        "Lion moves every coordinate by exactly ±lr (the sign of a momentum blend), whatever "
        "the gradient's size: fast on gentle slopes, but it can never settle closer than about lr.",
        "Lion's points are evenly spaced all the way and end rattling around the minimum; "
        "Adam's steps shrink as it arrives and it comes to rest.",
        _scene({"name": "booth"}, (-8.0, -6.0), 400,
               [_entry("lion", 0.07), _entry("adam", 0.07)]),
    ),
    Preset(
        "radam_warmup", "RAdam's warm-up",
        "RAdam takes five plain momentum steps, then switches to Adam scaled by a rectifier "
        "that starts small and grows toward 1 as its variance estimate becomes reliable.",
        "Adam sets off at full speed; RAdam's first five steps are plain momentum steps "
        "(on steep surfaces they can be huge), then it almost stops and slowly speeds up.",
        _scene({"name": "multi_minima"}, (-3.5, -0.5), 300,
               [_entry("adam", 0.05), _entry("radam", 0.05)]),
    ),
    Preset(
        "adam_vs_adamw", "Adam's L2 decay versus AdamW's decoupled decay",
        "With the same λ, Adam adds λθ to the gradient and then divides it by √v̂ like the "
        "rest, so it barely acts; AdamW shrinks θ by lr·λ every step, outside the scaling.",
        "Adam with λ = 0.1 ends next to the true minimum (1, 3) like plain Adam; AdamW with "
        "the same λ is held back noticeably closer to the origin.",
        _scene({"name": "booth"}, (-8.0, -6.0), 1000,
               [_entry("adam", 0.05), _entry("adam", 0.05, weight_decay=0.1),
                _entry("adamw", 0.05, weight_decay=0.1)]),
    ),
    Preset(
        "rmsprop_first_step", "RMSProp's first step is 10× lr",
        "RMSProp has no bias correction: after one step its average of g² is only (1−ρ)·g², "
        "so the first step is lr/√(1−ρ) = 10·lr per coordinate; Adam corrects for this.",
        "Step through the first frames: with the same lr, RMSProp's first jump is ten times "
        "Adam's, then shrinks as its average of g² fills up.",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("rmsprop", 0.01), _entry("adam", 0.01)]),
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

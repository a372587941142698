"""One-click scenarios: each preset is a scene that teaches ONE idea, with a sentence saying what to
look at. tests/test_preset_claims.py tests each preset's sentences on its own trajectories, with the
visibility of what they name measured in pixels of the app's map; tests/test_presets.py keeps
the older numeric lesson checks. The titles and sentences live in the string catalogs
(optiviz/catalogs/en.json and ko.json, "preset.<key>.title|lesson|watch"): English as written
there is what the tests check; Preset.text(lang) gives them in another language.

Scenes are stored in normalized form (normalize_scene(p.scene) == p.scene), so a preset's share
link and cache key are stable. Use `preset_scene(key)` for a copy you may edit.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from optiviz.i18n import t
from optiviz.scene import VERSION, normalize_scene


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    lesson: str        # the idea, in one sentence
    watch: str         # what to look at on screen, in one sentence
    scene: dict = field(hash=False, repr=False)
    why: int | None = None   # the run "Why it moves" opens on, when the lesson is about its state
    opens_at: int | None = None   # a lesson to step through opens paused at this step; else
                                  # its race plays once

    def text(self, lang: str = "en") -> tuple[str, str, str]:
        """(title, lesson, watch) in `lang` (the catalogs' "preset.<key>.*" strings)."""
        return tuple(t(f"preset.{self.key}.{part}", lang) for part in ("title", "lesson", "watch"))


def _preset(key: str, scene: dict, why: int | None = None, opens_at: int | None = None) -> Preset:
    """A preset whose words are the English catalog's (optiviz/catalogs/en.json, "preset.<key>.*"):
    the sentences tests/test_preset_claims.py checks on the preset's own trajectories."""
    title, lesson, watch = (t(f"preset.{key}.{part}") for part in ("title", "lesson", "watch"))
    return Preset(key, title, lesson, watch, scene, why, opens_at)


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
    _preset(
        "lr_too_large",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("sgd", 0.05), _entry("sgd", 0.12), _entry("sgd", 0.14)]),
    ),
    _preset(
        "zigzag_vs_adaptive",
        _scene(_quadratic(100.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    _preset(
        "rotation_breaks_adam",
        _scene(_quadratic(100.0, 45.0), (-2.5, 2.0), 400,
               [_entry("sgd", 0.125), _entry("adam", 0.05), _entry("rmsprop", 0.02)]),
    ),
    _preset(
        # Started near the valley floor (x = -0.6): the tuned heavy ball's first swings across the
        # steep axis are 3.7x its start offset, and from x = -2.5 they left the plot.
        "heavy_ball_optimal",
        _scene(_quadratic(_KAPPA), (-0.6, 2.5), 100,
               [_entry("sgd", _GD_BEST_LR), _entry("momentum", _HB_LR, momentum=_HB_MU)],
               tolerance=1e-6),
    ),
    _preset(
        # A wider valley (b = 5) started on its floor: momentum builds speed down the left arm and
        # is flung past the floor at the bend; GD at the same lr creeps.
        "momentum_overshoot",
        _scene(_rosenbrock(5.0), (-1.7, 2.89), 300,
               [_entry("sgd", 4e-3), _entry("momentum", 4e-3, momentum=0.95)]),
    ),
    _preset(
        # A straight steep-walled valley (curvature 15 across it, lr·15 = 0.6): heavy ball's swings
        # across it shrink by sqrt(0.9) per step, Nesterov's by sqrt(0.9 * 0.4).
        "nesterov_brakes",
        _scene(_quadratic(100.0), (-2.5, 2.0), 200,
               [_entry("momentum", 0.04, momentum=0.9), _entry("nesterov", 0.04, momentum=0.9)]),
    ),
    _preset(
        # Equal first steps: AdaGrad's lr/|g| with lr 0.1 is RMSProp's 10·lr/|g| with lr 0.01.
        "adagrad_decay",
        _scene(_rosenbrock(20.0), (-1.9, 2.8), 1000,
               [_entry("adagrad", 0.1), _entry("rmsprop", 0.01)]),
        why=0,
    ),
    _preset(
        "saddle_stall",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)]),
    ),
    _preset(
        "saddle_noise",
        _scene({"name": "saddle"}, (-1.5, 0.0), 300,
               [_entry("sgd", 0.02), _entry("momentum", 0.01, momentum=0.9), _entry("adam", 0.05)],
               noise=0.5, seed=0),
    ),
    _preset(
        "start_decides_basin",
        _scene({"name": "himmelblau"}, (-0.3, -0.7), 500,
               [_entry("sgd", 0.002), _entry("sgd", 0.01)]),
    ),
    _preset(
        # Started uphill of the shallow well, in line with the deep one: the heavy ball crosses
        # the shallow well's bottom at speed.
        "momentum_escapes_well",
        _scene({"name": "multi_minima"}, (2.2, -3.0), 500,
               [_entry("sgd", 0.05), _entry("momentum", 0.05, momentum=0.9), _entry("adam", 0.05)]),
    ),
    _preset(
        "local_minima_trap",
        _scene({"name": "rastrigin"}, (-4.5, 3.5), 500,
               [_entry("sgd", 1e-3), _entry("adam", 0.05), _entry("momentum", 3e-3, momentum=0.95)]),
    ),
    _preset(
        "schedule_settles",
        _scene(_quadratic(1.0), (-2.5, 2.0), 300,
               [_entry("sgd", 0.05),
                _entry("sgd", 0.05, schedule="cosine"),
                _entry("sgd", 0.05, schedule={"name": "step", "step_size": 75, "gamma": 0.3})],
               noise=5.0, seed=0),
    ),
    _preset(
        # lr 0.7 is 16 px per coordinate on the app's map of Booth's window; from (-8, 8) the way
        # to (1, 3) is not diagonal, so Lion's 45° strokes stand apart from Adam's curve.
        "lion_fixed_steps",
        _scene({"name": "booth"}, (-8.0, 8.0), 200,
               [_entry("lion", 0.7), _entry("adam", 0.7)]),
    ),
    _preset(
        # On Himmelblau's west slope |g| = |(38, -14)| = 40 at the start, so RAdam's unnormalised
        # warm-up steps (lr · bias-corrected momentum) are 14-29 times Adam's lr-sized ones.
        "radam_warmup",
        _scene({"name": "himmelblau"}, (-2.0, 0.0), 300,
               [_entry("adam", 0.03), _entry("radam", 0.03)]),
        opens_at=0,                 # "Step through the first frames"
    ),
    _preset(
        "adam_vs_adamw",
        _scene({"name": "booth"}, (-8.0, -6.0), 1000,
               [_entry("adam", 0.05), _entry("adam", 0.05, weight_decay=0.5),
                _entry("adamw", 0.05, weight_decay=0.5)]),
    ),
    _preset(
        "rmsprop_first_step",
        _scene(_quadratic(10.0), (-2.5, 2.0), 200,
               [_entry("rmsprop", 0.05), _entry("adam", 0.05)]),
        why=0, opens_at=0,          # "Press +1 once"
    ),
    _preset(
        # ch06/optimizer_compare_naive.py: 30 updates from (-7, 2) with these rates; the book's
        # AdaGrad adds 1e-7 to the root (torch's rule with eps = 1e-7). The book's Adam adds its
        # 1e-7 to the uncorrected root: against torch's 1e-8 that moves no point by 1e-4.
        "dlfs_comparison",
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

"""Speed of optim_core against torch.optim on the same workload, measured in one process.

    python benchmarks/bench_core.py            # needs torch (pip install torch==2.13.0) for the peer

Workload (issue #2): Adam and momentum on Rosenbrock from (-1.5, 2) plus a little jitter,
N = 1, 100 and 10,000 trajectories, 1,000 steps, positions and loss recorded at every step.
torch runs on the CPU in float64 with gradients set analytically (no autograd), the N
trajectories as one (N, 2) parameter tensor. Both sides record into preallocated arrays and are
timed as the best of several repetitions after a warm-up, because this machine is shared and
noisy: read the ratios, not the absolute numbers. Also times the app's default-sized scene:
six optimizers x 1,000 steps from one start, and the same with record_state=True (gradients,
updates and torch's state buffers kept per step).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import landscapes  # noqa: E402
import optim_core  # noqa: E402

STEPS = 1000
CASES = {"adam": dict(lr=1e-3), "momentum": dict(lr=1e-4, momentum=0.9)}


def starts(n: int) -> np.ndarray:
    return np.array([-1.5, 2.0]) + np.random.default_rng(0).normal(0.0, 0.01, (n, 2))


def best_of(fn, repeat: int) -> float:
    fn()                                    # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_run(name, n):
    surf = landscapes.get("rosenbrock")
    x0 = starts(n)
    return lambda: optim_core.run(surf, name, x0, STEPS, **CASES[name])


def _torch_optimizer(name, p):
    import torch

    kwargs = CASES[name]
    if name == "adam":
        return torch.optim.Adam([p], lr=kwargs["lr"])
    return torch.optim.SGD([p], lr=kwargs["lr"], momentum=kwargs["momentum"])


def torch_run(name, n):
    """The same workload in torch: (2, N) parameter, gradient and loss from in-place tensor ops
    into preallocated buffers, positions and loss recorded every step."""
    import torch

    torch.set_default_dtype(torch.float64)
    x0 = torch.tensor(starts(n).T.copy())

    def go():
        p = x0.clone()
        opt = _torch_optimizer(name, p)
        xy = torch.empty((STEPS + 1, 2, n))
        loss = torch.empty((STEPS + 1, n))
        p.grad = grad = torch.empty((2, n))
        w, u = torch.empty(n), torch.empty(n)
        x, y = p[0], p[1]
        with torch.no_grad():
            for k in range(STEPS + 1):
                xy[k].copy_(p)
                torch.mul(x, x, out=w)
                torch.sub(y, w, out=w)                      # w = y - x^2
                torch.sub(1.0, x, out=u)                    # u = 1 - x
                torch.add(u * u, w * w, alpha=100.0, out=loss[k])
                if k == STEPS:
                    break
                torch.mul(x, w, out=grad[0])
                grad[0].mul_(200.0).add_(u).mul_(-2.0)      # -2(1 - x) - 400 x w
                torch.mul(w, 200.0, out=grad[1])            # 200 w
                opt.step()
        return xy, loss
    return go


def torch_step_only(name, n):
    """A floor for torch's cost: opt.step() alone with a fixed gradient, nothing recorded."""
    import torch

    torch.set_default_dtype(torch.float64)
    x0 = torch.tensor(starts(n).T.copy())

    def go():
        p = x0.clone()
        p.grad = torch.full_like(p, 1e-3)
        opt = _torch_optimizer(name, p)
        with torch.no_grad():
            for _ in range(STEPS):
                opt.step()
    return go


SCENE = [("sgd", 1e-3), ("momentum", 1e-3), ("nesterov", 1e-3), ("rmsprop", 5e-3),
         ("adam", 5e-2), ("adagrad", 0.5)]


def scene_time(repeat: int, together: bool, record_state: bool = False) -> float:
    """Six optimizers, 1,000 steps, one start: a scene as the app computes it, either all
    together (run_many: one gradient evaluation per step for all) or one run per optimizer."""
    surf = landscapes.get("rosenbrock")
    runs = [{"optimizer": name, "x0": surf.start, "lr": lr, "record_state": record_state}
            for name, lr in SCENE]

    def go():
        if together:
            optim_core.run_many(surf, runs, STEPS)
        else:
            for run in runs:
                optim_core.run_many(surf, [run], STEPS)
    return best_of(go, repeat)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 10_000])
    args = parser.parse_args(argv)
    try:
        import torch
        peer = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch = None
        peer = "torch not installed: no ratios (pip install torch==2.13.0)"
    print(f"numpy {np.__version__}; peer: {peer}; {STEPS} steps; best of {args.repeat}")
    print("ratio = torch time / core time on the same workload; 'floor' = torch's opt.step() "
          "alone (no gradient, no recording), a lower bound of torch's cost")
    print(f"{'optimizer':>9} {'N':>6} {'core us/step':>13} {'torch us/step':>14} "
          f"{'floor us/step':>14} {'core traj-steps/s':>18} {'ratio':>7} {'vs floor':>9}")
    for name in CASES:
        for n in args.sizes:
            ours = best_of(numpy_run(name, n), args.repeat)
            theirs = best_of(torch_run(name, n), args.repeat) if torch else float("nan")
            floor = best_of(torch_step_only(name, n), args.repeat) if torch else float("nan")
            print(f"{name:>9} {n:>6} {ours / STEPS * 1e6:>13.1f} {theirs / STEPS * 1e6:>14.1f} "
                  f"{floor / STEPS * 1e6:>14.1f} {n * STEPS / ours:>18.3g} {theirs / ours:>6.2f}x "
                  f"{floor / ours:>8.2f}x")
    print(f"six-optimizer scene, 1 start, {STEPS} steps: "
          f"{scene_time(args.repeat, True) * 1e3:.1f} ms together (run_many), "
          f"{scene_time(args.repeat, False) * 1e3:.1f} ms one optimizer at a time; "
          f"{scene_time(args.repeat, True, True) * 1e3:.1f} ms together with record_state")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

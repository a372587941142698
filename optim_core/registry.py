"""Name -> optimizer: its factory, torch's defaults, the allowed range of each hyperparameter.

Adding an optimizer is one factory and one entry in OPTIMIZERS.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from . import adam, adaptive, lion, sgd


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: default, allowed range (for validation) and how a slider shows it."""

    name: str
    default: float | bool
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    kind: str = "real"          # "real" or "bool"
    label: str = ""
    symbol: str = ""            # LaTeX symbol used in the update rule
    log: bool = False           # a log-scale slider reads best
    help: str = ""

    def allowed(self) -> str:
        if self.kind == "bool":
            return "true or false"
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        return f"{'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"


def _hp(name, default, **kw):
    return HyperParam(name, default, **kw)


_UNIT = dict(low=0.0, high=1.0, high_open=True)
MOMENTUM = _hp("momentum", 0.9, label="momentum μ", symbol=r"\mu", **_UNIT,
               help="fraction of the previous step kept")
DAMPENING = _hp("dampening", 0.0, low=0.0, high=1.0, label="dampening τ", symbol=r"\tau",
                help="fraction of the new gradient dropped from the momentum buffer")
WEIGHT_DECAY = _hp("weight_decay", 0.0, low=0.0, label="weight decay λ", symbol=r"\lambda",
                   help="pull towards the origin (L2 added to the gradient)")
RHO = _hp("rho", 0.9, label="decay ρ", symbol=r"\rho", **_UNIT,
          help="decay of the running average of squared gradients")
BETA1 = _hp("beta1", 0.9, label="β₁", symbol=r"\beta_1", **_UNIT,
            help="decay of the first moment (momentum)")
BETA2 = _hp("beta2", 0.999, label="β₂", symbol=r"\beta_2", **_UNIT,
            help="decay of the second moment (squared gradients)")


def _eps(default):
    return _hp("eps", default, low=0.0, low_open=True, label="ε", symbol=r"\epsilon", log=True,
               help="added to the denominator so it never divides by zero")


def _with(param: HyperParam, default, **changes) -> HyperParam:
    """The same hyperparameter with another default (and optionally other fields)."""
    return HyperParam(**{**param.__dict__, "default": default, **changes})


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    title: str
    make: object                 # make(hp, shape) -> step(theta, g, lr); step.state is
                                 # torch's optimizer.state[p]: buffer name -> live array;
                                 # a rule that counts steps also has step.resume(t), so a
                                 # rebuilt (compacted) batch continues at step t + 1
    lr: float                    # torch's default learning rate
    hyper: tuple                 # HyperParam, in display order
    rule: str                    # LaTeX update rule
    summary: str                 # what it does, in plain words
    torch: str                   # the torch.optim call it reproduces

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.hyper}

    def param(self, name: str) -> HyperParam:
        for p in self.hyper:
            if p.name == name:
                return p
        raise KeyError(name)


_SPECS = [
    OptimizerSpec("sgd", "SGD / GD", sgd.make_sgd, 1e-3, (WEIGHT_DECAY,), sgd.SGD_RULE,
                  "Steps straight down the local slope; with gradient noise it is SGD, without it GD. "
                  "Slow in narrow valleys, where the slope points across rather than along.",
                  "torch.optim.SGD(lr, momentum=0)"),
    OptimizerSpec("momentum", "Momentum", sgd.make_momentum, 1e-3, (MOMENTUM, DAMPENING, WEIGHT_DECAY),
                  sgd.MOMENTUM_RULE,
                  "A heavy ball: past steps keep it rolling, so it speeds up along a valley and "
                  "can overshoot and oscillate around the minimum.",
                  "torch.optim.SGD(lr, momentum)"),
    OptimizerSpec("nesterov", "Nesterov", sgd.make_nesterov, 1e-3, (MOMENTUM, WEIGHT_DECAY),
                  sgd.NESTEROV_RULE,
                  "Momentum that looks ahead: it corrects with the gradient where it is about to be, "
                  "so it brakes earlier and overshoots less than plain momentum.",
                  "torch.optim.SGD(lr, momentum, nesterov=True)"),
    OptimizerSpec("adagrad", "AdaGrad", adaptive.make_adagrad, 1e-2,
                  (_hp("lr_decay", 0.0, low=0.0, label="lr decay δ", symbol=r"\delta",
                       help="extra 1/(1 + (t-1)δ) decay of the rate"),
                   _hp("initial_accumulator_value", 0.0, low=0.0, label="initial accumulator",
                       symbol="s_0", help="starting value of the sum of squared gradients"),
                   _eps(1e-10), WEIGHT_DECAY),
                  adaptive.ADAGRAD_RULE,
                  "Divides each coordinate's step by the root of all its past squared gradients: "
                  "steep directions slow down at once, and every step keeps shrinking for good.",
                  "torch.optim.Adagrad"),
    OptimizerSpec("rmsprop", "RMSProp", adaptive.make_rmsprop, 1e-2,
                  (_with(RHO, 0.99), _eps(1e-8), _with(MOMENTUM, 0.0),
                   _hp("centered", False, kind="bool", label="centered",
                       help="divide by the gradient's variance instead of its raw second moment"),
                   WEIGHT_DECAY),
                  adaptive.RMSPROP_RULE,
                  "AdaGrad with a memory that fades: a running average of squared gradients, so the "
                  "rate adapts but does not decay to nothing. No bias correction: step 1 is 10× lr.",
                  "torch.optim.RMSprop(lr, alpha=rho)"),
    OptimizerSpec("adadelta", "AdaDelta", adaptive.make_adadelta, 1.0,
                  (RHO, _eps(1e-6), WEIGHT_DECAY), adaptive.ADADELTA_RULE,
                  "Needs no learning rate: the step's size comes from a running average of past "
                  "steps, so it starts tiny (about √ε) and grows as it moves.",
                  "torch.optim.Adadelta"),
    OptimizerSpec("adam", "Adam", adam.make_adam, 1e-3,
                  (BETA1, BETA2, _eps(1e-8), WEIGHT_DECAY), adam.ADAM_RULE,
                  "Momentum plus RMSProp's scaling, both bias-corrected: every coordinate moves about "
                  "lr per step at first, whatever the size of its gradient.",
                  "torch.optim.Adam"),
    OptimizerSpec("adamw", "AdamW", adam.make_adamw, 1e-3,
                  (BETA1, BETA2, _eps(1e-8),
                   _with(WEIGHT_DECAY, 1e-2,
                         help="shrink θ by (1 − lr·λ) every step, outside the adaptive scaling")),
                  adam.ADAMW_RULE,
                  "Adam with decoupled weight decay: the pull towards the origin is not divided by "
                  "the gradient statistics, so it acts the same in every direction.",
                  "torch.optim.AdamW"),
    OptimizerSpec("adamax", "Adamax", adam.make_adamax, 2e-3,
                  (BETA1, BETA2, _eps(1e-8), WEIGHT_DECAY), adam.ADAMAX_RULE,
                  "Adam with the infinity norm: divides by a slowly decaying maximum of |g|, "
                  "which is steadier when gradients spike.",
                  "torch.optim.Adamax"),
    OptimizerSpec("nadam", "NAdam", adam.make_nadam, 2e-3,
                  (BETA1, BETA2, _eps(1e-8), WEIGHT_DECAY,
                   _hp("momentum_decay", 4e-3, low=0.0, label="momentum decay ψ", symbol=r"\psi",
                       help="how fast the momentum coefficient warms up towards β₁")),
                  adam.NADAM_RULE,
                  "Adam with Nesterov's look-ahead on the momentum term: it reacts a step earlier "
                  "when the slope turns.",
                  "torch.optim.NAdam"),
    OptimizerSpec("amsgrad", "AMSGrad", adam.make_amsgrad, 1e-3,
                  (BETA1, BETA2, _eps(1e-8), WEIGHT_DECAY), adam.AMSGRAD_RULE,
                  "Adam that never forgets a large gradient: it divides by the largest second "
                  "moment seen so far, so its steps can only shrink.",
                  "torch.optim.Adam(amsgrad=True)"),
    OptimizerSpec("radam", "RAdam", adam.make_radam, 1e-3,
                  (BETA1, BETA2, _eps(1e-8), WEIGHT_DECAY), adam.RADAM_RULE,
                  "Rectified Adam: plain momentum steps until the variance estimate is reliable "
                  "(step 6 with β₂ = 0.999), then Adam with a warm-up factor.",
                  "torch.optim.RAdam"),
    OptimizerSpec("lion", "Lion", lion.make_lion, 1e-4,
                  (BETA1, _with(BETA2, 0.99), WEIGHT_DECAY), lion.LION_RULE,
                  "Moves every coordinate by exactly lr, in the sign of a momentum blend: "
                  "fast and robust, but it rattles around a minimum at a fixed distance.",
                  "Lion (Chen et al. 2023, Algorithm 2)"),
]

OPTIMIZERS = MappingProxyType({spec.name: spec for spec in _SPECS})

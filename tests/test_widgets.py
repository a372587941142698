"""Every value the core accepts is one its control can show (optiviz.widgets.Control)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
from optim_core import OPTIMIZERS, SCHEDULE_PARAMS
from optiviz.widgets import hyper_control, schedule_control, surface_control


def _shows(control) -> bool:
    value = control.value
    if control.kind in ("options", "choice"):
        return value in control.options
    if control.kind == "optional":
        return value is None or value in control.options
    if control.kind == "toggle":
        return isinstance(value, bool)
    return control.low <= value <= control.high


def _in_range(draw, low, high, low_open=False, high_open=False, integer=False):
    lo = 0.0 if low is None else low
    hi = lo + 1e6 if high is None else high
    if integer:
        return draw(st.integers(int(math.ceil(lo)), int(hi)))
    value = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    if (low_open and value == lo) or (high_open and value == hi):
        value = (lo + hi) / 2
    return value


@st.composite
def hyper_values(draw):
    spec = OPTIMIZERS[draw(st.sampled_from(list(OPTIMIZERS)))]
    if not spec.hyper:
        return None, None
    p = draw(st.sampled_from(spec.hyper))
    if p.kind == "bool":
        return p, draw(st.booleans())
    return p, _in_range(draw, p.low, p.high, p.low_open, p.high_open)


@given(hyper_values())
@settings(max_examples=300, deadline=None)
def test_hyperparameter_controls_show_every_allowed_value(pv):
    p, value = pv
    if p is not None:
        assert _shows(hyper_control(p, value)), (p.name, value)


@st.composite
def schedule_values(draw):
    name = draw(st.sampled_from(list(SCHEDULE_PARAMS)))
    if not SCHEDULE_PARAMS[name]:
        return None, None, 1
    p = draw(st.sampled_from(SCHEDULE_PARAMS[name]))
    steps = draw(st.integers(1, 5000))
    if p.kind == "choice":
        return p, draw(st.sampled_from(p.choices)), steps
    if p.kind == "bool":
        return p, draw(st.booleans()), steps
    if p.kind == "optional_real":
        return p, draw(st.one_of(st.none(), st.floats(1e-6, 100))), steps
    return p, _in_range(draw, p.low, p.high, p.low_open, p.high_open, p.kind == "int"), steps


@given(schedule_values())
@settings(max_examples=300, deadline=None)
def test_schedule_controls_show_every_allowed_value(pvs):
    p, value, steps = pvs
    if p is not None:
        control = schedule_control(p, value, steps)
        assert _shows(control) and control.value == value, (p.name, value, control)


@st.composite
def surface_values(draw):
    name = draw(st.sampled_from([n for n in landscapes.names() if landscapes.parameters(n)]))
    key, p = draw(st.sampled_from(sorted(landscapes.parameters(name).items())))
    return p, draw(st.floats(p.min, p.max))


@given(surface_values())
@settings(max_examples=200, deadline=None)
def test_surface_controls_show_every_allowed_value(pv):
    p, value = pv
    control = surface_control(p, value)
    assert _shows(control) and control.value == value

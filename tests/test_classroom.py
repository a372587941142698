"""The classroom through AppTest and plain functions: the presenter's link (present=1), the
lesson list (lessons=...) and n / p, and the start and learning rates a new surface gets.

The browser side (what is hidden on screen, the keys, phones) is tests/browser/test_browser_classroom.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis.strategies import text as st_text

import landscapes
import optim_core
from optiviz import presets, surface_defaults, url_state
from optiviz.widgets import LR_OPTIONS
from ui import state

from test_app import chart, path_of, start

LESSONS = ("lr_too_large", "momentum_overshoot", "adagrad_decay")


# ---- the link: present and lessons ------------------------------------------------------------

def test_present_and_lessons_round_trip_through_the_link():
    params = url_state.view_to_params("race", None, 500, "momentum_overshoot", None, True, LESSONS)
    assert params == {"lesson": "momentum_overshoot", "present": "1", "lessons": ",".join(LESSONS)}
    view, warnings = url_state.params_to_view(params, 500, presets.preset_keys())
    assert not warnings
    assert view["present"] is True and view["lessons"] == list(LESSONS)
    assert url_state.view_to_params("race", None, 500, None) == {}, "defaults stay out of the link"


@pytest.mark.parametrize("value, present", [("1", True), ("true", True), ("0", False), ("", False)])
def test_present_values(value, present):
    view, warnings = url_state.params_to_view({"present": value}, 500, presets.preset_keys())
    assert view["present"] is present and not warnings


def test_a_bad_lesson_list_keeps_what_it_can_and_says_what_it_dropped():
    view, warnings = url_state.params_to_view(
        {"lessons": "lr_too_large, nope,lr_too_large,<b>x</b>,adagrad_decay", "present": "maybe"},
        500, presets.preset_keys())
    assert view["lessons"] == ["lr_too_large", "adagrad_decay"], "known keys, each once, in order"
    assert view["present"] is False
    assert any("nope" in w and "<b>x</b>" in w for w in warnings), warnings
    assert any("present=maybe" in w for w in warnings), warnings
    view, warnings = url_state.params_to_view({"lessons": "a," * 5000}, 500, presets.preset_keys())
    assert view["lessons"] == [] and len(warnings) == 1 and len(warnings[0]) < 300


@settings(max_examples=300, deadline=None)
@given(lessons=st_text(max_size=3000), present=st_text(max_size=50))
def test_any_lessons_and_present_text_is_read_without_raising(lessons, present):
    keys = presets.preset_keys()
    view, warnings = url_state.params_to_view({"lessons": lessons + "," + keys[0], "present": present},
                                              500, keys)
    assert set(view["lessons"]) <= set(keys) and len(set(view["lessons"])) == len(view["lessons"])
    assert isinstance(view["present"], bool)
    assert len(warnings) <= 2 and all(len(w) < 300 for w in warnings)


# ---- the presenter's page ---------------------------------------------------------------------

def _html(at) -> str:
    return "\n".join(str(e.proto) for e in at.get("html"))


def test_present_hides_the_sidebar_and_every_control_but_the_timeline():
    at = start({"present": "1"})
    model = chart(at)
    assert model["present"] is True
    css = _html(at)
    assert 'section[data-testid=\\"stSidebar\\"]' in css or 'section[data-testid="stSidebar"]' in css
    assert "stExpandSidebarButton" in css, "the sidebar's toggle is hidden too"
    assert not at.main.expander, "no Export, no Share panel"
    assert not at.main.toggle, "no update-rules toggle"
    assert not at.get("download_button") and not at.get("file_uploader")
    assert at.query_params["present"] == "1", "the link keeps presenting"
    plain = start()
    assert chart(plain)["present"] is False and plain.main.expander and "present" not in plain.query_params
    assert "stExpandSidebarButton" not in _html(plain)


def test_a_lesson_list_link_opens_its_first_lesson():
    at = start({"lessons": ",".join(LESSONS), "present": "1"})
    assert at.session_state["lesson"] == LESSONS[0]
    scene = json.loads(at.session_state["scene_json"])
    assert scene == presets.get_preset(LESSONS[0]).scene
    model = chart(at)
    assert model["lessons"]["keys"] == list(LESSONS) and model["lessons"]["at"] == 0
    assert model["lessons"]["titles"][0] == presets.get_preset(LESSONS[0]).title
    assert at.query_params["lessons"] == ",".join(LESSONS) and at.query_params["lesson"] == LESSONS[0]
    assert not at.warning


def test_the_sidebar_lesson_list_goes_into_the_link():
    at = start()
    at.sidebar.multiselect(key="lessons").set_value(["adagrad_decay", "lr_too_large"]).run()
    assert at.query_params["lessons"] == "adagrad_decay,lr_too_large"
    assert chart(at)["lessons"] == {"keys": ["adagrad_decay", "lr_too_large"],
                                    "titles": [presets.get_preset("adagrad_decay").title,
                                               presets.get_preset("lr_too_large").title],
                                    "at": None}


def test_the_preset_key_is_shown_where_a_command_line_user_looks():
    at = start()
    at.sidebar.radio(key="preset_pick").set_value("momentum_overshoot").run()
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "momentum_overshoot" in captions and "--preset" in captions
    help_text = at.sidebar.multiselect(key="lessons").help
    assert all(key in help_text for key in presets.preset_keys())


class _State(dict):
    """A stand-in for st.session_state (ui.state reads and writes it like a dict)."""


def test_n_and_p_walk_the_lesson_list(monkeypatch):
    ss = _State(lessons=list(LESSONS))
    monkeypatch.setattr(st, "session_state", ss)
    state.step_lesson(-1)
    assert "lesson" not in ss, "p before the list: nothing"
    walked = []
    for direction in (1, 1, 1, 1, -1, -1, -1):
        state.step_lesson(direction)
        walked.append(ss["lesson"])
        assert ss["autoplay"] is True and ss["surface"] == presets.get_preset(ss["lesson"]).scene["surface"]["name"]
    assert walked == ["lr_too_large", "momentum_overshoot", "adagrad_decay", "adagrad_decay",
                      "momentum_overshoot", "lr_too_large", "lr_too_large"]
    assert ss["why"] == presets.get_preset("lr_too_large").why
    ss["lesson"] = "rmsprop_first_step"            # a lesson that is not on the list: n starts it
    ss["step"] = 1                                 # where its +1 left the playhead
    state.step_lesson(1)
    assert ss["lesson"] == LESSONS[0]
    assert ss["step"] is None, "the last lesson's step carried into this one's link"
    state.step_lesson(True)                        # only 1 and -1 mean anything
    assert ss["lesson"] == LESSONS[0]


# ---- a new surface: its demo start and rates that move there ------------------------------------

def test_the_surface_table_covers_every_surface_and_optimizer_with_slider_values():
    for name in landscapes.names():
        for optimizer in optim_core.OPTIMIZERS:
            lr = surface_defaults.lr_for(name, optimizer)
            assert lr in LR_OPTIONS, (name, optimizer, lr)
    assert surface_defaults.lr_for("custom", "adam") is None
    assert surface_defaults.start_for("custom") is None


@pytest.mark.parametrize("name", landscapes.names())
def test_the_surface_rates_never_diverge_from_the_demo_start(name):
    surface = landscapes.get(name)
    for optimizer in optim_core.OPTIMIZERS:
        lr = surface_defaults.lr_for(name, optimizer)
        traj = optim_core.run(surface, optimizer, surface.start, 500, lr=lr)
        assert traj.diverged_at[0] == -1, (name, optimizer, lr)
        assert np.isfinite(traj.xy).all()


def test_switching_to_goldstein_price_moves_the_start_and_no_run_diverges():
    at = start()
    before = chart(at)
    assert {run["label"]: run["diverged_at"] for run in before["runs"]}   # the default race
    at.sidebar.selectbox(key="surface").set_value("goldstein_price").run()
    model = chart(at)
    surface = landscapes.get("goldstein_price")
    np.testing.assert_allclose(model["start"], surface.start)
    for run in model["runs"]:
        assert run["diverged_at"] is None, f"{run['label']} diverged at step {run['diverged_at']}"
        path = path_of(model, run["label"])
        assert np.hypot(*(path[-1] - path[0])) > 0.05 * 4, f"{run['label']} hardly moved"
    for uid in at.session_state["opt_uids"]:
        name = at.session_state[f"opt.{uid}.name"]
        assert at.session_state[f"opt.{uid}.lr"] == surface_defaults.lr_for("goldstein_price", name)
    assert at.query_params["start"] == "1.0~1.5"


def test_today_sgd_and_momentum_would_diverge_there_at_step_one():
    """What the table fixes: the default race's rates on Goldstein–Price leave at step 1."""
    surface = landscapes.get("goldstein_price")
    for optimizer in ("sgd", "momentum"):
        traj = optim_core.run(surface, optimizer, (-1.5, 2.0), 500, lr=1e-3)
        assert 0 <= traj.diverged_at[0] <= 1


def test_keep_my_start_and_rates():
    at = start()
    lrs = {uid: at.session_state[f"opt.{uid}.lr"] for uid in at.session_state["opt_uids"]}
    at.sidebar.toggle(key=state.KEEP_ON_SURFACE_CHANGE).set_value(True).run()
    at.sidebar.selectbox(key="surface").set_value("himmelblau").run()
    assert chart(at)["start"] == [-1.5, 2.0], "the start stays (inside the new window)"
    assert {uid: at.session_state[f"opt.{uid}.lr"] for uid in at.session_state["opt_uids"]} == lrs


def test_a_duplicate_keeps_its_third_and_a_shared_rate_the_smallest():
    at = start()
    uid = at.session_state["opt_uids"][3]                  # Adam
    at.sidebar.toggle(key="fair").set_value(True).run()
    from test_app import open_panel
    open_panel(at, f"opt.{uid}.panel")
    at.sidebar.button(key=f"opt.{uid}.dup").click().run()
    at.sidebar.selectbox(key="surface").set_value("booth").run()
    uids = at.session_state["opt_uids"]
    adam = surface_defaults.lr_for("booth", "adam")
    twin = at.session_state[f"opt.{uids[4]}.lr"]
    assert at.session_state[f"opt.{uids[3]}.lr"] == adam and twin < adam and twin in LR_OPTIONS
    names = {at.session_state[f"opt.{u}.name"] for u in uids}
    assert at.session_state["shared_lr"] == min(surface_defaults.lr_for("booth", n) for n in names)


def test_a_link_or_preset_keeps_its_own_start_and_rates():
    key = "momentum_overshoot"                              # not the default surface's window
    at = start({"lesson": key})
    scene = json.loads(at.session_state["scene_json"])
    assert scene == presets.get_preset(key).scene
    at = start()
    at.sidebar.radio(key="preset_pick").set_value("lr_too_large").run()
    scene = json.loads(at.session_state["scene_json"])
    assert scene == presets.get_preset("lr_too_large").scene, "a preset is loaded as written"

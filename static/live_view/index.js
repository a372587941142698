// The live view: one Plotly graph, four views, one timeline, all in the browser.
//
// Streamlit (components v2) calls the default export on every rerun with the same parent
// element; the graph is created once and updated with Plotly.react when the scene changes.
// Playing and scrubbing redraw locally with Plotly.restyle and send nothing to the server; the
// server hears only a map click (trigger "click"), the view and the step where the timeline
// stopped (state "view", "step"), and a request for a surface it did not send ("need_surface").
// Labels come from user-controlled scenes: they are set with textContent, never as HTML.

import { loadPlotly } from "./plotly_loader.js";
import { decode, decodeRun, fmt, lossY, setText, tr } from "./data.js";
import * as figures from "./figures.js";
import { Overlay } from "./overlay.js";
import * as why from "./why.js";

const PLAY_SECONDS = 8;                       // a whole race at 1x
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
const VIEWS = [["race", "Race"], ["side", "Side by side"], ["3d", "3D"], ["curves", "Curves"],
               ["maps", "Maps"]];
const MAP_KINDS = [["basin", "Where each start ends"], ["hyper", "Which settings work"],
                   ["spread", "Noise spread"]];
const LESSON_KEYS = {n: 1, N: 1, PageDown: 1, p: -1, P: -1, PageUp: -1};   // a clicker sends PageDown/Up
const surfaces = new Map();                   // surface key -> {image, mesh}: sent once
const instances = new WeakMap();              // parent element -> LiveView

class LiveView {
  constructor(parent) {
    this.parent = parent;
    this.root = el("div", "lv-root");
    this.root.dataset.testid = "live-view";
    this.root.setAttribute("data-testid", "live-view");
    this.root.tabIndex = 0;
    this.root.setAttribute("aria-label", "optimizer race: space plays, arrow keys step");
    this.drawn = 0;
    this.step = 0;
    this.view = "race";
    this.speed = 1;
    this.playing = false;
    this.ahead = false;
    this.model = null;
    this.reported = {view: null, step: null};
    this.build();
    parent.appendChild(this.root);
  }

  build() {
    const bar = el("div", "lv-bar");
    this.viewButtons = VIEWS.map(([key, label]) => {
      const b = button(label, () => this.setView(key, true));
      b.dataset.view = key;
      bar.appendChild(b);
      return b;
    });
    this.whyButton = button("Why it moves", () => this.toggleWhy(),
                            "the optimizer's own state at the playhead: arrows, box and this step's numbers");
    this.whyButton.classList.add("lv-why-toggle");
    bar.appendChild(this.whyButton);
    this.copyButton = button("Copy link", () => this.copyLink());
    this.copyButton.classList.add("lv-copy");
    this.copyButton.title = "Copy this page's link: the scene, the view, the step and the lesson";
    bar.appendChild(this.copyButton);
    this.presentButton = button("Copy presenter link", () => this.copyLink(true),
                                "Copy a link that shows only the picture and its timeline, in large " +
                                "type, for a projector (space plays, ←/→ step, n/p: next/previous lesson)");
    this.presentButton.classList.add("lv-copy-present");
    bar.appendChild(this.presentButton);
    this.mapBar = el("div", "lv-mapbar");
    this.mapBar.setAttribute("data-testid", "map-bar");
    this.mapBar.style.display = "none";          // shown with the Maps view (fillMapInfo)
    this.mapButtons = MAP_KINDS.map(([key, label]) => {
      const b = button(label, () => this.setMapKind(key));
      b.dataset.map = key;
      this.mapBar.appendChild(b);
      return b;
    });
    this.mapInfo = el("div", "lv-mapinfo");
    this.plot = el("div", "lv-plot");
    const tl = this.timeline = el("div", "lv-timeline");
    this.toStart = button("|◀", () => this.seek(0, true), "back to step 0 (Home)");
    this.back = button("−1", () => this.seek(this.step - 1, true), "one step back (←)");
    this.playButton = button("▶", () => this.togglePlay(), "play / pause (space)");
    this.playButton.classList.add("lv-play");
    this.fwd = button("+1", () => this.seek(this.step + 1, true), "one step on (→)");
    this.toEnd = button("▶|", () => this.seek(this.model.steps, true), "to the end (End)");
    this.scrub = document.createElement("input");
    this.scrub.type = "range";
    this.scrub.min = "0";
    this.scrub.className = "lv-scrub";
    this.scrub.setAttribute("aria-label", "step");
    // While playing, the scrub bar moves the playhead and the race plays on from there.
    this.scrub.addEventListener("input", () => this.seek(Number(this.scrub.value), false, true));
    this.scrub.addEventListener("change", () => this.report());
    this.counter = el("span", "lv-counter");
    const speeds = el("span", "lv-speeds");
    this.speedButtons = SPEEDS.map((s) => {
      const b = button(`${s}×`, () => this.setSpeed(s), `play at ${s}× speed`);
      b.dataset.speed = String(s);
      speeds.appendChild(b);
      return b;
    });
    const aheadLabel = el("label", "lv-ahead");
    this.aheadBox = document.createElement("input");
    this.aheadBox.type = "checkbox";
    this.aheadBox.addEventListener("change", () => { this.ahead = this.aheadBox.checked; this.redraw(); });
    this.aheadText = document.createTextNode(" show the path ahead");
    aheadLabel.append(this.aheadBox, this.aheadText);
    // The lesson list (lessons=... in the link): previous / next lesson, as p / n do.
    this.lessonNav = el("span", "lv-lessons");
    this.lessonNav.setAttribute("data-testid", "lesson-nav");
    this.prevLesson = button("◀ lesson", () => this.stepLesson(-1), "previous lesson of the list (p)");
    this.lessonAt = el("span", "lv-lesson-at");
    this.nextLesson = button("lesson ▶", () => this.stepLesson(1), "next lesson of the list (n)");
    this.lessonNav.append(this.prevLesson, this.lessonAt, this.nextLesson);
    this.lessonNav.style.display = "none";
    tl.append(this.toStart, this.back, this.playButton, this.fwd, this.toEnd, this.scrub,
              this.counter, speeds, aheadLabel, this.lessonNav);
    // On a phone the timeline sticks to the screen's foot (live_view.css): only the buttons,
    // the scrub bar and the counter, so the map above keeps most of the screen; the speeds
    // and "show the path ahead" go in a row under it.
    const more = el("div", "lv-timeline-more");
    const phone = window.matchMedia ? window.matchMedia("(max-width: 640px)") : null;
    const place = () => {
      if (phone && phone.matches) more.append(speeds, aheadLabel);
      else { tl.insertBefore(speeds, this.lessonNav); tl.insertBefore(aheadLabel, this.lessonNav); }
    };
    if (phone) {
      place();
      if (phone.addEventListener) phone.addEventListener("change", place);
    }
    this.readout = el("div", "lv-readout");
    this.whyPanel = el("div", "lv-why");
    this.whyPanel.setAttribute("data-testid", "why-panel");
    this.root.append(bar, this.mapBar, this.plot, this.mapInfo, tl, more, this.readout, this.whyPanel);
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    // On the presenter's page the keys work wherever the focus is not in a field of the page.
    document.addEventListener("keydown", (e) => {
      if (this.present && this.root.isConnected && !this.root.contains(e.target) &&
          !e.target.closest("input, textarea, select, [contenteditable=true]")) this.onKey(e);
    });
    // A narrower or wider plot may need the other layout (stacked on a phone) or height.
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        clearTimeout(this.resizeTimer);
        this.resizeTimer = setTimeout(() => this.onResize(), 120);
      }).observe(this.root);
    }
    window.addEventListener("resize", () => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => this.onResize(), 120);
    });
  }

  // The layout the plot's size asks for changed: draw it again (same model, same step).
  onResize() {
    if (!this.model || !this.root.isConnected) return;
    const key = this.sizeKey();
    if (key !== this.drawnSize) this.render();
  }

  sizeKey() {
    const w = Math.round((this.plot.clientWidth || this.root.clientWidth) / 8);
    return `${w}|${this.present ? window.innerHeight : 0}`;
  }

  // The plot's height: a phone's stacked race fits its map; the presenter's page fills the
  // window under what is above it; otherwise the server's.
  plotHeight() {
    const width = this.plot.clientWidth || this.root.clientWidth || 800;
    const fitted = figures.height(this.view, this.model, width, this.present);
    if (fitted) return fitted;
    if (this.present) {
      // The picture and its timeline fill the window; what comes after the timeline (the "why
      // it moves" panel) goes below the fold: it never squeezes the picture a room looks at.
      const top = this.plot.getBoundingClientRect().top + window.scrollY;
      const below = this.timeline.getBoundingClientRect().bottom - this.plot.getBoundingClientRect().bottom;
      return Math.max(320, Math.round(window.innerHeight - top - below - 12));
    }
    return this.height || 520;
  }

  // What the server says about the page around the graph: presenting, and the lesson list.
  applyPage(data) {
    this.present = Boolean(data.present);
    this.root.classList.toggle("lv-present", this.present);
    this.root.setAttribute("data-present", this.present ? "1" : "0");
    const lessons = data.lessons && data.lessons.keys && data.lessons.keys.length ? data.lessons : null;
    this.lessons = lessons;
    this.lessonNav.style.display = lessons && this.setTriggerValue ? "" : "none";
    if (lessons) {
      const at = lessons.at;
      this.lessonAt.textContent = `${at == null ? "–" : at + 1} / ${lessons.keys.length}`;
      this.lessonAt.title = at == null ? "" : lessons.titles[at];
      this.prevLesson.disabled = at == null || at <= 0;
      this.nextLesson.disabled = at != null && at >= lessons.keys.length - 1;
      this.root.setAttribute("data-lesson", at == null ? "" : lessons.keys[at]);
    }
  }

  // n / p: the next or previous lesson of the list, loaded by the server (ui.state.step_lesson).
  stepLesson(direction) {
    if (!this.setTriggerValue || !this.lessons) return;
    this.setTriggerValue("lesson", direction);
  }

  // The page's language (data.lang, data.text from optiviz/live.py): the fixed labels built
  // above, set again as text. True when it changed since the last model (then redraw).
  applyText(data) {
    const lang = data.lang || "en";
    if (lang === this.lang) return false;
    this.lang = lang;
    setText(data.text);
    this.root.setAttribute("lang", lang);
    this.root.setAttribute("aria-label", tr("aria", "optimizer race: space plays, arrow keys step"));
    const label = (b, key, english, titleKey, titleEnglish, values) => {
      if (!b) return;
      if (key) b.textContent = tr(key, english, values);
      if (titleKey) b.title = tr(titleKey, titleEnglish, values);
    };
    for (const [key, english] of VIEWS) label(this.viewButtons.find((b) => b.dataset.view === key), `view.${key}`, english);
    for (const [key, english] of MAP_KINDS) label(this.mapButtons.find((b) => b.dataset.map === key), `map.${key}`, english);
    label(this.whyButton, "why", "Why it moves", "why_title",
          "the optimizer's own state at the playhead: arrows, box and this step's numbers");
    label(this.copyButton, "copy", "Copy link", "copy_title",
          "Copy this page's link: the scene, the view, the step and the lesson");
    label(this.presentButton, "copy_present", "Copy presenter link", "copy_present_title",
          "Copy a link that shows only the picture and its timeline, in large type, for a projector " +
          "(space plays, ←/→ step, n/p: next/previous lesson)");
    label(this.toStart, null, null, "to_start", "back to step 0 (Home)");
    label(this.back, null, null, "back", "one step back (←)");
    label(this.playButton, null, null, "play", "play / pause (space)");
    label(this.fwd, null, null, "fwd", "one step on (→)");
    label(this.toEnd, null, null, "to_end", "to the end (End)");
    label(this.prevLesson, "prev_lesson", "◀ lesson", "prev_lesson_title", "previous lesson of the list (p)");
    label(this.nextLesson, "next_lesson", "lesson ▶", "next_lesson_title", "next lesson of the list (n)");
    this.scrub.setAttribute("aria-label", tr("scrub", "step"));
    for (const b of this.speedButtons) label(b, null, null, "speed", "play at {speed}× speed", {speed: b.dataset.speed});
    this.aheadText.textContent = tr("ahead", " show the path ahead");
    return true;
  }

  setCallbacks(setStateValue, setTriggerValue) {
    this.setStateValue = setStateValue;
    this.setTriggerValue = setTriggerValue;
    this.whyButton.style.display = setStateValue ? "" : "none";   // offline (HTML export): no server
    this.presentButton.style.display = setStateValue ? "" : "none";
  }

  // ---- data from the server -------------------------------------------------------------

  async update(data) {
    if (!data || !data.runs) return;
    const arrived = performance.now();
    const sameScene = this.model && this.model.key === data.key;
    if (data.surface.image) surfaces.set(data.surface.key, {image: data.surface.image, mesh: data.surface.mesh});
    if (!surfaces.has(data.surface.key)) {       // the server thought we had it
      this.setTriggerValue && this.setTriggerValue("need_surface", data.surface.key);
      return;
    }
    this.applyPage(data);
    const relabel = this.applyText(data);
    const whyKey = (data.why ? `${data.why.run}` : "") + "|" + (data.map ? data.map.kind : "");
    if (sameScene && this.height === data.height && this.whyKey === whyKey && !relabel) return;  // nothing new here
    this.whyKey = whyKey;
    this.whyPending = false;
    const first = !this.model;
    this.model = {...data, surfaceData: surfaces.get(data.surface.key),
                  runs: sameScene ? this.model.runs : data.runs.map(decodeRun),
                  why: data.why ? why.decodeWhy(data.why) : null,
                  map: data.map ? decodeMap(data.map, data.loss_axis) : null};
    if (data.map) this.mapKind = data.map.kind;
    this.height = data.height;
    this.plot.style.height = `${data.height || 520}px`;
    this.scrub.max = String(data.steps);
    if (first) {
      this.view = data.view || "race";
      this.step = data.step == null ? data.steps : Math.min(data.step, data.steps);
      this.reported = {view: this.view, step: data.step == null ? null : this.step};
    } else {
      this.step = Math.min(this.step, data.steps);
    }
    const decoded = performance.now();
    let loaded;
    try {
      this.Plotly = await loadPlotly();
      loaded = performance.now();
      await this.render();
    } finally {
      if (first) this.announceDrawn();   // (or plotly.js failed: the controls must come anyway)
    }
    this.timing = {arrived, decodeMs: decoded - arrived, plotlyAt: loaded, drawnAt: performance.now()};
    if (first && this.view === "maps" && !data.map) this.askMap("basin");   // a link to the maps
    if (first && this.present) this.root.focus({preventScroll: true});       // the keys work at once
    if (data.autoplay && (first || !sameScene) && data.autoplay !== this.autoplayed) {
      this.autoplayed = data.autoplay;
      if (data.opens_at != null) {            // a lesson to step through: paused at its step
        if (this.playing) this.pause(false);
        this.seek(data.opens_at, true);
      } else {
        this.seek(0, false);
        this.play();
      }
    }
  }

  // The page's first picture is up: the server draws the controls now (app.py waits for this,
  // so their render does not delay the chart). Sent after the frame is painted, once.
  announceDrawn() {
    if (this.announced || !this.setTriggerValue) return;
    this.announced = true;
    requestAnimationFrame(() => setTimeout(() => this.setTriggerValue("drawn", true), 0));
  }

  // ---- drawing -----------------------------------------------------------------------------

  async render() {
    if (!this.Plotly || !this.model) return;    // a view or map click before plotly.js loaded
    const t0 = performance.now();
    const height = this.plotHeight();
    this.plot.style.height = `${height}px`;
    const fig = figures.build(this.view, this.model, this.step, this.ahead,
                              {width: this.plot.clientWidth || this.root.clientWidth, height,
                               present: this.present});
    this.drawnSize = this.sizeKey();
    this.traceMap = fig.traceMap;
    this.panes = fig.panes;
    // A new race on the same scene layout (a slider moved) changes at most some axis ranges:
    // relayout just those (a few ms) instead of a Plotly.react of the whole figure.
    const shape = this.view === "3d" ? null : figures.shape(fig);
    const size = this.drawnSize;
    const resized = this.shown && this.shown.size !== size;
    const ranges = shape && this.shown && this.shown.view === this.view && !resized
      ? figures.rangeChanges(this.shown.shape, shape) : null;
    if (ranges) {
      if (Object.keys(ranges).length) await this.Plotly.relayout(this.plot, ranges);
    } else {
      const wanted = mapRanges(fig.layout);        // read before Plotly changes the layout
      await this.Plotly.react(this.plot, fig.data, fig.layout, fig.config);
      // Plotly.react keeps a map's old range when the new surface's window has another shape
      // (its scaleanchor constraint then stretches the range, not the domain): set it again.
      const fl = this.plot._fullLayout, fix = {};
      for (const [axis, range] of Object.entries(wanted)) {
        const got = fl[axis] && fl[axis].range;
        if (!got || Math.abs(got[0] - range[0]) > 1e-9 || Math.abs(got[1] - range[1]) > 1e-9) {
          fix[`${axis}.range`] = range;
        }
      }
      if (Object.keys(fix).length) await this.Plotly.relayout(this.plot, fix);
      // The page got wider or narrower (the sidebar, the window): Plotly.react keeps the old
      // autosized width, so the figure is fitted to its box again.
      if (resized) await this.Plotly.Plots.resize(this.plot);
    }
    this.shown = {view: this.view, shape, size};
    if (!this.overlay) {
      this.overlay = new Overlay(this.plot);
      // Plotly re-lays out on resize: the overlay follows it.
      this.plot.on("plotly_afterplot", () => this.drawOverlay());
    }
    if (!this.plot.__clickBound) this.bindClick();
    this.drawOverlay();
    this.drawn += 1;
    this.lastRenderMs = performance.now() - t0;
    this.afterDraw();
    // The presenter's plot fills the window under what is above it and over what is below it
    // (the timeline, the "why it moves" panel). Both may have changed only now (a lesson with
    // the panel left for one without): measured again, once, and drawn to fit.
    if (this.present && !this.refitting && Math.abs(this.plotHeight() - height) > 4) {
      this.refitting = true;
      try { await this.render(); } finally { this.refitting = false; }
    }
  }

  redraw() {
    if (!this.model) return;
    this.render();
  }

  drawStep() {
    // A frame: only what moves (paths up to the playhead, heads, cursors) is restyled.
    const t0 = performance.now();
    if (this.view === "3d") {
      const upd = figures.frame(this.view, this.model, this.step, this.ahead, this.traceMap);
      if (upd.indices.length) this.Plotly.restyle(this.plot, upd.update, upd.indices);
    } else {
      this.drawOverlay();
    }
    this.lastFrameMs = performance.now() - t0;
    this.afterDraw();
  }

  drawOverlay() {
    if (!this.overlay || !this.model) return;
    // Lines seen from the back of a room: 1.8 times as thick at 720 rows, 2.4 at 1080.
    this.overlay.thick = this.present ? Math.max(1.8, window.innerHeight / 450) : 1;
    this.overlayState = this.overlay.draw(this.model, this.view === "3d" ? [] : this.panes,
                                          this.step, this.ahead);
  }

  // What is drawn at the playhead, per run (for tests): points, last point, head, cursor.
  snapshot() {
    return this.overlayState;
  }

  afterDraw() {
    const r = this.root;
    r.setAttribute("data-drawn", String(this.drawn));
    r.setAttribute("data-scene", this.model.key);
    r.setAttribute("data-step", String(this.step));
    r.setAttribute("data-view", this.view);
    r.setAttribute("data-playing", this.playing ? "1" : "0");
    this.scrub.value = String(this.step);
    this.counter.textContent = tr("counter", "step {step} / {total}", {step: this.step, total: this.model.steps});
    this.playButton.textContent = this.playing ? "❚❚" : "▶";
    for (const b of this.viewButtons) b.classList.toggle("lv-on", b.dataset.view === this.view);
    for (const b of this.speedButtons) b.classList.toggle("lv-on", Number(b.dataset.speed) === this.speed);
    this.fillReadout();
  }

  toggleWhy() {
    if (!this.model || !this.setStateValue) return;
    const on = !this.model.why;
    this.whyPending = true;
    this.whyButton.textContent = on ? tr("why_busy", "Why it moves …") : tr("why", "Why it moves");
    this.setStateValue("why", on ? (this.lastWhy ?? 0) : null);
  }

  pickWhy(i) {
    if (!this.setStateValue || (this.model.why && this.model.why.run === i)) return;
    this.whyPending = true;
    this.setStateValue("why", i);
  }

  // The explained run at the playhead: which run, the step, what the marks mean, the rule with
  // this step's numbers (all text set with textContent: labels come from the scene).
  fillWhy() {
    const w = this.model.why, runs = this.model.runs;
    this.lastWhy = w.run;
    const run = runs[w.run], j = why.stepAt(w, this.step);
    const pick = el("div", "lv-why-pick");
    pick.append(document.createTextNode(tr("explain", "Explain: ")));
    runs.forEach((r, i) => {
      const b = button(r.label, () => this.pickWhy(i), tr("explain_run", "explain {label}", {label: r.label}));
      b.style.borderColor = r.color;
      b.classList.toggle("lv-on", i === w.run);
      if (i === w.run) { b.style.background = r.color; }
      pick.appendChild(b);
    });
    const drawn = this.overlayState && this.overlayState[w.run] && this.overlayState[w.run].why;
    const gone = run.diverged != null && j >= run.diverged;
    const title = el("div", "lv-why-title");
    const last = j === this.model.steps && this.step >= this.model.steps;  // the step into the head
    title.textContent = gone ? tr("why_gone", "{label} diverged at step {step}: nothing left to explain.",
                                  {label: run.label, step: run.diverged})
      : last ? tr("why_step_last", "{label}, step {step}, the race's last: from θ{from} to θ{to}, the head",
                  {label: run.label, step: j, from: sub(j - 1), to: sub(j)})
      : tr("why_step", "{label}, step {step}: from θ{from} (the head at step {prev}) to θ{to}",
           {label: run.label, step: j, from: sub(j - 1), prev: j - 1, to: sub(j)});
    const key = el("div", "lv-why-key");
    for (const m of why.MARKS) {
      const entry = w.overlays[m.role];
      if (!entry) continue;
      const item = el("span", "lv-why-item"), line = el("span", "lv-why-line");
      line.style.borderTopColor = m.color || run.color;
      line.style.borderTopStyle = m.dash.length ? "dashed" : "solid";
      item.append(line, document.createTextNode(m.key ? tr(m.key, m.text) : entry.label));
      key.appendChild(item);
    }
    if (w.overlays.effective && w.overlays.grad) {
      const item = el("span", "lv-why-item"), box = el("span", "lv-why-box");
      box.style.borderColor = why.BOX.color;
      item.append(box, document.createTextNode(tr(why.BOX.key, why.BOX.text)));
      key.appendChild(item);
    }
    const cut = drawn && drawn.marks.some((mk) => mk.cut);
    if (drawn && (drawn.scale > 1 || cut)) {
      const note = el("span", "lv-why-scale");
      note.textContent = (drawn.scale > 1 ? tr("drawn_scale", "drawn ×{scale} to be seen",
                                               {scale: drawn.scale.toLocaleString("en")}) : "") +
        (drawn.scale > 1 && cut ? "; " : "") + (cut ? tr("broken_arrow", "a broken arrow is longer than drawn") : "");
      key.appendChild(note);
    }
    const rule = el("div", "lv-why-rule");
    if (!gone) for (const text of why.fill(w, j)) {
      const line = el("div", "lv-why-rule-line");
      line.textContent = text;
      rule.appendChild(line);
    }
    const hint = el("div", "lv-why-hint");
    hint.textContent = tr("why_hint", "The lr pane adds this run's effective rate per coordinate " +
                          "(dashed: x, dotted: y). ←/→ walk one step.");
    this.whyPanel.replaceChildren(pick, title, key, rule, hint);
  }

  fillReadout() {
    this.fillMapInfo();
    const on = Boolean(this.model.why);
    this.whyPanel.style.display = on ? "" : "none";
    this.readout.style.display = on ? "none" : "";
    this.whyButton.classList.toggle("lv-on", on);
    if (!this.whyPending) this.whyButton.textContent = tr("why", "Why it moves");
    this.root.setAttribute("data-why", on ? String(this.model.why.run) : "");
    if (on) { this.fillWhy(); return; }
    // The runs at the playhead: where each is, how far from the nearest minimum, and whether it
    // has reached one (loss within the scene's tolerance) or diverged by this step.
    const k = this.step, m = this.model, minima = m.surface.minima;
    const rows = [["", ...[["run", "run"], ["step", "step"], ["loss", "loss"], ["x", "x"], ["y", "y"],
                           ["lr", "lr"], ["dist", "to nearest min"], ["reached", "reached"]]
      .map(([k, english]) => tr(`col_${k}`, english))]];
    for (const run of m.runs) {
      const gone = run.diverged != null && k >= run.diverged;
      const at = Math.min(k, run.last);
      const lr = k > 0 ? run.lr[Math.min(k, run.lr.length) - 1] : run.lr[0];
      const dist = minima.length ? Math.min(...minima.map(([a, b]) => Math.hypot(run.x[at] - a, run.y[at] - b))) : NaN;
      // Reached, and at this step out of tolerance again (a noisy run bouncing round it).
      const left = run.reached != null && run.reached <= k && run.reached_value != null
        && !(Math.abs(run.loss[Math.min(k, run.last)] - run.reached_value) <= this.model.tolerance);
      const reached = run.reached == null || run.reached > k ? tr("not_yet", "not yet")
        : left ? tr("at_step_left", "at step {step}, out again", {step: run.reached})
        : run.reached_local ? tr("at_step_local", "a local min, step {step}", {step: run.reached})
        : tr("at_step", "at step {step}", {step: run.reached});
      rows.push([run.color, run.label, gone ? tr("diverged_at", "diverged at {step}", {step: run.diverged}) : String(k),
                 fmt(run.loss[at]), fmt(run.x[at]), fmt(run.y[at]), gone ? "–" : fmt(lr),
                 fmt(dist), gone ? "–" : reached]);
    }
    const table = document.createElement("table");
    rows.forEach((cells, i) => {
      const tr = document.createElement("tr");
      cells.forEach((text, j) => {
        const td = document.createElement(i ? "td" : "th");
        if (i && j === 0) {
          const sw = el("span", "lv-swatch");
          sw.style.background = text;
          td.appendChild(sw);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    this.readout.replaceChildren(table);
  }

  // ---- the clock -----------------------------------------------------------------------------

  seek(k, report, playOn = false) {
    if (!this.model) return;
    const step = Math.max(0, Math.min(this.model.steps, Math.round(k)));
    if (this.playing && report) this.pause(false);
    if (this.playing && playOn) this.moved = true;        // the play clock restarts from here
    if (step !== this.step) {
      this.step = step;
      this.drawStep();
    }
    if (report) this.report();
  }

  play() {
    if (!this.model) return;
    if (this.step >= this.model.steps) this.seek(0, false);
    this.playing = true;
    const rate = this.model.steps / (PLAY_SECONDS * 1000);     // steps per ms at 1x
    let origin = performance.now(), from = this.step, speed = this.speed;
    const tick = (now) => {
      if (!this.playing || !this.root.isConnected) return;
      // A frame's timestamp may precede the moment play() was called (a busy main thread):
      // the clock starts at the first frame then, never before step `from`.
      if (now < origin) origin = now;
      if (speed !== this.speed || this.moved) {
        origin = now; from = this.step; speed = this.speed; this.moved = false;
      }
      const k = Math.min(this.model.steps, Math.floor(from + (now - origin) * rate * speed));
      if (k !== this.step) { this.step = k; this.drawStep(); }
      if (k >= this.model.steps) { this.pause(true); return; }
      requestAnimationFrame(tick);
    };
    this.afterDraw();
    requestAnimationFrame(tick);
  }

  pause(report) {
    this.playing = false;
    this.afterDraw();
    if (report) this.report();
  }

  togglePlay() { this.playing ? this.pause(true) : this.play(); }

  setSpeed(s) { this.speed = s; this.afterDraw(); }

  setView(view, report) {
    if (view === this.view) return;
    const wasMaps = this.view === "maps";
    this.view = view;
    if (view === "maps") this.askMap(this.mapKind || "basin");
    else if (wasMaps && this.setStateValue) this.setStateValue("map", null);   // stop sending it
    this.render();
    if (report) this.report();
  }

  // Maps are computed on the server when asked for (a few hundred ms), then kept there.
  askMap(kind) {
    this.mapKind = kind;
    if (this.model && this.model.map && this.model.map.kind === kind) return;
    if (this.model) this.model.map = null;          // "computing the map …" until it arrives
    if (this.setStateValue) this.setStateValue("map", kind);
  }

  setMapKind(kind) {
    if (kind === this.mapKind && this.model && this.model.map) return;
    this.askMap(kind);
    this.render();
  }

  fillMapInfo() {
    const on = this.view === "maps";
    this.mapBar.style.display = on ? "" : "none";
    this.mapInfo.style.display = on ? "" : "none";
    for (const b of this.mapButtons) b.classList.toggle("lv-on", b.dataset.map === this.mapKind);
    if (!on) return;
    const m = this.model.map, parts = [];
    if (m && m.kind === "basin") {
      for (const item of m.legend) {
        const span = el("span", "lv-why-item"), sw = el("span", "lv-swatch");
        sw.style.background = item.color;
        sw.style.borderRadius = "2px";
        span.append(sw, document.createTextNode(item.label));
        parts.push(span);
      }
    } else if (m && m.kind === "hyper") {
      const span = el("span", "lv-why-item"), bar = el("span", "lv-colorbar");
      span.append(document.createTextNode(`${fmt(m.scale.lo)}`), bar,
                  document.createTextNode(`${fmt(m.scale.hi)}  ${m.scale.title}`));
      parts.push(span);
    }
    const note = el("div", "lv-mapnote");
    note.textContent = m ? m.note : "";
    const legend = el("div", "lv-why-key");
    legend.append(...parts);
    this.mapInfo.replaceChildren(legend, note);
  }

  report() {
    // The view and the step where the timeline stopped go to the server (URL, table, export),
    // once the user has paused for a moment: stepping with the keys sends nothing per step.
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => this.sendReport(), 600);
  }

  sendReport() {
    if (!this.setStateValue || this.playing || !this.model) return;
    const step = this.step >= this.model.steps ? null : this.step;
    if (this.reported.view !== this.view) this.setStateValue("view", this.view);
    if (this.reported.step !== step) this.setStateValue("step", step);
    this.reported = {view: this.view, step};
  }

  // This page's link with the view and step on screen now (the server fills in the rest).
  link(present) {
    const url = new URL(window.location.href);
    if (present) url.searchParams.set("present", "1");
    if (this.view === "race") url.searchParams.delete("view"); else url.searchParams.set("view", this.view);
    if (this.step >= this.model.steps) url.searchParams.delete("step");
    else url.searchParams.set("step", String(this.step));
    return url.href;
  }

  onKey(e) {
    if (LESSON_KEYS[e.key] && !e.ctrlKey && !e.metaKey && !e.altKey && this.lessons &&
        e.target.tagName !== "INPUT") {
      e.preventDefault();
      this.stepLesson(LESSON_KEYS[e.key]);
      return;
    }
    const keys = {" ": () => this.togglePlay(), "ArrowLeft": () => this.seek(this.step - (e.shiftKey ? 10 : 1), true),
                  "ArrowRight": () => this.seek(this.step + (e.shiftKey ? 10 : 1), true),
                  "Home": () => this.seek(0, true), "End": () => this.seek(this.model.steps, true)};
    if (keys[e.key] && this.model && e.target.tagName !== "INPUT") {
      e.preventDefault();
      keys[e.key]();
    }
  }

  // ---- a click on the map moves the start ------------------------------------------------

  // A click on the race's map moves the start; on a basin map too (then the race shows the run
  // from there); on a settings map it loads that cell's settings into the race.
  bindClick() {
    this.plot.__clickBound = true;
    this.plot.addEventListener("click", (e) => {
      if (!this.setTriggerValue || !this.model) return;
      const fl = this.plot._fullLayout, box = this.plot.getBoundingClientRect();
      const hit = this.paneAt(fl, e.clientX - box.left, e.clientY - box.top);
      if (!hit) return;
      const {pane, x, y} = hit;
      if (this.view === "race" && pane.kind === "map") {
        this.setTriggerValue("click", {x, y});
      } else if (this.view === "maps" && pane.kind === "basin") {
        this.setTriggerValue("click", {x, y});
        this.setView("race", true);
      } else if (this.view === "maps" && pane.kind === "hyper") {
        const run = this.model.map.runs[pane.map];
        const nearest = (a, v) => {
          let best = 0;
          a.values.forEach((w, i) => {
            const d = a.scale === "log" ? Math.abs(Math.log(w / v)) : Math.abs(w - v);
            const b = a.scale === "log" ? Math.abs(Math.log(a.values[best] / v)) : Math.abs(a.values[best] - v);
            if (d < b) best = i;
          });
          return best;
        };
        this.setTriggerValue("hyper", {run: run.run, ix: nearest(run.x, x), iy: nearest(run.y, y)});
        this.setView("race", true);
      }
    });
  }

  paneAt(fl, px, py) {
    if (!fl) return null;
    for (const pane of this.panes || []) {
      const xa = fl[pane.x.replace(/^x/, "xaxis")], ya = fl[pane.y.replace(/^y/, "yaxis")];
      if (!xa || !ya) continue;
      const u = px - xa._offset, v = py - ya._offset;
      if (u < 0 || v < 0 || u > xa._length || v > ya._length) continue;
      return {pane, x: xa.l2c(xa.p2l(u)), y: ya.l2c(ya.p2l(v))};
    }
    return null;
  }

  async copyLink(present) {
    const link = this.link(present);
    try {
      await navigator.clipboard.writeText(link);
    } catch (err) {                              // no clipboard API (plain http): select it
      const area = document.createElement("textarea");
      area.value = link;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const b = present ? this.presentButton : this.copyButton, text = b.textContent;
    b.textContent = present ? tr("present_copied", "Presenter link copied") : tr("copied", "Link copied");
    setTimeout(() => { b.textContent = text; }, 1500);
  }
}

// The ranges of a figure's maps (axes held to the surface's aspect by a constraint).
function mapRanges(layout) {
  const out = {};
  for (const [key, axis] of Object.entries(layout)) {
    if (/^[xy]axis\d*$/.test(key) && axis && axis.constrain === "domain" && Array.isArray(axis.range)) {
      out[key] = axis.range.slice();
    }
  }
  return out;
}

// The map from the server: spread quantiles as float32 arrays (loss shifted as the loss axis).
function decodeMap(map, axis) {
  if (map.kind !== "spread") return map;
  const runs = map.runs.map((r) => {
    const loss = r.loss.map(decode);
    return {...r, q: r.xy.map(decode), lossY: loss.map((l) => lossY(l, axis))};
  });
  return {...map, runs};
}

function sub(n) {
  return String(n).split("").map((d) => "₀₁₂₃₄₅₆₇₈₉"[Number(d)]).join("");
}

function el(tag, cls) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  return node;
}

function button(text, onClick, title) {
  const b = el("button", "lv-btn");
  b.type = "button";
  b.textContent = text;
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

export default function (component) {
  const { parentElement, data, setStateValue, setTriggerValue } = component;
  let view = instances.get(parentElement);
  if (!view) {
    view = new LiveView(parentElement);
    instances.set(parentElement, view);
  }
  view.setCallbacks(setStateValue, setTriggerValue);
  view.update(data);
  window.__liveView = view;                     // for tests and benchmarks
}

// The live view: one Plotly graph, four views, one timeline, all in the browser.
//
// Streamlit (components v2) calls the default export on every rerun with the same parent
// element; the graph is created once and updated with Plotly.react when the scene changes.
// Playing and scrubbing redraw locally with Plotly.restyle and send nothing to the server; the
// server hears only a map click (trigger "click"), the view and the step where the timeline
// stopped (state "view", "step"), and a request for a surface it did not send ("need_surface").
// Labels come from user-controlled scenes: they are set with textContent, never as HTML.

import { loadPlotly } from "./plotly_loader.js";
import { decodeRun, fmt, lossY } from "./data.js";
import * as figures from "./figures.js";

const PLAY_SECONDS = 8;                       // a whole race at 1x
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
const VIEWS = [["race", "Race"], ["side", "Side by side"], ["3d", "3D"], ["curves", "Curves"]];
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
    this.copyButton = button("Copy link", () => this.copyLink());
    this.copyButton.classList.add("lv-copy");
    this.copyButton.title = "Copy this page's link: the scene, the view, the step and the lesson";
    bar.appendChild(this.copyButton);
    this.plot = el("div", "lv-plot");
    const tl = el("div", "lv-timeline");
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
    this.scrub.addEventListener("input", () => this.seek(Number(this.scrub.value), false));
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
    aheadLabel.append(this.aheadBox, document.createTextNode(" show the path ahead"));
    tl.append(this.toStart, this.back, this.playButton, this.fwd, this.toEnd, this.scrub,
              this.counter, speeds, aheadLabel);
    this.readout = el("div", "lv-readout");
    this.root.append(bar, this.plot, tl, this.readout);
    this.root.addEventListener("keydown", (e) => this.onKey(e));
  }

  setCallbacks(setStateValue, setTriggerValue) {
    this.setStateValue = setStateValue;
    this.setTriggerValue = setTriggerValue;
  }

  // ---- data from the server -------------------------------------------------------------

  async update(data) {
    if (!data || !data.runs) return;
    const sameScene = this.model && this.model.key === data.key;
    if (data.surface.image) surfaces.set(data.surface.key, {image: data.surface.image, mesh: data.surface.mesh});
    if (!surfaces.has(data.surface.key)) {       // the server thought we had it
      this.setTriggerValue && this.setTriggerValue("need_surface", data.surface.key);
      return;
    }
    if (sameScene && this.height === data.height) return;   // a rerun that changes nothing here
    const first = !this.model;
    this.model = {...data, surfaceData: surfaces.get(data.surface.key),
                  runs: data.runs.map(decodeRun)};
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
    this.Plotly = await loadPlotly();
    await this.render();
    if (data.autoplay && (first || !sameScene) && data.autoplay !== this.autoplayed) {
      this.autoplayed = data.autoplay;
      this.seek(0, false);
      this.play();
    }
  }

  // ---- drawing -----------------------------------------------------------------------------

  async render() {
    const fig = figures.build(this.view, this.model, this.step, this.ahead);
    this.traceMap = fig.traceMap;
    await this.Plotly.react(this.plot, fig.data, fig.layout, fig.config);
    if (!this.plot.__clickBound) this.bindClick();
    this.drawn += 1;
    this.afterDraw();
  }

  redraw() {
    if (!this.model) return;
    this.render();
  }

  drawStep() {
    // A frame: only what moves (paths up to the playhead, heads, cursors) is restyled.
    const t0 = performance.now();
    const upd = figures.frame(this.view, this.model, this.step, this.ahead, this.traceMap);
    if (upd.indices.length) this.Plotly.restyle(this.plot, upd.update, upd.indices);
    this.lastFrameMs = performance.now() - t0;
    this.afterDraw();
  }

  afterDraw() {
    const r = this.root;
    r.setAttribute("data-drawn", String(this.drawn));
    r.setAttribute("data-scene", this.model.key);
    r.setAttribute("data-step", String(this.step));
    r.setAttribute("data-view", this.view);
    r.setAttribute("data-playing", this.playing ? "1" : "0");
    this.scrub.value = String(this.step);
    this.counter.textContent = `step ${this.step} / ${this.model.steps}`;
    this.playButton.textContent = this.playing ? "❚❚" : "▶";
    for (const b of this.viewButtons) b.classList.toggle("lv-on", b.dataset.view === this.view);
    for (const b of this.speedButtons) b.classList.toggle("lv-on", Number(b.dataset.speed) === this.speed);
    this.fillReadout();
  }

  fillReadout() {
    const k = this.step, m = this.model;
    const rows = [["", "run", "step", "loss", "x", "y", "lr"]];
    for (const run of m.runs) {
      const gone = run.diverged != null && k >= run.diverged;
      const at = Math.min(k, run.last);
      const lr = k > 0 ? run.lr[Math.min(k, run.lr.length) - 1] : run.lr[0];
      rows.push([run.color, run.label, gone ? `diverged at ${run.diverged}` : String(k),
                 fmt(run.loss[at]), fmt(run.x[at]), fmt(run.y[at]), gone ? "–" : fmt(lr)]);
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

  seek(k, report) {
    if (!this.model) return;
    const step = Math.max(0, Math.min(this.model.steps, Math.round(k)));
    if (this.playing && report) this.pause(false);
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
      if (speed !== this.speed) { origin = now; from = this.step; speed = this.speed; }
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
    this.view = view;
    this.render();
    if (report) this.report();
  }

  report() {
    // The view and the step where the timeline stopped go to the server (URL, table, export).
    if (!this.setStateValue || this.playing) return;
    const step = this.step >= this.model.steps ? null : this.step;
    if (this.reported.view !== this.view) this.setStateValue("view", this.view);
    if (this.reported.step !== step) this.setStateValue("step", step);
    this.reported = {view: this.view, step};
  }

  onKey(e) {
    const keys = {" ": () => this.togglePlay(), "ArrowLeft": () => this.seek(this.step - (e.shiftKey ? 10 : 1), true),
                  "ArrowRight": () => this.seek(this.step + (e.shiftKey ? 10 : 1), true),
                  "Home": () => this.seek(0, true), "End": () => this.seek(this.model.steps, true)};
    if (keys[e.key] && this.model && e.target.tagName !== "INPUT") {
      e.preventDefault();
      keys[e.key]();
    }
  }

  // ---- a click on the map moves the start ------------------------------------------------

  bindClick() {
    this.plot.__clickBound = true;
    this.plot.addEventListener("click", (e) => {
      if (this.view !== "race" || !this.setTriggerValue) return;
      const fl = this.plot._fullLayout;
      if (!fl || !fl.xaxis || !fl.yaxis) return;
      const box = this.plot.getBoundingClientRect();
      const px = e.clientX - box.left - fl.xaxis._offset, py = e.clientY - box.top - fl.yaxis._offset;
      if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) return;
      const x = fl.xaxis.p2l(px), y = fl.yaxis.p2l(py);
      this.setTriggerValue("click", {x, y});
    });
  }

  async copyLink() {
    const link = window.location.href;
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
    this.copyButton.textContent = "Link copied";
    setTimeout(() => { this.copyButton.textContent = "Copy link"; }, 1500);
  }
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

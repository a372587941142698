// What moves, drawn on a canvas over the Plotly graph: paths up to the playhead, heads, the
// crosses of diverged runs, and the loss and lr curves with their cursors. Plotly draws what
// stays (axes, the surface image, minima, start, legend), so a frame costs a canvas redraw of
// a few thousand points (~1-3 ms) instead of a Plotly restyle of every moving trace.

import * as whyMarks from "./why.js";

const AHEAD_ALPHA = 0.4;

export class Overlay {
  constructor(plot) {
    this.plot = plot;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "lv-overlay";
    this.thick = 1;                     // line and dot size factor (1.8 on the presenter's page)
    plot.style.position = "relative";
    plot.appendChild(this.canvas);
  }

  // Pixel transform of one subplot: data -> canvas px, and its clip rectangle.
  frameOf(xname, yname) {
    const fl = this.plot._fullLayout;
    const xa = fl[xname.replace(/^x/, "xaxis")], ya = fl[yname.replace(/^y/, "yaxis")];
    if (!xa || !ya) return null;
    return {px: (v) => xa._offset + xa.c2p(v), py: (v) => ya._offset + ya.c2p(v),
            rect: [xa._offset, ya._offset, xa._length, ya._length]};
  }

  resize() {
    const fl = this.plot._fullLayout;
    if (!fl) return false;
    const dpr = window.devicePixelRatio || 1, w = fl.width, h = fl.height;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return ctx;
  }

  // panes: [{x, y, kind: "map" | "loss" | "lr", runs: [indices]}]; returns what was drawn.
  draw(model, panes, k, ahead) {
    const ctx = this.resize();
    const drawn = model.runs.map(() => ({}));
    if (!ctx) return drawn;
    for (const pane of panes) {
      const f = this.frameOf(pane.x, pane.y);
      if (!f) continue;
      // Every line first, then every head on top, so no run's path hides another's head. Lines
      // stay inside their pane; a head may overhang it by its radius (a head at the last step
      // sits on the loss and lr panes' right edge: clipped there, it showed as half a dot).
      const [left, top, width, height] = f.rect, overhang = 9 * this.thick;
      clipTo(ctx, f.rect);
      if (pane.kind === "spread-map" || pane.kind === "spread-loss") {
        for (const i of pane.runs) this.drawSpread(ctx, f, pane.kind, model.map.runs[i], k, model);
        ctx.restore();
        continue;
      }
      const kind = pane.kind === "basin" ? "map" : pane.kind;
      // Runs that diverge are drawn first, beneath the others: their wide zig-zag would bury
      // the paths of the runs that converge (the others keep their order).
      const order = [...pane.runs.filter((i) => model.runs[i].diverged != null),
                     ...pane.runs.filter((i) => model.runs[i].diverged == null)];
      for (const i of order) this.drawRun(ctx, f, kind, "lines", model.runs[i], k, ahead,
                                          model, drawn[i]);
      ctx.restore();
      clipTo(ctx, [left - overhang, top - overhang, width + 2 * overhang, height + 2 * overhang]);
      for (const i of order) this.drawRun(ctx, f, kind, "heads", model.runs[i], k, ahead,
                                          model, drawn[i]);
      ctx.restore();
      clipTo(ctx, f.rect);
      const why = model.why;
      if (why && pane.runs.includes(why.run) && model.runs[why.run]) {
        if (pane.kind === "map") this.drawWhy(ctx, f, model, k, drawn[why.run]);
        else if (pane.kind === "lr") this.drawEffective(ctx, f, model, k);
      }
      ctx.restore();
    }
    return drawn;
  }

  // K noisy runs up to step k: the bands holding the middle 80 % and 50 % of them at each step
  // (per-step boxes on the map, filled between quantiles on the loss pane) and the median.
  drawSpread(ctx, f, kind, run, k, model) {
    const q = run.q, n = Math.min(k, model.map.steps);
    ctx.fillStyle = run.color;
    if (kind === "spread-map") {
      for (const [lo, hi, alpha] of [[0, 4, 0.07], [1, 3, 0.12]]) {
        ctx.globalAlpha = alpha;
        for (let i = 0; i <= n; i++) {
          const xa = f.px(q[lo][2 * i]), xb = f.px(q[hi][2 * i]);
          const ya = f.py(q[lo][2 * i + 1]), yb = f.py(q[hi][2 * i + 1]);
          if ([xa, xb, ya, yb].every(Number.isFinite)) {
            ctx.fillRect(Math.min(xa, xb) - 1, Math.min(ya, yb) - 1, Math.abs(xb - xa) + 2, Math.abs(yb - ya) + 2);
          }
        }
      }
      ctx.globalAlpha = 1;
      const mx = new Float32Array(n + 1), my = new Float32Array(n + 1);
      for (let i = 0; i <= n; i++) { mx[i] = q[2][2 * i]; my[i] = q[2][2 * i + 1]; }
      polyline(ctx, f, mx, my, 0, n, run.color, 3 * this.thick, 1);
      if (n >= 0) dot(ctx, f.px(mx[n]), f.py(my[n]), 6 * this.thick, run.color, 2);
    } else {
      const ly = run.lossY;
      for (const [lo, hi, alpha] of [[0, 4, 0.15], [1, 3, 0.25]]) {
        ctx.beginPath();
        let started = false;
        for (let i = 0; i <= n; i++) {
          const x = f.px(i), y = f.py(ly[hi][i]);
          if (!Number.isFinite(y)) continue;
          if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
        }
        for (let i = n; i >= 0; i--) {
          const y = f.py(ly[lo][i]);
          if (Number.isFinite(y)) ctx.lineTo(f.px(i), y);
        }
        ctx.closePath();
        ctx.globalAlpha = alpha;
        ctx.fill();
      }
      ctx.globalAlpha = 1;
      polyline(ctx, f, model.idx, ly[2], 0, n, run.color, 2.5 * this.thick, 1);
    }
  }

  // The explained run's step from its head: arrows and the effective-step box (why.js).
  drawWhy(ctx, f, model, k, out) {
    const why = model.why, run = model.runs[why.run], j = whyMarks.stepAt(why, k);
    if (run.diverged != null && j >= run.diverged) { out.why = {step: j, marks: [], scale: 1}; return; }
    const m = whyMarks.marks(why, j, run.color);
    const scale = whyMarks.magnification(m, f);
    out.why = {step: j, scale, marks: whyMarks.drawMarks(ctx, f, m, scale)};
    const at = Math.min(k, run.last);             // its head stays visible over the arrows
    dot(ctx, f.px(run.x[at]), f.py(run.y[at]), 7 * this.thick, run.color, 2.5);
  }

  // The explained run's effective per-coordinate rate over all steps, beside the lr it was given.
  drawEffective(ctx, f, model, k) {
    const why = model.why, run = model.runs[why.run];
    if (!why.effective) why.effective = whyMarks.effectiveSeries(why);
    if (!why.effective) return;
    const n = Math.max(0, Math.min(k, run.last, why.steps) - 1);
    const [ex, ey] = why.effective;
    for (const [series, dash] of [[ex, [7, 4]], [ey, [2, 3]]]) {
      ctx.save();
      ctx.setLineDash(dash);
      stairs(ctx, f, series, n, run.color, this.thick);
      ctx.restore();
    }
  }

  drawRun(ctx, f, kind, pass, run, k, ahead, model, out) {
    const at = Math.min(k, run.last), gone = run.diverged != null && k >= run.diverged;
    const lines = pass === "lines", t = this.thick;
    if (kind === "map") {
      if (lines) {
        if (ahead) polyline(ctx, f, run.x, run.y, 0, run.last, run.color, 2 * t, AHEAD_ALPHA, [4 * t, 4 * t]);
        polyline(ctx, f, run.x, run.y, 0, at, run.color, 3 * t, 1);
      } else if (gone) {
        cross(ctx, f.px(run.x[run.last]), f.py(run.y[run.last]), run.color, t);
      } else {
        dot(ctx, f.px(run.x[at]), f.py(run.y[at]), 7 * t, run.color, 2.5 * t);
      }
      Object.assign(out, {points: at + 1, last: [run.x[at], run.y[at]],
                          head: gone ? null : [run.x[at], run.y[at]]});
    } else if (kind === "loss") {
      if (lines) {
        if (ahead) polyline(ctx, f, model.idx, run.lossY, 0, run.last, run.color, 1.5 * t, AHEAD_ALPHA, [3 * t, 3 * t]);
        polyline(ctx, f, model.idx, run.lossY, 0, at, run.color, 2.5 * t, 1);
      } else {
        dot(ctx, f.px(at), f.py(run.lossY[at]), 4.5 * t, run.color, 1.5 * t);
      }
      out.cursor = at;
    } else if (kind === "lr") {
      const n = Math.max(0, Math.min(k, run.last, run.lr.length) - 1);
      if (lines && ahead) {                     // the rates still to come, faint and dashed
        ctx.save();
        ctx.globalAlpha = AHEAD_ALPHA;
        ctx.setLineDash([3 * t, 3 * t]);
        stairs(ctx, f, run.lr, Math.min(run.last, run.lr.length) - 1, run.color, 0.6 * t);
        ctx.restore();
      }
      if (lines) stairs(ctx, f, run.lr, n, run.color, t);
      else if (k > 0) dot(ctx, f.px(n + 1), f.py(run.lr[n]), 4.5 * t, run.color, 1.5 * t);
    }
  }
}

function clipTo(ctx, rect) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(...rect);
  ctx.clip();
}

function polyline(ctx, f, xs, ys, from, to, color, width, alpha, dash) {
  ctx.beginPath();
  let pen = false;
  for (let i = from; i <= to; i++) {
    const x = xs[i], y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    const px = f.px(x), py = f.py(y);
    if (!Number.isFinite(px) || !Number.isFinite(py)) { pen = false; continue; }
    if (pen) ctx.lineTo(px, py); else { ctx.moveTo(px, py); pen = true; }
  }
  ctx.globalAlpha = alpha;
  ctx.setLineDash(dash || []);
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}

// lr[i] is the rate step i+1 used: a step function over steps 0..n+1.
function stairs(ctx, f, lr, n, color, thick = 1) {
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i <= n; i++) {
    const v = lr[i];
    if (!(v > 0)) { pen = false; continue; }
    const y = f.py(v), xa = f.px(i), xb = f.px(i + 1);
    if (pen) ctx.lineTo(xa, y); else { ctx.moveTo(xa, y); pen = true; }
    ctx.lineTo(xb, y);
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = 2.5 * thick;
  ctx.stroke();
}

function dot(ctx, x, y, r, color, ring) {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = ring;
  ctx.strokeStyle = "white";
  ctx.stroke();
}

function cross(ctx, x, y, color, thick = 1) {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  ctx.lineCap = "round";
  const r = 8 * thick;
  for (const [w, c] of [[6 * thick, "white"], [3.5 * thick, color]]) {
    ctx.beginPath();
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
    ctx.lineWidth = w;
    ctx.strokeStyle = c;
    ctx.stroke();
  }
}

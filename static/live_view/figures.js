// Plotly figures of the four views: what stays (axes, surface image, minima, start, legend).
// What moves is drawn by overlay.js on a canvas over the maps and curves, from `panes`; only the
// 3-D view (WebGL) moves its own traces, listed in traceMap for frame().
// Words (legend names, axis titles) come from data.js's tr(): the page's language.

import { tr } from "./data.js";

const INK = "#1f2933";
const FONT = {family: "Source Sans Pro, Segoe UI, sans-serif", size: 13, color: INK};
// The presenter's page: type read from the back of a room, 20 px at 720 rows, 28 at 1080.
function presentFont() {
  return Math.round(Math.min(30, Math.max(20, (window.innerHeight || 720) / 38)));
}
// Below this plot width (a phone, a tablet held upright) the race stacks its map over its loss
// and lr panes, so the map gets the whole width.
export const NARROW = 700;
const STACK = {l: 36, r: 10, b: 44, gapMap: 64, gapPanes: 30, pane: 150, presentPane: 200};

// Plotly renders a subset of HTML in names and annotations: show labels as text.
export function plain(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function steps(model) {
  if (!model.idx || model.idx.length !== model.steps + 1) {
    model.idx = Float32Array.from({length: model.steps + 1}, (_, i) => i);
  }
  return model.idx;
}

function lossOf(model, run) {
  if (!run.lossY) {
    const a = model.loss_axis;
    run.lossY = a.shift ? run.loss.map((v) => Math.max(v - a.shift, 0) + a.tiny) : run.loss;
  }
  return run.lossY;
}

function zOf(model, run) {
  if (!run.z) {
    const p = model.zpath, [lo, hi] = p.zrange;
    run.z = run.loss.map((v) => {
      const h = p.log ? Math.log10(Math.max(v - p.f_min, 0) + p.eps) : v;
      return Math.min(Math.max(h, lo), hi) + p.lift;
    });
  }
  return run.z;
}

function head(run, k) {
  const gone = run.diverged != null && k >= run.diverged;
  const at = Math.min(k, run.last);
  return gone ? {x: [], y: [], at} : {x: [run.x[at]], y: [run.y[at]], at};
}

function upto(arr, k) { return arr.subarray(0, k + 1); }

function surfaceImage(model, xref, yref) {
  const [[x0, x1], [y0, y1]] = model.surface.bounds;
  return {source: model.surfaceData.image, xref, yref, x: x0, y: y1, sizex: x1 - x0,
          sizey: y1 - y0, xanchor: "left", yanchor: "top", sizing: "stretch", layer: "below"};
}

function landmarks(model, xa, ya, legend) {
  const s = model.surface, out = [], big = model.present ? 1.4 : 1;
  const glob = s.minima.filter((_, i) => s.global[i]), local = s.minima.filter((_, i) => !s.global[i]);
  if (local.length) {
    out.push({type: "scatter", mode: "markers", name: tr("local_minimum", "local minimum"), xaxis: xa, yaxis: ya,
              x: local.map((p) => p[0]), y: local.map((p) => p[1]), showlegend: legend,
              hoverinfo: "skip", marker: {symbol: "diamond", size: (local.length > 12 ? 6 : 10) * big,
                                          color: "white", line: {color: INK, width: 1.5}}});
  }
  if (glob.length) {
    out.push({type: "scatter", mode: "markers", name: tr("global_minimum", "global minimum"), xaxis: xa, yaxis: ya,
              x: glob.map((p) => p[0]), y: glob.map((p) => p[1]), showlegend: legend,
              hoverinfo: "skip", marker: {symbol: "star", size: 20 * big, color: "#ffd23f",
                                          line: {color: INK, width: 1.5}}});
  }
  out.push({type: "scatter", mode: "markers", name: tr("start", "start"), xaxis: xa, yaxis: ya,
            x: [model.start[0]], y: [model.start[1]], showlegend: legend, hoverinfo: "skip",
            marker: {symbol: "square", size: 12 * big, color: "white", line: {color: INK, width: 2.5 * big}}});
  return out;
}

// A run's legend entry: the line itself is drawn on the overlay (overlay.js).
// Plotly draws the axes of a subplot only when a trace lives on it.
function anchor(xa, ya) {
  return {type: "scatter", mode: "lines", x: [null], y: [null], xaxis: xa, yaxis: ya,
          showlegend: false, hoverinfo: "skip"};
}

function legendEntry(run, i, present) {
  return {type: "scatter", mode: "lines", name: plain(run.label), x: [null], y: [null],
          legendgroup: `r${i}`, hoverinfo: "skip", line: {color: run.color, width: present ? 6 : 3}};
}

// Powers of ten only once a log axis spans a decade (Plotly's 2 and 5 labels clutter), and every
// 2nd, 3rd, … power once a short pane would stack more than six labels.
// Over about a decade, every n-th power of ten; under it, the 2s and 5s between them ("D2":
// Plotly's own choice there labels every digit, and 2 to 9 pile up in a short pane).
function decadeTick(decades) {
  return decades > 1.2 ? Math.max(1, Math.ceil(decades / 6)) : "D2";
}

// The ticks of a log axis over log10 range [lo, hi]: every n-th power of ten (decadeTick) while
// that labels two of them or more; else explicit ticks with whole numbers ("D2" labels the 2s
// and 5s with a bare digit, and a range under a decade often held a lone "5" or no label): the
// 1-2-5 numbers in range, then, while fewer than two, `own` (the runs' own lrs), every digit,
// finer steps; none nearer another than an eighth of the range.
function logTicks(lo, hi, own = []) {
  const decades = hi - lo, dtick = decadeTick(decades);
  if (dtick !== "D2") {
    let powers = 0;
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) if (e % dtick === 0) powers += 1;
    if (powers >= 2) return {dtick};
  }
  const picked = [], gap = decades / 8;
  const add = (v) => {
    const l = Math.log10(v);
    if (v > 0 && l >= lo && l <= hi && picked.every((p) => Math.abs(Math.log10(p) - l) >= gap)) picked.push(v);
  };
  const ladder = (mantissas) => {
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) for (const m of mantissas) add(parseFloat(`${m}e${e}`));
  };
  ladder([1, 2, 5]);
  if (picked.length < 2) own.slice(0, 4).forEach(add);
  if (picked.length < 2) ladder([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (picked.length < 2) ladder([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9]);
  picked.sort((p, q) => p - q);
  return {tickmode: "array", tickvals: picked, ticktext: picked.map(tickText)};
}

// A tick's whole value, compactly: 0.004, 25, 2×10⁻⁵ (Plotly's own "power" labels beyond).
function tickText(v) {
  const e = Math.floor(Math.log10(v) + 1e-9);
  if (e >= -4 && e < 5) return String(Number(v.toPrecision(3)));
  const m = Number((v / parseFloat(`1e${e}`)).toPrecision(3));
  return `${m === 1 ? "" : `${m}×`}10<sup>${e < 0 ? "\u2212" : ""}${Math.abs(e)}</sup>`;
}

function lossAxis(model, domain, anchor, title) {
  const a = model.loss_axis;
  return {domain, anchor, type: a.log ? "log" : "linear", range: a.range, title: {text: title || a.title},
          gridcolor: "#e5e7eb", zeroline: false, exponentformat: "power",
          ...(a.log ? logTicks(a.range[0], a.range[1]) : {})};
}

function lrAxis(model, domain, anchor) {
  let lo = Infinity, hi = 0;
  const series = model.runs.map((r) => [r.lr, Math.min(r.lr.length, r.last)]);
  const why = model.why, eff = why && why.overlays.effective && model.runs[why.run]
    ? why.arrays[why.overlays.effective.array] : null;
  if (eff) series.push([eff.data.subarray(2), Math.min(2 * why.steps, 2 * model.runs[why.run].last)]);
  for (const [values, n] of series) for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > 0 && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!(hi > 0)) { lo = 1e-3; hi = 1; }
  const a = Math.log10(lo), b = Math.log10(hi), pad = Math.max(0.15, 0.06 * (b - a));
  // The lrs the runs were given (float32: 3 digits), labelled when the range holds too few 1-2-5s.
  const own = [...new Set(model.runs.map((r) => r.lr[0]).filter((v) => v > 0 && Number.isFinite(v))
                                    .map((v) => Number(v.toPrecision(3))))];
  const title = eff ? tr("lr_effective", "lr, effective (‐‐x ··y)") : tr("learning_rate", "learning rate");
  return {domain, anchor, type: "log", range: [a - pad, b + pad], title: {text: title},
          gridcolor: "#e5e7eb", exponentformat: "power", ...logTicks(a - pad, b + pad, own)};
}

function stepAxis(model, domain, anchor, title) {
  return {domain, anchor, range: [0, model.steps], title: title ? {text: tr("step", "step")} : undefined,
          gridcolor: "#e5e7eb", zeroline: false};
}

function mapAxes(model, xdom, ydom, xname, yname, titles) {
  const [[x0, x1], [y0, y1]] = model.surface.bounds;
  return [{domain: xdom, range: [x0, x1], anchor: yname, showgrid: false, zeroline: false,
           title: titles ? {text: "x"} : undefined, constrain: "domain", fixedrange: true},
          {domain: ydom, range: [y0, y1], anchor: xname, showgrid: false, zeroline: false,
           title: titles ? {text: "y", standoff: 4} : undefined, scaleanchor: xname,
           constrain: "domain", fixedrange: true}];
}

function base(model, opts) {
  const size = opts.present ? presentFont() : FONT.size;
  const layout = {font: {...FONT, size}, paper_bgcolor: "white", plot_bgcolor: "white", dragmode: false,
          hovermode: false, margin: opts.present ? {l: 80, r: 16, t: 56, b: 60} : {l: 50, r: 12, t: 40, b: 40},
          uirevision: model.surface.key,
          legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: {size},
                   itemclick: false, itemdoubleclick: false},
          showlegend: true};
  if (opts.height) layout.height = opts.height;
  return layout;
}

// The race's legend entries (runs, minima, start) at `size` px, wrapped in rows of `width` px
// as Plotly wraps a horizontal legend: how many rows.
function legendRows(model, width, size) {
  const s = model.surface, names = model.runs.map((r) => String(r.label));
  if (s.global.some((g) => !g)) names.push(tr("local_minimum", "local minimum"));
  if (s.global.some((g) => g)) names.push(tr("global_minimum", "global minimum"));
  names.push(tr("start", "start"));
  let rows = 1, used = 0;
  const ctx = textMeter(size);
  for (const name of names) {
    // Plotly's item: a 40 px symbol, the text, a gap; a few px over, never under.
    const w = 52 + (ctx ? ctx.measureText(name).width * 1.06 : 0.6 * size * name.length);
    if (used && used + w > width) { rows += 1; used = 0; }
    used += w;
  }
  return rows;
}

let meter = null;
function textMeter(size) {
  if (!meter) meter = document.createElement("canvas").getContext("2d");
  if (meter) meter.font = `${size}px ${FONT.family}`;
  return meter;
}

// The stacked race (a narrow plot): the map over the whole width, then loss, then lr; sizes in
// px, the map as tall as the surface's window is for that width.
function stacked(model, width, present) {
  const size = present ? presentFont() : FONT.size;
  const inner = Math.max(120, width - STACK.l - STACK.r);
  const [[x0, x1], [y0, y1]] = model.surface.bounds;
  const mapH = Math.round(inner * Math.min(Math.max((y1 - y0) / (x1 - x0), 0.4), 1.5)) + 2;
  const t = 10 + legendRows(model, inner, size) * (size + 10);
  const pane = present ? STACK.presentPane : STACK.pane;
  const plotH = mapH + STACK.gapMap + 2 * pane + STACK.gapPanes;
  return {inner, t, mapH, pane, plotH, height: t + plotH + STACK.b};
}

// Side by side: two columns at most on a narrow plot.
function sideColumns(n, narrow) {
  return n <= 2 ? n : n <= 4 || narrow ? 2 : 3;
}

// The height a view needs at this width, or null when the caller's height will do.
export function height(view, model, width, present) {
  if (!model || !(width < NARROW)) return null;
  if (view === "race" || (view === "maps" && model.map && model.map.kind === "spread")) {
    return stacked(model, width, present).height;
  }
  if (view === "side") {                  // each map as wide as its column, square cells
    const n = model.runs.length, cols = sideColumns(n, true), rows = Math.ceil(n / cols);
    const [[x0, x1], [y0, y1]] = model.surface.bounds;
    const cell = (width - 40) / cols * Math.min(Math.max((y1 - y0) / (x1 - x0), 0.4), 1.5);
    return Math.round(rows * cell / 0.9 + 30);
  }
  return null;
}

// The race's (or the noise spread's) axes, stacked: the map on top at full width, the loss
// pane, the lr pane (none for the spread: its loss pane takes the step axis's title).
function stackAxes(model, layout, width, present, lr) {
  const g = stacked(model, width, present);
  layout.margin = {l: STACK.l, r: STACK.r, t: g.t, b: STACK.b};
  layout.height = g.height;
  const frac = (px) => px / g.plotH;
  const mapLo = 1 - frac(g.mapH);
  const [xa, ya] = mapAxes(model, [0, 1], [mapLo, 1], "x", "y", true);
  layout.xaxis = xa; layout.yaxis = ya;
  // The panes' tick labels (10⁻³ …) are wider than the map's: their plots start further in.
  const paneX = [Math.min(0.3, 26 / g.inner), 1];
  const lossTop = mapLo - frac(STACK.gapMap);
  if (lr) {
    const lossLo = lossTop - frac(g.pane);
    layout.xaxis2 = stepAxis(model, paneX, "y2", false);
    layout.yaxis2 = lossAxis(model, [lossLo, lossTop], "x2");
    layout.xaxis3 = stepAxis(model, paneX, "y3", true);
    layout.yaxis3 = lrAxis(model, [0, lossLo - frac(STACK.gapPanes)], "x3");
  } else {
    layout.xaxis2 = stepAxis(model, paneX, "y2", true);
    layout.yaxis2 = lossAxis(model, [0, lossTop], "x2");
  }
}

export function build(view, model, k, ahead, opts = {}) {
  const data = [], map = [], layout = base(model, opts);
  const narrow = opts.width > 0 && opts.width < NARROW, present = Boolean(opts.present);
  model.present = present;
  // No mode bar and no wheel zoom: the page scrolls, and the 3-D view keeps its camera drag.
  const config = {displaylogo: false, responsive: true, scrollZoom: false, doubleClick: false,
                  displayModeBar: false};
  const panes = [];
  steps(model);
  model.runs.forEach((run) => lossOf(model, run));
  const all = model.runs.map((_, i) => i);
  if (view === "race") {
    if (narrow) {                 // the map over the whole width, then loss, then lr
      stackAxes(model, layout, opts.width, present, true);
    } else {
      const [xa, ya] = mapAxes(model, [0, 0.56], [0, 1], "x", "y", true);
      layout.xaxis = xa; layout.yaxis = ya;
      layout.xaxis2 = stepAxis(model, [0.66, 1], "y2", false);
      layout.yaxis2 = lossAxis(model, [0.56, 1], "x2");
      layout.xaxis3 = stepAxis(model, [0.66, 1], "y3", true);
      layout.yaxis3 = lrAxis(model, [0, 0.42], "x3");
    }
    layout.images = [surfaceImage(model, "x", "y")];
    model.runs.forEach((run, i) => data.push(legendEntry(run, i, present)));
    data.push(...landmarks(model, "x", "y", true));
    data.push(anchor("x2", "y2"), anchor("x3", "y3"));
    panes.push({x: "x", y: "y", kind: "map", runs: all}, {x: "x2", y: "y2", kind: "loss", runs: all},
               {x: "x3", y: "y3", kind: "lr", runs: all});
  } else if (view === "side") {
    const n = model.runs.length, cols = sideColumns(n, narrow), rows = Math.ceil(n / cols);
    const gapX = 0.04, gapY = 0.1;
    layout.images = [];
    layout.annotations = [];
    layout.showlegend = false;
    layout.margin = {l: 30, r: 10, t: 10, b: 20};
    model.runs.forEach((run, i) => {
      const c = i % cols, r = Math.floor(i / cols), s = i ? String(i + 1) : "";
      const xdom = [c / cols + (c ? gapX / 2 : 0), (c + 1) / cols - (c < cols - 1 ? gapX / 2 : 0)];
      const ydom = [1 - (r + 1) / rows + (r < rows - 1 ? gapY / 2 : 0), 1 - r / rows - gapY];
      const [xa, ya] = mapAxes(model, xdom, ydom, `x${s}`, `y${s}`, false);
      layout[`xaxis${s}`] = xa; layout[`yaxis${s}`] = ya;
      layout.images.push(surfaceImage(model, `x${s}`, `y${s}`));
      layout.annotations.push({text: `<b>${plain(run.label)}</b>`, showarrow: false, xref: "paper",
                               yref: "paper", x: (xdom[0] + xdom[1]) / 2, y: ydom[1] + 0.01,
                               yanchor: "bottom", font: {size: layout.font.size, color: run.color}});
      data.push(...landmarks(model, `x${s}`, `y${s}`, false));
      panes.push({x: `x${s}`, y: `y${s}`, kind: "map", runs: [i]});
    });
  } else if (view === "3d") {
    const mesh = model.surfaceData.mesh, n = mesh.n, [[x0, x1], [y0, y1]] = model.surface.bounds;
    const z = decodeGrid(mesh.z, n), color = decodeGrid(mesh.color, n);
    const xs = Array.from({length: n}, (_, i) => x0 + (x1 - x0) * i / (n - 1));
    const ys = Array.from({length: n}, (_, i) => y0 + (y1 - y0) * i / (n - 1));
    data.push({type: "surface", x: xs, y: ys, z, surfacecolor: color, cmin: -0.3, cmax: 1,
               colorscale: mesh.colorscale, showscale: false, hoverinfo: "skip",
               name: plain(model.surface.title), showlegend: false,
               lighting: {ambient: 0.75, diffuse: 0.5, specular: 0.05, roughness: 0.9}});
    model.runs.forEach((run, i) => {
      const at = Math.min(k, run.last), zz = zOf(model, run);
      map.push({kind: "path3d", run: i, index: data.length});
      data.push({type: "scatter3d", mode: "lines", name: plain(run.label), x: upto(run.x, at),
                 y: upto(run.y, at), z: upto(zz, at), line: {color: run.color, width: present ? 10 : 6},
                 hoverinfo: "skip"});
      const h = head(run, k);
      map.push({kind: "head3d", run: i, index: data.length});
      data.push({type: "scatter3d", mode: "markers", x: h.x, y: h.y, z: h.x.length ? [zz[h.at]] : [],
                 showlegend: false, hoverinfo: "skip",
                 marker: {size: 6, color: run.color, line: {color: "white", width: 2}}});
    });
    // Seen from the front and above, the valleys open towards the viewer and the paths on
    // their floors stay in sight.
    layout.scene = {xaxis: {title: {text: "x"}, range: [x0, x1]}, yaxis: {title: {text: "y"}, range: [y0, y1]},
                    zaxis: {title: {text: narrow ? "" : zTitle(mesh.ztitle)}, range: mesh.zrange,
                            ...zTicks(mesh.zrange)},
                    aspectmode: "manual", aspectratio: {x: 1, y: (y1 - y0) / (x1 - x0), z: 0.45},
                    camera: {eye: {x: -0.45, y: -1.45, z: 1.55}}};
    layout.margin = {l: 0, r: 0, t: 30, b: 0};
  } else if (view === "maps") {
    mapsFigure(model, data, layout, panes, narrow ? opts.width : 0);
  } else {                                        // curves
    layout.xaxis = stepAxis(model, [0, 1], "y", false);
    layout.yaxis = lossAxis(model, [0.56, 1], "x");
    layout.xaxis2 = stepAxis(model, [0, 1], "y2", true);
    layout.yaxis2 = lrAxis(model, [0, 0.42], "x2");
    model.runs.forEach((run, i) => data.push(legendEntry(run, i, present)));
    data.push(anchor("x2", "y2"));
    panes.push({x: "x", y: "y", kind: "loss", runs: all}, {x: "x2", y: "y2", kind: "lr", runs: all});
  }
  return {data, layout, config, traceMap: map, panes};
}

// ---- maps (optiviz/map_view.py: the server colours the cells; this places them) ---------

// Subplot domains of a grid of n panes (as the side-by-side view).
function grid(n, gapX, gapY) {
  const cols = n <= 2 ? n : n <= 4 ? 2 : 3, rows = Math.ceil(n / cols), out = [];
  for (let i = 0; i < n; i++) {
    const c = i % cols, r = Math.floor(i / cols);
    out.push({xdom: [c / cols + (c ? gapX / 2 : 0), (c + 1) / cols - (c < cols - 1 ? gapX / 2 : 0)],
              ydom: [1 - (r + 1) / rows + (r < rows - 1 ? gapY / 2 : 0), 1 - r / rows - gapY]});
  }
  return out;
}

// Our own sentence in lines of at most about `width` characters (Plotly does not wrap).
function wrapWords(text, width) {
  const lines = [];
  for (const word of String(text).split(/\s+/)) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.join("<br>");
}

function mapsFigure(model, data, layout, panes, narrowWidth) {
  const m = model.map;
  layout.images = [];
  layout.annotations = [];
  layout.showlegend = false;
  layout.margin = {l: 50, r: 10, t: 10, b: 36};
  if (!m || !m.runs.length) {
    layout.xaxis = {visible: false}; layout.yaxis = {visible: false};
    data.push(anchor("x", "y"));
    // Nothing to draw (no noise: every run would be the same): the map's note says why, here.
    layout.annotations.push({text: m ? wrapWords(m.note || "", 64) : tr("computing_map", "computing the map …"),
                             showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: {size: 16}});
    return;
  }
  if (m.kind === "spread") {
    if (narrowWidth) {
      stackAxes(model, layout, narrowWidth, model.present, false);
    } else {
      const [xa, ya] = mapAxes(model, [0, 0.56], [0, 1], "x", "y", true);
      layout.xaxis = xa; layout.yaxis = ya;
      layout.xaxis2 = stepAxis(model, [0.66, 1], "y2", true);
      layout.yaxis2 = lossAxis(model, [0, 1], "x2");
    }
    layout.images = [surfaceImage(model, "x", "y")];
    data.push(...landmarks(model, "x", "y", false), anchor("x2", "y2"));
    panes.push({x: "x", y: "y", kind: "spread-map", runs: m.runs.map((_, i) => i)},
               {x: "x2", y: "y2", kind: "spread-loss", runs: m.runs.map((_, i) => i)});
    return;
  }
  const cells = grid(m.runs.length, 0.09, 0.12);
  m.runs.forEach((run, i) => {
    const s = i ? String(i + 1) : "", {xdom, ydom} = cells[i];
    const short = (a) => String(a.label || a.param).split(" (")[0];   // the axis keeps the rest
    const title = m.kind === "basin" ? run.label : `${run.label}: ${short(run.x)} × ${short(run.y)}`;
    layout.annotations.push({text: `<b>${plain(title)}</b>`, showarrow: false, xref: "paper", yref: "paper",
                             x: (xdom[0] + xdom[1]) / 2, y: ydom[1] + 0.01, yanchor: "bottom",
                             font: {size: 13, color: run.color}});
    if (m.kind === "basin") {
      const [xa, ya] = mapAxes(model, xdom, ydom, `x${s}`, `y${s}`, false);
      layout[`xaxis${s}`] = xa; layout[`yaxis${s}`] = ya;
      const [[x0, x1], [y0, y1]] = model.surface.bounds;
      layout.images.push({source: run.image, xref: `x${s}`, yref: `y${s}`, x: x0, y: y1, sizex: x1 - x0,
                          sizey: y1 - y0, xanchor: "left", yanchor: "top", sizing: "stretch", layer: "below"});
      data.push(...landmarks(model, `x${s}`, `y${s}`, false));
      panes.push({x: `x${s}`, y: `y${s}`, kind: "basin", runs: [i], map: i});
    } else {
      const ax = (a, dom, other, letter) => ({domain: dom, anchor: other, type: a.scale === "log" ? "log" : "linear",
        range: a.range, title: {text: a.label || a.param, standoff: 2}, showgrid: false, zeroline: false, fixedrange: true,
        exponentformat: "power", dtick: a.scale === "log" ? decadeTick(a.range[1] - a.range[0]) : undefined,
        nticks: 5});
      layout[`xaxis${s}`] = ax(run.x, xdom, `y${s}`);
      layout[`yaxis${s}`] = ax(run.y, ydom, `x${s}`);
      layout.images.push({source: run.image, xref: `x${s}`, yref: `y${s}`, x: run.x.range[0], y: run.y.range[1],
                          sizex: run.x.range[1] - run.x.range[0], sizey: run.y.range[1] - run.y.range[0],
                          xanchor: "left", yanchor: "top", sizing: "stretch", layer: "below"});
      const marks = [];
      if (run.best) marks.push({x: run.x.values[run.best[0]], y: run.y.values[run.best[1]], symbol: "star", size: 16, color: "#ffd23f", name: "best"});
      marks.push({x: run.now[0], y: run.now[1], symbol: "circle-open", size: 14, color: "white", name: "now"});
      for (const mk of marks) {
        data.push({type: "scatter", mode: "markers", x: [mk.x], y: [mk.y], xaxis: `x${s}`, yaxis: `y${s}`,
                   hoverinfo: "skip", showlegend: false,
                   marker: {symbol: mk.symbol, size: mk.size, color: mk.color, line: {color: INK, width: 2}}});
      }
      panes.push({x: `x${s}`, y: `y${s}`, kind: "hyper", runs: [], map: i});
    }
  });
}

// The 3-D view's z title: "log₁₀(f − f_min + ε)" with min set as a subscript (Plotly's <sub>).
function zTitle(text) {
  return plain(String(text).split(",")[0]).replace(/f_min/g, "f<sub>min</sub>");
}

// The 3-D view's z ticks. Its z axis is short on screen (about 60 px) and starts where the
// y axis's far-end labels are: two or three round heights in the upper 70 % of its range,
// at least a quarter of it apart (Plotly's own nticks 4 put a lone "0" onto the y axis's "3").
function zTicks([lo, hi]) {
  const span = hi - lo, from = lo + 0.3 * span;
  if (!(span > 0)) return {nticks: 3};
  for (let e = Math.ceil(Math.log10(span)); e >= Math.floor(Math.log10(span)) - 2; e--) {
    for (const m of [5, 2, 1]) {
      const step = parseFloat(`${m}e${e}`), vals = [];
      for (let i = Math.floor(hi / step); i * step >= from; i--) vals.push(Number((i * step).toPrecision(6)) + 0);
      if (vals.length < 2) continue;
      const thin = vals.filter((_, j) => j % Math.max(1, Math.ceil(0.25 * span / step)) === 0);
      const ticks = (thin.length >= 2 ? thin : vals).reverse();
      return {tickmode: "array", tickvals: ticks, ticktext: ticks.map(String)};
    }
  }
  return {nticks: 3};
}

function decodeGrid(text, n) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const flat = new Float32Array(bytes.buffer), rows = [];
  for (let j = 0; j < n; j++) rows.push(Array.from(flat.subarray(j * n, (j + 1) * n)));
  return rows;
}

// What moves at step k in the 3-D view (a WebGL scene: no overlay): new x/y/z arrays.
export function frame(view, model, k, ahead, traceMap) {
  const xs = [], ys = [], zs = [], indices = [];
  for (const t of traceMap) {
    const run = model.runs[t.run], at = Math.min(k, run.last), zz = zOf(model, run);
    if (t.kind === "path3d") {
      xs.push(upto(run.x, at)); ys.push(upto(run.y, at)); zs.push(upto(zz, at));
    } else {
      const h = head(run, k);
      xs.push(h.x); ys.push(h.y); zs.push(h.x.length ? [zz[h.at]] : []);
    }
    indices.push(t.index);
  }
  return {update: {x: xs, y: ys, z: zs}, indices};
}

// What a figure is, apart from its axis ranges and tick spacing: taken before Plotly sees the
// figure (Plotly.react fills in and changes the layout object it is given).
export function shape(fig) {
  const axes = {}, images = (fig.layout.images || []).map((im) => im.source);
  const rest = JSON.stringify({data: fig.data, config: fig.config, layout: Object.fromEntries(
    Object.entries(fig.layout).map(([k, v]) => {
      if (k === "images") return [k, v.map((im) => ({...im, source: im.source.length}))];
      if (!/^[xy]axis\d*$/.test(k)) return [k, v];
      const {range, dtick, tickmode, tickvals, ticktext, ...other} = v;
      axes[k] = {range: JSON.stringify(range), dtick, ticks: JSON.stringify({tickmode, tickvals, ticktext}),
                 tickmode, tickvals, ticktext};
      return [k, other];
    }))});
  return {rest, images, axes};
}

// The relayout that turns a figure of shape `a` into one of shape `b` when they differ only in
// axis ranges and tick spacing ({} when equal), or null when anything else differs (then
// Plotly.react is needed).
export function rangeChanges(a, b) {
  if (a.rest !== b.rest || a.images.some((src, i) => src !== b.images[i])) return null;
  const out = {};
  for (const [k, v] of Object.entries(b.axes)) {
    if (a.axes[k].range !== v.range) out[`${k}.range`] = JSON.parse(v.range);
    if (a.axes[k].dtick !== v.dtick) out[`${k}.dtick`] = v.dtick === undefined ? null : v.dtick;
    if (a.axes[k].ticks !== v.ticks) {            // explicit ticks came, went or moved
      for (const f of ["tickmode", "tickvals", "ticktext"]) out[`${k}.${f}`] = v[f] === undefined ? null : v[f];
    }
  }
  return out;
}

// "Why it moves": one run's optimizer state at the playhead, drawn from its why record
// (optiviz/why.py: every number comes from what the core recorded; this module only looks
// values up by index and formats them, the same way why.fmt and why.fill do in Python).
//
// Row convention: row k of every array belongs to step k, the step from θₖ₋₁ to θₖ. At
// playhead k the panel explains the step about to be taken from the head, step k + 1 (the
// last step once the race is over): see stepAt().

import { decode } from "./data.js";

const SUPERSCRIPT = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                     "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"};
const ROWS = {"k": 0, "k-1": -1};
const STEPS = {"k": 0, "k-1": -1, "k+1": 1};

// The arrows and the box on the map, in drawing order (each a role of record.overlays); `key`:
// their words in the page's language (data.js tr), `text` the English.
export const MARKS = [
  {role: "plain", color: "#111827", dash: [5, 4], key: "mark_plain", text: "plain gradient step −ηg"},
  {role: "velocity", color: "#7c3aed", dash: [], text: null},   // its label comes from the record
  {role: "taken", color: null, dash: [], key: "mark_taken", text: "the step taken Δθ"},
];
export const BOX = {color: "#0f766e", key: "mark_box",
                    text: "per-coordinate step ηₑ·|g| (effective rate × gradient)"};

export function decodeWhy(why) {
  const arrays = {};
  for (const [name, a] of Object.entries(why.arrays)) arrays[name] = {width: a.width, data: decode(a.data)};
  return {...why, arrays};
}

// The step explained at playhead k: the next one from the head, or the last one at the end.
export function stepAt(why, k) {
  return Math.max(1, Math.min(k + 1, why.steps));
}

export function value(why, name, row, c) {
  const a = why.arrays[name];
  return a ? a.data[row * a.width + (a.width === 2 ? c : 0)] : NaN;
}

function pair(why, name, row) {
  return [value(why, name, row, 0), value(why, name, row, 1)];
}

// One number to 4 significant digits, exactly as optiviz.why.fmt writes it.
export function fmt4(x) {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x === 0) return "0";
  const sign = x < 0 ? "−" : "";
  let [mantissa, exponent] = Math.abs(x).toExponential(3).split("e");
  const e = Number(exponent);
  if (e >= -3 && e <= 3) {
    const digits = mantissa.replace(".", "");
    let whole, frac;
    if (e >= 0) { whole = digits.slice(0, e + 1); frac = digits.slice(e + 1); }
    else { whole = "0"; frac = "0".repeat(-e - 1) + digits; }
    frac = frac.replace(/0+$/, "");
    return sign + whole + (frac ? "." + frac : "");
  }
  mantissa = mantissa.replace(/0+$/, "").replace(/\.$/, "");
  return `${sign}${mantissa}×10${String(e).split("").map((ch) => SUPERSCRIPT[ch]).join("")}`;
}

function shown(line, k) {
  const first = line[0];
  if (first && typeof first === "object" && "when" in first) {
    const [lo, hi] = first.when;
    return lo <= k && (hi == null || k <= hi);
  }
  return true;
}

function segmentText(seg, why, k) {
  if (typeof seg === "string") return seg;
  if ("when" in seg) return "";
  if ("const" in seg) return fmt4(seg.const);
  if ("step" in seg) return String(k + STEPS[seg.step]);
  const row = k + ROWS[seg.row], a = why.arrays[seg.ref];
  if (!a) return "?";
  if (a.width === 2) return `(${fmt4(a.data[row * 2])}, ${fmt4(a.data[row * 2 + 1])})`;
  return fmt4(a.data[row]);
}

// The rule at step k with its numbers, one string per line (optiviz.why.fill).
export function fill(why, k) {
  return why.rule.filter((line) => shown(line, k))
    .map((line) => line.map((seg) => segmentText(seg, why, k)).join(""));
}

// Arrows (and the box) of step j from θⱼ₋₁, in data units. One magnification for all of them
// (1, 2, 5, 10, 20, … so lengths stay comparable), chosen so the step taken is at least MIN_PX
// long on screen; an arrow longer than the pane allows is cut, and drawn as cut.
const MIN_PX = 30;

export function marks(why, j, runColor) {
  const [x0, y0] = pair(why, "theta", j - 1);
  const out = {from: [x0, y0], arrows: [], box: null};
  for (const m of MARKS) {
    const entry = why.overlays[m.role];
    if (!entry) continue;
    const [dx, dy] = pair(why, entry.array, j);
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) continue;
    out.arrows.push({role: m.role, dx, dy, color: m.color || runColor, dash: m.dash,
                     text: m.text || entry.label});
  }
  const eff = why.overlays.effective, g = why.overlays.grad;
  if (eff && g) {
    const [ex, ey] = pair(why, eff.array, j), [gx, gy] = pair(why, g.array, j);
    const hx = Math.abs(ex * gx), hy = Math.abs(ey * gy);
    if (Number.isFinite(hx) && Number.isFinite(hy)) out.box = {hx, hy};
  }
  return out;
}

export function magnification(m, f) {
  const px0 = f.px(m.from[0]), py0 = f.py(m.from[1]);
  const length = (a) => Math.hypot(f.px(m.from[0] + a.dx) - px0, f.py(m.from[1] + a.dy) - py0);
  const taken = m.arrows.find((a) => a.role === "taken");
  let base = taken ? length(taken) : 0;
  if (!(base > 0)) for (const a of m.arrows) base = Math.max(base, length(a) || 0);
  if (!(base > 0) || !Number.isFinite(base)) return 1;
  for (let decade = 1; decade < 1e12; decade *= 10) {
    for (const s of [1, 2, 5]) if (base * s * decade >= MIN_PX) return s * decade;
  }
  return 1;
}

export function drawMarks(ctx, f, m, scale) {
  const x0 = m.from[0], y0 = m.from[1], px0 = f.px(x0), py0 = f.py(y0);
  if (!Number.isFinite(px0) || !Number.isFinite(py0)) return [];
  const drawn = [];
  if (m.box) {
    const w = Math.abs(f.px(x0 + m.box.hx * scale) - px0), h = Math.abs(f.py(y0 + m.box.hy * scale) - py0);
    ctx.save();
    ctx.setLineDash([3, 3]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = BOX.color;
    ctx.fillStyle = BOX.color + "22";
    ctx.fillRect(px0 - w, py0 - h, 2 * w, 2 * h);
    ctx.strokeRect(px0 - w, py0 - h, 2 * w, 2 * h);
    ctx.restore();
    drawn.push({role: "box", hx: m.box.hx, hy: m.box.hy});
  }
  const maxPx = 0.45 * Math.min(f.rect[2], f.rect[3]);
  for (const a of m.arrows) {
    let px1 = f.px(x0 + a.dx * scale), py1 = f.py(y0 + a.dy * scale);
    const len = Math.hypot(px1 - px0, py1 - py0), cut = len > maxPx;
    if (cut) { px1 = px0 + (px1 - px0) * maxPx / len; py1 = py0 + (py1 - py0) * maxPx / len; }
    arrow(ctx, px0, py0, px1, py1, a.color, a.dash, a.role === "taken" ? 3.5 : 2.5, cut);
    drawn.push({role: a.role, from: [x0, y0], d: [a.dx, a.dy], cut});
  }
  return drawn;
}

function arrow(ctx, x0, y0, x1, y1, color, dash, width, cut) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (!(len > 0.5) || !Number.isFinite(len)) return;
  const ux = (x1 - x0) / len, uy = (y1 - y0) / len, head = Math.min(12, 0.45 * len + 4);
  ctx.save();
  if (cut) {                       // a break in the shaft: longer than drawn
    const bx = x0 + (x1 - x0) * 0.55, by = y0 + (y1 - y0) * 0.55;
    ctx.beginPath();
    for (const o of [-4, 4]) {
      ctx.moveTo(bx + ux * o - uy * 7, by + uy * o + ux * 7);
      ctx.lineTo(bx + ux * o + uy * 7, by + uy * o - ux * 7);
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.stroke();
  }
  ctx.lineCap = "round";
  for (const [w, c] of [[width + 2.5, "white"], [width, color]]) {
    ctx.beginPath();
    ctx.setLineDash(c === "white" ? [] : dash);
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1 - ux * head * 0.6, y1 - uy * head * 0.6);
    ctx.lineWidth = w;
    ctx.strokeStyle = c;
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - ux * head - uy * head * 0.5, y1 - uy * head + ux * head * 0.5);
  ctx.lineTo(x1 - ux * head + uy * head * 0.5, y1 - uy * head - ux * head * 0.5);
  ctx.closePath();
  ctx.fillStyle = color;
  ctx.strokeStyle = "white";
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.fill();
  ctx.restore();
}

// The effective per-coordinate rate over all steps (for the lr pane): rows 1..steps.
export function effectiveSeries(why) {
  const entry = why.overlays.effective;
  if (!entry) return null;
  const a = why.arrays[entry.array], n = why.steps, xs = new Float32Array(n), ys = new Float32Array(n);
  for (let k = 1; k <= n; k++) { xs[k - 1] = a.data[k * 2]; ys[k - 1] = a.data[k * 2 + 1]; }
  return [xs, ys];
}

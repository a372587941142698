// The model's arrays arrive as base64 float32 (optiviz/live.py); NaN marks what is gone.

export function decode(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

export function decodeRun(run) {
  const x = decode(run.x), y = decode(run.y), loss = decode(run.loss), lr = decode(run.lr);
  const diverged = run.diverged_at;
  const last = diverged == null ? x.length - 1 : Math.max(diverged - 1, 0);   // last finite row
  return {...run, x, y, loss, lr, diverged, last};
}

// Loss as the loss axis plots it: loss − f_min + tiny where the minimum is negative (log axis).
export function lossY(loss, axis) {
  if (!axis.shift) return loss;
  const out = new Float32Array(loss.length);
  for (let i = 0; i < loss.length; i++) out[i] = Math.max(loss[i] - axis.shift, 0) + axis.tiny;
  return out;
}

export function fmt(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

// The live view's words in the page's language (optiviz/live.py texts(): the catalogs' "live.*"
// strings, sent in the model as `text`). tr(key, english, values) looks one up, with the English
// written where it is used as the fallback, and fills its {placeholders}; callers always put the
// result in textContent (or a title / aria-label), never in HTML.
let TEXT = {};

export function setText(text) {
  TEXT = text && typeof text === "object" ? text : {};
}

export function tr(key, english, values) {
  const own = TEXT[key];
  const s = typeof own === "string" ? own : english;
  return values ? s.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m)) : s;
}

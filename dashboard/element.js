// Building DOM nodes without a framework: h('td', { class: 'num', dataset: { testid: 'x' } }, 'text', child).

/**
 * A new element. `attrs`: `class`, `dataset` (an object of data-* values), `style` (an object of
 * CSS properties, set through the DOM), `on` (an object of event listeners), `text`, and plain
 * attributes (`false`/`null`/`undefined` leave one out, `true` sets it empty). Children may be
 * nodes, strings, numbers, or nested arrays of them; null and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') for (const [k, v] of Object.entries(value)) setData(el, k, v);
    else if (name === 'style') Object.assign(el.style, value);
    else if (name === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (name === 'text') el.textContent = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Sets `data-<name>` (camelCase names as the DOM spells them), or removes it for null/undefined. */
export function setData(el, name, value) {
  if (value === undefined || value === null) delete el.dataset[name];
  else if (el.dataset[name] !== String(value)) el.dataset[name] = String(value);
}

/** Replaces an element's children. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** The first eight characters of a run id, as the CLI prints them. */
export const shortId = (id) => (typeof id === 'string' ? id.slice(0, 8) : String(id));

/** `1.2 s`, `340 ms`, `3 min 5 s`, `2 h 1 min`. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000) return `${Math.floor(abs / 60_000)} min ${Math.round((abs % 60_000) / 1000)} s`;
  return `${Math.floor(abs / 3_600_000)} h ${Math.round((abs % 3_600_000) / 60_000)} min`;
}

/** A wall-clock time as HH:MM:SS.mmm in the browser's time zone. */
export function formatClock(at) {
  if (!Number.isFinite(at)) return '—';
  const d = new Date(at);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `in 3.0 s` / `2.1 s ago` relative to `now`. */
export function formatRelative(at, now) {
  if (at === null || at === undefined) return '—';
  const delta = at - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

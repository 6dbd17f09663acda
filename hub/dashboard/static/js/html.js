// Formatting helpers shared by the views: escaping, badges (an icon and a word: colour is never the only
// signal), short revisions, times, and how a cluster's applications add up to one sync and health state.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// value -> [tone, icon]
const SYNC = { Synced: ["ok", "✓"], OutOfSync: ["warn", "≠"], Unknown: ["neutral", "?"] };
const HEALTH = {
  Healthy: ["ok", "♥"], Progressing: ["info", "◔"], Suspended: ["neutral", "‖"], Missing: ["warn", "∅"],
  Degraded: ["bad", "✗"], Unknown: ["neutral", "?"],
};
const PHASE = {
  Succeeded: ["ok", "✓"], Progressing: ["info", "▶"], Soaking: ["info", "◷"], Halted: ["bad", "■"],
  Paused: ["warn", "‖"], Failed: ["bad", "✗"], Error: ["bad", "✗"], Running: ["info", "▶"],
};
// Argo CD's health codes from best to worst
export const HEALTH_ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];

function badge(kind, value, table) {
  const text = value || "Unknown";
  const [tone, icon] = table[text] || ["neutral", "•"];
  return `<span class="badge b-${tone}" title="${esc(kind)}: ${esc(text)}"><span aria-hidden="true">${icon}</span>` +
    `<span class="visually-hidden">${esc(kind)}: </span>${esc(text)}</span>`;
}

export const syncBadge = (value) => badge("sync", value, SYNC);
export const healthBadge = (value) => badge("health", value, HEALTH);
export const phaseBadge = (value) => badge("phase", value, PHASE);

export function connectionBadge(connected) {
  return connected
    ? '<span class="badge b-ok" title="agent connected"><span aria-hidden="true">●</span> Connected</span>'
    : '<span class="badge b-bad" title="agent not connected"><span aria-hidden="true">○</span> Disconnected</span>';
}

export function tone(value, table = "health") {
  const found = (table === "sync" ? SYNC : HEALTH)[value];
  return found ? found[0] : "neutral";
}

export function shortSha(revision) {
  const text = String(revision || "");
  return /^[0-9a-f]{12,}$/.test(text) ? text.slice(0, 7) : text;
}

export function worstHealth(values) {
  let worst = -1;
  for (const value of values) worst = Math.max(worst, HEALTH_ORDER.indexOf(value || "Unknown"));
  return worst < 0 ? "Unknown" : HEALTH_ORDER[worst];
}

export function overallSync(values) {
  let result = null;
  for (const value of values) {
    if (value === "OutOfSync") return "OutOfSync";
    if (value !== "Synced") result = "Unknown";
    else if (result === null) result = "Synced";
  }
  return result || "Unknown";
}

export function ago(ms, now = Date.now()) {
  if (!ms) return "never";
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function timeTag(ms) {
  if (!ms) return '<span class="muted">never</span>';
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" data-ts="${ms}" title="${esc(new Date(ms).toLocaleString())}">${ago(ms)}</time>`;
}

export function when(value) {
  if (!value) return "";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function parseTime(value) {
  const ms = Date.parse(value || "");
  return Number.isNaN(ms) ? null : ms;
}

export function show(value) {
  if (value === undefined) return "(absent)";
  if (value === null) return "null";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Update every <time data-ts> under root to its current "… ago" text.
export function refreshTimes(root, now = Date.now()) {
  for (const node of root.querySelectorAll("time[data-ts]")) {
    const text = ago(Number(node.dataset.ts), now);
    if (node.textContent !== text) node.textContent = text;
  }
}

// Replace an element by the element the HTML text makes; returns the new element.
export function replaceWith(element, htmlText) {
  const template = document.createElement("template");
  template.innerHTML = htmlText.trim();
  const fresh = template.content.firstElementChild;
  element.replaceWith(fresh);
  return fresh;
}

export function elementFrom(htmlText) {
  const template = document.createElement("template");
  template.innerHTML = htmlText.trim();
  return template.content.firstElementChild;
}

export function message(error) {
  return error && error.message ? error.message : String(error);
}

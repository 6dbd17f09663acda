// The drift feed: each object someone changed in a cluster, live: which fields (Git's value and the live one),
// who changed them (the field manager), and whether it was healed (after how many milliseconds) or is still
// open. Above it, sync-loop warnings with the ignoreDifferences entry to add to fleet.yaml, ready to copy.

import { enc } from "../api.js";
import { esc, show, timeTag } from "../html.js";
import { View } from "./base.js";

const SHOWN = 200;

export class DriftView extends View {
  render() {
    this.root.innerHTML = `
      <h1>Drift</h1>
      <p class="lead">Changes made in clusters outside Git, as the agents see them. Self-healing applications put
        Git's value back at once; the others wait for a sync.</p>
      <section aria-labelledby="loops-h" id="loops-section"><h2 id="loops-h">Sync loops</h2>
        <ul class="items" id="loops"></ul></section>
      <section aria-labelledby="feed-h"><h2 id="feed-h">Drift feed <span class="muted" id="drift-counts"></span></h2>
        <p class="visually-hidden" id="drift-live" role="status"></p>
        <ul class="items" data-testid="drift-feed" id="drift-feed"></ul></section>`;
    this.root.querySelector("#loops").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-copy]");
      if (button) this.copy(button);
    });
    this.shown = null;
    this.drawLoops();
    this.drawFeed();
  }

  // The feed is not a live region (its times tick every 5 s): a status line says what changed instead.
  drawFeed() {
    const items = [...this.model.drift.values()].reverse().slice(0, SHOWN);
    const open = items.filter((i) => i.state === "open").length;
    const html = items.length ? items.map(itemHtml).join("")
      : '<li class="muted">No drift seen. Changes made with kubectl or by other controllers show up here.</li>';
    if (html === this.shown) return;
    const first = this.shown !== null;
    this.shown = html;
    const counts = `${open} open, ${items.length - open} healed`;
    this.root.querySelector("#drift-counts").textContent = `(${counts})`;
    this.root.querySelector("#drift-feed").innerHTML = html;
    const newest = items[0];
    if (first && newest) {
      this.root.querySelector("#drift-live").textContent = `Drift ${newest.state === "open" ? "open" : "healed"} on ${
        newest.object} (${newest.cluster} / ${newest.application}); ${counts}.`;
    }
  }

  drawLoops() {
    const loops = [...this.model.loops.values()].reverse();
    this.root.querySelector("#loops-section").hidden = !loops.length;
    this.root.querySelector("#loops").innerHTML = loops.map(loopHtml).join("");
  }

  update(changes) {
    if (changes.drift) this.drawFeed();
    if (changes.loops) this.drawLoops();
  }

  async copy(button) {
    const text = this.root.querySelector(`#${button.dataset.copy}`).textContent;
    const status = button.nextElementSibling;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(this.root.querySelector(`#${button.dataset.copy}`));
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.";
    }
  }
}

function itemHtml(item) {
  const link = `<a href="#/cluster/${enc(item.cluster)}/app/${enc(item.application)}">${esc(item.cluster)} / ${esc(item.application)}</a>`;
  const state = item.state === "open"
    ? '<span class="badge b-warn"><span aria-hidden="true">⚠</span> Open</span>'
    : `<span class="badge b-ok"><span aria-hidden="true">✔</span> Healed${item.healedAfterMs !== null
      ? ` after ${item.healedAfterMs} ms` : ""}${item.healedBySelfHeal ? " by self-heal" : ""}</span>`;
  const fields = item.missing ? '<li>the object was deleted</li>' : item.fields.map((f) => `<li><code>${esc(f.path)}</code>:
      Git <code>${esc(show(f.desired))}</code> → live <code>${esc(show(f.live))}</code>${f.manager
        ? ` <span class="muted">by</span> <strong>${esc(f.manager)}</strong>` : ""}</li>`).join("");
  const more = item.moreFields ? `<li class="muted">and ${esc(item.moreFields)} more fields</li>` : "";
  return `<li class="item" data-testid="drift-item" data-cluster="${esc(item.cluster)}" data-app="${esc(item.application)}"
      data-object="${esc(item.object)}" data-state="${item.state}">
    <header>${state} <strong>${esc(item.object)}</strong> ${link}
      <span class="when">${timeTag(item.updatedAt)}</span></header>
    ${item.managers.length ? `<p>Changed by: <strong class="managers">${esc(item.managers.join(", "))}</strong></p>` : ""}
    ${item.state === "open" && !item.selfHeal
      ? '<p class="muted">Self-heal is off for this application: the next sync puts Git\'s value back.</p>' : ""}
    ${fields || more ? `<ul class="fields">${fields}${more}</ul>` : ""}
  </li>`;
}

let snippetCount = 0;

function loopHtml(loop) {
  snippetCount += 1;
  const id = `snippet-${snippetCount}`;
  return `<li class="item" data-testid="sync-loop" data-cluster="${esc(loop.cluster)}" data-object="${esc(loop.object)}">
    <header><span class="badge b-bad"><span aria-hidden="true">↻</span> Sync loop</span>
      <strong>${esc(loop.object)}</strong> <code>${esc(loop.field)}</code>
      <a href="#/cluster/${enc(loop.cluster)}/app/${enc(loop.application)}">${esc(loop.cluster)} / ${esc(loop.application)}</a>
      <span class="when">${timeTag(loop.at)}</span></header>
    <p><strong>${esc(loop.manager)}</strong> changed it back ${esc(loop.reverts)} times within ${esc(loop.windowS)} s;
      the agent no longer reverts it. Add this to the application in <code>fleet.yaml</code> (and set
      <code>RespectIgnoreDifferences=true</code> in its syncOptions):</p>
    <pre class="snippet" id="${id}" data-testid="sync-loop-snippet">${esc(loop.snippet ? toYaml(loop.snippet) : "")}</pre>
    <div class="actions"><button type="button" class="secondary" data-copy="${id}">Copy</button>
      <span class="result" role="status"></span></div>
  </li>`;
}

// a small YAML writer for the snippet (maps, lists, scalars); strings that YAML could misread are quoted
export function toYaml(value, indent = "") {
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return value.map((item) => {
      const text = toYaml(item, `${indent}  `);
      return `${indent}- ${isBlock(item) ? text.trimStart() : text}`;
    }).join("\n");
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "{}";
    return entries.map(([key, item]) => isBlock(item) && (Array.isArray(item) ? item.length : Object.keys(item).length)
      ? `${indent}${key}:\n${toYaml(item, `${indent}  `)}`
      : `${indent}${key}: ${toYaml(item, "")}`).join("\n");
  }
  return scalar(value);
}

function isBlock(value) {
  return value !== null && typeof value === "object";
}

function scalar(value) {
  if (typeof value !== "string") return JSON.stringify(value);
  const plain = /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) &&
    !/^(true|false|yes|no|on|off|null|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

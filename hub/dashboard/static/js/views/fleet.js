// The fleet at a glance: regions side by side, a card per cluster (connection, sync, health, revision and commit
// subject, last heard from, drift), and the applications as rows across regions ("which version runs where").
// Filters by region, environment and status live in the URL (#/fleet?region=eu&status=attention).
// Big lists are built as one HTML text; a live change redraws only the cards it touches.

import { enc } from "../api.js";
import {
  ago, connectionBadge, esc, healthBadge, replaceWith, shortSha, syncBadge, timeTag,
} from "../html.js";
import { View } from "./base.js";

const STATUSES = [
  ["", "Any status"], ["attention", "Needs attention"], ["OutOfSync", "Out of sync"], ["Degraded", "Degraded"],
  ["Progressing", "Progressing"], ["disconnected", "Disconnected"], ["drift", "Drift open"],
];
const RECENT_DRIFT_MS = 15 * 60 * 1000; // a healed drift stays on its card this long
const NAMES_SHOWN = 3;

export class FleetView extends View {
  constructor(session, params, query) {
    super(session, params, query);
    this.filters = { region: query.get("region") || "", environment: query.get("environment") || "",
                     status: query.get("status") || "" };
    this.cards = new Map();
  }

  render() {
    const { model } = this;
    const options = (values, selected, any) => [["", any], ...values.map((v) => [v, v])]
      .map(([value, label]) => `<option value="${esc(value)}"${value === selected ? " selected" : ""}>${esc(label)}</option>`)
      .join("");
    this.root.innerHTML = `
      <h1>Fleet</h1>
      <p class="lead">Every cluster's agent, what it runs and whether it matches Git. Updates arrive live.</p>
      <form class="filters" role="search" aria-label="Filter clusters">
        <div><label for="f-region">Region</label>
          <select id="f-region" name="region">${options(model.regions, this.filters.region, "All regions")}</select></div>
        <div><label for="f-environment">Environment</label>
          <select id="f-environment" name="environment">${options(model.environments(), this.filters.environment,
            "All environments")}</select></div>
        <div><label for="f-status">Status</label>
          <select id="f-status" name="status">${STATUSES.map(([value, label]) =>
            `<option value="${value}"${value === this.filters.status ? " selected" : ""}>${label}</option>`).join("")}
          </select></div>
      </form>
      <ul class="stats" id="fleet-stats" aria-label="Summary">${this.statsHtml()}</ul>
      <details open class="matrix">
        <summary><h2>Applications: which version runs where</h2></summary>
        <div class="table-wrap" id="app-matrix">${this.matrixHtml()}</div>
      </details>
      <h2 class="visually-hidden">Clusters by region</h2>
      <div class="regions" id="regions">${this.regionsHtml()}</div>`;
    this.root.querySelector(".filters").addEventListener("change", (event) => {
      this.filters[event.target.name] = event.target.value;
      const query = new URLSearchParams(Object.entries(this.filters).filter(([, v]) => v)).toString();
      history.replaceState(null, "", `#/fleet${query ? `?${query}` : ""}`);
      this.redrawFiltered(); // not the form: the select keeps the keyboard's focus
    });
    this.lastStats = null;
    this.lastMatrix = null;
    this.indexCards();
    performance.mark("fleetline:fleet-rendered");
  }

  // What the filters choose: the summary, the matrix and the regions' cards.
  redrawFiltered() {
    this.refreshSummaries();
    this.root.querySelector("#regions").innerHTML = this.regionsHtml();
    this.indexCards();
  }

  indexCards() {
    this.cards.clear();
    for (const card of this.root.querySelectorAll("article.card")) this.cards.set(card.dataset.cluster, card);
  }

  // ---- what is shown --------------------------------------------------------------------------------------

  visibleRegions() {
    return this.model.regions.filter((region) => !this.filters.region || region === this.filters.region);
  }

  openDrift(name) {
    const open = this.model.openDrift.get(name);
    return open ? open.size : 0;
  }

  matches(cluster) {
    const { region, environment, status } = this.filters;
    if (region && cluster.region !== region) return false;
    if (environment && cluster.environment !== environment) return false;
    switch (status) {
      case "": return true;
      case "attention": return !cluster.connected || cluster.sync !== "Synced" || cluster.health !== "Healthy" ||
        this.openDrift(cluster.name) > 0;
      case "OutOfSync": return cluster.sync === "OutOfSync";
      case "disconnected": return !cluster.connected;
      case "drift": return this.openDrift(cluster.name) > 0;
      default: return cluster.health === status;
    }
  }

  clustersOf(region) {
    const list = [];
    for (const cluster of this.model.clusters.values()) if (cluster.region === region && this.matches(cluster)) list.push(cluster);
    return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  regionsHtml() {
    const regions = this.visibleRegions();
    if (!regions.length) return '<p class="muted">No clusters in this token\'s scope yet.</p>';
    return regions.map((region) => {
      const clusters = this.clustersOf(region);
      return `<section class="region" data-testid="region-${esc(region)}" data-region="${esc(region)}"
          aria-labelledby="region-h-${esc(region)}">
        <header><h2 id="region-h-${esc(region)}">${esc(region)}</h2>
          <span class="muted region-count">${esc(this.regionCount(region))}</span></header>
        <div class="cards">${clusters.length ? clusters.map((c) => this.cardHtml(c)).join("")
          : '<p class="muted none">No cluster here matches the filters.</p>'}</div>
      </section>`;
    }).join("");
  }

  regionCount(region) {
    let total = 0;
    let attention = 0;
    for (const cluster of this.model.clusters.values()) {
      if (cluster.region !== region) continue;
      total += 1;
      if (!cluster.connected || cluster.sync !== "Synced" || cluster.health !== "Healthy") attention += 1;
    }
    return `${total} cluster${total === 1 ? "" : "s"}${attention ? `, ${attention} need attention` : ", all well"}`;
  }

  cardHtml(cluster) {
    const name = cluster.name;
    const open = this.openDrift(name);
    const drift = this.model.lastDrift.get(name);
    const state = !cluster.connected || cluster.health === "Degraded" || cluster.health === "Missing" ? "bad"
      : cluster.sync !== "Synced" || cluster.health !== "Healthy" || open ? "warn" : "ok";
    const subject = this.model.subject(cluster.revision);
    const revision = cluster.revision
      ? `<code title="${esc(cluster.revision)}">${esc(shortSha(cluster.revision))}</code>${subject && subject.subject
        ? ` ${esc(subject.subject)}` : ""}`
      : '<span class="muted">no desired state yet</span>';
    const apps = cluster.apps.map((app) => `<li><a href="#/cluster/${enc(name)}/app/${enc(app.name)}">${esc(app.name)}</a>
        ${syncBadge(app.sync_status)}${healthBadge(app.health)}${app.revision && app.revision !== cluster.revision
          ? ` <code title="${esc(app.revision)}">${esc(shortSha(app.revision))}</code>` : ""}</li>`).join("");
    return `<article class="card" data-testid="cluster-card-${esc(name)}" data-cluster="${esc(name)}"
        data-sync="${esc(cluster.sync)}" data-health="${esc(cluster.health)}" data-connected="${cluster.connected}"
        data-drift="${open ? "open" : drift ? drift.state : "none"}" data-state="${state}">
      <header><h3><a href="#/cluster/${enc(name)}">${esc(name)}</a></h3>
        <span class="env">${esc(cluster.environment)}</span></header>
      <div class="badges">${connectionBadge(cluster.connected)}${syncBadge(cluster.sync)}${healthBadge(cluster.health)}</div>
      <p class="rev">Revision ${revision}</p>
      <p class="seen muted">Last heard ${timeTag(cluster.lastSeen)}</p>
      ${apps ? `<ul class="apps" aria-label="Applications on ${esc(name)}">${apps}</ul>` : ""}
      ${this.driftHtml(drift, open)}
    </article>`;
  }

  driftHtml(drift, open) {
    if (!drift) return "";
    const fields = drift.fields.map((f) => f.path).filter(Boolean);
    const what = `${esc(drift.object)}${fields.length ? ` <code>${esc(fields.slice(0, 2).join(", "))}</code>` : ""}`;
    const who = drift.managers.length ? ` by <strong>${esc(drift.managers.join(", "))}</strong>` : "";
    if (drift.state === "open") {
      return `<p class="card-drift" data-testid="card-drift" data-state="open" data-object="${esc(drift.object)}">
        <span aria-hidden="true">⚠</span> Drift${open > 1 ? ` (${open} objects)` : ""}: ${what}${who}</p>`;
    }
    if (Date.now() - (drift.updatedAt || 0) > RECENT_DRIFT_MS) return "";
    const after = drift.healedAfterMs !== null ? ` after ${drift.healedAfterMs} ms` : "";
    return `<p class="card-drift" data-testid="card-drift" data-state="healed" data-object="${esc(drift.object)}">
      <span aria-hidden="true">✔</span> Drift healed${after}${drift.healedBySelfHeal ? " (self-heal)" : ""}: ${what}${who}
      <span class="muted">${esc(ago(drift.updatedAt))}</span></p>`;
  }

  statsHtml() {
    let total = 0;
    let connected = 0;
    let outOfSync = 0;
    let degraded = 0;
    let drifting = 0;
    for (const cluster of this.model.clusters.values()) {
      total += 1;
      if (cluster.connected) connected += 1;
      if (cluster.sync === "OutOfSync") outOfSync += 1;
      if (cluster.health === "Degraded" || cluster.health === "Missing") degraded += 1;
      if (this.openDrift(cluster.name)) drifting += 1;
    }
    return `<li><strong>${total}</strong> clusters</li><li><strong>${connected}</strong> connected</li>` +
      `<li><strong>${outOfSync}</strong> out of sync</li><li><strong>${degraded}</strong> degraded</li>` +
      `<li><strong>${drifting}</strong> with open drift</li>`;
  }

  // applications as rows, regions as columns; a cell lists the revisions running there and where
  matrixHtml() {
    const regions = this.visibleRegions();
    const cells = new Map(); // app -> region -> revision -> {clusters, problems}
    for (const cluster of this.model.clusters.values()) {
      if (!this.matches(cluster)) continue;
      for (const app of cluster.apps) {
        let byRegion = cells.get(app.name);
        if (!byRegion) cells.set(app.name, (byRegion = new Map()));
        let byRevision = byRegion.get(cluster.region);
        if (!byRevision) byRegion.set(cluster.region, (byRevision = new Map()));
        let group = byRevision.get(app.revision);
        if (!group) byRevision.set(app.revision, (group = { clusters: [], problems: 0 }));
        group.clusters.push(cluster.name);
        if (app.sync_status !== "Synced" || app.health !== "Healthy") group.problems += 1;
      }
    }
    if (!cells.size) return '<p class="muted">No application has reported yet.</p>';
    const rows = [...cells.keys()].sort().map((name) => {
      const byRegion = cells.get(name);
      const tds = regions.map((region) => {
        const byRevision = byRegion.get(region);
        if (!byRevision) return '<td class="revs muted">—</td>';
        const groups = [...byRevision.entries()].sort((a, b) => b[1].clusters.length - a[1].clusters.length)
          .map(([revision, group]) => {
            const subject = this.model.subject(revision);
            const names = group.clusters.sort();
            const shown = names.slice(0, NAMES_SHOWN).join(", ") + (names.length > NAMES_SHOWN
              ? ` and ${names.length - NAMES_SHOWN} more` : "");
            const problems = group.problems
              ? ` <span class="badge b-warn"><span aria-hidden="true">⚠</span> ${group.problems} not synced or healthy</span>` : "";
            return `<span class="revgroup"><code title="${esc(revision)}">${esc(shortSha(revision) || "none")}</code>` +
              `${subject && subject.subject ? ` ${esc(subject.subject)}` : ""} <span class="muted">on ${esc(shown)}</span>` +
              `${problems}</span>`;
          });
        return `<td class="revs">${groups.join("")}</td>`;
      }).join("");
      return `<tr><th scope="row">${esc(name)}</th>${tds}</tr>`;
    }).join("");
    return `<table><caption class="visually-hidden">Revision of each application per region</caption>
      <thead><tr><th scope="col">Application</th>${regions.map((r) => `<th scope="col">${esc(r)}</th>`).join("")}</tr></thead>
      <tbody>${rows}</tbody></table>`;
  }

  // ---- live -----------------------------------------------------------------------------------------------

  update(changes) {
    if (changes.fleet) {
      this.render();
      return;
    }
    let touched = false;
    for (const name of changes.clusters) {
      const cluster = this.model.clusters.get(name);
      const card = this.cards.get(name);
      if (!cluster) continue;
      touched = true;
      const wanted = this.matches(cluster);
      if (card && wanted) {
        this.cards.set(name, replaceWith(card, this.cardHtml(cluster)));
      } else if (card) {
        card.remove();
        this.cards.delete(name);
      } else if (wanted) {
        this.insertCard(cluster);
      }
    }
    for (const name of changes.seen) {
      const cluster = this.model.clusters.get(name);
      const time = this.cards.get(name)?.querySelector("time[data-ts]");
      if (!cluster || !cluster.lastSeen) continue;
      if (time) {
        time.dataset.ts = String(cluster.lastSeen);
        const text = ago(cluster.lastSeen);
        if (time.textContent !== text) time.textContent = text;
      } else if (this.cards.has(name)) {
        this.cards.set(name, replaceWith(this.cards.get(name), this.cardHtml(cluster)));
      }
    }
    if (touched || changes.drift) this.refreshSummaries();
  }

  insertCard(cluster) {
    const column = this.root.querySelector(`section.region[data-region="${CSS.escape(cluster.region)}"] .cards`);
    if (!column) {
      this.render();
      return;
    }
    column.querySelector(".none")?.remove();
    const html = this.cardHtml(cluster);
    const before = [...column.children].find((card) => card.dataset.cluster > cluster.name);
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const card = template.content.firstElementChild;
    column.insertBefore(card, before || null);
    this.cards.set(cluster.name, card);
  }

  refreshSummaries() {
    const stats = this.statsHtml();
    if (stats !== this.lastStats) {
      this.lastStats = stats;
      this.root.querySelector("#fleet-stats").innerHTML = stats;
    }
    const matrix = this.matrixHtml();
    if (matrix !== this.lastMatrix) {
      this.lastMatrix = matrix;
      this.root.querySelector("#app-matrix").innerHTML = matrix;
    }
    for (const column of this.root.querySelectorAll("section.region")) {
      const count = column.querySelector(".region-count");
      const text = this.regionCount(column.dataset.region);
      if (count.textContent !== text) count.textContent = text;
    }
  }
}

// A cluster (its session and applications) and an application on it: the resource tree grouped by sync wave,
// the live field-level diff (desired vs live, who changed it; Secret values arrive redacted), the events
// timeline, the revision history, and the Sync and Rollback buttons for those allowed to press them.

import { enc } from "../api.js";
import {
  connectionBadge, esc, healthBadge, phaseBadge, shortSha, show, syncBadge, timeTag, when,
} from "../html.js";
import { View, emptyLine } from "./base.js";
import { fromAudit, fromEvent, rowHtml } from "./timeline.js";

const REFRESH_MS = 400; // a burst of events for this application refreshes it once
const TIMELINE_MAX = 200;

export class ClusterView extends View {
  render() {
    const name = this.params.cluster;
    this.root.innerHTML = `<p><a href="#/fleet">← Fleet</a></p><h1>Cluster ${esc(name)}</h1>
      <div id="cluster-body"><p class="muted">Loading…</p></div>`;
    this.load();
  }

  async load() {
    const name = this.params.cluster;
    let detail;
    try {
      detail = await this.api.get(`/api/v1/clusters/${enc(name)}`);
    } catch (error) {
      this.root.querySelector("#cluster-body").innerHTML = `<p class="error">${esc(error.message)}</p>`;
      return;
    }
    if (this.closed) return;
    const session = detail.session;
    const apps = (detail.applications || []).map((app) => `<tr>
        <th scope="row"><a href="#/cluster/${enc(name)}/app/${enc(app.name)}">${esc(app.name)}</a></th>
        <td>${syncBadge(app.sync_status)}</td><td>${healthBadge(app.health)}</td>
        <td><code>${esc(shortSha(app.revision))}</code></td><td>${esc(app.message || "")}</td></tr>`).join("");
    this.root.querySelector("#cluster-body").innerHTML = `
      <div class="panel">
        <p>${connectionBadge(detail.connected)} Region <strong>${esc(detail.region)}</strong>, environment
          <strong>${esc(detail.environment)}</strong>. Last heard ${timeTag(Date.parse(detail.last_seen) || 0)}.
          Agent ${esc(detail.agent_version || "unknown")}.</p>
        <p>Desired state: revision <code>${esc(shortSha(detail.revision))}</code>, generation ${esc(detail.generation)}.
          ${session ? `Session from ${esc(session.peer || "")} since ${esc(when(session.connected_at))}.` : ""}</p>
      </div>
      <h2>Applications</h2>
      ${apps ? `<div class="table-wrap"><table><thead><tr><th scope="col">Application</th><th scope="col">Sync</th>
        <th scope="col">Health</th><th scope="col">Revision</th><th scope="col">Message</th></tr></thead>
        <tbody>${apps}</tbody></table></div>` : emptyLine("No application has reported from this cluster yet.")}`;
  }

  update(changes) {
    if (changes.clusters.has(this.params.cluster)) this.later("load", REFRESH_MS, () => this.load());
  }
}

export class AppView extends View {
  render() {
    const { cluster, app } = this.params;
    const canAct = this.perms.canOperateCluster(cluster);
    this.root.innerHTML = `
      <p><a href="#/fleet">← Fleet</a> · <a href="#/cluster/${enc(cluster)}">Cluster ${esc(cluster)}</a></p>
      <h1>${esc(app)} <span class="muted">on ${esc(cluster)}</span></h1>
      <div id="app-head" class="panel"><p class="muted">Loading…</p></div>
      ${canAct ? `<div class="actions" id="app-actions">
        <button type="button" data-testid="sync-button" id="sync-button">Sync now</button>
        <button type="button" class="secondary" data-testid="rollback-button" id="rollback-button"
          aria-expanded="false" aria-controls="rollback-form">Roll back…</button>
        <span class="result" id="action-result" role="status"></span>
      </div>
      <form id="rollback-form" class="panel actions" hidden>
        <label for="rollback-reason">Why roll back? (goes into the revert commit)</label>
        <input id="rollback-reason" name="reason" required size="40" data-testid="rollback-reason">
        <button type="submit" class="danger" data-testid="rollback-confirm">Revert the last change</button>
      </form>` : ""}
      <div class="two-col">
        <section aria-labelledby="res-h"><h2 id="res-h">Resources by sync wave</h2><div id="app-resources"></div></section>
        <section aria-labelledby="diff-h"><h2 id="diff-h">Live diff: Git vs cluster</h2>
          <div id="app-diff" data-testid="app-diff" aria-live="polite"><p class="muted">Loading…</p></div></section>
      </div>
      <div class="two-col">
        <section aria-labelledby="tl-h"><h2 id="tl-h">Events</h2><ul class="timeline" id="app-timeline"></ul></section>
        <section aria-labelledby="hist-h"><h2 id="hist-h">Revision history</h2><div id="app-history"></div></section>
      </div>`;
    this.rows = [];
    if (canAct) this.bindActions();
    this.loadDetail();
    this.loadDiff();
    this.loadHistory();
    this.loadTimeline();
  }

  bindActions() {
    const { cluster, app } = this.params;
    const output = this.root.querySelector("#action-result");
    const sync = this.root.querySelector("#sync-button");
    sync.addEventListener("click", () => this.act(sync, output,
      () => this.api.post(`/api/v1/clusters/${enc(cluster)}/applications/${enc(app)}/sync`, {}),
      (r) => `Sync requested at ${shortSha(r.revision)} (request ${String(r.request_id).slice(0, 8)}); follow it below.`));
    const toggle = this.root.querySelector("#rollback-button");
    const form = this.root.querySelector("#rollback-form");
    toggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("input").focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = form.querySelector("input").value.trim();
      if (!reason) {
        output.className = "result error";
        output.textContent = "Say why: the reason goes into the revert commit.";
        return;
      }
      this.act(form.querySelector("button"), output,
        () => this.api.post("/api/v1/rollback", { application: app, cluster, reason }),
        (r) => `Reverted ${shortSha(r.reverted)} in commit ${shortSha(r.commit)}; the pipeline rolls it out.`)
        .then((done) => { if (done) form.hidden = true; });
    });
  }

  base() {
    return `/api/v1/clusters/${enc(this.params.cluster)}/applications/${enc(this.params.app)}`;
  }

  async loadDetail() {
    const head = this.root.querySelector("#app-head");
    const resources = this.root.querySelector("#app-resources");
    let detail;
    try {
      detail = await this.api.get(this.base());
    } catch (error) {
      if (!this.closed) head.innerHTML = `<p class="error">${esc(error.message)}</p>`;
      return;
    }
    if (this.closed) return;
    const subject = this.model.subject(detail.revision);
    head.innerHTML = `<p>${syncBadge(detail.sync_status)} ${healthBadge(detail.health)}
        ${detail.operation_phase ? phaseBadge(detail.operation_phase) : ""}
        Revision <code title="${esc(detail.revision)}">${esc(shortSha(detail.revision))}</code>
        ${subject ? esc(subject.subject) : ""}</p>
      ${detail.message ? `<p>${esc(detail.message)}</p>` : ""}
      ${(detail.conditions || []).map((c) => `<p class="halted">${esc(typeof c === "string" ? c : JSON.stringify(c))}</p>`).join("")}`;
    const waves = new Map();
    for (const resource of detail.resources || []) {
      const wave = Number(resource.sync_wave || 0);
      if (!waves.has(wave)) waves.set(wave, []);
      waves.get(wave).push(resource);
    }
    resources.innerHTML = waves.size ? [...waves.keys()].sort((a, b) => a - b).map((wave) => `
      <div class="wave"><h3>Wave ${wave}</h3><div class="table-wrap"><table>
        <thead><tr><th scope="col">Object</th><th scope="col">Sync</th><th scope="col">Health</th>
          <th scope="col">Message</th></tr></thead>
        <tbody>${waves.get(wave).map((r) => `<tr>
          <th scope="row">${esc(r.kind)} <span class="mono">${esc(r.namespace ? `${r.namespace}/` : "")}${esc(r.name)}</span></th>
          <td>${syncBadge(r.sync_status)}</td><td>${r.health ? healthBadge(r.health) : '<span class="muted">—</span>'}</td>
          <td>${esc(r.message || "")}</td></tr>`).join("")}</tbody></table></div></div>`).join("")
      : emptyLine("No resources reported.");
  }

  async loadDiff() {
    const box = this.root.querySelector("#app-diff");
    let html;
    try {
      html = await loadDiffHtml(this.api, this.params.cluster, this.params.app);
    } catch (error) {
      html = `<p class="error">${esc(error.message)}</p>`;
    }
    // the box is a live region: the same diff read again is not announced again
    if (!this.closed && html !== this.shownDiff) {
      this.shownDiff = html;
      box.innerHTML = html;
    }
  }

  async loadHistory() {
    const box = this.root.querySelector("#app-history");
    let history;
    try {
      history = await this.api.get(`${this.base()}/history`);
    } catch (error) {
      if (!this.closed) box.innerHTML = `<p class="error">${esc(error.message)}</p>`;
      return;
    }
    if (this.closed) return;
    const rows = (history.entries || []).map((e) => `<tr>
        <td><code title="${esc(e.revision)}">${esc(shortSha(e.revision))}</code></td>
        <td>${esc(e.subject || "")}</td><td>${esc(e.author || "")}</td><td>${esc(when(e.pushed_at))}</td>
        <td>${e.result ? phaseBadge(e.result) : '<span class="muted">running</span>'}</td>
        <td>${esc(when(e.finished_at))}</td></tr>`).join("");
    box.innerHTML = rows ? `<div class="table-wrap"><table><thead><tr><th scope="col">Revision</th>
        <th scope="col">Commit</th><th scope="col">Author</th><th scope="col">Pushed</th><th scope="col">Result</th>
        <th scope="col">Finished</th></tr></thead><tbody>${rows}</tbody></table></div>`
      : emptyLine("No revision has been synced here yet.");
  }

  async loadTimeline() {
    const { cluster, app } = this.params;
    let entries = [];
    try {
      entries = (await this.api.get(`/api/v1/audit?cluster=${enc(cluster)}&limit=500`)).entries || [];
    } catch { /* the live events still show */ }
    if (this.closed) return;
    const recorded = entries.filter((e) => e.application === app ||
      (e.kind === "desired_state_pushed" && (e.data?.applications || []).some((a) => a.name === app)))
      .map(fromAudit);
    const live = this.model.events.filter((e) => e.cluster === cluster && e.application === app && !e.from_audit)
      .filter((e) => !recorded.length || e.at > recorded[recorded.length - 1].at).map(fromEvent);
    this.rows = [...recorded, ...live].sort((a, b) => b.at - a.at).slice(0, TIMELINE_MAX);
    this.drawTimeline();
  }

  drawTimeline() {
    const list = this.root.querySelector("#app-timeline");
    list.innerHTML = this.rows.length ? this.rows.map(rowHtml).join("") : '<li class="muted">No events yet.</li>';
  }

  update(changes) {
    const { cluster, app } = this.params;
    const mine = changes.events.filter((e) => e.cluster === cluster && e.application === app);
    if (mine.length) {
      this.rows = [...mine.map(fromEvent).reverse(), ...this.rows].slice(0, TIMELINE_MAX);
      this.drawTimeline();
      this.later("diff", REFRESH_MS, () => this.loadDiff());
      if (mine.some((e) => e.type === "SYNC_SUCCEEDED" || e.type === "SYNC_FAILED")) {
        this.later("history", REFRESH_MS, () => this.loadHistory());
      }
    }
    if (changes.clusters.has(cluster) || mine.length) this.later("detail", REFRESH_MS, () => this.loadDetail());
  }
}

// The application's diff: a newer revision waiting for the cluster (approval, sync window or rollout step) with
// each field it changes, from the value the cluster runs now to the waiting one (`pending`, computed by the hub
// from the two rendered revisions), and the drifted fields with their live values and who changed them (from
// the agent's drift events). Only when neither says anything does it fall back to the field paths the
// application's last status report names as differing (values unknown).
export async function loadDiffHtml(api, cluster, app) {
  const base = `/api/v1/clusters/${enc(cluster)}/applications/${enc(app)}`;
  const [diff, detail] = await Promise.all([api.get(`${base}/diff`), api.get(base).catch(() => null)]);
  return diffTable(diff, detail);
}

const WAITING = { approval: "waiting for approval", "sync window": "held by a sync window", rollout: "waiting for its rollout step" };
const WHOLE_MAX = 160; // characters of an added or removed object shown in a cell

export function pendingTable(pending) {
  const from = pending.from_revision ? shortSha(pending.from_revision) : "nothing";
  const cell = (value, path) => {
    if (value === null || value === undefined) return '<span class="muted">(absent)</span>';
    const text = show(value);
    const shown = path === "" && text.length > WHOLE_MAX ? `${text.slice(0, WHOLE_MAX)}…` : text;
    return `<code title="${esc(path === "" ? text : "")}">${esc(shown)}</code>`;
  };
  const rows = (pending.fields || []).map((f) => `<tr data-path="${esc(f.path)}" data-object="${esc(f.object)}">
      <td>${esc(f.object)}</td><td>${f.path ? `<code>${esc(f.path)}</code>`
        : `<em>${f.from === null ? "new object" : "object removed"}</em>`}</td>
      <td class="diff-val live">${cell(f.from, f.path)}</td><td class="diff-val desired">${cell(f.to, f.path)}</td></tr>`);
  const why = WAITING[pending.waiting_on] || pending.waiting_on || "waiting";
  return `<div data-testid="pending-diff" data-revision="${esc(pending.revision)}">
    <p><span class="badge b-warn"><span aria-hidden="true">⚑</span> Waiting</span> Revision
      <code title="${esc(pending.revision)}">${esc(shortSha(pending.revision))}</code> is ${esc(why)}${pending.reason
        && pending.reason !== "waiting for approval" ? ` (${esc(pending.reason)})` : ""}; the cluster runs
      <code title="${esc(pending.from_revision || "")}">${esc(from)}</code>. What it changes:</p>
    ${rows.length ? `<div class="table-wrap"><table><thead><tr><th scope="col">Object</th><th scope="col">Field</th>
      <th scope="col">Runs now (${esc(from)})</th><th scope="col">Waiting (${esc(shortSha(pending.revision))})</th></tr></thead>
      <tbody>${rows.join("")}</tbody></table></div>` : '<p class="muted">No field changes (the same objects).</p>'}
  </div>`;
}

export function diffTable(diff, detail = null) {
  const fields = diff.fields || [];
  const pending = diff.pending || null;
  const outOfSync = detail && detail.sync_status === "OutOfSync";
  const covered = new Set(fields.map((f) => f.path));
  const reported = pending ? [] : ((detail && detail.drift && detail.drift.fields) || []).map((text) => {
    const at = String(text).lastIndexOf(": ");
    return at < 0 ? { object: "", path: String(text) } : { object: text.slice(0, at), path: text.slice(at + 2) };
  }).filter((f) => !covered.has(f.path));
  const head = pending ? pendingTable(pending) : "";
  if (!fields.length && !reported.length) {
    if (pending) return head;
    return outOfSync
      ? `<p>${'<span class="badge b-warn"><span aria-hidden="true">≠</span> OutOfSync</span>'} ${esc(detail.message || "")}</p>`
      : '<p><span class="badge b-ok"><span aria-hidden="true">✓</span> No differences</span> ' +
        "The live objects match Git on every field Git declares.</p>";
  }
  const valued = fields.map((f) => `<tr data-path="${esc(f.path)}"><td>${esc(f.object)}</td><td><code>${esc(f.path)}</code></td>
      <td class="diff-val desired"><code>${esc(show(f.desired))}</code></td>
      <td class="diff-val live"><code>${esc(show(f.live))}</code></td>
      <td>${f.manager ? `<strong>${esc(f.manager)}</strong>` : '<span class="muted">unknown</span>'}</td></tr>`);
  const pathsOnly = reported.map((f) => `<tr data-path="${esc(f.path)}"><td>${esc(f.object)}</td><td><code>${esc(f.path)}</code></td>
      <td colspan="3" class="muted">the agent reports that it differs (no value reported)</td></tr>`);
  const more = detail && detail.drift && detail.drift.drifted_fields > fields.length + reported.length
    ? `<p class="muted">The agent counts ${esc(detail.drift.drifted_fields)} differing fields in all.</p>` : "";
  return `${head}${pending ? "<p>Drift in the cluster:</p>" : ""}<div class="table-wrap" data-testid="drift-diff">
    <table><thead><tr><th scope="col">Object</th><th scope="col">Field</th><th scope="col">In Git</th><th scope="col">Live</th><th scope="col">Changed by</th></tr></thead><tbody>
      ${[...valued, ...pathsOnly].join("")}
    </tbody></table></div>${more}${diff.as_of ? `<p class="muted">Values as the agent reported at ${esc(when(diff.as_of))}.</p>` : ""}`;
}

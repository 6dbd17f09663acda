// Approvals: production releases waiting for people. Each pending (cluster, application, revision) with its
// commit, what it changes on the cluster (each field from the value running now to the new one, from the diff
// route the listing links), the approvals so far, and an Approve button for tokens allowed to approve it (operator
// or admin whose scope covers the cluster's region and environment; a region-scoped token's approval counts for
// its region, another's for the whole environment).
// What was approved here stays listed with the cluster's live sync and health, so one sees it land.

import { enc } from "../api.js";
import { esc, healthBadge, shortSha, syncBadge } from "../html.js";
import { View } from "./base.js";
import { loadDiffHtml } from "./cluster.js";

const POLL_MS = 5000;
const diffKey = (item) => `${item.cluster}/${item.application}/${item.revision}`;
const DIFFS_LOADED = 20; // the first items load their diff at once; the others on demand

export class ApprovalsView extends View {
  constructor(session, params, query) {
    super(session, params, query);
    this.diffs = new Map(); // cluster/app -> diff HTML
    this.outcomes = new Map(); // item key -> text of the last answer
    this.opened = new Map(); // item key -> whether its diff is open, as the user left it
    this.shown = null; // the list's HTML as last drawn: the same data is not drawn again
    this.shownApproved = null;
  }

  render() {
    this.root.innerHTML = `
      <h1>Approvals</h1>
      <p class="lead">Releases into environments that need a person's approval before their clusters sync.</p>
      <ul class="items" data-testid="approvals-list" id="approvals-list" aria-live="polite"></ul>
      <section id="approved-section" aria-labelledby="approved-h" hidden><h2 id="approved-h">Approved here</h2>
        <ul class="items" id="approved-list"></ul></section>`;
    const list = this.root.querySelector("#approvals-list");
    list.addEventListener("toggle", (event) => { // toggle does not bubble: caught on its way down
      const details = event.target;
      if (details.dataset && details.dataset.key) this.opened.set(details.dataset.key, details.open);
    }, true);
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (!button) return;
      if (button.dataset.role === "approve") this.approve(button);
      else {
        const item = this.model.approvals.find((i) => this.key(i) === button.dataset.key);
        if (item) this.loadDiff(item);
      }
    });
    this.draw();
    this.session.app.reloadApprovals();
    this.every(POLL_MS, () => this.session.app.reloadApprovals());
  }

  key(item) {
    return `${item.environment}|${item.region || ""}|${item.cluster}|${item.application}|${item.revision}`;
  }

  update(changes) {
    if (changes.approvalsRead) this.draw();
    else if (changes.clusters.size && this.session.app.approved.length) this.drawApproved();
  }

  draw() {
    const list = this.root.querySelector("#approvals-list");
    const items = this.model.approvals;
    const html = items.length ? items.map((item, index) => this.itemHtml(item, index)).join("")
      : '<li class="muted">Nothing waits for approval.</li>';
    if (html !== this.shown) { // a list read again unchanged is left alone (a button under the pointer stays)
      this.shown = html;
      const focused = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
      list.innerHTML = html;
      if (focused) list.querySelector(`button[data-key="${CSS.escape(focused)}"]`)?.focus();
    }
    items.slice(0, DIFFS_LOADED).forEach((item) => {
      if (!this.diffs.has(diffKey(item))) this.loadDiff(item);
    });
    this.drawApproved();
  }

  itemHtml(item) {
    const key = this.key(item);
    const subject = this.model.subject(item.revision);
    const allowed = this.perms.canApprove(item);
    const diff = this.diffs.get(diffKey(item));
    const outcome = this.outcomes.get(key);
    const mine = (item.approvers || []).includes(this.session.caller.name);
    let action = "";
    if (allowed && !mine) {
      const where = this.perms.regions.length ? item.region : `all of ${item.environment}`;
      action = `<button type="button" data-testid="approve-button" data-role="approve" data-key="${esc(key)}">
        Approve for ${esc(where)}</button>`;
    } else if (mine) {
      action = '<span class="badge b-ok"><span aria-hidden="true">✓</span> You approved this</span>';
    } else if (this.perms.operator) {
      action = `<span class="muted">Your token's scope does not cover ${esc(item.region || "")} ${esc(item.environment)}.</span>`;
    }
    return `<li class="item" data-testid="approval-item" data-cluster="${esc(item.cluster)}"
        data-app="${esc(item.application)}" data-environment="${esc(item.environment)}" data-region="${esc(item.region || "")}">
      <header><span class="badge b-warn"><span aria-hidden="true">⚑</span> Waiting for approval</span>
        <strong>${esc(item.application)}</strong> on
        <a href="#/cluster/${enc(item.cluster)}/app/${enc(item.application)}">${esc(item.cluster)}</a>
        <span class="muted">(${esc(item.environment)}, ${esc(item.region || "")})</span></header>
      <p>Revision <code title="${esc(item.revision)}">${esc(shortSha(item.revision))}</code>
        ${subject ? `${esc(subject.subject)} <span class="muted">by ${esc(subject.author)}</span>` : ""}
        ${item.from_revision ? `<span class="muted">(the cluster runs <code title="${esc(item.from_revision)}">${
          esc(shortSha(item.from_revision))}</code>)</span>` : ""}</p>
      <p>Approvals: <strong>${(item.approvers || []).length} of ${esc(item.required)}</strong>${(item.approvers || []).length
        ? ` (${esc(item.approvers.join(", "))})` : ""}${item.held ? ` · <span class="badge b-neutral">Held: ${esc(item.held)}</span>` : ""}</p>
      <details data-key="${esc(key)}"${(this.opened.has(key) ? this.opened.get(key) : Boolean(diff)) ? " open" : ""}><summary>What changes on the cluster</summary>
        <div data-testid="approval-diff">${diff || `<button type="button" class="secondary" data-role="diff"
          data-key="${esc(key)}">Load the diff</button>`}</div>
      </details>
      <div class="actions">${action}<span class="result${outcome?.error ? " error" : ""}" role="status">${esc(outcome?.text || "")}</span></div>
    </li>`;
  }

  async loadDiff(item) {
    const id = diffKey(item);
    this.diffs.set(id, '<p class="muted">Loading…</p>');
    try {
      this.diffs.set(id, await loadDiffHtml(this.api, item.cluster, item.application));
    } catch (error) {
      this.diffs.set(id, `<p class="error">${esc(error.message)}</p>`);
    }
    if (!this.closed) this.draw();
  }

  async approve(button) {
    const item = this.model.approvals.find((i) => this.key(i) === button.dataset.key);
    if (!item) return;
    const key = this.key(item);
    const output = button.parentElement.querySelector(".result");
    const body = { environment: item.environment, application: item.application, revision: item.revision };
    // a region-scoped token approves for its region's clusters (the hub requires it); others for every region
    if (this.perms.regions.length) body.region = item.region;
    const result = await this.act(button, output, () => this.api.post("/api/v1/approvals", body),
      (r) => `Approved: ${r.approvers.length} of ${r.required}${r.satisfied ? "; the sync starts" : "; more approvals needed"}.`);
    this.outcomes.set(key, { text: output.textContent, error: !result });
    if (result) {
      this.session.app.approved.unshift({ ...item, at: Date.now(), satisfied: result.satisfied });
      this.session.app.approved.splice(20);
      this.session.app.reloadApprovals();
    }
  }

  drawApproved() {
    const approved = this.session.app.approved;
    const section = this.root.querySelector("#approved-section");
    section.hidden = !approved.length;
    const html = approved.map((item) => {
      const cluster = this.model.clusters.get(item.cluster);
      const app = cluster ? cluster.apps.find((a) => a.name === item.application) : null;
      const landed = app && app.revision === item.revision && app.sync_status === "Synced";
      return `<li class="item" data-testid="approved-item" data-cluster="${esc(item.cluster)}" data-app="${esc(item.application)}">
        <strong>${esc(item.application)}</strong> on <a href="#/cluster/${enc(item.cluster)}/app/${enc(item.application)}">${esc(item.cluster)}</a>
        at <code>${esc(shortSha(item.revision))}</code>:
        ${app ? `${syncBadge(app.sync_status)}${healthBadge(app.health)}` : ""}
        <span class="muted">${landed ? "synced to this revision" : "not synced to it yet"}</span></li>`;
    }).join("");
    if (html !== this.shownApproved) {
      this.shownApproved = html;
      this.root.querySelector("#approved-list").innerHTML = html;
    }
  }
}

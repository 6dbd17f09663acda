// Rollouts: each environment's rollout of an application step by step (its clusters, which were released or
// rolled back, their live sync and health), what it waits on (a soak timer, an approval, a cluster turning
// Healthy), a halted step's reason, and Resume and Abort for those allowed to press them.

import { enc } from "../api.js";
import { esc, healthBadge, phaseBadge, shortSha, syncBadge } from "../html.js";
import { View } from "./base.js";

const POLL_MS = 5000; // soak timers count down on the hub: read them again while the view is open
const ACTIVE = new Set(["Progressing", "Soaking", "Paused"]);

export class RolloutsView extends View {
  constructor(session, params, query) {
    super(session, params, query);
    this.outcomes = new Map(); // rollout path -> the last Resume/Abort answer, kept across redraws
    this.shown = null; // the list's HTML as last drawn: the same data is not drawn again (its region is live)
  }

  render() {
    this.root.innerHTML = `
      <h1>Rollouts</h1>
      <p class="lead">Each new revision goes out step by step; a step waits until its clusters are Healthy and have
        soaked, and halts when one fails.</p>
      <ul class="items" id="rollouts" aria-live="polite"></ul>`;
    this.root.querySelector("#rollouts").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this.press(button);
    });
    this.draw();
    this.load();
    this.every(POLL_MS, () => this.load());
  }

  async load() {
    try {
      const answer = await this.api.get("/api/v1/rollouts");
      if (this.closed) return;
      this.model.setRollouts(answer.rollouts || []);
      this.draw();
    } catch (error) {
      this.notice(`Could not read the rollouts: ${error.message}`);
    }
  }

  update(changes) {
    if (changes.rollouts) this.draw();
    else if (changes.clusters.size && this.model.rollouts.size) this.later("draw", 300, () => this.draw());
  }

  draw() {
    const list = this.root.querySelector("#rollouts");
    const rollouts = [...this.model.rollouts.values()].sort((a, b) =>
      Number(ACTIVE.has(b.phase) || b.phase === "Halted") - Number(ACTIVE.has(a.phase) || a.phase === "Halted") ||
      `${a.environment}/${a.application}`.localeCompare(`${b.environment}/${b.application}`));
    const html = rollouts.length ? rollouts.map((r) => this.itemHtml(r)).join("")
      : '<li class="muted">No rollout yet: one starts when a commit changes an application.</li>';
    if (html === this.shown) return;
    this.shown = html;
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const key = focused && focused.dataset.path ? `${focused.dataset.action} ${focused.dataset.path}` : null;
    list.innerHTML = html;
    if (key) {
      const [action, path] = key.split(" ");
      const again = [...list.querySelectorAll("button[data-action]")]
        .find((b) => b.dataset.action === action && b.dataset.path === path);
      if (again) again.focus();
    }
  }

  itemHtml(rollout) {
    const steps = rollout.steps || [];
    const released = new Set(rollout.released || []);
    const rolledBack = new Set(rollout.rolled_back || []);
    const subject = this.model.subject(rollout.revision);
    const canAct = this.perms.canActOnEnvironment(rollout.environment);
    const path = `/api/v1/rollouts/${enc(rollout.environment)}/${enc(rollout.application)}`;
    // a step with no cluster of this environment (the fleet's steps span environments) is left out
    const stepsHtml = steps.map((names, index) => !names.length ? "" : `<li class="step"${index === rollout.step && rollout.phase !== "Succeeded"
      ? ' aria-current="step"' : ""}>
        <strong>Step ${index + 1}</strong>${index === rollout.step && rollout.phase !== "Succeeded"
          ? ' <span class="muted">(current)</span>' : ""}:
        ${names.map((name) => this.clusterChip(name, rollout.application, released, rolledBack)).join(" ")}</li>`).join("");
    return `<li class="item" data-testid="rollout-item" data-app="${esc(rollout.application)}"
        data-environment="${esc(rollout.environment)}" data-state="${esc(rollout.phase)}">
      <header>${phaseBadge(rollout.phase)} <strong>${esc(rollout.application)}</strong> to
        <strong>${esc(rollout.environment)}</strong>:
        <code title="${esc(rollout.revision)}">${esc(shortSha(rollout.revision))}</code>
        ${subject ? esc(subject.subject) : ""}
        ${rollout.previous_revision ? `<span class="muted">(from <code>${esc(shortSha(rollout.previous_revision))}</code>)</span>` : ""}
      </header>
      ${rollout.waiting_on ? `<p class="waiting"><span aria-hidden="true">◷</span> Waiting on: ${esc(rollout.waiting_on)}</p>` : ""}
      ${rollout.halted_reason ? `<p class="halted" data-testid="rollout-halted-reason"><span aria-hidden="true">■</span>
        Halted: ${esc(rollout.halted_reason)}</p>` : ""}
      <ol class="steps" aria-label="Steps">${stepsHtml}</ol>
      ${canAct && (rollout.phase === "Halted" || ACTIVE.has(rollout.phase)) ? `<div class="actions">
        ${rollout.phase === "Halted" ? `<button type="button" data-action="resume" data-path="${esc(path)}"
          data-testid="resume-button">Resume</button>` : ""}
        ${ACTIVE.has(rollout.phase) ? `<button type="button" class="danger" data-action="abort" data-path="${esc(path)}"
          data-testid="abort-button">Abort</button>` : ""}
        <span class="result${this.outcomes.get(path)?.error ? " error" : ""}" role="status">${esc(this.outcomes.get(path)?.text || "")}</span>
        </div>` : ""}
      ${!canAct && this.perms.operator && this.perms.regions.length && (rollout.phase === "Halted" || ACTIVE.has(rollout.phase))
        ? `<p class="muted" data-testid="rollout-scope-note">Resume and Abort act on all of ${esc(rollout.environment)}:
          they need a token without a region scope.</p>` : ""}
    </li>`;
  }

  clusterChip(name, application, released, rolledBack) {
    const cluster = this.model.clusters.get(name);
    const app = cluster ? cluster.apps.find((a) => a.name === application) : null;
    const mark = rolledBack.has(name) ? '<span class="badge b-bad"><span aria-hidden="true">↶</span> rolled back</span>'
      : released.has(name) ? '<span class="badge b-info"><span aria-hidden="true">→</span> released</span>'
        : '<span class="badge b-neutral"><span aria-hidden="true">·</span> waiting</span>';
    return `<span class="chip" data-cluster="${esc(name)}"><a href="#/cluster/${enc(name)}/app/${enc(application)}">${esc(name)}</a>
      ${mark}${app ? ` ${syncBadge(app.sync_status)}${healthBadge(app.health)}` : ""}</span>`;
  }

  async press(button) {
    const verb = button.dataset.action;
    const path = button.dataset.path;
    const output = button.parentElement.querySelector(".result");
    const done = await this.act(button, output, () => this.api.post(`${path}/${verb}`, {}),
      (r) => `${verb === "resume" ? "Resumed" : "Aborted"}: now ${r.phase}.`);
    this.outcomes.set(path, { text: output.textContent, error: !done });
    if (done) this.load();
  }
}

// Audit: the hash chain's verification state, a region's compliance report in the page (what ran, the changes
// and who approved them, drift incidents, failed syncs, commits), and its exports as JSON, CSV and printable
// HTML (fetched with the token, saved as files).

import { enc } from "../api.js";
import { esc, shortSha, when } from "../html.js";
import { View, emptyLine } from "./base.js";

const ROWS = 200;
const DAY_MS = 86400000;

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

export class AuditView extends View {
  render() {
    if (this.perms.environments.length) {
      this.renderVerifyOnly();
      return;
    }
    const regions = this.perms.regions.length ? this.perms.regions : this.model.regions;
    const chosen = this.query.get("region") || regions[0] || "";
    const since = this.query.get("since") || isoDate(Date.now() - 30 * DAY_MS);
    const until = this.query.get("until") || "";
    this.root.innerHTML = `
      <h1>Audit</h1>
      <p class="lead">Every change, approval, drift and sync is in a hash-chained log; a report answers "what ran in
        a region, and who approved it".</p>
      <p data-testid="audit-verify-state" id="verify" data-ok="" role="status">Checking the audit chain…</p>
      <form class="filters" id="report-form" aria-label="Compliance report">
        <div><label for="a-region">Region</label><select id="a-region" name="region">${regions.map((r) =>
          `<option${r === chosen ? " selected" : ""}>${esc(r)}</option>`).join("")}</select></div>
        <div><label for="a-since">From</label><input type="date" id="a-since" name="since" value="${esc(since)}" required></div>
        <div><label for="a-until">Until (empty: now)</label><input type="date" id="a-until" name="until" value="${esc(until)}"></div>
        <div><button type="submit" data-testid="audit-show">Show the report</button></div>
        <div class="actions" role="group" aria-label="Export the report">
          <button type="button" class="secondary" data-format="json" data-testid="audit-export-json">Export JSON</button>
          <button type="button" class="secondary" data-format="csv" data-testid="audit-export-csv">Export CSV</button>
          <button type="button" class="secondary" data-format="html" data-testid="audit-export-html">Export HTML</button>
        </div>
      </form>
      <p class="result" id="export-result" role="status"></p>
      <div id="report" data-testid="audit-report" aria-live="polite"></div>`;
    const form = this.root.querySelector("#report-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.loadReport();
    });
    form.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-format]");
      if (button) this.export(button);
    });
    this.verify();
    if (chosen) this.loadReport();
    else this.root.querySelector("#report").innerHTML = emptyLine("No region in this token's scope.");
  }

  // The hub refuses reports to a token scoped to environments (a report covers every environment of a region).
  renderVerifyOnly() {
    this.root.innerHTML = `
      <h1>Audit</h1>
      <p data-testid="audit-verify-state" id="verify" data-ok="" role="status">Checking the audit chain…</p>
      <p class="muted" data-testid="audit-report-unavailable">Compliance reports and their exports cover every
        environment of a region: this token is scoped to ${esc(this.perms.environments.join(", "))}, so the hub
        gives it none. Use a token without an environment scope.</p>`;
    this.verify();
  }

  formValues() {
    const form = this.root.querySelector("#report-form");
    const values = { region: form.region.value, since: form.since.value, until: form.until.value };
    const query = new URLSearchParams(Object.entries(values).filter(([, v]) => v)).toString();
    history.replaceState(null, "", `#/audit?${query}`);
    return { ...values, query };
  }

  async verify() {
    const line = this.root.querySelector("#verify");
    try {
      const result = await this.api.get("/api/v1/audit/verify");
      if (this.closed) return;
      line.dataset.ok = String(result.ok);
      line.className = result.ok ? "notice" : "halted";
      line.innerHTML = result.ok
        ? `<span aria-hidden="true">✔</span> Audit chain verified: ${esc(result.entries)} entries, intact up to
          <code>${esc(String(result.last_hash || "").slice(0, 16))}</code>.`
        : `<span aria-hidden="true">✖</span> Audit chain broken at entry ${esc(result.first_broken)}: ${esc(result.reason)}`;
    } catch (error) {
      line.dataset.ok = "unknown";
      line.className = "error";
      line.textContent = `Could not verify the audit chain: ${error.message}`;
    }
  }

  async loadReport() {
    const box = this.root.querySelector("#report");
    const { region, query } = this.formValues();
    if (!region) return;
    box.innerHTML = '<p class="muted">Building the report…</p>';
    try {
      const report = await this.api.get(`/api/v1/audit/report?${query}&format=json`);
      if (!this.closed) box.innerHTML = reportHtml(report);
    } catch (error) {
      if (!this.closed) box.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    }
  }

  async export(button) {
    const { region, since, query } = this.formValues();
    const format = button.dataset.format;
    const output = this.root.querySelector("#export-result");
    await this.act(button, output,
      () => this.api.download(`/api/v1/audit/report?${query}&format=${enc(format)}`,
        `fleetline-audit-${region}-${since}.${format}`),
      () => `Saved the ${format.toUpperCase()} report of ${region}.`);
  }
}

function table(headers, rows) {
  if (!rows.length) return emptyLine("None in this period.");
  const shown = rows.slice(0, ROWS);
  return `<div class="table-wrap"><table><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead>
    <tbody>${shown.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table></div>
    ${rows.length > ROWS ? `<p class="muted">${rows.length - ROWS} more in the exports.</p>` : ""}`;
}

function reportHtml(report) {
  const s = report.summary || {};
  const figure = (value, label, bad = false) =>
    `<div class="figure"><strong${bad ? ' class="error"' : ""}>${esc(value ?? "—")}</strong>${esc(label)}</div>`;
  const code = (text) => `<code title="${esc(text)}">${esc(shortSha(text))}</code>`;
  return `
    <h2>Region ${esc(report.region)}: ${esc(when(report.since))} to ${esc(when(report.until) || "now")}</h2>
    <div class="figures">
      ${figure(s.clusters, "clusters")}${figure(s.syncs, "syncs")}
      ${figure(s.sync_failures, "failed syncs", s.sync_failures > 0)}${figure(s.changes, "changes")}
      ${figure(`${s.production_changes_approved ?? 0} / ${s.production_changes ?? 0}`, "production changes approved")}
      ${figure(s.production_changes_without_approval, "production changes without approval",
        s.production_changes_without_approval > 0)}
      ${figure(s.drift_incidents, "drift incidents")}${figure(s.drift_open, "drift still open", s.drift_open > 0)}
      ${figure(s.median_heal_seconds === null || s.median_heal_seconds === undefined ? "—" : `${s.median_heal_seconds} s`,
        "median time to heal")}
      ${figure(s.commits_not_trusted, "commits not signed by a trusted key", s.commits_not_trusted > 0)}
    </div>
    <h2>Changes and who approved them</h2>
    ${table(["Environment", "Application", "Revision", "Author", "Approved by", "Clusters", "First ran"],
      (report.changes || []).map((c) => [esc(c.environment) + (c.production ? ' <span class="badge b-warn">production</span>' : ""),
        esc(c.application), code(c.revision), esc(c.author),
        c.approvers && c.approvers.length ? esc(c.approvers.map((a) => a.who).join(", "))
          : c.production ? '<span class="error">✖ none</span>' : '<span class="muted">not needed</span>',
        esc((c.clusters || []).join(", ")), esc(when(c.first_at))]))}
    <h2>Drift incidents</h2>
    ${table(["Detected", "Cluster", "Application", "Object", "Fields", "Caused by", "Healed"],
      (report.drift || []).map((d) => [esc(when(d.detected_at)), esc(d.cluster), esc(d.application), esc(d.object),
        esc((d.fields || []).join(", ")), esc((d.caused_by || []).join(", ")),
        d.healed_at ? `✔ ${esc(d.healed_by)}${d.heal_seconds !== null ? ` after ${esc(d.heal_seconds)} s` : ""}`
          : '<span class="error">⚠ still open</span>']))}
    <h2>Failed syncs</h2>
    ${table(["When", "Cluster", "Application", "Revision", "Phase", "Message"],
      (report.sync_failures || []).map((f) => [esc(when(f.at)), esc(f.cluster), esc(f.application), code(f.revision),
        esc(f.phase), esc(f.message)]))}
    <h2>Commits that ran</h2>
    ${table(["Revision", "Subject", "Author", "Signature", "Seen"],
      (report.commits || []).map((c) => [code(c.revision), esc(c.subject), esc(c.author),
        c.signature === "trusted" ? "✔ trusted" : `⚠ ${esc(c.signature)}`, esc(when(c.seen_at))]))}`;
}

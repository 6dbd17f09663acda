// One line per thing that happened to an application: from the audit log (what the hub recorded) and live from
// the event stream (what the agent reports), written for people.

import { esc, shortSha } from "../html.js";

function fieldList(fields) {
  return (Array.isArray(fields) ? fields : []).map((f) => f && f.path).filter(Boolean).slice(0, 3).join(", ");
}

// an audit entry -> {at (ms), tone, text, actor}
export function fromAudit(entry) {
  const data = entry.data || {};
  const at = Date.parse(entry.at) || 0;
  switch (entry.kind) {
    case "sync_result":
      return { at, tone: data.phase === "Succeeded" ? "ok" : "bad", actor: entry.actor,
               text: `Sync ${data.phase || ""} at ${shortSha(entry.revision)}: ${data.message || ""}` };
    case "drift_detected":
      return { at, tone: "warn", actor: entry.actor, text: `Drift on ${data.object || ""}: ${fieldList(data.fields)}` };
    case "drift_healed":
      return { at, tone: "ok", actor: entry.actor,
               text: `Drift healed on ${data.object || ""}${typeof data.healed_after_ms === "number"
                 ? ` after ${data.healed_after_ms} ms` : ""}${data.self_heal ? " (self-heal)" : ""}` };
    case "sync_loop":
      return { at, tone: "bad", actor: data.manager || "",
               text: `Sync loop on ${data.object || ""} ${data.field || ""}: no longer reverted` };
    case "desired_state_pushed":
      return { at, tone: "info", actor: entry.actor,
               text: `Desired state pushed: revision ${shortSha(entry.revision)}, generation ${data.generation ?? ""}` };
    default:
      return { at, tone: "neutral", actor: entry.actor, text: entry.kind.replace(/_/g, " ") };
  }
}

// a stream event (kind "event") -> the same shape
export function fromEvent(event) {
  const at = event.at || Date.now();
  const type = event.type || "";
  const managers = (event.managers || []).join(", ");
  switch (type) {
    case "DRIFT_DETECTED":
      return { at, tone: "warn", actor: managers, text: `Drift on ${event.object || ""}: ${fieldList(event.fields)}` };
    case "DRIFT_HEALED":
      return { at, tone: "ok", actor: event.self_heal ? "fleetline" : "",
               text: `Drift healed on ${event.object || ""}${typeof event.healed_after_ms === "number"
                 ? ` after ${event.healed_after_ms} ms` : ""}` };
    case "HEALTH_CHANGED":
      return { at, tone: event.health === "Healthy" ? "ok" : event.health === "Degraded" ? "bad" : "info", actor: "",
               text: `Health ${event.previous || "?"} → ${event.health || "?"}${event.message ? `: ${event.message}` : ""}` };
    case "SYNC_SUCCEEDED":
      return { at, tone: "ok", actor: event.approved_by || "", text: event.message || "Sync succeeded" };
    case "SYNC_FAILED":
      return { at, tone: "bad", actor: event.approved_by || "", text: event.message || "Sync failed" };
    case "SYNC_STARTED":
      return { at, tone: "info", actor: event.approved_by || "",
               text: `Sync started (${event.trigger || "automated"}) at ${shortSha(event.revision)}` };
    default:
      return { at, tone: "neutral", actor: "", text: event.message || type };
  }
}

export function rowHtml(row) {
  const icon = { ok: "✓", warn: "⚠", bad: "✗", info: "•", neutral: "•" }[row.tone] || "•";
  return `<li><span class="muted">${esc(new Date(row.at).toLocaleString())}</span>
    <span><span class="badge b-${row.tone}" aria-hidden="true">${icon}</span> ${esc(row.text)}${row.actor
      ? ` <span class="muted">— ${esc(row.actor)}</span>` : ""}</span></li>`;
}


// What the page knows about the fleet: clusters and their applications, the drift feed, sync-loop warnings,
// rollouts, pending approvals, commit subjects and recent agent events. Filled from the REST API, then kept
// current by the event stream (status reports, agent events, pipeline changes, agent sessions opening and
// closing): `apply(kind, data, changes)` records what it changed in `changes`, so that the views redraw only
// that (one card, not the fleet).

import { overallSync, parseTime, worstHealth } from "./html.js";

const MAX_DRIFT = 400;
const MAX_LOOPS = 100;
const MAX_EVENTS = 2000;
const MAX_SUBJECTS = 1000; // commit subjects kept (the newest seen)

export function newChanges() {
  // clusters: whose card changed; seen: heard from (only the "last heard" time moved); fleet: re-read or redraw;
  // approvals: something may have changed the pending approvals (the owner reads them again); approvalsRead:
  // they were read again (model.approvals is new)
  return { clusters: new Set(), seen: new Set(), drift: false, loops: false, rollouts: false, approvals: false,
           approvalsRead: false, events: [], fleet: false };
}

function normApp(app) {
  return {
    name: app.name, sync_status: app.sync_status || "Unknown", health: app.health || "Unknown",
    revision: app.revision || "", message: app.message || "", operation_phase: app.operation_phase || "",
  };
}

export class FleetModel {
  constructor() {
    this.clusters = new Map();
    this.regions = [];
    this.subjects = new Map(); // revision -> {subject, author}
    this.drift = new Map(); // cluster|application|object -> drift item
    this.openDrift = new Map(); // cluster -> open drift items
    this.lastDrift = new Map(); // cluster -> its most recent drift item
    this.loops = new Map(); // cluster|application|object|field -> sync-loop warning
    this.rollouts = new Map(); // environment/application -> rollout
    this.approvals = [];
    this.events = [];
    this.loaded = false;
  }

  // ---- the fleet ------------------------------------------------------------------------------------------

  cluster(summary) {
    const previous = this.clusters.get(summary.name);
    const apps = (summary.applications || []).map(normApp);
    return {
      name: summary.name, region: summary.region || "", environment: summary.environment || "",
      connected: Boolean(summary.connected), lastSeen: parseTime(summary.last_seen) || previous?.lastSeen || null,
      agentVersion: summary.agent_version || "", revision: summary.revision || "", generation: summary.generation || 0,
      apps, sync: apps.length ? overallSync(apps.map((a) => a.sync_status)) : "Unknown",
      health: apps.length ? worstHealth(apps.map((a) => a.health)) : "Unknown",
    };
  }

  // The whole fleet from GET /api/v1/fleet; the names of clusters that differ from what was known.
  setFleet(fleet, changes) {
    const seen = new Set();
    for (const region of fleet.regions || []) {
      for (const summary of region.clusters || []) {
        seen.add(summary.name);
        const fresh = this.cluster(summary);
        const old = this.clusters.get(summary.name);
        this.clusters.set(summary.name, fresh);
        if (!old || signature(old) !== signature(fresh)) changes.clusters.add(summary.name);
        else {
          fresh.lastSeen = Math.max(fresh.lastSeen || 0, old.lastSeen || 0) || null;
          if (fresh.lastSeen !== old.lastSeen) changes.seen.add(summary.name);
        }
      }
    }
    for (const name of [...this.clusters.keys()]) {
      if (!seen.has(name)) {
        this.clusters.delete(name);
        changes.fleet = true;
      }
    }
    const regions = [...new Set([...this.clusters.values()].map((c) => c.region))].sort();
    if (regions.join("\n") !== this.regions.join("\n")) changes.fleet = true;
    this.regions = regions;
    this.loaded = true;
  }

  environments() {
    return [...new Set([...this.clusters.values()].map((c) => c.environment))].sort();
  }

  applications() {
    const names = new Set();
    for (const cluster of this.clusters.values()) for (const app of cluster.apps) names.add(app.name);
    return [...names].sort();
  }

  setSubjects(entries) {
    for (const entry of entries) {
      const data = entry.data || {};
      if (entry.revision) this.setSubject(entry.revision, data);
    }
  }

  setSubject(revision, data) {
    this.subjects.delete(revision); // re-inserted last: the oldest go first
    this.subjects.set(revision, { subject: data.subject || "", author: data.author || "" });
    while (this.subjects.size > MAX_SUBJECTS) this.subjects.delete(this.subjects.keys().next().value);
  }

  subject(revision) {
    return this.subjects.get(revision) || null;
  }

  // ---- the stream -----------------------------------------------------------------------------------------

  apply(kind, data, changes, now = Date.now()) {
    if (kind === "status") this.applyStatus(data, changes, now);
    else if (kind === "event") this.applyEvent(data, changes, now);
    else if (kind === "pipeline") this.applyPipeline(data, changes);
    else if (kind === "session") this.applySession(data, changes, now);
  }

  // An agent's session opened or closed: the card's connection badge changes at once.
  applySession(data, changes, now) {
    const old = this.clusters.get(data.cluster);
    if (!old) {
      changes.fleet = true;
      return;
    }
    const connected = Boolean(data.connected);
    const fresh = { ...old, connected, lastSeen: connected ? parseTime(data.at) || now : old.lastSeen };
    if (connected && data.agent_version) fresh.agentVersion = data.agent_version;
    this.clusters.set(data.cluster, fresh);
    if (signature(old) !== signature(fresh)) changes.clusters.add(data.cluster);
    else changes.seen.add(data.cluster);
  }

  applyStatus(data, changes, now) {
    const old = this.clusters.get(data.cluster);
    if (!old) {
      changes.fleet = true; // a cluster the last fleet read did not have: the owner re-reads the fleet
      return;
    }
    const apps = (data.applications || []).map(normApp);
    const fresh = { ...old, connected: true, lastSeen: now, apps,
                    sync: apps.length ? overallSync(apps.map((a) => a.sync_status)) : "Unknown",
                    health: apps.length ? worstHealth(apps.map((a) => a.health)) : "Unknown" };
    if (data.generation !== undefined && Number(data.generation) > 0) fresh.appliedGeneration = Number(data.generation);
    this.clusters.set(data.cluster, fresh);
    if (signature(old) !== signature(fresh)) changes.clusters.add(data.cluster);
    else changes.seen.add(data.cluster);
  }

  applyEvent(data, changes, now) {
    const at = data.at ? parseTime(data.at) || now : now;
    const record = { ...data, at };
    this.events.push(record);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    changes.events.push(record);
    const type = data.type;
    if (type === "DRIFT_DETECTED") this.driftDetected(record, changes);
    else if (type === "DRIFT_HEALED") this.driftHealed(record, changes);
    else if (type === "SYNC_LOOP") this.syncLoop(record, changes);
  }

  driftKey(data) {
    return `${data.cluster}|${data.application || ""}|${data.object || data.resource || ""}`;
  }

  driftDetected(data, changes) {
    const key = this.driftKey(data);
    const old = this.drift.get(key);
    const item = {
      key, cluster: data.cluster, application: data.application || "", object: data.object || data.resource || "",
      fields: objectsOnly(data.fields), moreFields: Math.max(0, Math.trunc(Number(data.more_fields) || 0)),
      managers: Array.isArray(data.managers) ? data.managers.map(String) : [], missing: Boolean(data.missing),
      selfHeal: Boolean(data.self_heal), state: "open", detectedAt: old && old.state === "open" ? old.detectedAt : data.at,
      updatedAt: data.at, healedAfterMs: null, healedBySelfHeal: false,
    };
    this.drift.delete(key); // re-inserted last: the map's order is the order of activity
    this.drift.set(key, item);
    this.trackOpen(item, old);
    this.lastDrift.set(item.cluster, item);
    this.trim();
    changes.drift = true;
    changes.clusters.add(item.cluster);
  }

  driftHealed(data, changes) {
    const key = this.driftKey(data);
    const old = this.drift.get(key);
    const item = {
      ...(old || { key, cluster: data.cluster, application: data.application || "",
                   object: data.object || data.resource || "", fields: [], moreFields: 0, managers: [],
                   missing: false, selfHeal: Boolean(data.self_heal), detectedAt: null }),
      state: "healed", updatedAt: data.at,
      healedAfterMs: typeof data.healed_after_ms === "number" ? data.healed_after_ms : null,
      healedBySelfHeal: Boolean(data.self_heal),
    };
    this.drift.delete(key);
    this.drift.set(key, item);
    this.trackOpen(item, old);
    const last = this.lastDrift.get(item.cluster);
    if (!last || last.key === key || last.state !== "open") this.lastDrift.set(item.cluster, item);
    changes.drift = true;
    changes.clusters.add(item.cluster);
  }

  trackOpen(item, old) {
    let open = this.openDrift.get(item.cluster);
    if (!open) this.openDrift.set(item.cluster, (open = new Set()));
    if (item.state === "open") open.add(item.key);
    else open.delete(item.key);
    if (old && old.cluster !== item.cluster) this.openDrift.get(old.cluster)?.delete(old.key);
  }

  trim() {
    if (this.drift.size <= MAX_DRIFT) return;
    for (const [key, item] of this.drift) {
      if (this.drift.size <= MAX_DRIFT) break;
      if (item.state !== "open") this.drift.delete(key);
    }
  }

  syncLoop(data, changes) {
    const key = `${this.driftKey(data)}|${data.field || ""}`;
    this.loops.delete(key);
    this.loops.set(key, {
      key, cluster: data.cluster, application: data.application || "", object: data.object || "",
      field: data.field || "", manager: data.manager || "", reverts: data.reverts || 0, windowS: data.window_s || 0,
      snippet: data.fleet_yaml || (data.suggestion ? { ignoreDifferences: [data.suggestion] } : null),
      message: data.message || "", at: data.at,
    });
    if (this.loops.size > MAX_LOOPS) this.loops.delete(this.loops.keys().next().value);
    changes.loops = true;
  }

  applyPipeline(data, changes) {
    const kind = data.kind;
    if (kind === "rollout") {
      const { kind: _ignored, ...rollout } = data;
      this.rollouts.set(`${rollout.environment}/${rollout.application}`, rollout);
      changes.rollouts = true;
      changes.approvals = true;
    } else if (kind === "revision") {
      if (data.revision) this.setSubject(data.revision, data);
      for (const cluster of this.clusters.values()) if (cluster.revision === data.revision) changes.clusters.add(cluster.name);
    } else if (kind === "pushed") {
      const old = this.clusters.get(data.cluster);
      if (old) {
        this.clusters.set(data.cluster, { ...old, revision: data.revision || "", generation: data.generation || 0 });
        changes.clusters.add(data.cluster);
      }
      changes.approvals = true;
    } else if (kind !== "rendered") {
      changes.approvals = true;
    }
  }

  setRollouts(list) {
    this.rollouts = new Map(list.map((r) => [`${r.environment}/${r.application}`, r]));
  }

  // Audit entries (drift_detected, drift_healed, sync_loop) as the events they were, oldest first.
  replayAudit(entries, changes) {
    const types = { drift_detected: "DRIFT_DETECTED", drift_healed: "DRIFT_HEALED", sync_loop: "SYNC_LOOP" };
    for (const entry of entries) {
      const type = types[entry.kind];
      if (!type) continue;
      const data = { ...(entry.data || {}), cluster: entry.cluster, application: entry.application, type,
                     at: entry.at, from_audit: true };
      const at = parseTime(entry.at) || Date.now();
      const record = { ...data, at };
      if (type === "DRIFT_DETECTED") this.driftDetected(record, changes);
      else if (type === "DRIFT_HEALED") this.driftHealed(record, changes);
      else this.syncLoop(record, changes);
    }
  }
}

// the entries of an agent's list that are objects (a field list from an agent may hold anything)
function objectsOnly(list) {
  return Array.isArray(list) ? list.filter((item) => item !== null && typeof item === "object") : [];
}

// what a card shows (the time last heard from excepted: it is refreshed in place)
function signature(cluster) {
  const apps = cluster.apps.map((a) => `${a.name}:${a.sync_status}:${a.health}:${a.revision}:${a.operation_phase}:${a.message}`);
  return `${cluster.region}|${cluster.environment}|${cluster.connected}|${cluster.revision}|${cluster.generation}|` +
    `${cluster.agentVersion}|${apps.join(",")}`;
}

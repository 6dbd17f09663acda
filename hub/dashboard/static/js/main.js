// The dashboard's shell: log in with an API token (kept in sessionStorage), load the fleet, follow the event
// stream, route by the URL's hash (#/fleet, #/cluster/NAME/app/APP, #/drift, #/rollouts, #/approvals, #/audit),
// and hand live changes to the current view once per animation frame.

import { Api } from "./api.js";
import { FleetModel, newChanges } from "./model.js";
import { Permissions } from "./perms.js";
import { EventStream } from "./stream.js";
import { ApprovalsView } from "./views/approvals.js";
import { AuditView } from "./views/audit.js";
import { AppView, ClusterView } from "./views/cluster.js";
import { DriftView } from "./views/drift.js";
import { FleetView } from "./views/fleet.js";
import { renderLogin } from "./views/login.js";
import { RolloutsView } from "./views/rollouts.js";

const TOKEN_KEY = "fleetline.token";
const TICK_MS = 5000; // "last heard" times, soak timers
const FLEET_REFRESH_MS = 30000; // anything the stream missed (sessions, status and events arrive on it live)

class Dashboard {
  constructor() {
    this.main = document.getElementById("main");
    this.top = document.getElementById("top");
    this.banner = document.getElementById("connection-banner");
    this.view = null;
    this.session = null;
    this.pending = [];
    this.held = null;
    this.frame = 0;
    this.frameTimer = 0;
    this.timers = [];
    this.debounced = new Map();
    this.streamDown = false;
    this.reloading = null;
    this.reloadAgain = null;
    this.approved = []; // approvals given in this browser session (the Approvals view), newest first
    this.stream = null;
    this.routeHash = "";
  }

  boot() {
    window.addEventListener("hashchange", (event) => this.route(true, event.oldURL));
    document.getElementById("logout").addEventListener("click", () => this.logout());
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) this.login(token).catch((error) => this.showLogin(error.message));
    else this.showLogin();
  }

  showLogin(note = "") {
    this.top.hidden = true;
    this.banner.hidden = true;
    renderLogin(this.main, note, (token) => this.login(token));
  }

  async login(token) {
    const api = new Api(token);
    const caller = await api.get("/api/v1/whoami"); // a refusal here goes back to the login form
    this.teardown(); // whatever an earlier (failed) login left running: its stream, timers and view
    api.onUnauthorized = (text) => this.logout(`The hub refused the token: ${text}`);
    sessionStorage.setItem(TOKEN_KEY, token);
    const model = new FleetModel();
    this.session = { api, caller, model, perms: new Permissions(caller, model), app: this };
    document.getElementById("who").textContent = this.session.perms.describe();
    this.top.hidden = false;
    this.main.innerHTML = '<p class="muted" role="status">Loading the fleet…</p>';
    this.stream = new EventStream({
      token, onEvent: (kind, data) => this.enqueue(kind, data), onState: (state) => this.streamState(state),
      onUnauthorized: () => this.logout("The hub refused the token on its event stream: log in again."),
    });
    this.stream.start();
    try {
      await this.reload();
      this.route(false);
    } catch (error) {
      this.teardown(); // nothing of a failed login keeps running (a retry would open a second stream)
      this.showLogin(`Could not open the dashboard: ${error.message}`);
      return;
    }
    this.timers.push(setInterval(() => this.view && this.view.tick(), TICK_MS));
    this.timers.push(setInterval(() => this.refreshFleet(), FLEET_REFRESH_MS));
  }

  logout(note = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    this.teardown();
    this.showLogin(note);
  }

  // Stop what a session runs and forget what it held, so that the next login starts clean.
  teardown() {
    if (this.stream) this.stream.stop();
    this.stream = null;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const timer of this.debounced.values()) clearTimeout(timer);
    this.debounced.clear();
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameTimer);
    this.frame = 0;
    if (this.view) this.view.unmount();
    this.view = null;
    this.session = null;
    this.pending = [];
    this.held = null;
    this.reloading = null;
    this.reloadAgain = null;
    this.approved = [];
    this.loadError = null;
    this.streamDown = false;
    this.routeHash = "";
  }

  // ---- data -----------------------------------------------------------------------------------------------

  // Everything the views share, read again (at login and after the stream reconnects). Stream items that arrive
  // meanwhile are held and applied after, in order. A caller joins a reload already under way.
  reload() {
    if (this.reloading) return this.reloading;
    const promise = this.readAll(this.session).finally(() => {
      if (this.reloading === promise) this.reloading = null;
    });
    this.reloading = promise;
    return promise;
  }

  // A reload that starts after the one under way (if any) ends: what that one read may predate an outage.
  freshReload() {
    if (!this.reloading) return this.reload();
    if (!this.reloadAgain) {
      const session = this.session;
      const again = this.reloading.then(() => {
        if (this.reloadAgain === again) this.reloadAgain = null;
        return this.session === session ? this.reload() : undefined;
      });
      this.reloadAgain = again;
    }
    return this.reloadAgain;
  }

  async readAll(session) {
    this.held = this.held || [];
    const work = (async () => {
      const { api, model } = session;
      const audit = (kind, limit) => api.get(`/api/v1/audit?kind=${kind}&limit=${limit}`).then((r) => r.entries)
        .catch(() => []);
      const [fleet, rollouts, approvals, subjects, detected, healed, loops] = await Promise.all([
        api.get("/api/v1/fleet"), api.get("/api/v1/rollouts").catch(() => ({ rollouts: [] })),
        api.get("/api/v1/approvals").catch(() => ({ pending: [] })), audit("revision_seen", 500),
        audit("drift_detected", 300), audit("drift_healed", 300), audit("sync_loop", 100),
      ]);
      if (session !== this.session) return;
      const changes = newChanges();
      model.setSubjects(subjects);
      model.setFleet(fleet, changes);
      model.setRollouts(rollouts.rollouts || []);
      model.approvals = approvals.pending || [];
      model.replayAudit([...detected, ...healed, ...loops].sort((a, b) => a.seq - b.seq), changes);
    })();
    try {
      await work;
    } catch (error) {
      if (this.session === session && this.view) this.view.notice(`Could not read the fleet: ${error.message}`);
      else if (this.session === session) this.loadError = error.message;
    } finally {
      if (this.session === session) {
        const held = this.held || [];
        this.held = null;
        this.pending.push(...held);
        this.updateCount();
        this.schedule();
      }
    }
    return undefined;
  }

  async refreshFleet() {
    if (!this.session || this.streamDown) return;
    const { api, model } = this.session;
    try {
      const fleet = await api.get("/api/v1/fleet");
      const changes = newChanges();
      model.setFleet(fleet, changes);
      this.deliver(changes);
    } catch { /* the banner or the next refresh says it */ }
  }

  async reloadApprovals() {
    if (!this.session) return;
    const { api, model } = this.session;
    try {
      model.approvals = (await api.get("/api/v1/approvals")).pending || [];
    } catch { return; }
    // a signal of its own: `approvals` (something may have changed them) would ask for this read again
    const changes = newChanges();
    changes.approvalsRead = true;
    this.deliver(changes);
  }

  debounce(name, ms, fn) {
    if (this.debounced.has(name)) return;
    this.debounced.set(name, setTimeout(() => { this.debounced.delete(name); fn(); }, ms));
  }

  // ---- the stream -----------------------------------------------------------------------------------------

  streamState(state) {
    if (state === "down") {
      this.streamDown = true;
      this.banner.hidden = false;
      return;
    }
    if (!this.streamDown) return;
    // back after an outage: what happened meanwhile is not replayed, so read everything again (a reload that
    // started before the outage does not count)
    this.freshReload().then(() => {
      if (!this.session) return;
      this.streamDown = false;
      this.banner.hidden = true;
      if (this.view) this.view.refresh();
    });
  }

  enqueue(kind, data) {
    if (this.held) {
      this.held.push([kind, data]);
      return;
    }
    this.pending.push([kind, data]);
    this.schedule();
  }

  schedule() {
    if (this.frame || !this.pending.length) return;
    this.frame = requestAnimationFrame(() => this.flush());
    this.frameTimer = setTimeout(() => this.flush(), 250); // a hidden tab gets no animation frames
  }

  flush() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameTimer);
    this.frame = 0;
    if (!this.session || !this.pending.length) return;
    const items = this.pending;
    this.pending = [];
    const changes = newChanges();
    const now = Date.now();
    for (const [kind, data] of items) this.session.model.apply(kind, data, changes, now);
    this.deliver(changes);
    performance.mark("fleetline:events-applied");
  }

  deliver(changes) {
    if (changes.fleet) this.debounce("fleet", 1000, () => this.refreshFleet());
    if (changes.approvals) this.debounce("approvals", 300, () => this.reloadApprovals());
    this.updateCount();
    if (this.view) this.view.update(changes);
  }

  updateCount() {
    const count = document.getElementById("approvals-count");
    const pending = this.session ? this.session.model.approvals.length : 0;
    count.hidden = pending === 0;
    count.textContent = String(pending);
    count.setAttribute("aria-label", `${pending} pending`);
  }

  // ---- routing --------------------------------------------------------------------------------------------

  route(navigated, oldURL = "") {
    if (!this.session) return;
    const hash = location.hash || "#/fleet";
    if (!hash.startsWith("#/")) {
      // an in-page link (the skip link's #main): not a view; keep the current one and its address
      if (this.view) {
        const before = oldURL ? new URL(oldURL).hash : "";
        history.replaceState(null, "", before.startsWith("#/") ? before : this.routeHash || "#/fleet");
        this.main.focus();
      } else {
        location.replace("#/fleet");
      }
      return;
    }
    const [path, queryText] = hash.slice(1).split("?");
    let parts;
    let query;
    try {
      query = new URLSearchParams(queryText || "");
      parts = path.split("/").filter(Boolean).map((part) => decodeURIComponent(part));
    } catch {
      location.replace("#/fleet"); // a malformed address (%E0%A4%A)
      return;
    }
    const views = { fleet: FleetView, drift: DriftView, rollouts: RolloutsView, approvals: ApprovalsView,
                    audit: AuditView };
    let view = null;
    if (parts[0] === "cluster" && parts[1] && parts[2] === "app" && parts[3]) {
      view = new AppView(this.session, { cluster: parts[1], app: parts[3] }, query);
    } else if (parts[0] === "cluster" && parts[1]) {
      view = new ClusterView(this.session, { cluster: parts[1] }, query);
    } else if (views[parts[0]]) {
      view = new views[parts[0]](this.session, {}, query);
    } else {
      location.replace("#/fleet");
      return;
    }
    for (const link of this.top.querySelectorAll("nav a")) {
      const current = link.dataset.view === (parts[0] === "cluster" ? "fleet" : parts[0]);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (this.view) this.view.unmount();
    this.view = view;
    this.routeHash = hash;
    this.main.innerHTML = "";
    view.mount(this.main);
    if (this.loadError) {
      view.notice(`Could not read the fleet: ${this.loadError}`);
      this.loadError = null;
    }
    if (navigated) {
      const heading = this.main.querySelector("h1");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: false });
      }
    }
  }
}

new Dashboard().boot();

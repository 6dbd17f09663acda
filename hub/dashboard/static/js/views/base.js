// What every view shares: its session (api, model, perms), mount/refresh/update/tick/unmount, a notice line,
// timers that stop with the view, and buttons that show progress and the hub's answer.

import { esc, refreshTimes } from "../html.js";

export class View {
  constructor(session, params = {}, query = new URLSearchParams()) {
    this.session = session;
    this.api = session.api;
    this.model = session.model;
    this.perms = session.perms;
    this.params = params;
    this.query = query;
    this.root = null;
    this.closed = false;
    this.intervals = [];
    this.timeouts = new Map();
  }

  mount(root) {
    this.root = root;
    this.render();
  }

  render() {}

  refresh() {
    if (!this.closed) this.render();
  }

  update(_changes) {}

  tick() {
    if (this.root) refreshTimes(this.root);
  }

  unmount() {
    this.closed = true;
    for (const id of this.intervals) clearInterval(id);
    for (const id of this.timeouts.values()) clearTimeout(id);
  }

  every(ms, fn) {
    this.intervals.push(setInterval(() => { if (!this.closed) fn(); }, ms));
  }

  later(name, ms, fn) {
    if (this.timeouts.has(name)) return;
    this.timeouts.set(name, setTimeout(() => { this.timeouts.delete(name); if (!this.closed) fn(); }, ms));
  }

  notice(text) {
    if (!this.root) return;
    let line = this.root.querySelector(".view-notice");
    if (!line) {
      line = document.createElement("p");
      line.className = "view-notice error";
      line.setAttribute("role", "alert");
      const heading = this.root.querySelector("h1");
      if (heading) heading.after(line);
      else this.root.prepend(line);
    }
    line.textContent = text;
  }

  // Run an action from a button: disable it meanwhile, then write the outcome beside it (role=status).
  async act(button, output, work, done) {
    button.disabled = true;
    output.className = "result muted";
    output.textContent = "Working…";
    try {
      const result = await work();
      output.className = "result";
      output.textContent = done(result);
      return result;
    } catch (error) {
      output.className = "result error";
      output.textContent = error.message;
      return null;
    } finally {
      button.disabled = false;
    }
  }
}

export function emptyLine(text) {
  return `<p class="muted">${esc(text)}</p>`;
}

// The hub's event stream (GET /api/v1/events, Server-Sent Events) read with fetch(), since EventSource cannot
// send the Authorization header. It reconnects by itself with backoff when the hub goes away (a restart), and
// tells its owner the state: "open" when connected, "down" while it tries again. A stream silent for longer than
// the hub's keep-alive allows is taken as dead and reopened.

const BACKOFF_MS = [250, 500, 1000, 2000, 3000];
const SILENCE_MS = 40000; // the hub sends a keep-alive comment after 15 s without a message

export class EventStream {
  constructor({ url = "/api/v1/events", token, onEvent, onState, onUnauthorized }) {
    this.url = url;
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.stopped = false;
    this.controller = null;
    this.wake = null;
  }

  start() {
    this.stopped = false;
    this.run();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
  }

  async run() {
    let attempt = 0;
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        const response = await fetch(this.url, {
          headers: { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" },
          cache: "no-store", signal: this.controller.signal,
        });
        if (response.status === 401) {
          if (this.onUnauthorized) this.onUnauthorized();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        attempt = 0;
        this.onState("open");
        await this.read(response.body.getReader());
      } catch (error) {
        if (this.stopped) return;
        if (error.name !== "AbortError") console.debug("fleetline: event stream:", error.message);
      }
      if (this.stopped) return;
      this.onState("down");
      const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
      attempt += 1;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, base * (0.8 + Math.random() * 0.4));
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = null;
    }
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    let watchdog = null;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => this.controller.abort(), SILENCE_MS);
    };
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        arm();
        buffer += decoder.decode(value, { stream: true });
        if (buffer.includes("\r")) buffer = buffer.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(block);
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  dispatch(block) {
    let kind = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue; // a comment: the keep-alive
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") kind = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let parsed;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      console.warn("fleetline: an event whose data is not JSON was skipped");
      return;
    }
    this.onEvent(kind, parsed);
  }
}

// The REST API with the user's token: JSON in and out, errors as ApiError carrying the hub's message and reason.

export class ApiError extends Error {
  constructor(status, reason, text) {
    super(text || `HTTP ${status}`);
    this.status = status;
    this.reason = reason || "";
  }
}

export class Api {
  constructor(token, { onUnauthorized } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async request(method, path, body) {
    const headers = this.headers(body === undefined ? {} : { "Content-Type": "application/json" });
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network", `the hub cannot be reached (${error.message})`);
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let info = { error: `${response.status} ${response.statusText}`, reason: "" };
      if (type.includes("json")) {
        try { info = await response.json(); } catch { /* keep the status line */ }
      }
      if (response.status === 401 && this.onUnauthorized) this.onUnauthorized(info.error);
      throw new ApiError(response.status, info.reason, info.error);
    }
    return type.includes("json") ? response.json() : response.text();
  }

  get(path) { return this.request("GET", path); }
  post(path, body = {}) { return this.request("POST", path, body); }

  // A file to save (an audit export): fetched with the token, handed to the browser as a download.
  async download(path, filename) {
    const response = await fetch(path, { headers: this.headers(), cache: "no-store" });
    if (!response.ok) {
      let text = `${response.status} ${response.statusText}`;
      try { text = (await response.json()).error || text; } catch { /* not JSON */ }
      throw new ApiError(response.status, "", text);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}

export const enc = encodeURIComponent;

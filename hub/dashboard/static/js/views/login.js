// The login form: an API token (from `fleetline tokens create`), checked with GET /api/v1/whoami.

import { esc } from "../html.js";

export function renderLogin(root, note, login) {
  root.innerHTML = `
    <section class="login panel" aria-labelledby="login-title">
      <h1 id="login-title">Log in to Fleetline</h1>
      <p class="muted">Paste an API token. An administrator creates one with
        <code>fleetline tokens create --name you --role viewer</code>. It is kept in this browser tab only.</p>
      <form id="login-form" novalidate>
        <label for="login-token">API token</label>
        <input id="login-token" name="token" type="text" class="masked" autocomplete="one-time-code"
               autocapitalize="off" spellcheck="false"
               placeholder="flt_…" required data-testid="login-token">
        <button type="submit" data-testid="login-submit">Log in</button>
        <p class="error" id="login-error" role="alert">${esc(note)}</p>
      </form>
    </section>`;
  const form = root.querySelector("#login-form");
  const input = root.querySelector("#login-token");
  const error = root.querySelector("#login-error");
  const submit = root.querySelector("[data-testid=login-submit]");
  input.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = "Enter a token first.";
      input.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      await login(token);
    } catch (failure) {
      error.textContent = failure.status === 401 ? `The hub refused this token: ${failure.message}`
        : `Could not log in: ${failure.message}`;
      submit.disabled = false;
      input.focus();
    }
  });
}

// JSON calls to the editor server; errors carry the server's one-line message.

// ``signal`` (an AbortController's) cancels the request: a poll of a session about to close
// is cancelled before the close is sent, so its 404 never reaches the page.
export async function api(method, path, body, signal) {
  const opts = { method, headers: {}, signal };
  if (body !== undefined) {
    opts.headers["content-type"] = "application/json";
    opts.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
  return data;
}

// Sends the newest payload only: while one request is in flight, later payloads replace
// each other, so a fast mouse never queues stale frames and the image stays live.
export class LatestOnly {
  constructor(send) { this.send = send; this.pending = null; this.running = null; }

  push(payload) {
    this.pending = payload;
    if (!this.running) this.running = this.drain();
    return this.running;
  }

  async drain() {
    // A failed send must not strand a newer payload that arrived meanwhile (the last value of a
    // slider pull would never reach the server): go on, and report only a failure of the last one.
    let error = null;
    try {
      while (this.pending !== null) {
        const p = this.pending;
        this.pending = null;
        try { await this.send(p); error = null; } catch (e) { error = e; }
      }
    } finally {
      this.running = null;
    }
    if (error) throw error;
  }

  async idle() { while (this.running) await this.running; }
}

// JSON calls to the editor server; errors carry the server's one-line message.

export async function api(method, path, body) {
  const opts = { method, headers: {} };
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
    try {
      while (this.pending !== null) {
        const p = this.pending;
        this.pending = null;
        await this.send(p);
      }
    } finally {
      this.running = null;
    }
  }

  async idle() { while (this.running) await this.running; }
}

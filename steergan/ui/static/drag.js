// Drag panel: handle/target points, an optional painted mask, run/stop with a live step
// counter. The server runs steergan.edit.drag.DragSession in a worker thread; the page polls.

import { api } from "./api.js";
import { loadImage } from "./canvas.js";

const $ = sel => document.querySelector(sel);
const POLL_MS = 80;

// helpers: { guarded, say, refresh, sessionPath } from app.js
export function setupDragPanel(editor, { guarded, say, refresh, sessionPath }) {
  const v = editor.view, canvas = v.canvas;
  let nextIsHandle = true, painting = false, polling = false;

  for (const r of document.querySelectorAll('input[name="tool"]')) {
    r.addEventListener("change", () => { editor.tool = r.value; });
  }

  canvas.addEventListener("pointerdown", e => {
    if (!editor.session || editor.busy) return;
    const p = v.eventPoint(e);
    if (editor.tool === "points") {
      const px = v.toPixel(p).map(a => Math.max(0, Math.min(v.R - 1, a)));
      if (nextIsHandle) { v.handles.push(px); } else { v.targets.push(px); }
      nextIsHandle = !nextIsHandle;
      v.draw();
    } else if (editor.tool === "mask") {
      painting = true;
      canvas.setPointerCapture(e.pointerId);
      v.paintMask(p, Number($("#brush").value));
      v.draw();
    }
  });
  canvas.addEventListener("pointermove", e => {
    if (!painting) return;
    v.paintMask(v.eventPoint(e), Number($("#brush").value));
    v.draw();
  });
  const stopPaint = () => { painting = false; };
  canvas.addEventListener("pointerup", stopPaint);
  canvas.addEventListener("pointercancel", stopPaint);

  function clearPoints() { v.handles = []; v.targets = []; nextIsHandle = true; v.draw(); }
  $("#clear-points").addEventListener("click", clearPoints);
  $("#clear-mask").addEventListener("click", () => { v.clearMask(); v.draw(); });

  function setBusy(busy) {
    editor.busy = busy;
    $("#drag-run").disabled = busy;
    $("#drag-stop").disabled = !busy;
    for (const b of document.querySelectorAll("#centres button, #centres input, #links button, #classes button, #undo, #redo, #go, #random, #new-latent")) {
      b.disabled = busy;
    }
  }

  function showProgress(p) {
    $("#drag-step").textContent = String(p.step);
    const dist = p.distance === null || p.distance === undefined ? "" : `, distance ${(p.distance * v.R).toFixed(1)} px`;
    $("#drag-status").textContent = p.status === "error" ? `error: ${p.error}` : `${p.status}${dist}`;
    if (p.handles) v.handles = p.handles.map(h => h.slice());
  }

  async function poll() {
    if (polling) return;
    polling = true;
    let since = -1;
    try {
      for (;;) {
        const p = await api("GET", sessionPath(`/drag?since=${since}`));
        showProgress(p);
        if (p.image) { v.image = await loadImage(p.image); since = p.step; }
        v.draw();
        if (p.status !== "running") {
          setBusy(false);
          await refresh();
          if (p.status === "error") say(`drag failed: ${p.error}`, true);
          else say(`drag ${p.status} after ${p.step} steps`);
          return;
        }
        await new Promise(r => setTimeout(r, POLL_MS));
      }
    } finally {
      polling = false;
    }
  }

  $("#drag-run").addEventListener("click", () => guarded(async () => {
    const n = Math.min(v.handles.length, v.targets.length);
    if (n === 0) throw new Error("place a handle point and a target point first (mouse: place points)");
    const options = { mode: $("#drag-mode").value, max_steps: Number($("#drag-steps").value) };
    const body = { handles: v.handles.slice(0, n), targets: v.targets.slice(0, n), options };
    if (v.maskUsed) body.mask = v.mask.toDataURL("image/png");
    v.handles = body.handles; v.targets = body.targets; nextIsHandle = true;
    const p = await api("POST", sessionPath("/drag"), body);
    setBusy(true);
    showProgress(p);
    say("dragging…");
    poll().catch(e => { setBusy(false); say(e.message, true); });
  }));

  $("#drag-stop").addEventListener("click", () => guarded(async () => {
    showProgress(await api("POST", sessionPath("/drag/stop")));
  }));

  editor.dragPanel = {
    onModel(model) {              // heatmap modes only for models with heatmaps
      const heat = model.capabilities.includes("heatmap_move");
      for (const o of $("#drag-mode").options) o.disabled = !heat && o.value !== "drag";
      $("#drag-mode").value = heat ? "hybrid" : "drag";
      const centres = document.querySelector('input[name="tool"][value="centres"]');
      centres.disabled = !heat;
      const tool = heat ? "centres" : "points";
      document.querySelector(`input[name="tool"][value="${tool}"]`).checked = true;
      editor.tool = tool;
      clearPoints();
      v.clearMask();
      setBusy(false);
    },
  };
}

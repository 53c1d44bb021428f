// Drag panel: handle/target points, an optional painted mask, run/stop with a live step
// counter. The server runs steergan.edit.drag.DragSession in a worker thread; the page polls.

import { api } from "./api.js";
import { loadImage } from "./canvas.js";

const $ = sel => document.querySelector(sel);
const POLL_MS = 80;

// helpers: { action, say, refresh, sessionPath } from app.js
export function setupDragPanel(editor, { action, say, refresh, sessionPath }) {
  const v = editor.view, canvas = v.canvas;
  let nextIsHandle = true, painting = false, pollGeneration = 0, pollAbort = null;

  for (const r of document.querySelectorAll('input[name="tool"]')) {
    r.addEventListener("change", () => { editor.tool = r.value; canvasTouch(); });
  }
  // touch: placing points or painting needs every touch on the image; moving centres keeps
  // vertical swipes for scrolling the page (app.js cancels the swipe when it starts on a centre)
  function canvasTouch() { canvas.classList.toggle("capture", editor.tool === "points" || editor.tool === "mask"); }

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
  $("#clear-points").addEventListener("click", () => { clearPoints(); say("drag points cleared"); });
  $("#clear-mask").addEventListener("click", () => { v.clearMask(); v.draw(); say("mask cleared"); });

  function setBusy(busy) {
    editor.busy = busy;
    $("#drag-run").disabled = busy;
    $("#drag-stop").disabled = !busy;
    for (const b of document.querySelectorAll("#centres button, #centres input, #links button, #classes button, #undo, #redo, #go, #random, #new-latent, #load-latent, #import, #open-image")) {
      b.disabled = busy;
    }
    if (!busy && editor.session) {      // undo/redo/sliders follow the session again
      $("#undo").disabled = !editor.session.can_undo;
      $("#redo").disabled = !editor.session.can_redo;
      for (const c of editor.session.state.centres) {
        const s = document.querySelector(`#centres li[data-index="${c.index}"] input[type=range]`);
        if (s) s.disabled = !c.active;
      }
    }
  }

  const px = d => (d === null || d === undefined ? null : (d * v.R).toFixed(1));

  // one line: what the drag is doing, or how it ended (reached / stalled / stopped ...)
  function describe(p) {
    const steps = `${p.step} step${p.step === 1 ? "" : "s"}`, dist = px(p.distance);
    const at = dist === null ? "" : `, final distance ${dist} px`;
    switch (p.status) {
      case "running": return `running${dist === null ? "" : `, distance ${dist} px`}`;
      case "error": return `error: ${p.error}`;
      case "stopped": return `${p.outcome === "abandoned" ? "abandoned" : "stopped"} after ${steps}${at}`;
      default: return {
        reached: `reached the target after ${steps}${at}`,
        stalled: `stalled after ${steps} (no more progress)${at}`,
        lost: `stopped after ${steps}: tracking lost the content${at}`,
        "step cap": `step cap: ${steps} without reaching the target${at}`,
      }[p.outcome] || `done after ${steps}${at}`;
    }
  }

  function showProgress(p) {
    if (!p || typeof p.step !== "number") { clearReadout(); return; }
    $("#drag-step").textContent = String(p.step);
    $("#drag-status").textContent = describe(p);
    if (p.handles) v.handles = p.handles.map(h => h.slice());
  }

  function clearReadout() {
    $("#drag-step").textContent = "0";
    $("#drag-status").textContent = "";
    $("#drag-gif").hidden = true;
  }

  // ends the running poll, its request in flight included
  function stopPolling() {
    pollGeneration += 1;
    if (pollAbort) pollAbort.abort();
    pollAbort = null;
  }

  // polls one session's drag; a newer poll, a new session or a model switch ends it silently
  async function poll(sid) {
    stopPolling();
    const mine = pollGeneration, abort = pollAbort = new AbortController();
    const current = () => mine === pollGeneration && editor.session && editor.session.id === sid;
    let since = -1;
    try {
      for (;;) {
        if (!current()) return;               // (a closed session's drag would be a 404)
        const p = await api("GET", `/api/sessions/${sid}/drag?since=${since}`, undefined, abort.signal);
        if (!current()) return;
        showProgress(p);
        if (p.image) {
          const img = await loadImage(p.image);
          if (!current()) return;
          v.image = img;
          since = p.step;
        }
        v.draw();
        if (p.status !== "running") {
          setBusy(false);
          $("#drag-gif").href = `/api/sessions/${sid}/drag/animation.gif?step=${p.step}`;
          $("#drag-gif").hidden = false;
          await refresh();
          if (p.status === "error") say(`drag failed: ${p.error}`, true);
          else say(`drag ${describe(p)}`);
          return;
        }
        await new Promise(r => setTimeout(r, POLL_MS));
      }
    } catch (e) {
      if (!current()) return;
      setBusy(false);
      say(e.message, true);
    }
  }

  $("#drag-run").addEventListener("click", () => {
    const n = Math.min(v.handles.length, v.targets.length);
    if (n === 0) {
      say("place a handle point and a target point first (mouse: place points)", true);
      return;
    }
    // no sign of life for seconds is worse than a busy button: disable at once (issue 18)
    setBusy(true);
    $("#drag-step").textContent = "0";
    $("#drag-status").textContent = "starting…";
    action("starting the drag (the first one on a server takes a few seconds)…", async () => {
      const options = { mode: $("#drag-mode").value, max_steps: Number($("#drag-steps").value) };
      for (const input of document.querySelectorAll("#drag-advanced-fields input")) {
        if (input.value !== "" && Number(input.value) !== Number(input.dataset.default)) options[input.name] = Number(input.value);
      }
      const body = { handles: v.handles.slice(0, n), targets: v.targets.slice(0, n), options };
      if (v.maskUsed) body.mask = v.mask.toDataURL("image/png");
      v.handles = body.handles; v.targets = body.targets; nextIsHandle = true;
      const sid = editor.session.id;
      let p;
      try {
        p = await api("POST", `/api/sessions/${sid}/drag`, body);
      } catch (e) {
        if (editor.session?.id !== sid) return;
        setBusy(false);
        clearReadout();
        throw e;
      }
      if (editor.session?.id !== sid) return;     // the model was switched meanwhile (that session is closed)
      showProgress(p);
      say("dragging… (Stop keeps the result so far)");
      poll(sid);
    });
  });

  $("#drag-stop").addEventListener("click", () => action("stopping the drag…", async () => {
    showProgress(await api("POST", sessionPath("/drag/stop")));
  }, "stopping the drag after its current step…"));

  // advanced options: one number field per option the server offers, prefilled with its default
  editor.setDragAdvanced = advanced => {
    const box = $("#drag-advanced-fields");
    box.replaceChildren(...Object.entries(advanced).map(([name, { default: value, label }]) => {
      const l = document.createElement("label");
      const input = Object.assign(document.createElement("input"), { type: "number", name, step: "any", value: String(value) });
      input.dataset.default = String(value);
      input.title = label;
      l.append(`${name} `, input);
      l.title = label;
      return l;
    }));
  };
  editor.setBusy = setBusy;     // an inversion (open.js) blocks the same controls
  editor.dragPanel = {
    stopPolling,
    onModel(model) {              // heatmap modes only for models with heatmaps
      stopPolling();              // the previous model's drag (its session is about to close) is no longer shown
      clearReadout();
      const heat = model.capabilities.includes("heatmap_move");
      for (const o of $("#drag-mode").options) o.disabled = !heat && o.value !== "drag";
      $("#drag-mode").value = heat ? "hybrid" : "drag";
      const centres = document.querySelector('input[name="tool"][value="centres"]');
      centres.disabled = !heat;
      const tool = heat ? "centres" : "points";
      document.querySelector(`input[name="tool"][value="${tool}"]`).checked = true;
      editor.tool = tool;
      canvasTouch();
      clearPoints();
      v.clearMask();
      setBusy(false);
    },
  };
}

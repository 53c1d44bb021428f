// The steergan editor page. The server holds the edit state and does every edit; this file
// draws, turns mouse gestures into edit requests, and keeps the image live while dragging.
//
// Panels: a model gets the <section data-panel=NAME> sections its capabilities enable
// (server: steergan/ui/panels.py). PANELS maps a panel name to { setup, onModel(model),
// onView(view) }: LinkGAN links (link.js) and SemanticStyleGAN classes (semantic.js) are entries.

import { api, LatestOnly } from "./api.js";
import { View, PALETTE, loadImage } from "./canvas.js";
import { setupDragPanel } from "./drag.js";
import { setupLinkPanel } from "./link.js";
import { setupSemanticPanel } from "./semantic.js";

const $ = sel => document.querySelector(sel);

export const editor = {
  models: [], session: null, view: new View($("#view")),
  gesture: null, gestureCount: 0,
  busy: false,          // a drag is running: edits are refused until it ends
};
window.steerganEditor = editor;          // for debugging in the console

// ------------------------------------------------------------------ status line
export function say(text, isError = false) {
  const s = $("#status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

export async function guarded(fn) {
  try { return await fn(); } catch (e) { say(e.message, true); return null; }
}

export function newGesture(kind) { return `${kind}-${++editor.gestureCount}`; }

// ------------------------------------------------------------------ session <-> page
let shownVersion = -1;

export async function show(view) {
  if (!view) return;
  const sameSession = editor.session && editor.session.id === view.id;
  if (sameSession && view.version < shownVersion) return;     // a stale reply overtaken by a newer one
  shownVersion = view.version;
  const modelChanged = !editor.session || editor.session.model.id !== view.model.id;
  editor.session = view;
  document.body.dataset.session = view.id;
  document.body.dataset.version = String(view.version);
  const v = editor.view;
  v.setResolution(view.model.resolution);
  v.image = await loadImage(view.image);
  v.centres = view.state.centres;
  if (modelChanged) applyPanels(view.model);
  $("#model").value = view.model.id;
  if (view.state.seed !== null) $("#seed").value = view.state.seed;
  $("#undo").disabled = !view.can_undo || editor.busy;
  $("#redo").disabled = !view.can_redo || editor.busy;
  $("#download").href = `/api/sessions/${view.id}/image.png?v=${view.version}`;
  $("#latent-info").textContent = view.state.explicit_latent ? "latent: explicit W+" : `latent: seed ${view.state.seed}`;
  renderCentreList(view);
  v.draw();
  for (const name of view.model.panels) PANELS[name]?.onView?.(view);   // method overlays follow the state
}

export async function refresh() {
  if (editor.session) await show(await api("GET", `/api/sessions/${editor.session.id}`));
}

function applyPanels(model) {
  editor.view.layers = {};
  for (const sec of document.querySelectorAll("section[data-panel]")) {
    const on = model.panels.includes(sec.dataset.panel);
    sec.hidden = !on;
    if (on && PANELS[sec.dataset.panel]) PANELS[sec.dataset.panel].onModel?.(model);
  }
  editor.view.showCentres = model.panels.includes("heatmaps");
  $("#hint").textContent = `${model.id}: ${model.method}, ${model.resolution} px` +
    (model.description ? ` — ${model.description}` : "");
}

export function sessionPath(suffix = "") { return `/api/sessions/${editor.session.id}${suffix}`; }

// ------------------------------------------------------------------ latent panel + header
async function newSession(modelId, seed) {
  const old = editor.session;
  const view = await api("POST", "/api/sessions", { model: modelId, seed });
  shownVersion = -1;
  await show(view);
  if (old && old.id !== view.id) api("DELETE", `/api/sessions/${old.id}`).catch(() => {});
}

function randomSeed() { return Math.floor(Math.random() * 2 ** 31); }

function readSeed() {
  const s = Number($("#seed").value);
  if (!Number.isInteger(s) || s < 0 || s >= 2 ** 32) throw new Error("seed must be an integer between 0 and 2^32-1");
  return s;
}

function setupHeader() {
  $("#model").addEventListener("change", () => guarded(() => newSession($("#model").value, readSeed())));
  $("#go").addEventListener("click", () => guarded(async () => show(await api("POST", sessionPath("/seed"), { seed: readSeed() }))));
  $("#seed").addEventListener("keydown", e => { if (e.key === "Enter") $("#go").click(); });
  $("#random").addEventListener("click", () => guarded(async () => {
    $("#seed").value = randomSeed();
    await show(await api("POST", sessionPath("/seed"), { seed: readSeed() }));
  }));
  $("#undo").addEventListener("click", () => guarded(async () => show(await api("POST", sessionPath("/undo")))));
  $("#redo").addEventListener("click", () => guarded(async () => show(await api("POST", sessionPath("/redo")))));
  document.addEventListener("keydown", e => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z" || e.target.matches("input, select")) return;
    e.preventDefault();
    (e.shiftKey ? $("#redo") : $("#undo")).click();
  });
  $("#export").addEventListener("click", () => guarded(async () => {
    const state = await api("GET", sessionPath("/state"));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(state)], { type: "application/json" }));
    a.download = "state.json";
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    say("edit state exported (reload it here, or with steergan edit --state state.json)");
  }));
  $("#import-file").addEventListener("change", e => guarded(async () => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    await show(await api("PUT", sessionPath("/state"), await file.text()));
    say(`edit state ${file.name} loaded`);
  }));
}

const PANELS = {
  latent: {
    onModel(model) {            // "same layout" only means something for models with heatmaps
      $("#new-latent").hidden = !model.capabilities.includes("heatmap_move");
    },
    setup() {
      $("#new-latent").addEventListener("click", () => guarded(async () =>
        show(await api("POST", sessionPath("/latent"), { seed: randomSeed() }))));
      $("#latent-file").addEventListener("change", e => guarded(async () => {
        const file = e.target.files[0];
        e.target.value = "";
        if (!file) return;
        let data;
        try { data = JSON.parse(await file.text()); } catch (_) { throw new Error(`${file.name} is not JSON`); }
        const ws = Array.isArray(data) ? data : data && data.ws;
        if (!ws) throw new Error(`${file.name}: expected a W+ list or an object with "ws"`);
        await show(await api("POST", sessionPath("/latent"), { ws }));
        say(`latent ${file.name} loaded (layout kept)`);
      }));
    },
  },
  heatmaps: { setup: setupCentreDragging },
  drag: { setup: () => setupDragPanel(editor, { guarded, say, refresh, sessionPath }), onModel: m => editor.dragPanel?.onModel(m) },
  link: setupLinkPanel(editor, { guarded, say, show, sessionPath, randomSeed }),
  semantic: setupSemanticPanel(editor, { guarded, say, show, sessionPath, randomSeed }),
};

// ------------------------------------------------------------------ heatmaps panel
const sendOps = new LatestOnly(async payload => {
  const t0 = performance.now();
  const view = await api("POST", sessionPath("/ops"), payload);
  await show(view);
  say(`edit rendered in ${Math.round(performance.now() - t0)} ms`);
});

export function liveOps(ops, gesture) {
  return sendOps.push({ ops, gesture }).catch(e => say(e.message, true));
}

function setupCentreDragging() {
  const v = editor.view, canvas = v.canvas;
  let dragging = null;
  canvas.addEventListener("pointerdown", e => {
    if (editor.tool !== "centres" || !editor.session || editor.busy) return;
    const c = v.hitCentre(v.eventPoint(e));
    if (!c) return;
    canvas.setPointerCapture(e.pointerId);
    dragging = { index: c.index, gesture: newGesture("move") };
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", e => {
    if (!dragging) return;
    const p = v.eventPoint(e);
    const xy = v.toNormalised(p).map(a => Math.max(-1, Math.min(1, a)));
    v.draw({ index: dragging.index, canvas: v.fromNormalised(xy) });   // the centre follows at once
    liveOps([{ op: "set_centre", index: dragging.index, xy }], dragging.gesture);
  });
  const end = () => {
    if (!dragging) return;
    dragging = null;
    sendOps.idle().then(() => editor.view.draw());
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
}

function renderCentreList(view) {
  const list = $("#centres"), caps = view.model.capabilities;
  const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  list.replaceChildren();
  const multi = view.state.heatmap_kind === "multi";
  for (const c of view.state.centres) {
    const li = document.createElement("li");
    li.dataset.index = c.index;
    li.classList.toggle("removed", !c.active);
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = PALETTE[c.index % PALETTE.length];
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = multi ? `object ${c.index}` : `level ${c.level} centre ${c.index}`;
    li.append(sw, name);
    if (caps.includes("heatmap_sigma")) li.append(sigmaSlider(c, focused));
    if (caps.includes("heatmap_remove")) {
      li.append(button(c.active ? "Remove" : "Restore", `${c.active ? "remove" : "restore"}-${c.index}`,
        () => ops([{ op: c.active ? "remove" : "restore", index: c.index }])));
    }
    if (caps.includes("heatmap_style")) {
      li.append(button("New style", `style-${c.index}`,
        () => ops([{ op: "set_style", index: c.index, seed: Math.floor(Math.random() * 2 ** 31) }])));
    }
    list.append(li);
  }
  if (focused) list.querySelector(`[data-key="${focused}"]`)?.focus();
}

function button(text, key, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.dataset.key = key;
  b.disabled = editor.busy;
  b.addEventListener("click", () => guarded(onClick));
  return b;
}

async function ops(list) { await show(await api("POST", sessionPath("/ops"), { ops: list })); }

function sigmaSlider(c, focused) {
  const label = document.createElement("label");
  label.textContent = "σ";
  const s = document.createElement("input");
  Object.assign(s, { type: "range", min: "0.01", max: "1", step: "0.01", value: String(c.sigma) });
  s.dataset.key = `sigma-${c.index}`;
  s.title = "sigma (shrink to remove)";
  s.disabled = editor.busy || !c.active;
  let gesture = null;
  s.addEventListener("input", () => {
    gesture = gesture || newGesture("sigma");
    liveOps([{ op: "set_sigma", index: c.index, sigma: Number(s.value) }], gesture);
  });
  s.addEventListener("change", () => { gesture = null; });
  label.append(s);
  return label;
}

// ------------------------------------------------------------------ start
async function main() {
  setupHeader();
  for (const p of Object.values(PANELS)) p.setup();
  editor.tool = "centres";
  const { models, default: def } = await api("GET", "/api/models");
  editor.models = models;
  for (const m of models) {
    const o = document.createElement("option");
    o.value = m.id;
    o.textContent = `${m.id} (${m.method})`;
    $("#model").append(o);
  }
  await newSession(def, 0);
  say("ready");
  document.body.dataset.ready = "1";
}

guarded(main);

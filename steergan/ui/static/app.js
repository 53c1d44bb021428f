// The steergan editor page. The server holds the edit state and does every edit; this file
// draws, turns mouse gestures into edit requests, and keeps the image live while dragging.
//
// Panels: a model gets the <section data-panel=NAME> sections its capabilities enable
// (server: steergan/ui/panels.py). PANELS maps a panel name to { setup, onModel(model),
// onView(view) }: LinkGAN links (link.js) and SemanticStyleGAN classes (semantic.js) are entries.

import { api, LatestOnly } from "./api.js";
import { View, PALETTE, imageAt, loadImage } from "./canvas.js";
import { setupDragPanel } from "./drag.js";
import { setupLinkPanel } from "./link.js";
import { setupOpenImage } from "./open.js";
import { setupSemanticPanel } from "./semantic.js";

const $ = sel => document.querySelector(sel);

export const editor = {
  models: [], session: null, view: new View($("#view")),
  gesture: null, gestureCount: 0,
  busy: false,          // a drag is running: edits are refused until it ends
};
window.steerganEditor = editor;          // for debugging in the console

// ------------------------------------------------------------------ status line
// Every user action says what it is doing ("…"), then what came of it; a success replaces an
// earlier error. Background fetches (overlays) only report their errors.
let said = 0;

export function say(text, isError = false) {
  const s = $("#status");
  s.textContent = text;
  s.classList.toggle("error", isError);
  said += 1;
}

export async function guarded(fn) {
  try { return await fn(); } catch (e) { say(e.message, true); return null; }
}

// a user action: "busy" at once, then "done" (unless fn said something itself) or the error
export async function action(busy, fn, done = null) {
  say(busy);
  const mine = said;
  try {
    const out = await fn();
    if (said === mine) say(done || busy.replace(/…$/, "") + ": done");
    return out;
  } catch (e) {
    say(e.message, true);
    return null;
  }
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
  editor.openImage?.onShow();
  v.centres = view.state.centres;
  if (modelChanged) { applyPanels(view.model); editor.openImage?.onModel(view.model); }
  if (![...$("#model").options].some(o => o.value === view.model.id)) {   // a generator tuned to an upload
    const o = document.createElement("option");
    o.value = view.model.id;
    o.textContent = `${view.model.tuned_from} tuned to your image`;
    $("#model").append(o);
  }
  $("#model").value = view.model.id;
  if (view.state.seed !== null) $("#seed").value = view.state.seed;
  $("#psi").value = String(view.state.truncation);
  remember(view);
  $("#undo").disabled = !view.can_undo || editor.busy;
  $("#redo").disabled = !view.can_redo || editor.busy;
  $("#download").href = `/api/sessions/${view.id}/image.png?v=${view.version}`;
  $("#latent-info").textContent = view.state.explicit_latent ? "latent: explicit W+" : `latent: seed ${view.state.seed}`;
  renderCentreList(view);
  v.draw();
  for (const name of view.model.panels) PANELS[name]?.onView?.(view);   // method overlays follow the state
}

// Every change of the edit state goes to the server and onto the page one at a time, in the order
// the user made it: a key pressed while a seed change is on its way moves the new seed's centre,
// and a centre that several keys move gets every step (each is computed from the state shown).
let tail = Promise.resolve();

export function serial(fn) {
  const run = tail.then(fn);
  tail = run.catch(() => {});
  return run;
}

// ``body``: the request's JSON, or a function that makes it once the earlier changes are shown
// (null: nothing to send)
export function commit(method, suffix, body) {
  return serial(async () => {
    const payload = typeof body === "function" ? body() : body;
    if (payload === null) return null;
    const view = await api(method, sessionPath(suffix), payload);
    await show(view);
    return view;
  });
}

export async function refresh() {
  if (editor.session) await show(await api("GET", `/api/sessions/${editor.session.id}`));
}

// the method's own panel first, then drag, then the latent (issue 18)
const PANEL_ORDER = ["heatmaps", "link", "semantic", "drag", "latent"];

function applyPanels(model) {
  editor.view.layers = {};
  for (const sec of document.querySelectorAll("section[data-panel]")) {
    const on = model.panels.includes(sec.dataset.panel);
    sec.hidden = !on;
    sec.style.order = String(PANEL_ORDER.indexOf(sec.dataset.panel));
    if (on && PANELS[sec.dataset.panel]) PANELS[sec.dataset.panel].onModel?.(model);
  }
  $("#toolbar fieldset").hidden = !model.panels.includes("drag") && !model.panels.includes("heatmaps");
  editor.view.showCentres = model.panels.includes("heatmaps");
  $("#hint").textContent = `${model.id}: ${model.method}, ${model.resolution} px` +
    (model.description ? ` — ${model.description}` : "");
}

export function sessionPath(suffix = "") { return `/api/sessions/${editor.session.id}${suffix}`; }

// ------------------------------------------------------------------ nothing lost (issue 18)
// The address bar names the model, seed and truncation (shareable; a reload starts there), and
// this tab's storage keeps each model's latest edit state, so a reload or a switch back to a
// model restores its edits (Undo history stays with the server session).
const STORE_KEY = id => `steergan:state:${id}`;
let rememberTimer = null;

function remember(view) {
  const url = new URL(location.href);
  url.searchParams.set("model", view.model.id);
  if (view.state.seed !== null) url.searchParams.set("seed", String(view.state.seed));
  else url.searchParams.delete("seed");
  url.searchParams.set("psi", String(view.state.truncation));
  history.replaceState(null, "", url);
  clearTimeout(rememberTimer);
  if (!view.can_undo) return;             // an unedited seed: the URL says it all
  const sid = view.id, version = view.version;
  rememberTimer = setTimeout(async () => {
    if (editor.session?.id !== sid || editor.session.version !== version) return;
    try {
      const state = await api("GET", `/api/sessions/${sid}/state`);
      sessionStorage.setItem(STORE_KEY(view.model.id), JSON.stringify({ version, state }));
    } catch (_) { /* a closed session or full storage: nothing to keep */ }
  }, 400);
}

function remembered(modelId, seed) {
  try {
    const kept = JSON.parse(sessionStorage.getItem(STORE_KEY(modelId)) || "null");
    if (kept && kept.state && (seed === null || kept.state.seed === seed || kept.state.seed === null)) return kept.state;
  } catch (_) { /* unreadable: ignore */ }
  return null;
}

// ------------------------------------------------------------------ latent panel + header
// a session on the seed's image; the model's kept edits instead when they are of seed ``match``
// (null: of any seed)
function newSession(modelId, seed, truncation = 1, match = seed) {
  return serial(() => openSession(modelId, seed, truncation, match));
}

async function openSession(modelId, seed, truncation, match) {
  const old = editor.session;
  let view = await api("POST", "/api/sessions", { model: modelId, seed, truncation });
  const kept = remembered(modelId, match);
  if (kept) {
    try {
      view = await api("PUT", `/api/sessions/${view.id}/state`, kept);
      say(`${modelId}: your last edits restored (Undo history starts here)`);
    } catch (_) { sessionStorage.removeItem(STORE_KEY(modelId)); }
  }
  shownVersion = -1;
  await show(view);
  if (old && old.id !== view.id) {
    editor.dragPanel?.stopPolling();       // its poll of the old session is cancelled before the close
    api("DELETE", `/api/sessions/${old.id}`).catch(() => {});
  }
}

function readPsi() {
  const t = Number($("#psi").value);
  if (!(t >= 0 && t <= 2)) throw new Error("ψ (truncation) must be a number between 0 and 2");
  return t;
}

function randomSeed() { return Math.floor(Math.random() * 2 ** 31); }

function readSeed() {
  const s = Number($("#seed").value);
  if (!Number.isInteger(s) || s < 0 || s >= 2 ** 32) throw new Error("seed must be an integer between 0 and 2^32-1");
  return s;
}

// a hidden file input opened by a real (focusable) button; onFile(file) after the choice
function filePicker(buttonSel, inputSel, onFile) {
  $(buttonSel).addEventListener("click", () => $(inputSel).click());
  $(inputSel).addEventListener("change", e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) onFile(file);
  });
}

function setupHeader() {
  $("#model").addEventListener("change", () => {
    const id = $("#model").value;
    action(`loading ${id}…`, () => newSession(id, readSeed(), readPsi(), null), `${id} loaded`);
  });
  const seedAction = () => action(`rendering seed ${$("#seed").value}…`,
    () => commit("POST", "/seed", { seed: readSeed(), truncation: readPsi() }), `seed ${$("#seed").value}`);
  $("#go").addEventListener("click", seedAction);
  $("#seed").addEventListener("keydown", e => { if (e.key === "Enter") $("#go").click(); });
  $("#random").addEventListener("click", () => { $("#seed").value = randomSeed(); seedAction(); });
  $("#undo").addEventListener("click", () => action("undoing…", () => commit("POST", "/undo"), "undone"));
  $("#redo").addEventListener("click", () => action("redoing…", () => commit("POST", "/redo"), "redone"));
  document.addEventListener("keydown", e => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z" || e.target.matches("input, select")) return;
    e.preventDefault();
    (e.shiftKey ? $("#redo") : $("#undo")).click();
  });
  $("#export").addEventListener("click", () => action("exporting the edit state…", async () => {
    const state = await api("GET", sessionPath("/state"));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(state)], { type: "application/json" }));
    a.download = "state.json";
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    say("edit state exported (reload it here, or with steergan edit --state state.json)");
  }));
  filePicker("#import", "#import-file", file => action(`loading ${file.name}…`, async () => {
    await commit("PUT", "/state", await file.text());
    say(`edit state ${file.name} loaded`);
  }));
  $("#download").addEventListener("click", () => say("PNG downloaded"));
  $("#download-large").addEventListener("click", () => {
    if (!editor.view.image) return;
    const a = document.createElement("a");
    a.href = imageAt(editor.view.image, 768, editor.view.smooth);
    a.download = "steergan-768.png";
    document.body.append(a); a.click(); a.remove();
    say("768 px PNG downloaded");
  });
  $("#smooth").addEventListener("change", () => {
    editor.view.smooth = $("#smooth").checked;
    $("#view").classList.toggle("smooth", editor.view.smooth);
    editor.view.draw();
  });
}

const PANELS = {
  latent: {
    onModel(model) {            // "same layout" only means something for models with heatmaps
      $("#new-latent").hidden = !model.capabilities.includes("heatmap_move");
    },
    setup() {
      $("#new-latent").addEventListener("click", () => action("drawing a new latent…", () =>
        commit("POST", "/latent", { seed: randomSeed() }), "new latent (layout kept)"));
      filePicker("#load-latent", "#latent-file", file => action(`loading ${file.name}…`, async () => {
        let data;
        try { data = JSON.parse(await file.text()); } catch (_) { throw new Error(`${file.name} is not JSON`); }
        const ws = Array.isArray(data) ? data : data && data.ws;
        if (!ws) throw new Error(`${file.name}: expected a W+ list or an object with "ws"`);
        await commit("POST", "/latent", { ws });
        say(`latent ${file.name} loaded (layout kept)`);
      }));
    },
  },
  heatmaps: { setup: setupCentreDragging },
  drag: { setup: () => setupDragPanel(editor, { action, say, refresh, sessionPath }), onModel: m => editor.dragPanel?.onModel(m) },
  link: setupLinkPanel(editor, { guarded, action, say, commit, sessionPath, randomSeed }),
  semantic: setupSemanticPanel(editor, { guarded, action, say, commit, sessionPath, randomSeed }),
};

// ------------------------------------------------------------------ heatmaps panel
const sendOps = new LatestOnly(async payload => {
  const t0 = performance.now();
  if (await commit("POST", "/ops", payload)) say(`edit rendered in ${Math.round(performance.now() - t0)} ms`);
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
    v.selected = c.index;
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
  // keyboard: arrow keys move the selected centre by one image pixel (Shift: four), Tab-focusable
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  // Keys add up steps not yet sent; each request turns them into a place from the centre as the
  // page shows it when the request leaves (after every earlier change), never from a stale copy.
  let keyGesture = null, keySteps = new Map();            // centre index -> [dx, dy] not yet sent
  const moved = (c, d) => [0, 1].map(i => Math.max(-1, Math.min(1, c.xy[i] + d[i])));
  const sendKeys = new LatestOnly(gesture => commit("POST", "/ops", () => {
    const steps = keySteps;
    keySteps = new Map();
    const list = [...steps].filter(([i]) => centreAt(i)).map(([i, d]) => ({ op: "set_centre", index: i, xy: moved(centreAt(i), d) }));
    return list.length ? { ops: list, gesture } : null;
  }));
  canvas.addEventListener("keydown", e => {
    const d = ARROWS[e.key];
    if (!d || !editor.session || editor.busy || !editor.view.showCentres) return;
    const c = centreAt(v.selected) || editor.session.state.centres[0];
    if (!c) return;
    e.preventDefault();
    const step = (e.shiftKey ? 8 : 2) / v.R;               // normalised units: 2 / R is one pixel
    const sum = keySteps.get(c.index) || [0, 0];
    keySteps.set(c.index, [sum[0] + d[0] * step, sum[1] + d[1] * step]);
    keyGesture = keyGesture || newGesture("keys");
    v.draw({ index: c.index, canvas: v.fromNormalised(moved(c, keySteps.get(c.index))) });   // shown at once
    sendKeys.push(keyGesture).catch(err => say(err.message, true));
  });
  canvas.addEventListener("keyup", e => { if (ARROWS[e.key]) keyGesture = null; });
  canvas.addEventListener("focus", () => v.draw());
  canvas.addEventListener("blur", () => v.draw());
  // touch: the image lets vertical swipes scroll the page (CSS touch-action), except a swipe that
  // starts on a centre, which moves the centre
  canvas.addEventListener("touchstart", e => {
    if (editor.tool === "centres" && editor.session && !editor.busy && v.hitCentre(v.eventPoint(e.touches[0]))) e.preventDefault();
  }, { passive: false });
}

// The centre list is built once per model and centre count, then updated in place: a reply
// must never replace the slider or button under the user's pointer (issue 18).
let centreListKey = null;

function renderCentreList(view) {
  const list = $("#centres"), caps = view.model.capabilities, centres = view.state.centres;
  const key = `${view.id}:${view.model.id}:${view.state.heatmap_kind}:${centres.length}:${caps.join(",")}`;
  if (key !== centreListKey) {
    centreListKey = key;
    list.replaceChildren(...centres.map(c => centreItem(c.index, view)));
  }
  for (const c of centres) {
    const li = list.querySelector(`li[data-index="${c.index}"]`);
    li.classList.toggle("removed", !c.active);
    const s = li.querySelector("input[type=range]");
    if (s) {
      if (!s.gesture) s.value = String(c.sigma);     // the user's own pull wins over late replies
      s.disabled = editor.busy || !c.active;
    }
    const rm = li.querySelector("button.remove");
    if (rm) {
      rm.textContent = c.active ? "Remove" : "Restore";
      rm.dataset.key = `${c.active ? "remove" : "restore"}-${c.index}`;
    }
    for (const b of li.querySelectorAll("button")) b.disabled = editor.busy;
  }
}

function centreAt(index) { return editor.session.state.centres.find(c => c.index === index); }

function centreItem(index, view) {
  const caps = view.model.capabilities, c = view.state.centres.find(k => k.index === index);
  const li = document.createElement("li");
  li.dataset.index = index;
  const sw = document.createElement("span");
  sw.className = "swatch";
  sw.style.background = PALETTE[index % PALETTE.length];
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = view.state.heatmap_kind === "multi" ? `object ${index}` : `level ${c.level} centre ${index}`;
  li.append(sw, name);
  if (caps.includes("heatmap_sigma")) li.append(sigmaSlider(index, name.textContent));
  if (caps.includes("heatmap_remove")) {
    const b = button("Remove", `remove-${index}`, () => {
      const on = centreAt(index).active;
      return action(`${on ? "removing" : "restoring"} ${name.textContent}…`,
        () => ops([{ op: on ? "remove" : "restore", index }]), `${name.textContent} ${on ? "removed" : "restored"}`);
    });
    b.classList.add("remove");
    li.append(b);
  }
  if (caps.includes("heatmap_style")) {
    li.append(button("New style", `style-${index}`, () => action(`new style for ${name.textContent}…`,
      () => ops([{ op: "set_style", index, seed: randomSeed() }]), `${name.textContent}: new style`)));
  }
  return li;
}

function button(text, key, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.dataset.key = key;
  b.disabled = editor.busy;
  b.addEventListener("click", onClick);
  return b;
}

async function ops(list) { await commit("POST", "/ops", { ops: list }); }

function sigmaSlider(index, owner) {
  const label = document.createElement("label");
  label.textContent = "σ";
  const s = document.createElement("input");
  Object.assign(s, { type: "range", min: "0.01", max: "1", step: "0.01" });
  s.dataset.key = `sigma-${index}`;
  s.title = `σ of ${owner}: its size (shrink to make it vanish)`;
  s.setAttribute("aria-label", `σ of ${owner}`);
  s.gesture = null;
  s.addEventListener("input", () => {
    s.gesture = s.gesture || newGesture("sigma");
    liveOps([{ op: "set_sigma", index, sigma: Number(s.value) }], s.gesture);
  });
  s.addEventListener("change", () => { s.gesture = null; });
  label.append(s);
  return label;
}

// ------------------------------------------------------------------ start
async function main() {
  setupHeader();
  for (const p of Object.values(PANELS)) p.setup();
  editor.openImage = setupOpenImage(editor, { action, say, refresh, sessionPath });
  editor.tool = "centres";
  const { models, default: def, drag_advanced: advanced } = await api("GET", "/api/models");
  editor.setDragAdvanced?.(advanced || {});
  editor.models = models;
  for (const m of models) {
    const o = document.createElement("option");
    o.value = m.id;
    o.textContent = `${m.id} (${m.method})`;
    $("#model").append(o);
  }
  // the address bar's model, seed and truncation (a shared link or a reload), else the default
  const q = new URLSearchParams(location.search);
  const wanted = models.some(m => m.id === q.get("model")) ? q.get("model") : def;
  const seed = /^\d+$/.test(q.get("seed") || "") && Number(q.get("seed")) < 2 ** 32 ? Number(q.get("seed")) : 0;
  const psi = q.has("psi") && Number(q.get("psi")) >= 0 && Number(q.get("psi")) <= 2 ? Number(q.get("psi")) : 1;
  said = 0;
  await newSession(wanted, seed, psi, q.has("seed") ? seed : null);
  if (said === 0) say("ready");
  document.body.dataset.ready = "1";
}

// Leaving or reloading the page releases its session at once (stopping a running drag), so a
// reload never leaves a drag holding one of the server's drag slots until its step cap.
window.addEventListener("pagehide", () => {
  if (editor.session) navigator.sendBeacon(`/api/sessions/${editor.session.id}/close`);
});
window.addEventListener("pageshow", e => { if (e.persisted) location.reload(); });   // back from the cache: session gone

guarded(main);

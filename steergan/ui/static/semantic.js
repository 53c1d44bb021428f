// SemanticStyleGAN panel: the classes (colours of steergan compose's label maps) with their share
// of the image; per class a new shape code (its mask and depth move) or a new texture code (its
// appearance only); an overlay of one class's mask or pseudo-depth, or of every class's mask; and
// the image built up class by class. Edits are "set_code" ops (methods.semantic.edits); the
// overlays come from GET .../views/semantic_layers and .../views/build_up, once per state version.

import { api } from "./api.js";
import { loadImage, tintMask } from "./canvas.js";

const $ = sel => document.querySelector(sel);

// helpers: { guarded, action, say, commit, sessionPath, randomSeed } from app.js
export function setupSemanticPanel(editor, { guarded, action, say, commit, sessionPath, randomSeed }) {
  const v = editor.view;
  let classes = [], layers = null, shownKey = null, buildKey = null, request = 0, buildRequest = 0;
  let selected = 1;

  function drawOverlay() {
    const mode = $("#class-overlay").value;
    let items = [];
    if (layers && mode === "labels") {
      items = layers.masks.map(m => ({ image: m, alpha: 0.55 }));
    } else if (layers && mode === "mask" && layers.masks[selected]) {
      items = [{ image: layers.masks[selected], alpha: 0.6 }];
    } else if (layers && mode === "depth" && layers.depths && layers.depths[selected]) {
      items = [{ image: layers.depths[selected], alpha: 0.85 }];
    }
    v.layers.semantic = items;
    v.draw();
  }

  let areas = [];                 // each class's share of the current image (from the layers view)

  async function newCode(k, part) {
    const seed = randomSeed(), absent = areas[k] === 0;
    await commit("POST", "/ops", { ops: [{ op: "set_code", class: k, part, seed }] });
    // a class that is not in the image: a texture has nothing to change, a shape may or may not bring it in
    const note = !absent ? "" : part === "texture"
      ? ` — ${classes[k].name} is not in this image, so its texture changes nothing you can see (try New shape)`
      : ` — ${classes[k].name} was not in this image; a new shape code may or may not make it appear`;
    say(`${classes[k].name}: new ${part} code (seed ${seed})${note}`);
  }

  function renderList(model) {
    const list = $("#classes"), caps = model.capabilities;
    list.replaceChildren();
    for (const c of classes) {
      const li = document.createElement("li");
      li.dataset.class = c.index;
      const pick = document.createElement("input");
      Object.assign(pick, { type: "radio", name: "overlay-class", value: String(c.index), checked: c.index === selected });
      pick.title = "show this class's mask or pseudo-depth over the image";
      pick.addEventListener("change", () => { selected = c.index; drawOverlay(); });
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = c.colour;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = c.name;
      const area = document.createElement("span");
      area.className = "area hint";
      li.append(pick, sw, name, area);
      for (const [part, cap, text] of [["shape", "class_shape", "New shape"], ["texture", "class_texture", "New texture"]]) {
        if (!caps.includes(cap)) continue;
        const b = document.createElement("button");
        b.textContent = text;
        b.dataset.key = `${part}-${c.index}`;
        b.disabled = editor.busy;
        b.addEventListener("click", () => action(`${c.name}: new ${part} code…`, () => newCode(c.index, part)));
        li.append(b);
      }
      list.append(li);
    }
  }

  async function fetchLayers() {
    const mine = ++request;
    const r = await api("GET", sessionPath("/views/semantic_layers"));
    const masks = await Promise.all(r.masks.map(loadImage));
    const depths = r.depths ? await Promise.all(r.depths.map(loadImage)) : null;
    if (mine !== request) return;
    layers = { masks: masks.map((m, k) => tintMask(m, classes[k].colour)), depths };
    areas = r.area.slice();
    r.area.forEach((a, k) => {
      const el = document.querySelector(`#classes li[data-class="${k}"] .area`);
      if (el) el.textContent = `${(100 * a).toFixed(1)}%`;
    });
    drawOverlay();
  }

  async function fetchBuildUp(key) {
    if (key === buildKey) return;
    buildKey = key;
    const mine = ++buildRequest;
    const r = await api("GET", sessionPath("/views/build_up"));
    if (mine !== buildRequest) return;
    const strip = $("#build-up-strip");
    strip.replaceChildren(...r.images.map((src, i) => {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.src = src;
      img.alt = `classes up to ${classes[r.order[i]].name}`;
      const cap = document.createElement("figcaption");
      cap.textContent = `+ ${classes[r.order[i]].name}`;
      fig.append(img, cap);
      return fig;
    }));
  }

  return {
    setup() {
      $("#class-overlay").addEventListener("change", drawOverlay);
      $("#build-up").addEventListener("toggle", () => {
        if ($("#build-up").open && editor.session) guarded(() => fetchBuildUp(`${editor.session.id}:${editor.session.version}`));
      });
    },
    onModel(model) {
      classes = model.classes || [];
      selected = Math.min(1, classes.length - 1);
      layers = null; shownKey = null; buildKey = null;
      const depth = model.capabilities.includes("class_depth");
      $('#class-overlay option[value="depth"]').disabled = !depth;
      if (!depth && $("#class-overlay").value === "depth") $("#class-overlay").value = "none";
      $("#build-up").hidden = !model.capabilities.includes("class_build_up");
      $("#build-up-strip").replaceChildren();
      renderList(model);
      drawOverlay();
    },
    onView(view) {
      const key = `${view.id}:${view.version}`;
      if (key === shownKey) return;
      shownKey = key;
      guarded(fetchLayers);
      if ($("#build-up").open && !$("#build-up").hidden) guarded(() => fetchBuildUp(key));
    },
  };
}

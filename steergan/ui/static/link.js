// LinkGAN panel: the model's links (a group of w channels tied to an image region, each region
// drawn over the image in its colour) and "Resample": the link's channels take the values of
// another seed's w (server: methods.link.edits.apply_link_op, op "resample_link"; one undo step).

import { api } from "./api.js";
import { PALETTE, loadImage, tintMask } from "./canvas.js";

const $ = sel => document.querySelector(sel);
const pct = f => `${Math.round(f * 100)}%`;

function regionText(link) {
  const r = link.region;
  if (r.box) return `box x ${pct(r.box[0])}–${pct(r.box[2])}, y ${pct(r.box[1])}–${pct(r.box[3])}`;
  return `class ${r.class.join(", ")}`;
}

// helpers: { guarded, action, say, commit, sessionPath, randomSeed } from app.js
export function setupLinkPanel(editor, { guarded, action, say, commit, sessionPath, randomSeed }) {
  const v = editor.view;
  let links = [], regions = [], shownKey = null, request = 0;

  function drawRegions() {
    const on = $("#show-regions").checked;
    v.layers.link = !on ? [] : links.map((l, k) => ({
      image: regions[k] || null, alpha: 0.3, colour: PALETTE[k % PALETTE.length],
      outline: l.region.box || null, label: `link ${k}`,
    }));
    v.draw();
  }

  async function resample(k, input) {
    const text = input.value.trim();
    const seed = text === "" ? randomSeed() : Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error("seed must be an integer between 0 and 2^32-1");
    await commit("POST", "/ops", { ops: [{ op: "resample_link", link: k, seed }] });
    say(`link ${k} resampled: its axes now come from seed ${seed}`);
  }

  function renderList() {
    const list = $("#links");
    list.replaceChildren();
    links.forEach((l, k) => {
      const li = document.createElement("li");
      li.dataset.link = k;
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = PALETTE[k % PALETTE.length];
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = `link ${k}`;
      const detail = document.createElement("span");
      detail.className = "detail hint";
      detail.textContent = `${regionText(l)}; w channels ${l.axes[0]}–${l.axes[1] - 1}`;
      const seed = document.createElement("input");
      Object.assign(seed, { type: "number", min: "0", max: "4294967295", placeholder: "random" });
      seed.className = "seed";
      seed.title = "the seed whose w gives the new values (empty: a random one)";
      const b = document.createElement("button");
      b.textContent = "Resample";
      b.dataset.key = `resample-${k}`;
      b.disabled = editor.busy;
      b.addEventListener("click", () => action(`resampling link ${k}…`, () => resample(k, seed)));
      li.append(sw, name, seed, b, detail);
      list.append(li);
    });
  }

  return {
    onModel(model) {
      links = model.links || [];
      regions = [];
      shownKey = null;
      renderList();
      drawRegions();
    },
    // boxes are the same for every image; class regions are the segmenter's pixels of this image
    onView(view) {
      const boxesOnly = links.every(l => l.kind === "box");
      const key = boxesOnly ? view.id : `${view.id}:${view.version}`;
      if (key === shownKey) return;
      shownKey = key;
      const mine = ++request;
      guarded(async () => {
        const r = await api("GET", sessionPath("/views/link_regions"));
        const images = await Promise.all(r.regions.map(loadImage));
        if (mine !== request) return;            // a newer request overtook this one
        regions = images.map((img, k) => tintMask(img, PALETTE[k % PALETTE.length]));
        drawRegions();
      });
    },
    setup() { $("#show-regions").addEventListener("change", drawRegions); },
  };
}

// Open image: the user's own picture, inverted into the session's model by the server as a
// stoppable job (POST /invert, polled like a drag), then edited like any sample. The result is
// one undo step; "Show upload" toggles the canvas between the result and the uploaded picture.
// With "tune" the server then fine-tunes a copy of the generator to the picture (PTI): the result
// lives on that copy, a model of this session's own ("Download generator" saves it).

import { api } from "./api.js";
import { loadImage } from "./canvas.js";

const $ = sel => document.querySelector(sel);
const POLL_MS = 150, MAX_BYTES = 3 * 1024 * 1024;   // step counts: the server's defaults
const TYPES = ["image/png", "image/jpeg", "image/webp"];

export function setupOpenImage(editor, { action, say, refresh, sessionPath }) {
  const v = editor.view;
  let upload = null, result = null, generation = 0, uploadModel = null;

  function setRunning(on) {
    editor.setBusy?.(on);
    $("#invert-stop").disabled = !on;
    $("#drag-run").disabled = on;
  }

  function showUpload(on) {
    if (!upload) return;
    $("#compare").setAttribute("aria-pressed", String(on));
    $("#compare").textContent = on ? "Show result" : "Show upload";
    if (on) { result = v.image; v.image = upload; } else if (result) { v.image = result; result = null; }
    v.draw();
  }

  function readAsDataURL(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(new Error(`${file.name} could not be read`));
      r.readAsDataURL(file);
    });
  }

  async function poll(sid, name, mine) {
    for (;;) {
      if (mine !== generation || editor.session?.id !== sid) return;
      const p = await api("GET", `/api/sessions/${sid}/invert?since=${1e9}`);
      const psnr = typeof p.psnr === "number" ? `, PSNR ${p.psnr.toFixed(1)} dB` : "";
      if (p.status === "running") {
        const what = p.phase === "tuning" ? "tuning the generator to" : "inverting";
        $("#invert-status").textContent = `${what} ${name}: step ${p.step}/${p.max_steps}${psnr}`;
        await new Promise(r => setTimeout(r, POLL_MS));
        continue;
      }
      setRunning(false);
      await refresh();
      if (p.status === "error") throw new Error(`inversion failed: ${p.error}`);
      const from = p.start === "encoder" ? " from the encoder's guess" : "";
      const how = (p.status === "stopped" ? `stopped after ${p.step} steps` : `${p.step} steps`) + from;
      $("#invert-status").textContent = `${name}: ${how}${psnr}`;
      say(`${name} inverted (${how}${psnr}); edit it like a sample, Undo goes back`);
      return;
    }
  }

  async function open(file) {
    if (!editor.session || editor.busy) return;
    if (!TYPES.includes(file.type)) { say(`${file.name}: open a PNG, JPEG or WebP image`, true); return; }
    if (file.size > MAX_BYTES) { say(`${file.name} is larger than 3 MB`, true); return; }
    const mine = ++generation, sid = editor.session.id;
    await action(`inverting ${file.name}…`, async () => {
      const url = await readAsDataURL(file);
      upload = await loadImage(url);
      result = null;
      uploadModel = editor.session.model.id;
      $("#invert-bar").hidden = false;
      $("#compare").hidden = false;
      $("#compare").setAttribute("aria-pressed", "false");
      $("#compare").textContent = "Show upload";
      setRunning(true);
      try {
        const body = { image: url, tune: $("#invert-tune").checked };
        if (editor.invertSteps) body.steps = editor.invertSteps;            // tests shorten the job
        if (body.tune && editor.ptiSteps) body.pti_steps = editor.ptiSteps;
        await api("POST", `/api/sessions/${sid}/invert`, body);
      } catch (e) { setRunning(false); throw e; }
      await poll(sid, file.name, mine);
    });
  }

  $("#open-image").addEventListener("click", () => $("#open-file").click());
  $("#open-file").addEventListener("change", e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) open(file);
  });
  const stage = $("#view");
  stage.addEventListener("dragover", e => { if (e.dataTransfer?.types.includes("Files")) e.preventDefault(); });
  stage.addEventListener("drop", e => {
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    open(file);
  });
  $("#invert-stop").addEventListener("click", () => action("stopping the inversion…", async () => {
    await api("POST", sessionPath("/invert/stop"));
  }, "stopping the inversion after its current step…"));
  $("#compare").addEventListener("click", () => showUpload($("#compare").getAttribute("aria-pressed") !== "true"));

  return {
    onShow() {                    // a new render replaced the canvas image: the toggle shows the result
      if (!upload || $("#compare").getAttribute("aria-pressed") !== "true") return;
      result = null;
      $("#compare").setAttribute("aria-pressed", "false");
      $("#compare").textContent = "Show upload";
    },
    onModel(model) {              // another model: the old upload's comparison no longer applies,
      const link = $("#download-generator");   // unless it is the generator tuned to that upload
      link.hidden = !model.tuned_from;
      link.href = model.tuned_from ? `/api/sessions/${editor.session.id}/generator` : "#";
      if (model.tuned_from && model.tuned_from === uploadModel) return;
      generation += 1;
      upload = result = null;
      uploadModel = null;
      $("#invert-bar").hidden = !model.tuned_from;   // (for its download link)
      $("#compare").hidden = true;
    },
  };
}

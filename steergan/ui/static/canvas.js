// The image canvas: the model's output scaled up, method overlays (link regions, class masks
// and depths), heatmap centres, drag points and the mask.
//
// Coordinates: heatmap centres use the library's normalised units (x right, y down, [-1, 1]
// edge to edge); drag points use image pixels with pixel j centred at j (edit/drag.py).

export const PALETTE = ["#e6194b", "#3cb44b", "#0082c8", "#f58230", "#911eb4", "#46f0f0", "#f032e6", "#d2f53c"];

export class View {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.image = null;            // HTMLImageElement of the current render
    this.R = 64;
    this.centres = [];            // from the server's state view
    this.showCentres = true;
    this.smooth = false;          // bilinear (true) or pixel (false) scaling of the image
    this.selected = 0;            // the centre the arrow keys move
    this.handles = [];            // drag points, image pixels
    this.targets = [];
    this.mask = document.createElement("canvas");   // R x R, painted alpha = may move
    this.maskUsed = false;
    // panel name -> overlays [{image (R x R canvas or image) | null, alpha, outline: [x0, y0, x1, y1]
    // fractions | null, colour, label}], drawn over the image in panel order
    this.layers = {};
  }

  setResolution(R) {
    if (R === this.R && this.mask.width === R) return;
    this.R = R;
    this.mask.width = this.mask.height = R;
    this.maskUsed = false;
  }

  get scale() { return this.canvas.width / this.R; }

  // pointer event -> canvas units (the canvas may be shown at another CSS size)
  eventPoint(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * this.canvas.width / r.width, (e.clientY - r.top) * this.canvas.height / r.height];
  }
  toNormalised([cx, cy]) { return [cx / this.canvas.width * 2 - 1, cy / this.canvas.height * 2 - 1]; }
  fromNormalised([x, y]) { return [(x + 1) / 2 * this.canvas.width, (y + 1) / 2 * this.canvas.height]; }
  toPixel([cx, cy]) { return [cx / this.scale - 0.5, cy / this.scale - 0.5]; }
  fromPixel([px, py]) { return [(px + 0.5) * this.scale, (py + 0.5) * this.scale]; }

  centreRadius(c) {
    const levels = Math.max(1, ...this.centres.map(k => k.level + 1));
    return 7 + 3 * (levels - 1 - c.level);
  }

  // the centre under a canvas point (nearest within its drawn radius + a margin), or null
  hitCentre(point) {
    let best = null, bestD = Infinity;
    for (const c of this.centres) {
      const [x, y] = this.fromNormalised(c.xy);
      const d = Math.hypot(x - point[0], y - point[1]);
      if (d <= this.centreRadius(c) + 6 && d < bestD) { best = c; bestD = d; }
    }
    return best;
  }

  paintMask([cx, cy], radius) {
    const m = this.mask.getContext("2d");
    m.fillStyle = "rgba(255, 200, 0, 1)";
    m.beginPath();
    m.arc(cx / this.scale, cy / this.scale, radius, 0, 2 * Math.PI);
    m.fill();
    this.maskUsed = true;
  }

  clearMask() {
    this.mask.getContext("2d").clearRect(0, 0, this.R, this.R);
    this.maskUsed = false;
  }

  draw(override = null) {
    const ctx = this.ctx, W = this.canvas.width;
    ctx.imageSmoothingEnabled = this.smooth;
    ctx.clearRect(0, 0, W, W);
    if (this.image) ctx.drawImage(this.image, 0, 0, W, W);
    ctx.imageSmoothingEnabled = false;
    for (const items of Object.values(this.layers)) this.drawLayer(items);
    if (this.maskUsed) {
      ctx.globalAlpha = 0.35;
      ctx.drawImage(this.mask, 0, 0, W, W);
      ctx.globalAlpha = 1;
    }
    if (this.showCentres) this.drawCentres(override);
    this.drawPoints();
  }

  drawLayer(items) {
    const ctx = this.ctx, W = this.canvas.width;
    for (const it of items) {
      if (it.image) {
        ctx.globalAlpha = it.alpha ?? 0.5;
        ctx.drawImage(it.image, 0, 0, W, W);
        ctx.globalAlpha = 1;
      }
      if (it.outline) {
        const [x0, y0, x1, y1] = it.outline.map(f => f * W);
        ctx.strokeStyle = it.colour; ctx.lineWidth = 2;
        ctx.strokeRect(x0 + 1, y0 + 1, x1 - x0 - 2, y1 - y0 - 2);
        if (it.label) {
          ctx.fillStyle = it.colour; ctx.font = "bold 12px system-ui, sans-serif";
          ctx.fillText(it.label, x0 + 5, y0 + 15);
        }
      }
    }
  }

  drawCentres(override) {
    const ctx = this.ctx;
    const pos = c => (override && override.index === c.index) ? override.canvas : this.fromNormalised(c.xy);
    for (const c of this.centres) {          // hierarchy: a line from each centre to its parent
      if (c.parent < 0) continue;
      const [x0, y0] = pos(this.centres[c.parent]), [x1, y1] = pos(c);
      ctx.strokeStyle = "#fff8"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    }
    for (const c of this.centres) {
      const [x, y] = pos(c), r = this.centreRadius(c), colour = PALETTE[c.index % PALETTE.length];
      if (c.active) {                        // sigma as a dashed ring (normalised units -> canvas)
        ctx.setLineDash([4, 4]); ctx.strokeStyle = colour; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.arc(x, y, c.sigma * this.canvas.width / 2, 0, 2 * Math.PI); ctx.stroke();
        ctx.setLineDash([]);
      }
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
      if (c.active) { ctx.fillStyle = colour; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke(); }
      else { ctx.strokeStyle = colour; ctx.lineWidth = 3; ctx.stroke(); }
      if (c.index === this.selected && document.activeElement === this.canvas) {
        ctx.strokeStyle = "#ffd400"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(x, y, r + 4, 0, 2 * Math.PI); ctx.stroke();
      }
      ctx.fillStyle = "#fff"; ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText(String(c.index), x + r + 2, y - r);
    }
  }

  drawPoints() {
    const ctx = this.ctx;
    this.handles.forEach((h, i) => {
      const [hx, hy] = this.fromPixel(h);
      const t = this.targets[i];
      if (t) {
        const [tx, ty] = this.fromPixel(t);
        ctx.strokeStyle = "#ffd400"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(hx, hy); ctx.lineTo(tx, ty); ctx.stroke();
        dot(ctx, tx, ty, "#2563eb");
      }
      dot(ctx, hx, hy, "#e11d48");
    });
  }
}

function dot(ctx, x, y, colour) {
  ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI);
  ctx.fillStyle = colour; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke();
}

// a white mask with alpha (the server's alpha PNGs) -> the same mask in one colour
export function tintMask(img, colour) {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const x = c.getContext("2d");
  x.drawImage(img, 0, 0);
  x.globalCompositeOperation = "source-in";
  x.fillStyle = colour;
  x.fillRect(0, 0, c.width, c.height);
  return c;
}

// the image alone (no overlays) at size x size, scaled crisp or smooth, as a PNG data URL
export function imageAt(img, size, smooth) {
  const c = document.createElement("canvas");
  c.width = c.height = size;
  const x = c.getContext("2d");
  x.imageSmoothingEnabled = smooth;
  x.imageSmoothingQuality = "high";
  x.drawImage(img, 0, 0, size, size);
  return c.toDataURL("image/png");
}

export function loadImage(src) {
  const img = new Image();
  img.src = src;
  return img.decode().then(() => img);
}

// A small line chart on a <canvas>: one line per band over time (or over sample index when
// the series has no times), with axes, ticks and a legend.

const COLORS = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

function niceTicks(lo, hi, count) {
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Draw ``series`` ([{time, values}]) for ``bands`` on ``canvas``; returns the points drawn. */
export function drawTimeSeries(canvas, series, bands, { title = "" } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 360;
  const height = canvas.clientHeight || 200;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";

  const hasTime = series.length > 0 && series.every((p) => p.time);
  const xs = series.map((p, i) => (hasTime ? Date.parse(p.time) : i));
  const all = series.flatMap((p) => bands.map((b) => p.values[b])).filter((v) => typeof v === "number" && Number.isFinite(v));
  const pad = { left: 48, right: 10, top: title ? 22 : 10, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom - 14 * Math.ceil(bands.length / 4);
  if (title) {
    ctx.fillStyle = "#222";
    ctx.fillText(title, pad.left, 14);
  }
  if (!all.length) {
    ctx.fillStyle = "#666";
    ctx.fillText("no values at this point", pad.left, pad.top + 20);
    return 0;
  }
  const yTicks = niceTicks(Math.min(...all), Math.max(...all), 4);
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const sx = (x) => pad.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const sy = (y) => pad.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;

  ctx.strokeStyle = "#ccc";
  ctx.fillStyle = "#444";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  for (const t of yTicks) {
    ctx.beginPath();
    ctx.moveTo(pad.left, sy(t));
    ctx.lineTo(pad.left + plotW, sy(t));
    ctx.stroke();
    ctx.fillText(String(t), pad.left - 4, sy(t) + 4);
  }
  ctx.textAlign = "center";
  const labelEvery = Math.max(1, Math.ceil(series.length / 5));
  series.forEach((p, i) => {
    if (i % labelEvery) return;
    const label = hasTime ? p.time.slice(0, 10) : String(i);
    ctx.fillText(label, sx(xs[i]), pad.top + plotH + 14);
  });

  let drawn = 0;
  bands.forEach((band, k) => {
    ctx.strokeStyle = ctx.fillStyle = COLORS[k % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    let pen = false;
    series.forEach((p, i) => {
      const v = p.values[band];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        pen = false; // a gap for null (no data) values
        return;
      }
      if (pen) ctx.lineTo(sx(xs[i]), sy(v));
      else ctx.moveTo(sx(xs[i]), sy(v));
      pen = true;
      drawn += 1;
    });
    ctx.stroke();
    series.forEach((p, i) => {
      const v = p.values[band];
      if (typeof v === "number" && Number.isFinite(v)) {
        ctx.beginPath();
        ctx.arc(sx(xs[i]), sy(v), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    });
    const lx = pad.left + (k % 4) * 70;
    const ly = pad.top + plotH + 28 + 14 * Math.floor(k / 4);
    ctx.fillRect(lx, ly - 8, 10, 10);
    ctx.fillStyle = "#222";
    ctx.textAlign = "left";
    ctx.fillText(band, lx + 14, ly + 1);
  });
  return drawn;
}

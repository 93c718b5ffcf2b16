// The WCPS console: an editor with line numbers, the examples, running a query through
// ProcessCoverages, and showing its result as an image on the map and in the panel, a
// number, a table (JSON / CSV), or an error pointing at its line and column.
import { describeCoverage, epsgOfCrsUrl, processCoverages, OwsError } from "./ows.js";
import { EXAMPLES, fillExample } from "./examples.js";
import { encodeFormat, metadataQueries } from "./wcps_text.js";
import { ensureProjection } from "./mapview.js";

const NORTH = /^(lat|latitude|n|north|northing|y)$/i;

/** Parse rasdaman's CSV ({a,b},{c,d} nesting, or plain lines of comma-separated values) into rows. */
export function parseCsv(text) {
  const t = text.trim();
  if (t.startsWith("{")) {
    const rows = [];
    const depthOf = (s) => (s.match(/^\{+/) || [""])[0].length;
    if (depthOf(t) === 1) {
      for (const m of t.matchAll(/\{([^{}]*)\}/g)) rows.push(m[1].split(",").map((v) => v.trim()));
      return rows;
    }
    return null; // three or more dimensions: no table
  }
  return t.split(/\r?\n/).filter(Boolean).map((line) => line.split(",").map((v) => v.trim()));
}

function tableFromJson(value) {
  if (Array.isArray(value) && value.every((v) => typeof v === "number" || v === null)) return value.map((v) => [v]);
  if (Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((v) => typeof v !== "object" || v === null))) {
    return value;
  }
  return null;
}

export class WcpsConsole {
  constructor(root, mapView, getDate) {
    this.root = root;
    this.mapView = mapView;
    this.getDate = getDate;
    this.descriptions = new Map();
    this.coverage = null;
    this.objectUrl = null;
    this.editor = root.querySelector("#wcps-editor");
    this.gutter = root.querySelector("#wcps-gutter");
    this.result = root.querySelector("#wcps-result");
    this.status = root.querySelector("#wcps-status");
    this.examples = root.querySelector("#wcps-examples");
    this.coverageSelect = root.querySelector("#wcps-coverage");
    this.runButton = root.querySelector("#wcps-run");
    this.running = false;

    EXAMPLES.forEach((ex, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = `${i + 1}. ${ex.title}`;
      this.examples.append(option);
    });
    this.examples.addEventListener("change", () => this.loadExample(Number(this.examples.value)));
    this.coverageSelect.addEventListener("change", () => this.selectCoverage(this.coverageSelect.value));
    this.runButton.addEventListener("click", () => this.run());
    this.editor.addEventListener("input", () => this.renumber());
    this.editor.addEventListener("scroll", () => {
      this.gutter.scrollTop = this.editor.scrollTop;
    });
    this.editor.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        event.preventDefault();
        this.run();
      }
    });
    this.renumber();
  }

  /** Offer ``ids`` in the coverage picker and describe the first. */
  async setCoverages(ids) {
    this.coverageSelect.replaceChildren(...ids.map((id) => new Option(id, id)));
    if (ids.length) await this.selectCoverage(ids[0]);
  }

  async describe(id) {
    if (!this.descriptions.has(id)) this.descriptions.set(id, await describeCoverage(id));
    return this.descriptions.get(id);
  }

  async selectCoverage(id) {
    this.coverage = await this.describe(id);
    this.coverageSelect.value = id;
    this.loadExample(Number(this.examples.value || 0));
  }

  loadExample(index) {
    if (!this.coverage) return;
    const date = this.dateFor(this.coverage);
    this.examples.value = String(index);
    this.editor.value = fillExample(EXAMPLES[index].text, this.coverage, date);
    this.renumber();
  }

  /** The map's date when the coverage has it, else the coverage's last date. */
  dateFor(cov) {
    if (!cov.time) return null;
    const shown = this.getDate();
    const day = shown ? shown.slice(0, 10) : null;
    const match = day && cov.time.values.find((v) => v.slice(0, 10) === day);
    return (match || cov.time.values[cov.time.values.length - 1]).slice(0, 10);
  }

  renumber(errorLine = null) {
    const lines = this.editor.value.split("\n").length;
    const items = [];
    for (let i = 1; i <= lines; i += 1) {
      const span = document.createElement("div");
      span.textContent = String(i);
      if (i === errorLine) span.className = "error-line";
      items.push(span);
    }
    this.gutter.replaceChildren(...items);
    this.gutter.scrollTop = this.editor.scrollTop;
  }

  setStatus(text, kind = "") {
    this.status.textContent = text;
    this.status.className = kind;
  }

  show(kind, ...nodes) {
    this.result.replaceChildren(...nodes);
    this.result.dataset.kind = kind;
  }

  /** Run the editor's query and show its result. */
  async run() {
    if (this.running) return;
    const query = this.editor.value;
    this.running = true;
    this.runButton.disabled = true;
    this.renumber();
    this.result.dataset.kind = "running";
    this.result.dataset.placed = "no";
    this.setStatus("running…");
    const started = performance.now();
    try {
      const { blob, type } = await processCoverages(query);
      const ms = Math.round(performance.now() - started);
      await this.showResult(query, blob, type, ms);
    } catch (err) {
      this.showError(err);
    } finally {
      this.running = false;
      this.runButton.disabled = false;
    }
  }

  showError(err) {
    const box = document.createElement("div");
    box.className = "wcps-error";
    const head = document.createElement("strong");
    head.textContent = err.code || (err instanceof OwsError ? "Error" : err.name || "Error");
    const text = document.createElement("div");
    text.textContent = err.message;
    box.append(head, text);
    if (err.line) {
      const where = document.createElement("div");
      where.className = "wcps-error-position";
      where.textContent = `line ${err.line}, column ${err.column}`;
      box.append(where);
      this.renumber(err.line);
      this.placeCaret(err.line, err.column);
    }
    this.mapView.clearResult();
    this.show("error", box);
    this.setStatus(err.line ? `error at line ${err.line}, column ${err.column}` : "error", "error");
  }

  placeCaret(line, column) {
    const lines = this.editor.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    this.editor.focus();
    this.editor.setSelectionRange(offset, Math.min(offset + 1, this.editor.value.length));
  }

  async showResult(query, blob, type, ms) {
    const size = `${blob.size.toLocaleString()} bytes, ${ms} ms`;
    if (type === "image/png" || type === "image/jpeg") {
      await this.showImage(query, blob, type, size);
      return;
    }
    this.mapView.clearResult();
    const text = await blob.text();
    if (type === "application/json") {
      let value = null;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (typeof value === "number") return this.showNumber(value, size);
      const rows = value !== undefined && tableFromJson(value);
      if (rows) return this.showTable(rows, `JSON, ${size}`);
      return this.showText(text, `JSON, ${size}`);
    }
    if (type === "text/csv") {
      const rows = parseCsv(text);
      if (rows) return this.showTable(rows, `CSV, ${size}`);
      return this.showText(text, `CSV, ${size}`);
    }
    if (type.startsWith("text/") || type.endsWith("xml")) {
      const number = Number(text.trim());
      if (text.trim() !== "" && Number.isFinite(number)) return this.showNumber(number, size);
      return this.showText(text, `${type}, ${size}`);
    }
    this.showDownload(blob, type, size);
  }

  showNumber(value, size) {
    const el = document.createElement("div");
    el.className = "wcps-number";
    el.textContent = String(value);
    this.show("number", el);
    this.setStatus(`a number (${size})`, "ok");
  }

  showText(text, what) {
    const pre = document.createElement("pre");
    pre.textContent = text.length > 20000 ? `${text.slice(0, 20000)}\n…` : text;
    this.show("text", pre);
    this.setStatus(what, "ok");
  }

  showTable(rows, what) {
    const table = document.createElement("table");
    table.className = "wcps-table";
    const shown = rows.slice(0, 200);
    const width = Math.max(...shown.map((r) => r.length));
    const head = table.createTHead().insertRow();
    head.append(document.createElement("th"));
    for (let j = 0; j < width; j += 1) {
      const th = document.createElement("th");
      th.textContent = String(j);
      head.append(th);
    }
    const body = table.createTBody();
    shown.forEach((row, i) => {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.textContent = String(i);
      tr.append(th);
      for (const v of row) tr.insertCell().textContent = v === null ? "—" : String(v);
    });
    this.show("table", table);
    this.setStatus(`${what}: ${rows.length} × ${width} table${rows.length > shown.length ? " (first 200 rows)" : ""}`, "ok");
  }

  showDownload(blob, type, size) {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = this.objectUrl;
    a.download = `result.${type.split("/")[1].replace(/[^a-z0-9]+/g, "") || "bin"}`;
    a.textContent = `download the result (${type})`;
    this.show("file", a);
    this.setStatus(`${type} (${size})`, "ok");
  }

  async showImage(query, blob, type, size) {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = URL.createObjectURL(blob);
    const img = document.createElement("img");
    img.src = this.objectUrl;
    img.alt = "query result";
    await img.decode();
    const placed = await this.placeOnMap(query, this.objectUrl);
    this.result.dataset.placed = placed ? "yes" : "no";
    this.show("image", img);
    const where = placed ? `placed on the map (${placed})` : "not georeferenced: shown here only";
    this.setStatus(`${type} ${img.naturalWidth} × ${img.naturalHeight}, ${size}; ${where}`, "ok");
  }

  /**
   * Ask the server for the CRS and extent of the encoded value (crsSet and domain on the
   * same expression) and show the image there; returns a description or null.
   */
  async placeOnMap(query, url) {
    this.mapView.clearResult();
    if (!["image/png", "png", "image/jpeg", "jpeg"].includes(encodeFormat(query) || "")) return null;
    const m = /\bin\s*\(\s*([A-Za-z_][\w.-]*)/.exec(query);
    if (!m) return null;
    try {
      const cov = await this.describe(m[1]);
      const meta = metadataQueries(query, cov.spatial.map((a) => a.name));
      if (!meta || cov.spatial.length !== 2) return null;
      const answer = async (q) => (await processCoverages(q)).blob.text();
      const [crsText, ...domainTexts] = await Promise.all([answer(meta.crs), ...meta.domains.map(answer)]);
      const crs = epsgOfCrsUrl(crsText) || cov.crs;
      if (!(await ensureProjection(crs))) return null;
      const domains = domainTexts.map((t) => JSON.parse(t));
      const [a, b] = cov.spatial;
      const [xi, yi] = NORTH.test(a.name) && !NORTH.test(b.name) ? [1, 0] : [0, 1];
      const extent = [domains[xi].lo, domains[yi].lo, domains[xi].hi, domains[yi].hi];
      this.mapView.showResult(url, extent, crs);
      return `${crs} ${extent.map((v) => Math.round(v * 100) / 100).join(", ")}`;
    } catch (err) {
      console.warn("cannot place the result on the map", err);
      return null;
    }
  }
}

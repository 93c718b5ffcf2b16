// Talking to the server: WCS 2.0.1 capabilities and coverage descriptions, WCPS through
// ProcessCoverages, WMS 1.3.0 capabilities, and OGC exception reports.
import WMSCapabilities from "ol/format/WMSCapabilities.js";

export const WCS_ENDPOINT = "rasdaman/ows";
export const WMS_ENDPOINT = "ows";

const NS = {
  wcs: "http://www.opengis.net/wcs/2.0",
  ows: "http://www.opengis.net/ows/2.0",
  gml: "http://www.opengis.net/gml/3.2",
  gmlrgrid: "http://www.opengis.net/gml/3.3/rgrid",
  swe: "http://www.opengis.net/swe/2.0",
};

/** An error the server answered with an OGC ExceptionReport (or any non-2xx answer). */
export class OwsError extends Error {
  constructor(message, { code = null, locator = null, status = 0 } = {}) {
    super(message);
    this.code = code;
    this.locator = locator;
    this.status = status;
    const pos = /^(\d+):(\d+)$/.exec(locator || "") || /line (\d+), column (\d+)/.exec(message);
    this.line = pos ? Number(pos[1]) : null;
    this.column = pos ? Number(pos[2]) : null;
  }
}

/** Parse an OWS (1.1 or 2.0) or WMS ServiceExceptionReport into an OwsError. */
export function exceptionFromXml(text, status) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const exc = doc.getElementsByTagNameNS("*", "Exception")[0] || doc.getElementsByTagNameNS("*", "ServiceException")[0];
  if (!exc) {
    return new OwsError(`HTTP ${status}: ${text.slice(0, 300)}`, { status });
  }
  const textNode = exc.getElementsByTagNameNS("*", "ExceptionText")[0];
  const message = (textNode ? textNode.textContent : exc.textContent).trim();
  return new OwsError(message, {
    code: exc.getAttribute("exceptionCode") || exc.getAttribute("code"),
    locator: exc.getAttribute("locator"),
    status,
  });
}

async function fetchOk(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) {
    throw exceptionFromXml(await response.text(), response.status);
  }
  return response;
}

function kvp(endpoint, params) {
  return `${endpoint}?${new URLSearchParams(params).toString()}`;
}

function xml(text) {
  return new DOMParser().parseFromString(text, "application/xml");
}

function childText(el, ns, name) {
  const found = el.getElementsByTagNameNS(ns, name)[0];
  return found ? found.textContent.trim() : null;
}

/** Coverage ids the WCS offers, in the order of its capabilities. */
export async function wcsCoverageIds() {
  const text = await (await fetchOk(kvp(WCS_ENDPOINT, { service: "WCS", version: "2.0.1", request: "GetCapabilities" }))).text();
  const summaries = [...xml(text).getElementsByTagNameNS(NS.wcs, "CoverageSummary")];
  return summaries.map((s) => childText(s, NS.wcs, "CoverageId"));
}

/** Split a GML position list whose time values are quoted ("2021-06-03T00:00:00.000Z" 500000 ...). */
function positions(text) {
  return (text.match(/"[^"]*"|\S+/g) || []).map((t) => t.replace(/^"|"$/g, ""));
}

/** EPSG code (as "EPSG:32633") of the spatial part of a (compound) CRS URL, or null. */
export function epsgOfCrsUrl(url) {
  const all = [...decodeURIComponent(url || "").matchAll(/EPSG\/\d+\/(\d+)/g)];
  return all.length ? `EPSG:${all[all.length - 1][1]}` : null;
}

/**
 * A coverage's description: axis labels, its spatial CRS and the two spatial axes with their
 * extent, the time axis with its dates, and its bands.
 */
export async function describeCoverage(id) {
  const params = { service: "WCS", version: "2.0.1", request: "DescribeCoverage", coverageId: id };
  const doc = xml(await (await fetchOk(kvp(WCS_ENDPOINT, params))).text());
  const env = doc.getElementsByTagNameNS(NS.gml, "Envelope")[0];
  const labels = env.getAttribute("axisLabels").trim().split(/\s+/);
  const low = positions(childText(env, NS.gml, "lowerCorner"));
  const high = positions(childText(env, NS.gml, "upperCorner"));
  const axes = labels.map((name, i) => ({ name, low: low[i], high: high[i] }));
  const isTime = (a) => /^\d{4}-\d\d/.test(a.low);
  const spatial = axes.filter((a) => !isTime(a));
  const time = axes.find(isTime) || null;
  if (time) {
    // an irregular time axis lists its dates as coefficients
    const ga = [...doc.getElementsByTagNameNS(NS.gmlrgrid, "GeneralGridAxis")].find((g) => childText(g, NS.gmlrgrid, "gridAxesSpanned") === time.name);
    const coefficients = ga ? positions(childText(ga, NS.gmlrgrid, "coefficients") || "") : [];
    time.values = coefficients.length ? coefficients : [time.low, time.high];
  }
  const gridAxes = [...doc.getElementsByTagNameNS(NS.gmlrgrid, "GeneralGridAxis")];
  const resolution = (name) => {
    const ga = gridAxes.find((g) => childText(g, NS.gmlrgrid, "gridAxesSpanned") === name);
    const offsets = ga ? positions(childText(ga, NS.gmlrgrid, "offsetVector")).map(Number) : [];
    return Math.abs(offsets.find((v) => v !== 0) || 0) || null;
  };
  const bands = [...doc.getElementsByTagNameNS(NS.swe, "field")].map((f) => f.getAttribute("name"));
  return {
    id,
    crs: epsgOfCrsUrl(env.getAttribute("srsName")),
    axes,
    spatial: spatial.map((a) => ({ name: a.name, low: Number(a.low), high: Number(a.high), resolution: resolution(a.name) })),
    time,
    bands,
  };
}

/**
 * Run a WCPS query through ProcessCoverages (POSTed as a form so that long queries fit).
 * Returns {blob, type}; throws OwsError with line/column for a syntax error.
 */
export async function processCoverages(query) {
  const body = new URLSearchParams({ service: "WCS", version: "2.0.1", request: "ProcessCoverages", query });
  const response = await fetchOk(WCS_ENDPOINT, { method: "POST", body });
  const type = (response.headers.get("content-type") || "application/octet-stream").split(";")[0].trim();
  return { blob: await response.blob(), type };
}

/** Expand a WMS 1.3.0 time dimension value: a list of instants and/or start/end/period intervals. */
export function expandTimeDimension(values) {
  const out = [];
  for (const part of String(values || "").split(",").map((v) => v.trim()).filter(Boolean)) {
    const [start, end, period] = part.split("/");
    if (!end) {
      out.push(start);
      continue;
    }
    const step = parsePeriod(period);
    if (!step) {
      out.push(start, end); // a continuous interval: offer its ends
      continue;
    }
    for (let t = new Date(start); t <= new Date(end) && out.length < 5000; t = step(t)) {
      out.push(start.length <= 10 ? t.toISOString().slice(0, 10) : t.toISOString());
    }
  }
  return [...new Set(out)];
}

function parsePeriod(period) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(period || "");
  if (!m || m.slice(1).every((v) => v === undefined)) return null;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => Number(v || 0));
  return (t) => {
    const n = new Date(t);
    n.setUTCFullYear(n.getUTCFullYear() + y, n.getUTCMonth() + mo, n.getUTCDate() + 7 * w + d);
    n.setUTCHours(n.getUTCHours() + h, n.getUTCMinutes() + mi, n.getUTCSeconds() + s);
    return n;
  };
}

/**
 * The named layers of the WMS (1.3.0 GetCapabilities), each with title, styles, its
 * geographic bounding box, whether it is queryable, and the values of its time dimension.
 */
export async function wmsLayers() {
  const params = { service: "WMS", version: "1.3.0", request: "GetCapabilities" };
  const text = await (await fetchOk(kvp(WMS_ENDPOINT, params))).text();
  const caps = new WMSCapabilities().read(text);
  if (!caps || !caps.Capability || !caps.Capability.Layer) {
    throw new OwsError("the WMS GetCapabilities answer has no Capability/Layer");
  }
  const layers = [];
  const walk = (layer, inherited) => {
    const dims = [...(inherited.Dimension || []), ...(layer.Dimension || [])];
    const here = { Dimension: dims, bbox: layer.EX_GeographicBoundingBox || inherited.bbox };
    if (layer.Name) {
      const time = dims.find((d) => d.name && d.name.toLowerCase() === "time");
      layers.push({
        name: layer.Name,
        title: layer.Title || layer.Name,
        queryable: Boolean(layer.queryable),
        styles: (layer.Style || []).map((s) => ({ name: s.Name, title: s.Title || s.Name })),
        bbox: here.bbox || null, // [minLon, minLat, maxLon, maxLat]
        times: time ? expandTimeDimension(time.values) : [],
        defaultTime: time ? time.default : null,
      });
    }
    for (const child of layer.Layer || []) walk(child, here);
  };
  walk(caps.Capability.Layer, {});
  return layers;
}

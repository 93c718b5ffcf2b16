// The demo page: the WMS layers of the server on a map with a time slider (play/pause),
// opacity, a click-for-time-series chart, and the WCPS console. Everything it shows is read
// from the server at page load (WMS and WCS GetCapabilities), nothing from the internet.
import "ol/ol.css";
import "./style.css";

import { toLonLat } from "ol/proj.js";

import { MapView, ensureProjection } from "./mapview.js";
import { WcpsConsole } from "./console.js";
import { parseFeatureInfo } from "./featureinfo.js";
import { drawTimeSeries } from "./chart.js";
import { wcsCoverageIds, wmsLayers } from "./ows.js";

const $ = (selector) => document.querySelector(selector);

const state = {
  layers: [],
  layer: null,
  times: [],
  timeIndex: 0,
  playing: null,
  errors: [],
  ready: false,
};

const mapView = new MapView("map");
const wcps = new WcpsConsole($("#console"), mapView, () => currentTime());

function currentTime() {
  return state.times.length ? state.times[state.timeIndex] : null;
}

function note(text, kind = "") {
  const el = $("#map-status");
  el.textContent = text;
  el.className = kind;
}

function setTimeIndex(index) {
  state.timeIndex = Math.max(0, Math.min(state.times.length - 1, index));
  $("#time-slider").value = String(state.timeIndex);
  const t = currentTime();
  $("#time-label").textContent = t ? t.replace(/T00:00:00(\.0+)?Z$/, "").replace("T", " ") : "—";
  $("#time-label").dataset.time = t || "";
  mapView.updateWms({ TIME: currentTime() });
  markChartTime();
}

function stopPlaying() {
  if (state.playing) clearInterval(state.playing);
  state.playing = null;
  $("#play").textContent = "▶ play";
  $("#play").setAttribute("aria-pressed", "false");
}

function togglePlay() {
  if (state.playing) {
    stopPlaying();
    return;
  }
  $("#play").textContent = "❚❚ pause";
  $("#play").setAttribute("aria-pressed", "true");
  state.playing = setInterval(() => setTimeIndex((state.timeIndex + 1) % state.times.length), 1500);
}

function selectLayer(name) {
  const layer = state.layers.find((l) => l.name === name);
  if (!layer) return;
  stopPlaying();
  state.layer = layer;
  state.times = layer.times;
  const defaultIndex = layer.times.indexOf(layer.defaultTime);
  state.timeIndex = defaultIndex >= 0 ? defaultIndex : Math.max(0, layer.times.length - 1);
  const slider = $("#time-slider");
  slider.max = String(Math.max(0, layer.times.length - 1));
  slider.disabled = layer.times.length < 2;
  $("#play").disabled = layer.times.length < 2;
  $("#time-count").textContent = layer.times.length ? `${layer.times.length} dates` : "no time dimension";
  $("#style").replaceChildren(new Option("(layer default)", ""), ...layer.styles.map((s) => new Option(s.title, s.name)));
  mapView.showWms(layer, currentTime(), "");
  setTimeIndex(state.timeIndex);
  if (layer.bbox) mapView.fitGeographic(layer.bbox);
  $("#chart-panel").hidden = true;
}

async function loadWms() {
  try {
    state.layers = await wmsLayers();
  } catch (err) {
    state.errors.push(`WMS: ${err.message}`);
    note(`The WMS is not available (${err.message}); the WCPS console still works.`, "error");
    return;
  }
  if (!state.layers.length) {
    note("The WMS offers no layers: import a coverage with \"wms_import\": true.", "error");
    return;
  }
  $("#layer").replaceChildren(...state.layers.map((l) => new Option(l.title, l.name)));
  selectLayer(state.layers[0].name);
  note("");
}

let chartData = null;

function markChartTime() {
  if (chartData) renderChart();
}

function renderChart() {
  const { series, bands, where } = chartData;
  const canvas = $("#chart");
  const drawn = drawTimeSeries(canvas, series, bands, { title: where });
  canvas.dataset.points = String(drawn);
  const now = currentTime();
  const row = series.find((p) => p.time && now && p.time.slice(0, 10) === now.slice(0, 10)) || (series.length === 1 ? series[0] : null);
  const table = $("#pixel-values");
  table.replaceChildren();
  if (row) {
    for (const band of bands) {
      const tr = table.insertRow();
      tr.insertCell().textContent = band;
      tr.insertCell().textContent = row.values[band] === null ? "no data" : String(row.values[band]);
    }
  }
}

async function featureInfoSeries(coordinate) {
  const times = state.times;
  const fetchJson = async (time) => {
    const url = mapView.featureInfoUrl(coordinate, time);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GetFeatureInfo answered HTTP ${response.status}`);
    return parseFeatureInfo(await response.json());
  };
  if (times.length < 2) return fetchJson(times[0] || null);
  // all dates in one request (a WMS 1.3.0 time interval); a server that answers one date
  // per request is asked date by date
  let parsed = null;
  try {
    parsed = await fetchJson(`${times[0]}/${times[times.length - 1]}`);
  } catch (err) {
    parsed = null;
  }
  if (parsed && parsed.series.filter((p) => p.time).length >= 2) return parsed;
  const series = [];
  const bands = [];
  for (const time of times.slice(0, 100)) {
    const one = await fetchJson(time);
    for (const p of one.series) series.push({ time: p.time || time, values: p.values });
    for (const b of one.bands) if (!bands.includes(b)) bands.push(b);
  }
  return { series, bands };
}

async function onMapClick(event) {
  if (!state.layer || !state.layer.queryable) return;
  const panel = $("#chart-panel");
  panel.hidden = false;
  $("#chart-status").textContent = "asking the server…";
  $("#chart-status").className = "";
  const [lon, lat] = toLonLat(event.coordinate);
  const where = `${state.layer.title} at ${lat.toFixed(5)}° N, ${lon.toFixed(5)}° E`;
  try {
    const { series, bands } = await featureInfoSeries(event.coordinate);
    chartData = { series, bands, where };
    renderChart();
    $("#chart-status").textContent = series.length ? `${series.length} value(s)` : "no data at this point";
  } catch (err) {
    chartData = null;
    $("#chart-status").textContent = `GetFeatureInfo failed: ${err.message}`;
    $("#chart-status").className = "error";
  }
}

async function loadWcs() {
  try {
    const ids = await wcsCoverageIds();
    if (!ids.length) {
      wcps.setStatus("The server has no coverages yet: import one with `petacube import`.", "error");
      return;
    }
    await wcps.setCoverages(ids);
    if (!state.layer) {
      // no WMS: show the console's coverage on the map at least by its extent
      const cov = wcps.coverage;
      if (cov.spatial.length === 2 && (await ensureProjection(cov.crs))) {
        mapView.fitExtent([cov.spatial[0].low, cov.spatial[1].low, cov.spatial[0].high, cov.spatial[1].high], cov.crs);
      }
    }
  } catch (err) {
    state.errors.push(`WCS: ${err.message}`);
    wcps.setStatus(`Cannot read the coverages: ${err.message}`, "error");
  }
}

function wireControls() {
  $("#layer").addEventListener("change", (e) => selectLayer(e.target.value));
  $("#style").addEventListener("change", (e) => mapView.updateWms({ STYLES: e.target.value }));
  $("#time-slider").addEventListener("input", (e) => setTimeIndex(Number(e.target.value)));
  $("#play").addEventListener("click", togglePlay);
  $("#wms-opacity").addEventListener("input", (e) => mapView.setWmsOpacity(Number(e.target.value) / 100));
  $("#result-opacity").addEventListener("input", (e) => mapView.setResultOpacity(Number(e.target.value) / 100));
  $("#chart-close").addEventListener("click", () => {
    $("#chart-panel").hidden = true;
    chartData = null;
  });
  mapView.map.on("singleclick", onMapClick);
}

wireControls();
// the page's state, for people poking around in the developer tools and for the browser tests
window.petacube = { state, mapView, wcps };
(async () => {
  await loadWms();
  await loadWcs();
  state.ready = true;
  document.body.dataset.ready = "true";
})();

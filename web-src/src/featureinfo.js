// Reading a WMS GetFeatureInfo JSON answer into a time series of band values.
//
// WMS 1.3.0 leaves the JSON layout to the server, so this accepts the common shapes:
// a GeoJSON FeatureCollection (one feature per time, or one feature whose properties hold
// arrays), a plain list of records, or an object of columns. A "record" is any object with
// numeric members; its time is the first member that reads as an ISO 8601 date.

const ISO = /^\d{4}-\d\d-\d\d/;
const SKIP = new Set(["x", "y", "i", "j", "lon", "lat", "longitude", "latitude", "id"]);

function isRecordLike(obj) {
  return obj && typeof obj === "object" && !Array.isArray(obj);
}

function timeOf(obj) {
  for (const [key, value] of Object.entries(obj)) {
    if (typeof value === "string" && ISO.test(value) && !Number.isNaN(Date.parse(value))) return { key, value };
  }
  return null;
}

/** Columnar form: one array of times and arrays of numbers of the same length. */
function fromColumns(obj, out) {
  const entries = Object.entries(obj).filter(([, v]) => Array.isArray(v));
  const times = entries.find(([, v]) => v.length && v.every((t) => typeof t === "string" && ISO.test(t)));
  if (!times) return false;
  const columns = entries.filter(([k, v]) => k !== times[0] && v.length === times[1].length && v.every((x) => typeof x === "number" || x === null));
  if (!columns.length) return false;
  times[1].forEach((t, i) => {
    const values = {};
    for (const [k, v] of columns) values[k] = v[i];
    out.push({ time: t, values });
  });
  return true;
}

function collect(node, inheritedTime, out) {
  if (Array.isArray(node)) {
    node.forEach((item) => collect(item, inheritedTime, out));
    return;
  }
  if (!isRecordLike(node)) return;
  if (node.type === "FeatureCollection" && Array.isArray(node.features)) {
    collect(node.features, inheritedTime, out);
    return;
  }
  const props = node.type === "Feature" && isRecordLike(node.properties) ? node.properties : node;
  if (fromColumns(props, out)) return;
  // the time may sit beside the values, e.g. {coordinates: {time: ...}, bands: {...}}
  const time = timeOf(props) || Object.values(props).filter(isRecordLike).map(timeOf).find(Boolean) || null;
  const values = {};
  const nested = [];
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "number" && !SKIP.has(key.toLowerCase())) values[key] = value;
    else if (value === null && !(time && key === time.key)) values[key] = null;
    else if (typeof value === "object" && value !== null && key !== "geometry") nested.push(value);
  }
  const here = time ? time.value : inheritedTime;
  if (Object.values(values).some((v) => typeof v === "number")) out.push({ time: here, values });
  nested.forEach((child) => collect(child, here, out));
}

/**
 * The series in a GetFeatureInfo JSON answer: [{time, values: {band: number|null}}] sorted by
 * time (records without a time keep their order at the end), plus the band names.
 */
export function parseFeatureInfo(json) {
  const records = [];
  collect(json, null, records);
  const timed = records.filter((r) => r.time).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const series = [...timed, ...records.filter((r) => !r.time)];
  const bands = [];
  for (const r of series) for (const k of Object.keys(r.values)) if (!bands.includes(k)) bands.push(k);
  return { series, bands };
}

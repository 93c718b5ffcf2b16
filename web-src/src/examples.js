// The WCPS console's ready-to-run examples: the nine classic Sentinel-2 scripts, plus a
// number and a table. Templates are filled from the coverage picked in the console:
//   {cov} coverage id, {t} its time axis, {date} the date shown on the map,
//   {x}/{y} its spatial axes, {polygon} a pentagon inside its extent (WKT coordinates),
//   {window} a trim of a few pixels around its centre.

export const EXAMPLES = [
  {
    title: "True colour (B4, B3, B2)",
    text: `-- natural colours: red, green and blue bands, reflectance / 10 as 8-bit
for $c in ({cov})
return encode(
  {red: $c.B04; green: $c.B03; blue: $c.B02}[{t}("{date}")] / 10,
  "image/png")`,
  },
  {
    title: "Land / sand / water",
    text: `-- water where green beats near infrared (NDWI > 0), sand where short-wave
-- infrared beats near infrared clearly, land elsewhere
for $c in ({cov})
let $s := $c[{t}("{date}")],
    $ndwi := ((float) $s.B03 - $s.B08) / ((float) $s.B03 + $s.B08),
    $swir := ((float) $s.B11 - $s.B08) / ((float) $s.B11 + $s.B08)
return encode(
  switch
    case $ndwi > 0 return {red: 20; green: 60; blue: 200}
    case $swir > 0.1 return {red: 240; green: 210; blue: 120}
    default return {red: 40; green: 150; blue: 40},
  "image/png")`,
  },
  {
    title: "Simple land mask",
    text: `-- white land, black water: NDWI below zero
for $c in ({cov})
let $s := $c[{t}("{date}")]
return encode(
  ((float) $s.B03 - $s.B08) / ((float) $s.B03 + $s.B08) < 0,
  "image/png")`,
  },
  {
    title: "Simple water mask",
    text: `-- water in blue over a transparent background (red, green, blue, alpha)
for $c in ({cov})
let $s := $c[{t}("{date}")],
    $water := ((float) $s.B03 - $s.B08) / ((float) $s.B03 + $s.B08) > 0
return encode(
  {red: 0 * $water; green: 90 * $water; blue: 255 * $water; alpha: 220 * $water},
  "image/png")`,
  },
  {
    title: "MERIS terrestrial chlorophyll index (MTCI)",
    text: `-- MTCI = (B06 - B05) / (B05 - B04), coloured by a ramp from bare (brown) to dense green
for $c in ({cov})
let $s := $c[{t}("{date}")]
return encode(
  ((float) $s.B06 - $s.B05) / ((float) $s.B05 - $s.B04),
  "image/png",
  "{\\"colorMap\\": {\\"type\\": \\"ramp\\", \\"colorTable\\": {\\"0\\": [120, 70, 20, 255], \\"1\\": [220, 200, 90, 255], \\"2\\": [90, 180, 60, 255], \\"4\\": [0, 90, 20, 255]}}}")`,
  },
  {
    title: "Highlight green areas",
    text: `-- true colour, with vegetation (NDVI > 0.5) painted bright green
for $c in ({cov})
let $s := $c[{t}("{date}")],
    $ndvi := ((float) $s.B08 - $s.B04) / ((float) $s.B08 + $s.B04)
return encode(
  switch
    case $ndvi > 0.5 return {red: 0; green: 230; blue: 60}
    default return {red: $s.B04 / 10; green: $s.B03 / 10; blue: $s.B02 / 10},
  "image/png")`,
  },
  {
    title: "False colour infrared (B8, B4, B3)",
    text: `-- near infrared as red: vegetation shows red, water dark
for $c in ({cov})
let $s := $c[{t}("{date}")]
return encode(
  {red: $s.B08 / 16; green: $s.B04 / 10; blue: $s.B03 / 10},
  "image/png")`,
  },
  {
    title: "Colours with atmospheric removal",
    text: `-- dark-object subtraction: the darkest pixel of each band is haze, take it away
-- and stretch what is left
for $c in ({cov})
let $s := $c[{t}("{date}")]
return encode(
  {red:   ($s.B04 - min($s.B04)) / 8;
   green: ($s.B03 - min($s.B03)) / 7;
   blue:  ($s.B02 - min($s.B02)) / 5},
  "image/png")`,
  },
  {
    title: "Clip to a polygon",
    text: `-- true colour inside a polygon (WKT, in the coverage's CRS); outside is transparent
for $c in ({cov})
return encode(
  clip({red: $c.B04; green: $c.B03; blue: $c.B02}[{t}("{date}")] / 10,
       POLYGON(({polygon}))),
  "image/png", "{\\"nodata\\": [0, 0, 0]}")`,
  },
  {
    title: "Mean NDVI (a number)",
    text: `-- one number: the mean NDVI of the whole scene on the date shown
for $c in ({cov})
let $s := $c[{t}("{date}")]
return avg(((float) $s.B08 - $s.B04) / ((float) $s.B08 + $s.B04))`,
  },
  {
    title: "NIR pixel values (a table)",
    text: `-- a few pixels of band B08 around the centre, as CSV
for $c in ({cov})
return encode($c.B08[{t}("{date}"), {window}], "text/csv")`,
  },
];

function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Fill a template for a described coverage (see ows.describeCoverage) and a date. */
export function fillExample(template, cov, date) {
  const [xa, ya] = cov.spatial;
  const [cx, cy] = [(xa.low + xa.high) / 2, (ya.low + ya.high) / 2];
  const [rx, ry] = [(xa.high - xa.low) * 0.35, (ya.high - ya.low) * 0.35];
  const pentagon = [];
  for (let k = 0; k <= 5; k += 1) {
    const angle = Math.PI / 2 + (2 * Math.PI * (k % 5)) / 5;
    pentagon.push(`${fmt(cx + rx * Math.cos(angle))} ${fmt(cy + ry * Math.sin(angle))}`);
  }
  // a window of 6 x 4 pixels
  const [dx, dy] = [xa.resolution || (xa.high - xa.low) / 100, ya.resolution || (ya.high - ya.low) / 100];
  const [wx, wy] = [xa.low + dx * Math.floor((cx - xa.low) / dx), ya.low + dy * Math.floor((cy - ya.low) / dy)];
  const window = `${xa.name}(${fmt(wx)}:${fmt(wx + 6 * dx)}), ${ya.name}(${fmt(wy)}:${fmt(wy + 4 * dy)})`;
  const values = {
    cov: cov.id,
    t: cov.time ? cov.time.name : "ansi",
    date: date || (cov.time ? cov.time.values[0] : ""),
    x: xa.name,
    y: ya.name,
    polygon: pentagon.join(", "),
    window,
  };
  let text = template.replace(/\{(cov|t|date|x|y|polygon|window)\}/g, (_, key) => values[key]);
  if (!cov.time) {
    // a coverage without time: drop the time slices ([ansi("...")] and "ansi(...), ")
    text = text.replace(/\[ansi\(""\)\]/g, "").replace(/ansi\(""\), /g, "");
  }
  return text;
}

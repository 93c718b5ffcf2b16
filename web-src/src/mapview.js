// The map: an OpenLayers view in Web Mercator with the WMS layer (TIME and STYLES from the
// controls), a graticule instead of a base map (the page loads nothing from the internet),
// and WCPS image results placed as ImageStatic layers in their own CRS.
import Map from "ol/Map.js";
import View from "ol/View.js";
import TileLayer from "ol/layer/Tile.js";
import ImageLayer from "ol/layer/Image.js";
import Graticule from "ol/layer/Graticule.js";
import TileWMS from "ol/source/TileWMS.js";
import ImageStatic from "ol/source/ImageStatic.js";
import Stroke from "ol/style/Stroke.js";
import { ScaleLine, defaults as defaultControls } from "ol/control.js";
import { containsExtent } from "ol/extent.js";
import { transformExtent } from "ol/proj.js";
import { get as getProjection } from "ol/proj.js";
import { register } from "ol/proj/proj4.js";
import proj4 from "proj4";

import { WMS_ENDPOINT } from "./ows.js";

/** Make ``code`` ("EPSG:n") known to OpenLayers; UTM zones built in, others from the resolver. */
export async function ensureProjection(code) {
  if (!code || getProjection(code)) return Boolean(code);
  const n = Number(code.split(":")[1]);
  let def = null;
  if ((n > 32600 && n <= 32660) || (n > 32700 && n <= 32760)) {
    def = `+proj=utm +zone=${n % 100} ${n > 32700 ? "+south " : ""}+datum=WGS84 +units=m +no_defs`;
  } else {
    // the CRS resolver's GML definition carries the WKT in gml:remarks
    const response = await fetch(`def/crs/EPSG/0/${n}`);
    if (!response.ok) return false;
    const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
    const remarks = doc.getElementsByTagNameNS("*", "remarks")[0];
    def = remarks ? remarks.textContent.trim() : null;
  }
  if (!def) return false;
  try {
    proj4.defs(code, def);
    register(proj4);
  } catch (err) {
    console.warn(`cannot use ${code} on the map`, err);
    return false;
  }
  return Boolean(getProjection(code));
}

export class MapView {
  constructor(target) {
    this.wmsSource = null;
    this.wmsLayer = new TileLayer({ visible: false });
    this.resultLayer = new ImageLayer({ visible: false });
    this.pendingTiles = 0;
    this.renderCount = 0;
    this.map = new Map({
      target,
      controls: defaultControls().extend([new ScaleLine()]),
      layers: [
        new Graticule({ strokeStyle: new Stroke({ color: "rgba(60,60,60,0.25)", width: 1 }), showLabels: true }),
        this.wmsLayer,
        this.resultLayer,
      ],
      view: new View({ center: [0, 0], zoom: 2 }),
    });
    this.map.on("rendercomplete", () => {
      this.renderCount += 1;
    });
  }

  /** Show WMS ``layer`` (from ows.wmsLayers) at ``time`` with ``style``. */
  showWms(layer, time, style) {
    const params = { LAYERS: layer.name, STYLES: style || "", FORMAT: "image/png", TRANSPARENT: true, VERSION: "1.3.0" };
    if (time) params.TIME = time;
    this.wmsSource = new TileWMS({ url: WMS_ENDPOINT, params, projection: "EPSG:3857", transition: 0 });
    this.wmsSource.on("tileloadstart", () => {
      this.pendingTiles += 1;
    });
    const done = () => {
      this.pendingTiles = Math.max(0, this.pendingTiles - 1);
    };
    this.wmsSource.on("tileloadend", done);
    this.wmsSource.on("tileloaderror", done);
    this.wmsLayer.setSource(this.wmsSource);
    this.wmsLayer.setVisible(true);
    this.currentLayer = layer;
  }

  /** Change TIME / STYLES of the WMS layer shown. */
  updateWms(params) {
    if (this.wmsSource) this.wmsSource.updateParams(params);
  }

  setWmsOpacity(value) {
    this.wmsLayer.setOpacity(value);
  }

  setResultOpacity(value) {
    this.resultLayer.setOpacity(value);
  }

  /** Zoom to a [minLon, minLat, maxLon, maxLat] box. */
  fitGeographic(bbox) {
    const extent = transformExtent(bbox, "EPSG:4326", "EPSG:3857");
    this.map.getView().fit(extent, { padding: [20, 20, 20, 20] });
  }

  /** Zoom to an extent given in ``crs``. */
  fitExtent(extent, crs) {
    const e = transformExtent(extent, crs, "EPSG:3857");
    this.map.getView().fit(e, { padding: [20, 20, 20, 20] });
  }

  /** Place an image (object URL) covering ``extent`` in ``crs`` on the map. */
  showResult(url, extent, crs) {
    this.resultLayer.setSource(new ImageStatic({ url, imageExtent: extent, projection: crs, interpolate: false }));
    this.resultLayer.setVisible(true);
    const view = this.map.getView();
    const shown = view.calculateExtent(this.map.getSize());
    const wanted = transformExtent(extent, crs, "EPSG:3857");
    if (!containsExtent(shown, wanted)) view.fit(wanted, { padding: [20, 20, 20, 20] });
  }

  clearResult() {
    this.resultLayer.setVisible(false);
    this.resultLayer.setSource(null);
  }

  /** The GetFeatureInfo URL of the WMS layer at a map coordinate for ``time`` (a WMS TIME value). */
  featureInfoUrl(coordinate, time) {
    if (!this.wmsSource || !this.currentLayer) return null;
    const params = { INFO_FORMAT: "application/json", QUERY_LAYERS: this.currentLayer.name, FEATURE_COUNT: 50 };
    if (time) params.TIME = time;
    const resolution = this.map.getView().getResolution();
    return this.wmsSource.getFeatureInfoUrl(coordinate, resolution, "EPSG:3857", params);
  }
}

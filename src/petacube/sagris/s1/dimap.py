"""BEAM-DIMAP output (SNAP's native format): ``<name>.dim`` XML + ``<name>.data/`` with one ENVI band each.

Only what SNAP needs to open a geocoded float product is written: dataset identity,
raster size, CRS (WKT) and geoposition (affine), one Spectral_Band_Info per band with its
ENVI file, unit and no-data value, plus processing metadata as attributes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from lxml import etree
from lxml.builder import E


class DimapWriter:
    """Write a geocoded float32 product band by band, strip by strip; `close()` writes the .dim."""

    def __init__(self, folder: Path, name: str, grid, bands: list[str], metadata: dict[str, str], unit: str = "intensity"):
        self.folder, self.name, self.grid, self.bands = Path(folder), name, grid, bands
        self.metadata, self.unit = metadata, unit
        self.data_dir = self.folder / f"{name}.data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._ds = {}
        for b in bands:
            self._ds[b] = rasterio.open(self.data_dir / f"{b}.img", "w", driver="ENVI", width=grid.width,
                                        height=grid.height, count=1, dtype="float32", crs=grid.crs,
                                        transform=grid.transform, nodata=np.nan)

    def write(self, band: str, window, array: np.ndarray) -> None:
        self._ds[band].write(array.astype(np.float32, copy=False), 1, window=window)

    def close(self) -> Path:
        for ds in self._ds.values():
            ds.close()
        dim = self.folder / f"{self.name}.dim"
        dim.write_bytes(etree.tostring(self._document(), pretty_print=True, xml_declaration=True, encoding="ISO-8859-1"))
        return dim

    def _document(self):
        g, t = self.grid, self.grid.transform
        band_infos, data_files = [], []
        for i, b in enumerate(self.bands):
            data_files.append(E.Data_File(E.DATA_FILE_PATH(href=f"{self.name}.data/{b}.hdr"), E.BAND_INDEX(str(i))))
            band_infos.append(E.Spectral_Band_Info(
                E.BAND_INDEX(str(i)), E.BAND_NAME(b), E.PRODUCT_DATA_TYPE("float32"), E.PHYSICAL_UNIT(self.unit),
                E.SOLAR_FLUX("0.0"), E.BAND_WAVELEN("0.0"), E.BANDWIDTH("0.0"), E.SCALING_FACTOR("1.0"),
                E.SCALING_OFFSET("0.0"), E.LOG10_SCALED("false"), E.NO_DATA_VALUE_USED("true"),
                E.NO_DATA_VALUE("NaN"), E.BAND_RASTER_WIDTH(str(g.width)), E.BAND_RASTER_HEIGHT(str(g.height))))
        attrs = [E.MDATTR(str(v), name=k, type="ascii") for k, v in sorted(self.metadata.items())]
        return E.Dimap_Document(
            E.Metadata_Id(E.METADATA_FORMAT("DIMAP", version="2.12.1"), E.METADATA_PROFILE("BEAM-DATAMODEL-V1")),
            E.Dataset_Id(E.DATASET_SERIES("BEAM-PRODUCT"), E.DATASET_NAME(self.name)),
            E.Dataset_Use(E.DATASET_COMMENTS(self.metadata.get("geocoding", ""))),
            E.Production(E.PRODUCT_TYPE(self.metadata.get("product_type", "GRD")),
                         E.PRODUCT_SCENE_RASTER_START_TIME(self.metadata.get("start_time", ""))),
            E.Coordinate_Reference_System(E.WKT(g.crs.to_wkt())),
            E.Geoposition(E.IMAGE_TO_MODEL_TRANSFORM(",".join(repr(v) for v in (t.a, t.d, t.b, t.e, t.c, t.f)))),
            E.Raster_Dimensions(E.NCOLS(str(g.width)), E.NROWS(str(g.height)), E.NBANDS(str(len(self.bands)))),
            E.Data_Access(E.DATA_FILE_FORMAT("ENVI"), E.DATA_FILE_FORMAT_DESC("ENVI File Format"),
                          E.DATA_FILE_ORGANISATION("BAND_SEPARATE"), *data_files),
            E.Image_Interpretation(*band_infos),
            E.Dataset_Sources(E.MDElem(E.MDElem(*attrs, name="Processing_Graph"), name="metadata")),
            name="Dimap_Document")


def read_dimap_bands(dim: Path) -> dict[str, Path]:
    """Band name → ENVI .img path of a BEAM-DIMAP product written by `DimapWriter` (or SNAP)."""
    doc = etree.parse(str(dim))
    out = {}
    for info in doc.findall("Image_Interpretation/Spectral_Band_Info"):
        name = info.findtext("BAND_NAME")
        out[name] = dim.parent / f"{dim.stem}.data" / f"{name}.img"
    return out

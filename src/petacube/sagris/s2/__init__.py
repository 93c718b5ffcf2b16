"""Sentinel-2 pre-processor: L1C/L2A SAFE products → L2B GeoTIFF zips (10/20/60 m), masks, previews."""

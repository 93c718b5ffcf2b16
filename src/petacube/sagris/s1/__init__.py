"""SAGRIS Sentinel-1 IW GRD processor: noise removal, calibration, geocoding, derived products."""

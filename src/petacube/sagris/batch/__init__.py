"""Batch machinery shared by the SAGRIS processors: scanning, claims, atomic publishing, runs."""

from petacube.sagris.batch.publish import claim, locked, publish

__all__ = ["claim", "locked", "publish"]

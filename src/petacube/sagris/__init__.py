"""SAGRIS Sentinel pre-processors: s2 (L1C/L2A → L2B), aggregate (L2B → L2C), masks, batch machinery.

Writes files only; ``ingest/`` picks them up. Never imports the server.
"""

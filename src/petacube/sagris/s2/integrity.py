"""The ``-z`` check: is the zip readable, and do the files match manifest.safe's checksums?"""

from __future__ import annotations

import hashlib
import zipfile

from lxml import etree

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s2.product import SafeProduct

# manifest.safe checksumName → hashlib constructor (older products MD5, newer SHA3-256)
HASHES = {"MD5": hashlib.md5, "SHA3-256": hashlib.sha3_256, "SHA-256": hashlib.sha256, "SHA256": hashlib.sha256}


def check_integrity(product: SafeProduct) -> int:
    """Raise BadProduct on a broken zip, a missing listed file or a checksum mismatch; return files checked."""
    where = product.path.name
    if product.is_zip:
        try:
            with zipfile.ZipFile(product.path) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BadProduct(f"{where}: zip test failed ({exc}); the download is truncated or damaged") from exc
        if bad is not None:
            raise BadProduct(f"{where}: zip test failed: member {bad} has a bad CRC; re-download the product")
    if not product.exists("manifest.safe"):
        raise BadProduct(f"{where}: manifest.safe is missing, cannot verify checksums")
    try:
        manifest = etree.fromstring(product.read_bytes("manifest.safe"))
    except etree.XMLSyntaxError as exc:
        raise BadProduct(f"{where}: manifest.safe is not well-formed XML ({exc})") from exc
    checked = 0
    for stream in manifest.xpath(".//*[local-name()='byteStream']"):
        loc = stream.xpath("./*[local-name()='fileLocation']/@href")
        sums = stream.xpath("./*[local-name()='checksum']")
        if not loc or not sums:
            continue
        rel = loc[0].removeprefix("./")
        algo = sums[0].get("checksumName", "MD5").upper()
        if algo not in HASHES:
            raise BadProduct(f"{where}: manifest.safe uses checksum {algo!r}, which petacube cannot verify")
        if not product.exists(rel):
            raise BadProduct(f"{where}: {rel} is listed in manifest.safe but missing from the product")
        digest = product.hash_file(rel, HASHES[algo]())
        if digest.lower() != (sums[0].text or "").strip().lower():
            raise BadProduct(f"{where}: {algo} checksum of {rel} does not match manifest.safe "
                             f"({digest} != {sums[0].text.strip()}); the file is corrupt, re-download the product")
        checked += 1
    return checked

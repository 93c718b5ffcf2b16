#!/usr/bin/env bash
# Debian packages for bench/bench_wcs_server.py: the load generator (wrk), MapServer 8
# (the `mapserv` CGI/FastCGI binary) and lighttpd to serve it (mod_cgi; FastCGI is built in).
# Needs root; installs only what is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../scripts/ensure-debian-packages.sh" wrk cgi-mapserver lighttpd

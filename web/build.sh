#!/usr/bin/env bash
# Vendor the map page's front-end assets from npm (never a CDN) into
# src/kharita/web/static/vendor/ (gitignored). Run from anywhere:
#   bash web/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
vendor="$root/src/kharita/web/static/vendor"

cd "$here"
if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi

mods="$here/node_modules"
rm -rf "$vendor"
mkdir -p "$vendor/images"
cp "$mods/leaflet/dist/leaflet.js" "$mods/leaflet/dist/leaflet.css" "$vendor/"
cp "$mods/leaflet/dist/images/"*.png "$vendor/images/"
cp "$mods/world-atlas/countries-50m.json" "$vendor/"
cp "$mods/topojson-client/dist/topojson-client.min.js" "$vendor/"
# Licences travel with the code they cover.
cp "$mods/leaflet/LICENSE" "$vendor/LICENSE.leaflet"
cp "$mods/world-atlas/LICENSE" "$vendor/LICENSE.world-atlas"
cp "$mods/topojson-client/LICENSE" "$vendor/LICENSE.topojson-client"

echo "vendored into ${vendor#"$root"/}:"
ls -1 "$vendor" "$vendor/images"

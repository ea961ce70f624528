#!/usr/bin/env bash
# Image pull benchmark (issue 12): a cold pull of a ~30 MB image (three gzip
# layers: busybox, Python's standard library, Perl's) from Debian's
# docker-registry on loopback — `slipway image pull` into an empty store,
# which verifies every blob and unpacks the layers into a root file system —
# against `skopeo copy docker://... dir:...` of the same image in the same
# run, which verifies the blobs and stores them without unpacking, and
# against that copy followed by `tar -xzf` of each layer into one directory
# (the same work as slipway's: fetch, verify, unpack). RUNS=10 by default.
# Everything is on loopback and stops with the script.
# BASELINE=<another slipway binary> (e.g. main's) is timed too, in the same
# run, into a store of its own.
# Usage: bench/image.sh [build-dir]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }

work=$(mktemp -d)
cleanup() {
  bash "$root/scripts/registry.sh" stop "$work/registry" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
registry=$(bash "$root/scripts/registry.sh" start "$work/registry")

# The image, as an OCI layout made here from files of this machine.
mkdir -p "$work/layout/blobs/sha256"
cd "$work"
tar -C / -cf l1.tar bin/busybox 2>/dev/null || tar -C / -cf l1.tar usr/bin/busybox
tar -C / -cf l2.tar usr/lib/python3.11
tar -C / -cf l3.tar usr/share/perl usr/lib/x86_64-linux-gnu/perl
python3 - "$work" <<'PY'
import gzip, hashlib, json, os, sys
work = sys.argv[1]
def blob(data, media):
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{work}/layout/blobs/sha256/{digest}", "wb") as f: f.write(data)
    return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}
layers, diff_ids = [], []
for name in ("l1.tar", "l2.tar", "l3.tar"):
    raw = open(f"{work}/{name}", "rb").read()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append(blob(gzip.compress(raw, 6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin:/bin"]},
          "rootfs": {"type": "layers", "diff_ids": diff_ids}}
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
            "layers": layers}
m = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
json.dump({"schemaVersion": 2, "manifests": [m]}, open(f"{work}/layout/index.json", "w"))
open(f"{work}/layout/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
print("image: %.1f MB in %d layers" % (sum(l["size"] for l in layers) / 2**20, len(layers)),
      file=sys.stderr)
open(f"{work}/layers.txt", "w").write(" ".join(l["digest"][7:] for l in layers))
PY
skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:v1" "docker://$registry/bench/image:v1"
name=$registry/bench/image:v1

# hyperfine: each command's leftovers are removed by --prepare, outside the
# timing (deleting 3,000 files takes seconds of waiting on a busy disk).
copy="skopeo copy --quiet --src-tls-verify=false docker://$name dir:$work/skopeo"
untar="mkdir $work/rootfs && for l in $(cat "$work/layers.txt"); do tar -C $work/rootfs -xzf $work/skopeo/\$l; done"
baseline=()
if [ -n "${BASELINE:-}" ]; then
  baseline=(-n "baseline slipway image pull" --prepare "rm -rf $work/store-baseline"
    "$BASELINE image pull --store $work/store-baseline $name")
fi
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-json "$work/pull.json" \
  -n "slipway image pull (fetch, verify, unpack)" --prepare "rm -rf $work/store" \
  "$slipway image pull --store $work/store $name" "${baseline[@]}" \
  -n "skopeo copy to dir: (fetch, verify)" --prepare "rm -rf $work/skopeo" "$copy" \
  -n "skopeo copy to dir: + tar -xzf of each layer" --prepare "rm -rf $work/skopeo $work/rootfs" \
  "$copy && $untar"
python3 - "$work/pull.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
cpu = lambda x: x["user"] + x["system"]
print("%-46s %9s %9s" % ("", "median s", "cpu s"))
for x in r:
    print("%-46s %9.3f %9.3f" % (x["command"], x["median"], cpu(x)))
for b in r[1:]:
    print("slipway / %s: wall %.2fx (medians), cpu %.2fx (means)" %
          (b["command"], r[0]["median"] / b["median"], cpu(r[0]) / cpu(b)))
PY

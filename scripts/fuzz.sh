#!/usr/bin/env bash
# Builds the libFuzzer targets (src/**/*_fuzz.cc) with clang, ASan and UBSan,
# and runs each for a bounded time from a small seed corpus: the seeds below
# plus the files committed under tests/fuzz/<target>/ (read, never written).
# FUZZ_SECONDS (default 30) per target; FUZZ_BUILD_DIR (default build-fuzz; a
# directory already configured with SLIPWAY_FUZZ=ON is reused as it is).
# Exit status is non-zero if a target fails to build or finds a crash, leak
# or slow input; the failing input is left in $FUZZ_BUILD_DIR/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
dir=${FUZZ_BUILD_DIR:-build-fuzz}

# A tree already configured for fuzzing (scripts/test.sh's build-san, which
# also builds the sanitized tests) is used as it is configured.
if ! grep -qs '^SLIPWAY_FUZZ:BOOL=ON$' "$dir/CMakeCache.txt"; then
  CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLIPWAY_FUZZ=ON -DSLIPWAY_TESTS=OFF >/dev/null
fi
targets=()
for src in $(find src -name '*_fuzz.cc' | sort); do
  targets+=("$(basename "$src" .cc)")
done
ninja -C "$dir" -j "$(nproc)" "${targets[@]}"

seed() {  # target, name, content
  mkdir -p "$dir/seeds/$1"
  printf '%s' "$3" > "$dir/seeds/$1/$2"
}
seed expression_fuzz a '$A == "main" && $B != null'
seed expression_fuzz b '($A =~ /^ma/i || $C) && $X !~ $D'
seed expression_fuzz c "'x' =~ 'xyz' || true && /a\\/b/ == /a\\/b/m"
seed image_json_fuzz a '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}'
seed image_json_fuzz b '{"config":{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":2},"layers":[],"rootfs":{"diff_ids":[]}}'
seed image_json_fuzz c 'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'
seed image_json_fuzz d '{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"}}}'
# Layers as entry lists (see layer_unpack_fuzz.cc; type bytes: '#' file,
# '$' hard link, '%' symlink, '&' directory): a file, a symlink out and a
# file through it, a hard link, a whiteout, an opaque directory, "..".
seed layer_unpack_fuzz a $'#a/b/f\n\n\x03abc%l\n/etc\n\x01.#l/passwd\n\n\x01x'
seed layer_unpack_fuzz b $'$h\na/b/f\n\x01.#a/.wh.b\n\n\x01.&d\n\n\x01.#d/.wh..wh..opq\n\n\x01.#../x\n\n\x01y'
seed git_bundle_fuzz a $'# v2 git bundle\n0123456789abcdef0123456789abcdef01234567 refs/slipway/job\n\nPACK'
seed git_bundle_fuzz b $'# v3 git bundle\n@object-format=sha1\n-0123456789abcdef0123456789abcdef01234567 x\n\n'
seed glob_fuzz a $'**/*.{js,ts}\nsrc/a/b.ts'
seed glob_fuzz b $'[a-c]?/**/x\\*\nb1/y/x*'
seed glob_fuzz c $'configs/**.yml\nconfigs/a/b.yml'
seed http_request_fuzz a $'POST /api/v4/projects/1/pipeline?ref=main&a[b][]=1\nContent-Type: application/json\nX-A: 1\nx-a: 2\n\n{"ref":"main","variables":[{"key":"K","value":"V"}]}'
seed http_request_fuzz b $'POST /p?x=%41+%zz\nContent-Type: application/x-www-form-urlencoded\n\nvariables[][key]=K&variables[][value]=V&a[b][c]=1'
seed request_params_fuzz a $'\x00{"a":[1,{"b":[[["c"]]]}],"n":-1.5e3,"s":"\\u00e9"}'
seed request_params_fuzz b $'\x01v[][key]=K&v[][value]=V&v[][key]=L&a[b][c]=1&a[b][d][]=2'
seed request_params_fuzz c $'\x02scope[]=running&scope[]=pending&page=2&x[y][][z]=1'
seed webhook_fuzz a $'\x01x-github-event: push\nx-github-delivery: 72d3162e\n\n{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}'
seed webhook_fuzz b $'\x00x-gitlab-event: Tag Push Hook\nidempotency-key: k\n\n{"object_kind":"tag_push","ref":"refs/tags/v1.0","after":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7"}'
seed webhook_fuzz c $'\x12x-gitea-event: push\nx-gitea-signature: 00\n\n{"ref":"refs/heads/x"}'
seed secret_mask_fuzz a $'abcdefgh\nabcdefghijkl\nxxabcdefghijklyy abcdefg abcdefgh'
seed secret_mask_fuzz b $'line one!\nline two!\nYWJjZGVmZ2g= 6162636465666768 line%20one%21'

mkdir -p "$dir/artifacts"
status=0
for t in "${targets[@]}"; do
  echo "=== fuzz $t for ${seconds}s"
  mkdir -p "$dir/corpus/$t" "$dir/seeds/$t"
  committed=()
  if [ -d "tests/fuzz/$t" ]; then committed=("tests/fuzz/$t"); fi
  if ! "$dir/$t" -max_total_time="$seconds" -max_len=512 -timeout=5 -rss_limit_mb=2048 \
      -artifact_prefix="$dir/artifacts/$t-" -print_final_stats=0 \
      "$dir/corpus/$t" "$dir/seeds/$t" "${committed[@]}" 2>"$dir/$t.log"; then
    tail -n 40 "$dir/$t.log"
    status=1
  fi
done
exit $status

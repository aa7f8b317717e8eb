#!/usr/bin/env bash
# Builds what a GPU device machine (PyTorch, but no Node, no npm, no internet) needs to run
# bench/gpu/nabla_gpu.mjs, into one folder to carry:   bench/gpu/pack.sh [DIR] [--no-build]
#   DIR/node.xz              this machine's node binary (self-contained, linux-x64), xz'd
#   DIR/nabla.tar.xz         dist/ (built here) and node_modules/ with only what dist needs at run
#                            time: webgpu (its linux-x64 Dawn only) and cli-progress with its deps
#   DIR/debs/*.deb           Debian's Vulkan loader and GL dispatch libraries, for `dpkg -x F /`
#   DIR/tinyshakespeare.txt  the text for the --shakespeare run, (from data/)
# DIR defaults to .gpu-carry in the repo root, which is added to .git/info/exclude (a carried path
# must be ignored by git). Then: run(command: "bench/gpu/run.sh", carry: [".gpu-carry"]).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=.gpu-carry build=1
for a in "$@"; do case $a in --no-build) build=0 ;; *) out=$a ;; esac; done
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
case $out in "$root"/*)
  rel=${out#"$root"}
  if [ -d .git/info ] && ! grep -qxF "$rel/" .git/info/exclude 2>/dev/null; then echo "$rel/" >> .git/info/exclude; fi ;;
esac

if [ $build = 1 ]; then npm run build >/dev/null; fi
[ -f dist/src/index.js ] || { echo "pack: no dist/ (npm run build)" >&2; exit 1; }

echo "node $(node -v) → $out/node.xz" >&2
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"

# Packages dist/ imports at run time (vega and fast-png are loaded only for plots: left out).
mods=$(node -e '
  const seen = new Set(), todo = ["cli-progress"];
  while (todo.length) {
    const n = todo.pop();
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...Object.keys(require(`./node_modules/${n}/package.json`).dependencies ?? {}));
  }
  console.log([...seen].map((n) => `node_modules/${n}`).join(" "));')
echo "dist + node_modules: webgpu (linux-x64), $mods → $out/nabla.tar.xz" >&2
tar -cf - dist $mods node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64 \
  | xz -T0 -6 > "$out/nabla.tar.xz"

echo "debs → $out/debs" >&2
if ! (cd "$out/debs" && apt-get -q download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>"$out/debs/apt.log"); then
  cat "$out/debs/apt.log" >&2
  echo "pack: apt-get download failed; put Debian/Ubuntu amd64 libvulkan1 and libglvnd debs in $out/debs by hand" >&2
fi
rm -f "$out/debs/apt.log"
cp data/tinyshakespeare.txt "$out/"
du -sh "$out"/* >&2

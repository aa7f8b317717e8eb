#!/usr/bin/env bash
# On the GPU device machine, in the repo root, with the bundle of pack.sh carried:
#   bench/gpu/run.sh [--tiny] [--shakespeare [MINUTES]]
# unpacks the bundle (the debs into /, node and dist/node_modules into the repo), runs
# torch_ref.py and nabla_gpu.mjs, and prints both results side by side with ratios. The JSON lines
# go to $OUT (the device's return folder) or /tmp/nabla-gpu. CARRY=DIR names another bundle folder.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
carry=${CARRY:-.gpu-carry}
res=${OUT:-/tmp/nabla-gpu}
mkdir -p "$res"
tiny='' shake=''
while [ $# -gt 0 ]; do
  case $1 in
    --tiny) tiny=--tiny ;;
    --shakespeare) shake=5; case ${2:-} in [0-9]*) shake=$2; shift ;; esac ;;
  esac
  shift
done

# Vulkan loader and GL dispatch libraries (the NVIDIA ICD needs libGLdispatch from libglvnd0).
shopt -s nullglob
for f in "$carry"/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
# No xz on some images: unpack with Python's lzma.
python3 - "$carry" <<'EOF' || exit 1
import lzma, os, shutil, sys, tarfile
c = sys.argv[1]
os.makedirs('/tmp/nabla-node', exist_ok=True)
with lzma.open(f'{c}/node.xz') as src, open('/tmp/nabla-node/node', 'wb') as dst:
    shutil.copyfileobj(src, dst)
os.chmod('/tmp/nabla-node/node', 0o755)
tarfile.open(f'{c}/nabla.tar.xz').extractall('.')
EOF
export PATH=/tmp/nabla-node:$PATH XDG_RUNTIME_DIR=/tmp
icd=${VK_ICD_FILENAMES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json} # a preset one wins (a test on SwiftShader)
[ -f "$icd" ] || icd=$(ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json 2>/dev/null | head -1)
export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null
echo "node $(node -v), Vulkan ICD $icd"

PYTHONUNBUFFERED=1 python3 bench/gpu/torch_ref.py $tiny > "$res/torch.json"
args=($tiny)
if [ -n "$shake" ]; then args+=(--shakespeare "$carry/tinyshakespeare.txt" --minutes "$shake"); fi
node bench/gpu/nabla_gpu.mjs "${args[@]}" > "$res/nabla.json"

python3 - "$res/torch.json" "$res/nabla.json" <<'EOF'
import json, sys
def load(p):
    try: return json.loads(open(p).read().strip().splitlines()[-1])
    except Exception as e: print(f'{p}: no result ({e})'); return {}
t, n = load(sys.argv[1]), load(sys.argv[2])
def g(d, *keys):  # d[k1][k2]..., or None
    for k in keys:
        d = (d or {}).get(k)
    return d
rows = [  # name, unit, torch, nabla, nabla's speed as a fraction of torch's, the issue's target
    ('matmul n=%s' % g(t, 'matmul', 'n'), 'TFLOP/s', g(t, 'matmul', 'tflops'), g(n, 'matmul', 'tflops'), lambda a, b: b / a, 0.75),
    ('GPT small-char step (B %s, T %s)' % (g(t, 'gpt', 'batch'), g(t, 'gpt', 'context')), 'ms', g(t, 'gpt', 'ms_per_step'), g(n, 'gpt', 'ms_per_step'), lambda a, b: a / b, 0.50),
    ('MNIST MLP epoch (batch 128)', 's', g(t, 'mnist', 'seconds'), g(n, 'mnist', 'seconds'), lambda a, b: a / b, 0.50),
]
print(f"\ntorch {t.get('torch')} on {t.get('device')}  |  nabla webgpu on {(n.get('adapter') or {}).get('description')} via {n.get('source')}")
print(f"{'measurement':40} {'unit':>8} {'torch':>10} {'nabla':>10} {'nabla/torch speed':>18} {'target':>7}")
for name, unit, a, b, ratio, target in rows:
    r = ratio(a, b) if a and b else None
    ok = '' if r is None else ('ok' if r >= target else 'BELOW')
    fmt = lambda v: 'n/a' if v is None else f'{v:.4g}'
    print(f"{name:40} {unit:>8} {fmt(a):>10} {fmt(b):>10} {fmt(r):>18} {'≥%.2f' % target:>7} {ok}")
pt, pn = g(t, 'gpt', 'params'), g(n, 'gpt', 'params')
print(f"GPT parameters: torch {pt}, nabla {pn}{'' if pt == pn else '  (MISMATCH: not the same model)'}; "
      f"losses torch {g(t, 'gpt', 'loss_first')} → {g(t, 'gpt', 'loss_last')}, nabla {g(n, 'gpt', 'loss_first')} → {g(n, 'gpt', 'loss_last')}")
s = n.get('shakespeare')
if s:
    met = s['val_loss'] <= 1.5 and s['train_seconds'] <= 300
    print(f"Shakespeare (small-char): {s['steps']} steps in {s['train_seconds']:.0f} s of training, val loss {s['val_loss']:.4f} "
          f"(target ≤ 1.50 within 5 min: {'ok' if met else 'NOT MET'})")
EOF

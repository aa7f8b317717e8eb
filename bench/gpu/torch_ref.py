# PyTorch float32 reference figures, on CUDA for bench/gpu/nabla_gpu.mjs, or on this machine's CPU
# for `npm run bench` (which has no PyTorch peer: PyTorch is not an npm package).
#   python3 bench/gpu/torch_ref.py [--tiny]            CUDA → one JSON line on stdout (progress on stderr)
#   python3 bench/gpu/torch_ref.py --cpu [--threads N]  CPU, N threads (default 2), the sizes of
#                                                      `npm run bench`'s rows
# - matmul: n×n @ n×n float32 (TF32 off: true fp32, as WebGPU's f32), TFLOP/s (n 4096; 1024 on CPU).
# - gpt: training steps of the `small-char` preset (6 layers, 6 heads, 384 wide, context 256,
#   vocabulary 65, dropout 0.2, biases, tied lm_head, tanh GELU: src/models/gpt.ts) at batch 64;
#   on CPU the bench's `tiny` row instead (4 layers, 4 heads, 128 wide, context 64, batch 32, no
#   dropout). Eager float32, AdamW (decay 0.1 on matrices only, lr 1e-3, betas 0.9/0.95), clip 1.0,
#   the loss read every step, as src/train/gpt.ts does. ms/step and tokens/s.
# - mnist: one epoch of the 784-512-10 MLP with Adam (lr 1e-3) at batch 128 on random data of
#   MNIST's shape (60,000 × 784) held on the device, the loss read every 50 steps. Seconds.
import json, math, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

TINY = '--tiny' in sys.argv
CPU = '--cpu' in sys.argv
dev = 'cpu' if CPU else 'cuda'
if CPU:
    torch.set_num_threads(int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 2)
torch.backends.cuda.matmul.allow_tf32 = False  # WebGPU has no TF32: compare fp32 with fp32
torch.backends.cudnn.allow_tf32 = False


def sync():
    if not CPU:
        torch.cuda.synchronize()
log = lambda s: print(s, file=sys.stderr, flush=True)


def matmul(n):
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    for _ in range(3):
        a @ b
    reps = 20
    sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync()
    s = (time.perf_counter() - t0) / reps
    return {'n': n, 'ms': s * 1e3, 'tflops': 2 * n**3 / s / 1e12}


class Block(nn.Module):
    def __init__(s, C, H, p):
        super().__init__()
        s.H, s.p = H, p
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.c_attn, s.attn_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        s.drop = nn.Dropout(p)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in s.c_attn(s.ln_1(x)).split(C, 2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=s.p if s.training else 0)
        x = x + s.drop(s.attn_proj(y.transpose(1, 2).reshape(B, T, C)))
        return x + s.drop(s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate='tanh')))


class GPT(nn.Module):
    def __init__(s, V, T, C, L, H, p):
        super().__init__()
        s.wte, s.wpe, s.drop = nn.Embedding(V, C), nn.Embedding(T, C), nn.Dropout(p)
        s.h = nn.ModuleList(Block(C, H, p) for _ in range(L))
        s.ln_f = nn.LayerNorm(C)
        s.lm_head = nn.Linear(C, V, bias=False)
        s.lm_head.weight = s.wte.weight  # tied, as GPT-2
        for name, w in s.named_parameters():  # GPT-2's init
            if w.dim() == 2:
                nn.init.normal_(w, 0, 0.02 / math.sqrt(2 * L) if name.endswith('proj.weight') else 0.02)
            elif name.endswith('bias'):
                nn.init.zeros_(w)

    def forward(s, idx, y):
        x = s.drop(s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=idx.device)))
        for b in s.h:
            x = b(x)
        logits = s.lm_head(s.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))


def gpt(B, T, C, L, H, steps, p=0.2):
    torch.manual_seed(0)
    V = 65
    model = GPT(V, T, C, L, H, p).to(dev).train()
    params = [p for p in model.parameters()]
    groups = [{'params': [p for p in params if p.dim() >= 2], 'weight_decay': 0.1},
              {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95), eps=1e-8)  # default (foreach) implementation
    data = [(torch.randint(0, V, (B, T), device=dev), torch.randint(0, V, (B, T), device=dev)) for _ in range(4)]

    def step(i):
        x, y = data[i % len(data)]
        loss = model(x, y)
        loss.backward()
        v = loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return v

    for i in range(3):
        first = step(i)
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        last = step(i)
    sync()
    s = (time.perf_counter() - t0) / steps
    return {'ms_per_step': s * 1e3, 'tokens_per_s': B * T / s, 'batch': B, 'context': T, 'steps': steps,
            'params': sum(p.numel() for p in params), 'loss_first': first, 'loss_last': last}


def mnist(n):
    torch.manual_seed(0)
    x = torch.rand(n, 784, device=dev)
    y = torch.randint(0, 10, (n,), device=dev)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        steps, loss = math.ceil(n / 128), float('nan')
        for s in range(steps):
            xb, yb = x[s * 128:(s + 1) * 128], y[s * 128:(s + 1) * 128]
            opt.zero_grad(set_to_none=True)
            out = F.cross_entropy(model(xb), yb)
            out.backward()
            opt.step()
            if s % 50 == 0 or s == steps - 1:
                loss = out.item()
        return loss

    epoch()  # warm-up: kernels, allocator
    sync()
    t0 = time.perf_counter()
    loss = epoch()
    sync()
    return {'seconds': time.perf_counter() - t0, 'images': n, 'loss': loss}


if CPU:
    import platform
    out = {'peer': 'torch', 'torch': torch.__version__, 'device': f'{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads'}
    log(f"torch {torch.__version__} on {out['device']}")
    out['matmul'] = matmul(1024); log(f"matmul {out['matmul']}")
    out['gpt'] = gpt(32, 64, 128, 4, 4, 30, p=0.0); log(f"gpt {out['gpt']}")
    out['mnist'] = mnist(60000); log(f"mnist {out['mnist']}")
else:
    out = {'peer': 'torch', 'torch': torch.__version__, 'device': torch.cuda.get_device_name(), 'tiny': TINY}
    log(f"torch {torch.__version__} on {out['device']}")
    out['matmul'] = matmul(256 if TINY else 4096); log(f"matmul {out['matmul']}")
    out['gpt'] = gpt(*((4, 64, 128, 2, 4, 3) if TINY else (64, 256, 384, 6, 6, 20))); log(f"gpt {out['gpt']}")
    out['mnist'] = mnist(1280 if TINY else 60000); log(f"mnist {out['mnist']}")
print(json.dumps(out))

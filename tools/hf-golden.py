#!/usr/bin/env python3
"""Golden outputs of transformers' GPT-2 for tests/models/gpt.test.ts.

Builds a tiny random GPT2LMHeadModel (2 layers, 2 heads, 32 wide, vocabulary 100, context 16) from a
fixed seed, saves it with save_pretrained(safe_serialization=True) into tests/fixtures/gpt/tiny-hf/,
and writes golden.json there: the logits of a fixed batch of two prompts, the language-model loss
(labels = input_ids, shifted inside transformers) and the greedy continuation by full forward passes.

Usage (needs torch, transformers and safetensors; nothing else reads the network; the committed
fixture was made with torch 2.13.0+cpu and transformers 5.18.0 from the local wheel mirror):
    python tools/hf-golden.py
The test that reads the fixture is skipped, with that reason, while the folder is absent.
"""
import json
import os

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "gpt", "tiny-hf")
PROMPTS = [[5, 17, 42, 3, 99, 0, 64, 8], [1, 2, 3, 4, 5, 6, 7, 8]]
MAX_NEW_TOKENS = 8  # 8 + 8 = 16 = the context, so no window sliding is involved


def main() -> None:
    torch.manual_seed(1234)
    config = GPT2Config(
        vocab_size=100, n_positions=16, n_embd=32, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=99, eos_token_id=99,
    )
    model = GPT2LMHeadModel(config).eval()
    # HF's init leaves zero biases and unit LayerNorm gains, which would hide bugs in their use:
    # give every parameter random values (the tied lm_head follows wte).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()

    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)

    ids = torch.tensor(PROMPTS, dtype=torch.long)
    with torch.no_grad():
        out = model(ids, labels=ids)
        seq = ids
        for _ in range(MAX_NEW_TOKENS):
            nxt = model(seq).logits[:, -1, :].argmax(dim=-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)

    golden = {
        "input_ids": PROMPTS,
        "logits": out.logits.tolist(),
        "loss": out.loss.item(),
        "greedy": seq.tolist(),
        "max_new_tokens": MAX_NEW_TOKENS,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")
    print(f"wrote {OUT}: {sorted(os.listdir(OUT))}")


if __name__ == "__main__":
    main()

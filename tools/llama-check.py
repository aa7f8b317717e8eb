#!/usr/bin/env python3
"""Loads the Llama-family directories and LoRA adapters nabla wrote with transformers and peft, and
compares their outputs with nabla's.

The other direction of tools/llama-golden.py: tests/models/llama-interop.test.ts writes, with nabla,
  - Llama / Qwen2 / Mistral directories by model.savePretrained  → AutoModelForCausalLM.from_pretrained
  - a PEFT LoRA adapter on the q/k/v/o and gate/up/down projections → PeftModel.from_pretrained
and a spec.json naming them with nabla's own outputs (logits, greedy ids). This script loads each
with the Python libraries, recomputes, and prints one JSON object: per check, the max absolute
difference and whether the greedy ids agree. Exit status 0 when every check is within tolerance.

Usage: python tools/llama-check.py SPEC.json
The test runs it when NABLA_HF_PYTHON names a Python with torch, transformers and peft.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def max_abs(a, b):
    return (torch.tensor(a, dtype=torch.float32) - torch.tensor(b, dtype=torch.float32)).abs().max().item()


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    tol = spec.get("tolerance", 1e-4)
    results = {"models": {}}
    ok = True

    for name, c in spec["models"].items():
        model = AutoModelForCausalLM.from_pretrained(c["dir"], dtype=torch.float32).eval()
        ids = torch.tensor(c["input_ids"], dtype=torch.long)
        with torch.no_grad():
            logits = model(ids).logits
            greedy = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=c["max_new_tokens"], do_sample=False, pad_token_id=0, eos_token_id=None
            ).tolist()
        d = max_abs(logits.tolist(), c["logits"])
        same = greedy == c["greedy"]
        results["models"][name] = {"class": type(model).__name__, "max_abs_diff": d, "greedy_equal": same, "greedy": greedy}
        ok = ok and d < tol and same

    if "peft" in spec:
        from peft import PeftModel

        c = spec["peft"]
        base = AutoModelForCausalLM.from_pretrained(c["base"], dtype=torch.float32).eval()
        model = PeftModel.from_pretrained(base, c["dir"]).eval()
        ids = torch.tensor(c["input_ids"], dtype=torch.long)
        with torch.no_grad():
            d = max_abs(model(input_ids=ids).logits.tolist(), c["logits"])
            merged = model.merge_and_unload()
            dm = max_abs(merged(ids).logits.tolist(), c["logits"])
        results["peft"] = {"max_abs_diff": d, "merged_max_abs_diff": dm}
        ok = ok and d < tol and dm < tol

    import peft
    import transformers

    results["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    results["ok"] = ok
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

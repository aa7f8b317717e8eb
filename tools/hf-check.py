#!/usr/bin/env python3
"""Loads what nabla wrote with transformers, peft and tokenizers, and compares their outputs with nabla's.

The other direction of tools/hf-golden.py: tests/models/hf-interop.test.ts writes, with nabla,
  - a GPT-2 directory by model.savePretrained           → GPT2LMHeadModel.from_pretrained
  - a PEFT LoRA adapter by lora.saveAdapter on that base → PeftModel.from_pretrained
  - a classifier by GPTClassifier.savePretrained         → GPT2ForSequenceClassification.from_pretrained
  - a byte-level BPE tokenizer.json by tokenizer.save    → tokenizers.Tokenizer.from_file
and a spec.json naming them with nabla's own outputs (logits, greedy ids, token ids). This script loads
each with the Python libraries, recomputes, and prints one JSON object: per check, the max absolute
difference or whether the ids agree. Exit status 0 when every check is within tolerance.

Usage: python tools/hf-check.py SPEC.json
The test runs it when NABLA_HF_PYTHON names a Python with torch, transformers, peft and tokenizers.
"""
import json
import sys

import torch


def max_abs(a, b):
    return (torch.tensor(a, dtype=torch.float32) - torch.tensor(b, dtype=torch.float32)).abs().max().item()


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    tol = spec.get("tolerance", 1e-4)
    results = {}
    ok = True

    from transformers import GPT2ForSequenceClassification, GPT2LMHeadModel

    if "causal_lm" in spec:
        c = spec["causal_lm"]
        model = GPT2LMHeadModel.from_pretrained(c["dir"]).eval()
        ids = torch.tensor(c["input_ids"], dtype=torch.long)
        with torch.no_grad():
            logits = model(ids).logits
            greedy = model.generate(ids, max_new_tokens=c["max_new_tokens"], do_sample=False, pad_token_id=0).tolist()
        d = max_abs(logits.tolist(), c["logits"])
        same = greedy == c["greedy"]
        results["causal_lm"] = {"max_abs_diff": d, "greedy_equal": same, "greedy": greedy}
        ok = ok and d < tol and same

    if "peft" in spec:
        from peft import PeftModel

        c = spec["peft"]
        base = GPT2LMHeadModel.from_pretrained(c["base"]).eval()
        model = PeftModel.from_pretrained(base, c["dir"]).eval()
        ids = torch.tensor(c["input_ids"], dtype=torch.long)
        with torch.no_grad():
            d = max_abs(model(input_ids=ids).logits.tolist(), c["logits"])
            merged = model.merge_and_unload()
            dm = max_abs(merged(ids).logits.tolist(), c["logits"])
        results["peft"] = {"max_abs_diff": d, "merged_max_abs_diff": dm}
        ok = ok and d < tol and dm < tol

    if "classifier" in spec:
        c = spec["classifier"]
        model = GPT2ForSequenceClassification.from_pretrained(c["dir"]).eval()
        # Right-padded rows with config.pad_token_id: transformers pools each row's last non-pad token.
        with torch.no_grad():
            logits = model(torch.tensor(c["input_ids"], dtype=torch.long)).logits
        d = max_abs(logits.tolist(), c["logits"])
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        results["classifier"] = {"max_abs_diff": d, "labels": labels}
        ok = ok and d < tol and labels == c["labels"]

    if "tokenizer" in spec:
        from tokenizers import Tokenizer

        c = spec["tokenizer"]
        tok = Tokenizer.from_file(c["file"])
        got = [tok.encode(t).ids for t in c["texts"]]
        decoded = [tok.decode(ids, skip_special_tokens=False) for ids in got]
        same = got == c["ids"]
        results["tokenizer"] = {"ids_equal": same, "decode_equal": decoded == c["decoded"]}
        ok = ok and same and decoded == c["decoded"]

    import peft
    import tokenizers
    import transformers

    results["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__, "tokenizers": tokenizers.__version__}
    results["ok"] = ok
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

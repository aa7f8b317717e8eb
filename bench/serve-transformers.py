"""transformers' `generate` beside `nabla serve` (bench/serve.mjs runs it): the same model directory
(the random weights nabla saved, loaded with GPT2LMHeadModel.from_pretrained), greedy decoding of
NEW tokens after PROMPT-token prompts, static batches of each size, torch on the server's number of
threads. Prints one JSON line: {"torch", "transformers", "threads", "batches": {B: {tokensPerSecond,
seconds, rounds}}}; tokens/s is B * NEW over the whole generate call (prefill included), the median
of the rounds after one warm-up.

    python bench/serve-transformers.py DIR --threads 2 --batches 1,4,16 --prompt 32 --new 64
"""

import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import GPT2LMHeadModel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batches", default="1,4,16")
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = GPT2LMHeadModel.from_pretrained(a.dir, torch_dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    # min_new_tokens = max_new_tokens: every sequence runs its NEW tokens, as the server's do
    # (config.json has no eos_token_id; this makes sure whatever the generation config says).
    gen = dict(do_sample=False, max_new_tokens=a.new, min_new_tokens=a.new, pad_token_id=0, eos_token_id=None)
    out = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(), "batches": {}}
    with torch.inference_mode():
        for b in [int(x) for x in a.batches.split(",")]:
            ids = torch.randint(0, vocab, (b, a.prompt))
            mask = torch.ones_like(ids)
            model.generate(ids[:, :8], attention_mask=mask[:, :8], **{**gen, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
            times = []
            for _ in range(a.rounds):
                t0 = time.perf_counter()
                res = model.generate(ids, attention_mask=mask, **gen)
                times.append(time.perf_counter() - t0)
                made = res.shape[1] - a.prompt
                if made != a.new:
                    raise SystemExit(f"generate made {made} tokens, expected {a.new}")
            s = statistics.median(times)
            out["batches"][b] = {"tokensPerSecond": b * a.new / s, "seconds": s, "rounds": [b * a.new / t for t in times]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

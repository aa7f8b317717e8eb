#!/usr/bin/env python3
"""Golden outputs of transformers' Llama-family decoders for tests/models/llama.test.ts.

Builds tiny random models from fixed seeds, saves each with save_pretrained into
tests/fixtures/llama/<name>/, and writes golden.json there: the logits of a fixed batch of two
prompts, the language-model loss, and the greedy continuation (by full forward passes, checked
against generate() with its key/value cache). The four fixtures cover what the loader must read:

  llama-tied     LlamaForCausalLM, tied embeddings, GQA (4 heads over 2), float32; with variants on
                 the same weights: linear and dynamic rope_scaling, and a longer sequence
  llama3-untied  untied lm_head, llama3 rope_scaling, head_dim 16 != hidden/heads, stored bfloat16
  qwen2          Qwen2ForCausalLM: q/k/v biases, tied, GQA (4 heads over 1), stored float16
  mistral        MistralForCausalLM: sliding_window 5 (shorter than the prompts), untied, float32,
                 saved in shards (model.safetensors.index.json)

Usage (needs torch, transformers and safetensors; nothing reads the network; the committed fixtures
were made with torch 2.13.0+cpu and transformers 5.18.0):
    python tools/llama-golden.py
The tests that read the fixtures are skipped, with that reason, while the folders are absent.
"""
import json
import os

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "llama")
PROMPTS = [[5, 17, 42, 3, 99, 0, 64, 8], [1, 2, 3, 4, 5, 6, 7, 8]]
MAX_NEW_TOKENS = 8
COMMON = dict(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)


def randomize(model: torch.nn.Module) -> None:
    """transformers' init leaves zero biases and unit RMSNorm gains, which would hide bugs in their use: give every parameter random values."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))


def rounded(x):
    """Logits to 6 decimals: float32's precision at their size, a third of the file, far below the tests' 1e-4."""
    return [rounded(v) for v in x] if isinstance(x, list) else round(x, 6)


def outputs(model: torch.nn.Module, prompts: list[list[int]], max_new_tokens: int = MAX_NEW_TOKENS) -> dict:
    ids = torch.tensor(prompts, dtype=torch.long)
    with torch.no_grad():
        out = model(ids, labels=ids)
        seq = ids
        for _ in range(max_new_tokens):
            nxt = model(seq).logits[:, -1, :].argmax(dim=-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
        cached = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=0, eos_token_id=None)
    assert cached.tolist() == seq.tolist(), f"generate() with the cache differs from full recompute: {cached.tolist()} vs {seq.tolist()}"
    return {"input_ids": prompts, "logits": rounded(out.logits.tolist()), "loss": out.loss.item(), "greedy": seq.tolist(), "max_new_tokens": max_new_tokens}


def save(name: str, model: torch.nn.Module, dtype: torch.dtype, golden: dict, **save_kwargs) -> None:
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    model.to(dtype).save_pretrained(out, **save_kwargs)
    golden["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    golden["stored_dtype"] = str(dtype).removeprefix("torch.")
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out}: {sorted(os.listdir(out))}, {size // 1024} KB")


def stored(model_cls, model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """The float32 model whose weights are what a file of `dtype` holds (rounded), as a loader that upcasts computes."""
    if dtype == torch.float32:
        return model
    copy = model_cls(model.config).eval()
    copy.load_state_dict({k: v.to(dtype).to(torch.float32) for k, v in model.state_dict().items()})
    return copy


def main() -> None:
    # Llama, tied embeddings, grouped-query attention; rope variants on the same weights.
    torch.manual_seed(1234)
    config = LlamaConfig(**COMMON, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    randomize(model)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    golden = outputs(model, PROMPTS)
    long_prompt = [[(7 * i + 3) % 100 for i in range(30)]]
    golden["long"] = {"input_ids": long_prompt, "logits": rounded(model(torch.tensor(long_prompt)).logits.tolist())}
    golden["variants"] = {}
    for rope in [{"rope_type": "linear", "factor": 2.0}, {"rope_type": "dynamic", "factor": 2.0}]:
        cfg = LlamaConfig(**COMMON, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, tie_word_embeddings=True, rope_scaling=rope)
        variant = LlamaForCausalLM(cfg).eval()
        variant.load_state_dict(model.state_dict())
        with torch.no_grad():
            golden["variants"][rope["rope_type"]] = {"rope_scaling": rope, "input_ids": long_prompt, "logits": rounded(variant(torch.tensor(long_prompt)).logits.tolist())}
    save("llama-tied", model, torch.float32, golden)

    # Llama 3.1-style rope scaling, untied, a head_dim that is not hidden / heads, stored bfloat16.
    torch.manual_seed(2345)
    rope = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    config = LlamaConfig(
        **COMMON, num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256, tie_word_embeddings=False, rope_theta=500000.0, rope_scaling=rope
    )
    model = LlamaForCausalLM(config).eval()
    randomize(model)
    golden = outputs(stored(LlamaForCausalLM, model, torch.bfloat16), PROMPTS)
    save("llama3-untied", model, torch.bfloat16, golden)

    # Qwen2: q/k/v biases, tied, 4 query heads over 1 key/value head, stored float16.
    torch.manual_seed(3456)
    config = Qwen2Config(**COMMON, num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=64, tie_word_embeddings=True, rope_theta=1000000.0)
    model = Qwen2ForCausalLM(config).eval()
    randomize(model)
    golden = outputs(stored(Qwen2ForCausalLM, model, torch.float16), PROMPTS)
    save("qwen2", model, torch.float16, golden)

    # Mistral: a sliding window of 5 positions, untied, float32, in shards.
    torch.manual_seed(4567)
    config = MistralConfig(**COMMON, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, sliding_window=5, tie_word_embeddings=False)
    model = MistralForCausalLM(config).eval()
    randomize(model)
    golden = outputs(model, PROMPTS)
    save("mistral", model, torch.float32, golden, max_shard_size="60KB")


if __name__ == "__main__":
    main()

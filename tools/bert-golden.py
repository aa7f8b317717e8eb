#!/usr/bin/env python3
"""Golden outputs of transformers' BERT-family encoders for tests/models/bert.test.ts.

Builds tiny random models from fixed seeds (hidden 32, 2 layers, 4 heads), saves each with
save_pretrained into tests/fixtures/bert/<name>/, and writes golden.json there: a padded batch of two
inputs with its attention mask (and token type ids), and what the transformers class returns for it.

  bert-seqcls    BertForSequenceClassification (pooler + classifier, 3 labels in id2label), the
                 WordPiece vocabulary of tests/fixtures/text/wordpiece-uncased-tokenizer.json (806
                 ids, inputs encoded by `tokenizers`), float32; also the trunk's last hidden state and
                 sentence-transformers' mean pooling (plain and L2-normalised) of it
  bert-qa        BertForQuestionAnswering on the same trunk weights: question/context pairs (token
                 type ids 0/1), start and end logits; stored float16
  bert-mlm       BertForMaskedLM on the same trunk weights (decoder tied to the word embeddings):
                 the logits at the [MASK] positions and the loss over every unpadded token; bfloat16
  distilbert     DistilBertForTokenClassification, sinusoidal position embeddings, 5 labels, ids
                 only (vocabulary 100), saved in shards (model.safetensors.index.json)
  roberta        RobertaForSequenceClassification (classifier.dense/out_proj), pad_token_id 1 and
                 position ids from pad_token_id + 1, type_vocab_size 1, ids only (vocabulary 100)

Every parameter gets random values (transformers' init leaves zero biases and unit LayerNorm gains,
which would hide bugs in their use), except DistilBERT's sinusoidal table, which the test compares
with its own. Outputs come from the default attention (SDPA), checked against the eager one.

Usage (needs torch, transformers, tokenizers and safetensors; nothing reads the network; the
committed fixtures were made with torch 2.13.0+cpu and transformers 5.18.0):
    python tools/bert-golden.py
The tests that read the fixtures are skipped, with that reason, while the folders are absent.
"""
import json
import os

import torch
import transformers
from tokenizers import Tokenizer
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForTokenClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "tests", "fixtures", "bert")
WORDPIECE = os.path.join(HERE, "..", "tests", "fixtures", "text", "wordpiece-uncased-tokenizer.json")
SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=32)


def randomize(model: torch.nn.Module, keep: tuple[str, ...] = ()) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(name.endswith(k) for k in keep):
                continue
            if "LayerNorm.weight" in name or "layer_norm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))


def rounded(x):
    """To 6 decimals: float32's precision at these sizes, far below the tests' 1e-4."""
    return [rounded(v) for v in x] if isinstance(x, list) else round(x, 6)


def run(model: torch.nn.Module, **inputs):
    """The model's output on inputs (SDPA attention), checked against eager attention."""
    with torch.no_grad():
        out = model(**inputs)
        model.config._attn_implementation = "eager"
        eager = model(**inputs)
        model.config._attn_implementation = "sdpa"
    for k, v in out.items():
        if isinstance(v, torch.Tensor):
            assert torch.allclose(v, eager[k], atol=1e-5), f"{type(model).__name__}.{k}: SDPA and eager attention differ"
    return out


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


def stored(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """The model with its weights rounded to what a file of `dtype` holds, computed in float32 (as a loader that upcasts)."""
    if dtype != torch.float32:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(dtype).to(torch.float32))
    return model


def batch(tok: Tokenizer, inputs: list) -> dict:
    """tokenizers' padded encodings of texts or (text, pair) tuples, as tensors and as lists."""
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
    enc = tok.encode_batch(inputs)
    return {
        "input_ids": [e.ids for e in enc],
        "attention_mask": [e.attention_mask for e in enc],
        "token_type_ids": [e.type_ids for e in enc],
    }


def tensors(b: dict) -> dict:
    return {k: torch.tensor(v, dtype=torch.long) for k, v in b.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def mean_pooling(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' Pooling(mode 'mean'): the attention-mask-weighted mean of the token vectors."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


def bert_fixtures() -> None:
    tok = Tokenizer.from_file(WORDPIECE)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    torch.manual_seed(1234)
    labels = ["negative", "neutral", "positive"]
    config = BertConfig(
        vocab_size=vocab, **SMALL, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)}, classifier_dropout=0.2
    )
    seqcls = BertForSequenceClassification(config).eval()
    randomize(seqcls)
    trunk = seqcls.bert.state_dict()

    # Sequence classification (the pooler's tanh(dense([CLS])) → classifier), with the trunk's hidden
    # states and their mean pooling for the sentence-embedding test.
    b = batch(tok, ["The cat sat on the mat, and the dog sat on the cat.", "Hello world"])
    out = run(seqcls, **tensors(b))
    with torch.no_grad():
        hidden = seqcls.bert(**tensors(b)).last_hidden_state
    mean = mean_pooling(hidden, tensors(b)["attention_mask"])
    golden = {
        **b,
        "logits": rounded(out.logits.tolist()),
        "loss": run(seqcls, **tensors(b), labels=torch.tensor([2, 0])).loss.item(),
        "labels": [2, 0],
        "last_hidden_state": rounded(hidden.tolist()),
        "mean_pooled": rounded(mean.tolist()),
        "mean_pooled_normalized": rounded(torch.nn.functional.normalize(mean, p=2, dim=1).tolist()),
    }
    save("bert-seqcls", seqcls, torch.float32, golden)

    # Question answering: question/context pairs, token types 0 and 1, stored float16.
    torch.manual_seed(2345)
    qa = BertForQuestionAnswering(BertConfig(vocab_size=vocab, **SMALL)).eval()
    randomize(qa)
    qa.bert.load_state_dict(trunk, strict=False)
    qa = stored(qa, torch.float16)
    b = batch(tok, [("Who wrote it?", "Ada wrote the first program."), ("Where?", "Here.")])
    out = run(qa, **tensors(b))
    pos = dict(start_positions=torch.tensor([6, 4]), end_positions=torch.tensor([7, 4]))
    golden = {
        **b,
        "start_logits": rounded(out.start_logits.tolist()),
        "end_logits": rounded(out.end_logits.tolist()),
        "start_positions": [6, 4],
        "end_positions": [7, 4],
        "loss": run(qa, **tensors(b), **pos).loss.item(),
    }
    save("bert-qa", qa, torch.float16, golden)

    # Masked LM: the decoder shares the word embeddings; logits at the [MASK] positions, and the loss
    # over every unpadded token (labels -100 on the padding); stored bfloat16.
    torch.manual_seed(3456)
    mlm = BertForMaskedLM(BertConfig(vocab_size=vocab, **SMALL)).eval()
    randomize(mlm)
    mlm.bert.load_state_dict({k: v for k, v in trunk.items() if not k.startswith("pooler.")}, strict=False)
    assert mlm.cls.predictions.decoder.weight.data_ptr() == mlm.bert.embeddings.word_embeddings.weight.data_ptr()
    mlm = stored(mlm, torch.bfloat16)
    b = batch(tok, ["The [MASK] sat on the mat.", "A good [MASK] day."])
    mask_id = tok.token_to_id("[MASK]")
    where = [[i, j] for i, row in enumerate(b["input_ids"]) for j, t in enumerate(row) if t == mask_id]
    assert len(where) == 2, where
    labels = [[t if m else -100 for t, m in zip(row, mrow)] for row, mrow in zip(b["input_ids"], b["attention_mask"])]
    out = run(mlm, **tensors(b))
    golden = {
        **b,
        "mask_positions": where,
        "mask_logits": rounded([out.logits[i, j].tolist() for i, j in where]),
        "labels": labels,
        "loss": run(mlm, **tensors(b), labels=torch.tensor(labels)).loss.item(),
    }
    save("bert-mlm", mlm, torch.bfloat16, golden)


def distilbert_fixture() -> None:
    torch.manual_seed(4567)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    config = DistilBertConfig(
        vocab_size=100,
        dim=32,
        n_layers=2,
        n_heads=4,
        hidden_dim=64,
        max_position_embeddings=32,
        sinusoidal_pos_embds=True,
        id2label=dict(enumerate(labels)),
        label2id={l: i for i, l in enumerate(labels)},
    )
    model = DistilBertForTokenClassification(config).eval()
    randomize(model, keep=("position_embeddings.weight",))
    ids = [[2, 45, 17, 88, 9, 61, 30, 3], [2, 71, 12, 3, 0, 0, 0, 0]]
    mask = [[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]]
    labels_ = [[0, 1, 2, 0, 3, 4, 0, 0], [0, 3, 0, 0, -100, -100, -100, -100]]
    t = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    out = run(model, **t)
    golden = {
        "input_ids": ids,
        "attention_mask": mask,
        "logits": rounded(out.logits.tolist()),
        "labels": labels_,
        "loss": run(model, **t, labels=torch.tensor(labels_)).loss.item(),
    }
    save("distilbert", model, torch.float32, golden, max_shard_size="20KB")


def roberta_fixture() -> None:
    torch.manual_seed(5678)
    config = RobertaConfig(
        vocab_size=100, **{**SMALL, "max_position_embeddings": 34}, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2
    )
    model = RobertaForSequenceClassification(config).eval()
    randomize(model)
    ids = [[0, 45, 17, 88, 9, 61, 30, 2], [0, 71, 12, 2, 1, 1, 1, 1]]
    mask = [[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]]
    t = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    out = run(model, **t)
    golden = {
        "input_ids": ids,
        "attention_mask": mask,
        "position_ids": model.roberta.embeddings.create_position_ids_from_input_ids(t["input_ids"], 1).tolist(),
        "logits": rounded(out.logits.tolist()),
        "labels": [1, 0],
        "loss": run(model, **t, labels=torch.tensor([1, 0])).loss.item(),
    }
    save("roberta", model, torch.float32, golden)


def main() -> None:
    bert_fixtures()
    distilbert_fixture()
    roberta_fixture()


if __name__ == "__main__":
    main()

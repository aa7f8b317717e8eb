// Generated token ids → the text a client sees, piece by piece: incremental decoding that never
// emits half of a UTF-8 character, and stop strings matched on the decoded text (the text ends
// before the first stop string, which is never sent, even split over several tokens).

/**
 * Decodes a growing list of token ids into text deltas, as text-generation-inference's
 * `decode_token` and vLLM's detokenizer do: each token is decoded together with the few before it
 * (a prefix window), and the new text is what the window adds past its prefix. A window whose text
 * ends in U+FFFD (an incomplete UTF-8 sequence: a character split over byte-level tokens) waits
 * for the next token. Stop strings are searched in the decoded text; text that could be the start
 * of a stop string is held back until it is known not to be one.
 * @example
 *   const s = new TextStream((ids) => tokenizer.decode(ids), ['\n\n']);
 *   for (const id of ids) send(s.push(id)); send(s.finish());
 */
export class TextStream {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  private text = '';
  private emitted = 0;
  private readonly maxStop: number;
  /** True once a stop string was found: the text is final, later tokens are ignored. */
  stopped = false;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stops: readonly string[] = [],
  ) {
    this.maxStop = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Every id pushed so far (also those after a stop string). */
  get tokens(): readonly number[] {
    return this.ids;
  }

  /** The text so far, cut before a stop string when one was found (also what is still held back). */
  get fullText(): string {
    return this.text;
  }

  /** Add one generated id; returns the text that can be sent now ('' when nothing can). */
  push(id: number): string {
    this.ids.push(id);
    if (this.stopped) return '';
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.decode(this.ids.slice(this.prefixOffset));
    if (full.length <= prefix.length || full.endsWith('\uFFFD')) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return this.append(full.slice(prefix.length), false);
  }

  /** The end of generation: everything not yet sent (an incomplete character decodes as U+FFFD). */
  finish(): string {
    if (this.stopped) return '';
    let rest = '';
    if (this.readOffset < this.ids.length) {
      const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
      const full = this.decode(this.ids.slice(this.prefixOffset));
      rest = full.slice(prefix.length);
      this.prefixOffset = this.readOffset = this.ids.length;
    }
    return this.append(rest, true);
  }

  private append(delta: string, final: boolean): string {
    const before = this.text.length;
    this.text += delta;
    let safe = this.text.length;
    if (this.stops.length) {
      // A stop string that ends in the new text starts at most maxStop - 1 characters before it.
      const from = Math.max(0, before - this.maxStop + 1);
      let at = -1;
      for (const s of this.stops) {
        const i = this.text.indexOf(s, from);
        if (i >= 0 && (at < 0 || i < at)) at = i;
      }
      if (at >= 0) {
        this.text = this.text.slice(0, at);
        this.stopped = true;
        safe = at;
      } else if (!final) {
        safe -= this.heldBack();
      }
    }
    if (safe <= this.emitted) return '';
    const out = this.text.slice(this.emitted, safe);
    this.emitted = safe;
    return out;
  }

  /** The length of the longest end of the text that is the beginning of a stop string. */
  private heldBack(): number {
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.text.length); k > hold; k--) {
        if (this.text.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}

/**
 * The streaming half of a line-oriented trace parser: UTF-8 bytes arrive in chunks of any size
 * (`push`), each complete line goes to `parseLine` as soon as its newline arrives, and the last line
 * (without a newline) when the input ends (`endLines`). A line split across chunks, even inside a
 * multi-byte character, is parsed once, whole.
 */
export abstract class LineStream {
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';

  /** One line: `text` from `from` to `to` (exclusive; the newline is not part of it). */
  protected abstract parseLine(text: string, from: number, to: number): void;

  /** Parses the complete lines in `chunk` (plus what was carried over). @throws InputError */
  push(chunk: Uint8Array): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.parseLine(text, start, nl);
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  /**
   * Parses the last line, if the input did not end with a newline.
   * @returns whether it did so: the input's end is then on that line, not on the one after it.
   */
  protected endLines(): boolean {
    const rest = this.carry + this.decoder.decode();
    this.carry = '';
    if (rest.length > 0) this.parseLine(rest, 0, rest.length);
    return rest.length > 0;
  }
}

/**
 * A command line as one string and back, for the visualizer's URL (`ostep.html#cmd=…`): words split
 * on blanks, with '…' and "…" quoting and backslash escapes as a POSIX shell reads them (no
 * expansions).
 */

/** Splits `text` into words. @returns null for an unterminated quote. */
export function splitArgs(text: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return null;
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      let part = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        part += text[j];
      }
      if (j >= text.length) return null;
      word = (word ?? '') + part;
      i = j;
    } else if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? '') + ch;
  }
  if (word !== null) words.push(word);
  return words;
}

/** Words joined so that {@link splitArgs} gives them back. */
export function joinArgs(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(' ');
}

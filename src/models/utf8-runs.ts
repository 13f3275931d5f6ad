/**
 * Split bytes into maximal runs of well-formed UTF-8 and runs of bytes that are not
 * (stray continuation bytes, overlongs, surrogates, truncated sequences). Text tokenizers
 * only see the well-formed runs; the rest is coded byte by byte.
 */
export interface Run {
  start: number;
  end: number;
  valid: boolean;
}

/** Length of the well-formed UTF-8 sequence starting at `i`, or 0 if there is none. */
export function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // excludes UTF-16 surrogates
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

export function utf8Runs(b: Uint8Array): Run[] {
  const runs: Run[] = [];
  let i = 0;
  while (i < b.length) {
    const start = i;
    const len = utf8SequenceLength(b, i);
    const valid = len > 0;
    if (valid) {
      i += len;
      for (let l; i < b.length && (l = utf8SequenceLength(b, i)) > 0; ) i += l;
    } else {
      i++;
      while (i < b.length && utf8SequenceLength(b, i) === 0) i++;
    }
    runs.push({ start, end: i, valid });
  }
  return runs;
}

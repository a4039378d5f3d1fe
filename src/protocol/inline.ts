// Splits an inline command line into arguments the way Redis's sdssplitargs
// does: spaces separate, "double quotes" take C-style escapes (\n, \xHH ...),
// 'single quotes' take only \'. A closing quote must be followed by a space or
// the end of the line. Returns null for unbalanced quotes.

function isSpace(byte: number | undefined): boolean {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9 || byte === 11 || byte === 12;
}

/** Fewer bytes end an unquoted argument than are skipped between two: `a\vb` is one argument. */
function endsArgument(byte: number | undefined): boolean {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9;
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };

export function splitInlineArguments(line: Buffer, start: number, end: number): Buffer[] | null {
  const args: Buffer[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSpace(line[i])) i++;
    if (i >= end) return args;
    // One argument. A quote opens a quoted section wherever it appears, not
    // only at the start: `a"b c"` is the single argument `ab c`.
    const bytes: number[] = [];
    let quote = 0;
    for (;;) {
      if (quote === 0) {
        if (i >= end || endsArgument(line[i])) break;
        const byte = line[i] as number;
        if (byte === 34 || byte === 39) quote = byte;
        else bytes.push(byte);
        i++;
        continue;
      }
      if (i >= end) return null; // unterminated quotes
      const byte = line[i] as number;
      if (byte === quote) {
        // A closing quote must be followed by a space or the end.
        if (i + 1 < end && !isSpace(line[i + 1])) return null;
        i++;
        break;
      }
      if (byte === 92 && i + 1 < end) {
        const next = line[i + 1] as number;
        if (quote === 34 && next === 120 && hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          bytes.push(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 4;
          continue;
        }
        if (quote === 34) {
          bytes.push(ESCAPES[next] ?? next);
          i += 2;
          continue;
        }
        if (next === 39) {
          bytes.push(39);
          i += 2;
          continue;
        }
      }
      bytes.push(byte);
      i++;
    }
    args.push(Buffer.from(bytes));
  }
}

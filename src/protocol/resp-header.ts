// RESP headers (`*<n>\r\n`, `$<n>\r\n`) written straight into a Buffer sized
// beforehand, for the encoders that assemble a command or a merged reply from
// byte ranges without intermediate strings (router/split-parts.ts,
// router/values-merge.ts).

/** Bytes of `*<n>\r\n` or `$<n>\r\n`. */
export function headerLength(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits + 3;
}

/** Writes `<type><n>\r\n` at `at` (type: 42 '*' or 36 '$'); the offset after it. */
export function writeHeader(out: Buffer, at: number, type: number, n: number): number {
  out[at] = type;
  const end = at + headerLength(n);
  let pos = end - 3;
  let rest = n;
  do {
    out[pos--] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
  out[end - 2] = 13;
  out[end - 1] = 10;
  return end;
}

// A whole reply decoded into a tree and encoded back, byte for byte, for the
// few merges that must read inside nested replies (MEMORY STATS, LATENCY
// HISTOGRAM). Never on the hot path: forwarded replies stay bytes.
//
//   `*2\r\n$1\r\na\r\n:3\r\n`  <->  { type: '*', items: [{ type: '$', text: 'a' }, { type: ':', text: '3' }] }
//
// Simple values keep their text as sent (latin1, one character per byte), so
// a double stays the digits the node wrote until a merge replaces it.

export type RespValue =
  | { readonly type: '+' | '-' | ':' | ',' | '(' | '#' | '_'; readonly text: string }
  | { readonly type: '$' | '=' | '!'; readonly text: string | null }
  | { readonly type: '*' | '%' | '~' | '>' | '|'; readonly items: RespValue[] };

/** Decodes one reply; throws on bytes that are not one whole RESP value. */
export function decodeResp(reply: Buffer): RespValue {
  const text = reply.toString('latin1');
  const [value, end] = decodeAt(text, 0);
  if (end !== text.length) throw new Error('trailing bytes after a RESP value');
  return value;
}

export function encodeResp(value: RespValue): Buffer {
  return Buffer.from(encodeText(value), 'latin1');
}

/** The integer of a `:` value, the number of a double (`,`) or of a bulk string holding one; NaN otherwise. */
export function numberOf(value: RespValue | undefined): number {
  if (value === undefined || 'items' in value || value.text === null) return Number.NaN;
  return Number(value.text);
}

/** The text of a bulk, verbatim (without its `txt:`) or simple string; null otherwise. */
export function stringOf(value: RespValue | undefined): string | null {
  if (value === undefined || 'items' in value || value.text === null) return null;
  if (value.type === '=') return value.text.slice(4);
  return value.type === '$' || value.type === '+' ? value.text : null;
}

function decodeAt(text: string, at: number): [RespValue, number] {
  const type = text[at];
  const lineEnd = text.indexOf('\r\n', at);
  if (type === undefined || lineEnd < 0) throw new Error('incomplete RESP value');
  const line = text.slice(at + 1, lineEnd);
  let next = lineEnd + 2;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '(':
    case '#':
    case '_':
      return [{ type, text: line }, next];
    case '$':
    case '=':
    case '!': {
      const length = Number(line);
      if (length < 0) return [{ type, text: null }, next];
      return [{ type, text: text.slice(next, next + length) }, next + length + 2];
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
      const count = Number(line);
      if (count < 0) return [{ type: '*', items: [] }, next]; // a RESP2 null array: no merge needs to tell it apart
      const items: RespValue[] = [];
      const total = type === '%' || type === '|' ? count * 2 : count;
      for (let i = 0; i < total; i++) {
        const [item, end] = decodeAt(text, next);
        items.push(item);
        next = end;
      }
      return [{ type, items }, next];
    }
    default:
      throw new Error(`unknown RESP type ${JSON.stringify(type)}`);
  }
}

function encodeText(value: RespValue): string {
  if ('items' in value) {
    const count = value.type === '%' || value.type === '|' ? value.items.length / 2 : value.items.length;
    return `${value.type}${count}\r\n${value.items.map(encodeText).join('')}`;
  }
  if (value.type === '$' || value.type === '=' || value.type === '!') {
    return value.text === null ? `${value.type}-1\r\n` : `${value.type}${value.text.length}\r\n${value.text}\r\n`;
  }
  return `${value.type}${value.text}\r\n`;
}

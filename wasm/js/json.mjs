// A strict JSON reader for the Gemini receiver, where parsers must not
// disagree: it reads what serde_json reads (no lone surrogates, no number
// beyond a double's range), reports duplicate member names (JSON.parse keeps
// the last one silently) and, in I-JSON mode (RFC 7493), refuses duplicates
// and numbers past ±(2^53 − 1). With `tagged`, numbers keep serde_json's
// kinds (JsonNumber), so `1` and `1.0` differ as they do in the Rust crate.

const MAX_EXACT = 2 ** 53 - 1;
const U64_MAX = 0xffffffffffffffffn;
const I64_MIN = -0x8000000000000000n;

/** A number as serde_json holds it: an integer (u64 or i64, exact) or a float (f64). */
export class JsonNumber {
  constructor(literal) {
    // serde_json reads an integer beyond u64/i64, and -0, as a float.
    const integer = /^-?[0-9]+$/.test(literal) ? BigInt(literal) : undefined;
    const exact = integer !== undefined && integer <= U64_MAX && integer >= I64_MIN && literal !== '-0';
    this.int = exact ? integer : undefined;
    this.float = exact ? undefined : Number(literal);
  }

  /** Whether two numbers are equal as serde_json's `Number`s are: an integer never equals a float. */
  equals(other) {
    return other instanceof JsonNumber && this.int === other.int && this.float === other.float;
  }
}

/**
 * Parses `text`. Returns `{ value, duplicates }`: `duplicates` holds the member names of the top-level object
 * that appear more than once. With `ijson`, returns undefined for text that is not I-JSON; otherwise throws a
 * SyntaxError for text that is not JSON.
 */
export function parseJson(text, { ijson = false, tagged = false } = {}) {
  let at = 0;
  const duplicates = new Set();
  const fail = () => {
    throw new SyntaxError(`invalid JSON at ${at}`);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const string = () => {
    const start = at;
    at++;
    for (; at < text.length && text[at] !== '"'; at++) {
      if (text[at] === '\\') at++;
      else if (text.charCodeAt(at) < 0x20) fail();
    }
    if (at >= text.length) fail();
    at++;
    const value = JSON.parse(text.slice(start, at));
    if (!wellFormed(value)) fail();
    return value;
  };
  const value = (depth) => {
    space();
    if (depth > 128) fail();
    const c = text[at];
    if (c === '{') {
      at++;
      const object = {};
      const seen = new Set();
      space();
      if (text[at] === '}') {
        at++;
        return object;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        const name = string();
        if (seen.has(name)) {
          if (ijson) fail();
          if (depth === 0) duplicates.add(name);
        }
        seen.add(name);
        space();
        if (text[at++] !== ':') fail();
        Object.defineProperty(object, name, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        space();
        if (text[at] === ',') at++;
        else if (text[at] === '}') {
          at++;
          return object;
        } else fail();
      }
    }
    if (c === '[') {
      at++;
      const array = [];
      space();
      if (text[at] === ']') {
        at++;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1));
        space();
        if (text[at] === ',') at++;
        else if (text[at] === ']') {
          at++;
          return array;
        } else fail();
      }
    }
    if (c === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(at, at + 400));
    if (!literal) fail();
    at += literal[0].length;
    const parsed = JSON.parse(literal[0]);
    if (typeof parsed !== 'number') return parsed;
    if (!Number.isFinite(parsed) || (ijson && Math.abs(parsed) > MAX_EXACT)) fail();
    return tagged ? new JsonNumber(literal[0]) : parsed;
  };
  try {
    const result = value(0);
    space();
    if (at !== text.length) fail();
    return { value: result, duplicates };
  } catch (error) {
    if (ijson) return undefined;
    throw error;
  }
}

function wellFormed(text) {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) return false;
  }
  return true;
}

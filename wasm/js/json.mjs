// A strict JSON reader for the Gemini receiver, where parsers must not
// disagree: it reports duplicate member names (JSON.parse keeps the last one
// silently) and, in I-JSON mode (RFC 7493), refuses duplicates, integers past
// ±(2^53 − 1) and lone surrogates.

const MAX_EXACT = 2 ** 53 - 1;

/**
 * Parses `text`. Returns `{ value, duplicates }`: `duplicates` holds the member names of the top-level object
 * that appear more than once. With `ijson`, returns undefined for text that is not I-JSON; otherwise throws a
 * SyntaxError for text that is not JSON.
 */
export function parseJson(text, { ijson = false } = {}) {
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
    if (ijson && !wellFormed(value)) fail();
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
    if (ijson && typeof parsed === 'number' && /^-?[0-9]+$/.test(literal[0]) && Math.abs(parsed) > MAX_EXACT) fail();
    return parsed;
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

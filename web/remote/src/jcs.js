// RFC 8785 (JCS) canonical JSON for the shapes the remote protocol uses: objects, arrays, strings,
// safe integers, booleans and null. Floats are refused rather than serialised (none occur in the
// remote protocol, and refusing keeps this serialiser small and exactly equal to Python's rfc8785).

import { utf8 } from './encoding.js';

/** The canonical JSON text of `value` (a string; see canonicalBytes for the UTF-8 bytes). */
export function canonicalJson(value) {
  const out = [];
  write(value, out, new Set());
  return out.join('');
}

/** The RFC 8785 bytes: UTF-8 of canonicalJson(value). */
export function canonicalBytes(value) {
  return utf8(canonicalJson(value));
}

function write(v, out, seen) {
  if (v === null) {
    out.push('null');
  } else if (v === true || v === false) {
    out.push(v ? 'true' : 'false');
  } else if (typeof v === 'string') {
    out.push(quote(v));
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new TypeError(`only safe integers are supported, got ${v}`);
    }
    out.push(Object.is(v, -0) ? '0' : String(v));
  } else if (Array.isArray(v)) {
    enter(v, seen);
    out.push('[');
    v.forEach((item, i) => {
      if (i) out.push(',');
      write(item, out, seen);
    });
    out.push(']');
    seen.delete(v);
  } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    enter(v, seen);
    // JCS sorts member names by their UTF-16 code units: exactly Array.prototype.sort's default.
    const keys = Object.keys(v).sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (v[k] === undefined) throw new TypeError(`member ${k} is undefined`);
      if (i) out.push(',');
      out.push(quote(k), ':');
      write(v[k], out, seen);
    });
    out.push('}');
    seen.delete(v);
  } else {
    throw new TypeError(`cannot serialise ${Object.prototype.toString.call(v)}`);
  }
}

function enter(v, seen) {
  if (seen.has(v)) throw new TypeError('cyclic structure');
  seen.add(v);
}

// RFC 8785 §3.2.2.2 strings: ECMAScript JSON.stringify escaping, which is what JCS specifies
// (\b \t \n \f \r \" \\, other controls as \u00xx lowercase, everything else literal). Lone
// surrogates are refused: they have no UTF-8 form.
function quote(s) {
  utf8(s); // throws on a lone surrogate
  return JSON.stringify(s);
}

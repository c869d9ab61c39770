// Byte encodings used on the wire (spec/README.md): standard base64 with padding, lowercase hex.
// Decoders are strict: they refuse anything the Python side would not have written.

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Uint8Array -> standard base64 (RFC 4648 §4, padded). */
export function toBase64(bytes) {
  const b = asBytes(bytes, 'bytes');
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Standard padded base64 -> Uint8Array; throws on anything else (no URL alphabet, no spaces). */
export function fromBase64(text) {
  if (typeof text !== 'string' || !B64_RE.test(text)) {
    throw new TypeError('not canonical base64');
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64(out) !== text) throw new TypeError('not canonical base64'); // stray low bits
  return out;
}

/** Uint8Array -> lowercase hex. */
export function toHex(bytes) {
  const b = asBytes(bytes, 'bytes');
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Lowercase hex -> Uint8Array; throws on odd length, uppercase or other characters. */
export function fromHex(text) {
  if (typeof text !== 'string' || !HEX_RE.test(text)) {
    throw new TypeError('not lowercase hex');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** UTF-8 bytes of a string (well-formed strings only: lone surrogates are refused). */
export function utf8(text) {
  if (typeof text !== 'string') throw new TypeError('not a string');
  if (!isWellFormed(text)) throw new TypeError('string has a lone surrogate');
  return new TextEncoder().encode(text);
}

/** Strict UTF-8 decoding (throws on malformed input). */
export function fromUtf8(bytes) {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(asBytes(bytes, 'bytes'));
}

/** Concatenate Uint8Arrays. */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Accept a Uint8Array, an ArrayBuffer or a base64 string; return a Uint8Array copy. */
export function bytesOrBase64(value, what) {
  if (typeof value === 'string') return fromBase64(value);
  return asBytes(value, what).slice();
}

export function asBytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${what} must be bytes (Uint8Array or ArrayBuffer)`);
}

function isWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

// Ed25519 signature checks (libsodium crypto_sign_verify_detached): the town committee's signature
// on the election's public summary (spec/manifest.md §6, spec/remote.md RM-10.3) and the work
// group's on checkpoints (spec/log.md §3), in every browser, whether or not its WebCrypto has
// Ed25519.

import sodium from 'libsodium-wrappers-sumo';
import { bytesOrBase64, concatBytes, utf8 } from './encoding.js';

/**
 * Whether `signature` is a valid Ed25519 signature by `publicKey` over `domain || 0x00 || message`
 * (spec/keyfile.md §6: every signature of the project is domain-separated this way).
 *
 * @param publicKey base64 of the 32-byte key, or bytes.
 * @param domain the ASCII domain, e.g. "branch-election/public-summary/1".
 * @param message bytes, or a string (signed as its UTF-8 bytes).
 * @param signature base64 of the 64-byte signature, or bytes.
 * @returns {Promise<boolean>} false for a wrong signature or a malformed key or signature.
 */
export async function verifyEd25519(publicKey, domain, message, signature) {
  await sodium.ready;
  let key;
  let sig;
  try {
    key = bytesOrBase64(publicKey, 'public key');
    sig = bytesOrBase64(signature, 'signature');
  } catch {
    return false;
  }
  if (key.length !== 32 || sig.length !== 64) return false;
  const body = typeof message === 'string' ? utf8(message) : message;
  const signed = concatBytes(utf8(domain), new Uint8Array([0]), body);
  try {
    return sodium.crypto_sign_verify_detached(sig, signed, key);
  } catch {
    return false;
  }
}

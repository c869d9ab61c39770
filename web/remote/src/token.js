// Remote-vote credentials (spec/remote.md §4): RFC 9474 RSABSSA-SHA384-PSS-Randomized, client side.
// Prepare, Blind and Finalize are @cloudflare/blindrsa-ts; this module builds the token message,
// checks the issuer key and keeps the client state. BlindSign runs on the service (Python).

import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { bytesOrBase64, concatBytes, fromBase64, fromHex, toBase64, utf8 } from './encoding.js';

export const TOKEN_DOMAIN = 'branch-election/remote-token/1';
export const TOKEN_SIZE = 32;
export const PREFIX_SIZE = 32;
export const ELECTION_ID_SIZE = 32;
export const MIN_MODULUS_BITS = 2048;
const STATE_FORMAT = 'remote-token-state/1';

const suite = () => RSABSSA.SHA384.PSS.Randomized();

/** msg = "branch-election/remote-token/1" || 0x00 || election_id (32) || T (32): 95 bytes (RM-4.2). */
export function tokenMessage(electionId, token) {
  if (electionId.length !== ELECTION_ID_SIZE) throw new RangeError('an election id is 32 bytes');
  if (token.length !== TOKEN_SIZE) throw new RangeError('a token is 32 bytes');
  return concatBytes(utf8(TOKEN_DOMAIN), Uint8Array.of(0), electionId, token);
}

/**
 * Import the issuer key of `remote.opened` (RM-4.1, V18.1): DER SubjectPublicKeyInfo with the
 * plain rsaEncryption identifier, e = 65537, at least 2048 bits, in canonical form (WebCrypto's
 * own re-export must give the same bytes, as keys.blind_rsa.load_public_key_der requires).
 * The key is imported extractable because blindrsa-ts reads n and e through a JWK export.
 */
export async function importIssuerKey(issuerPublicKeyDer) {
  const der = bytesOrBase64(issuerPublicKeyDer, 'issuer key');
  let key;
  try {
    key = await crypto.subtle.importKey('spki', der, { name: 'RSA-PSS', hash: 'SHA-384' }, true, [
      'verify',
    ]);
  } catch (e) {
    throw new Error(`invalid issuer key: ${e && e.message ? e.message : e}`);
  }
  const { modulusLength, publicExponent } = key.algorithm;
  if (modulusLength < MIN_MODULUS_BITS) {
    throw new Error(`invalid issuer key: ${modulusLength} bits, at least ${MIN_MODULUS_BITS} needed`);
  }
  if (toBase64(publicExponent.slice(publicExponent.findIndex((x) => x !== 0))) !== 'AQAB') {
    throw new Error('invalid issuer key: public exponent is not 65537');
  }
  const again = new Uint8Array(await crypto.subtle.exportKey('spki', key));
  if (toBase64(again) !== toBase64(der)) {
    throw new Error('invalid issuer key: not canonical DER rsaEncryption SubjectPublicKeyInfo');
  }
  return key;
}

/**
 * Draw a token, Prepare (randomized) and Blind it (RM-4.3).
 *
 * @param issuerPublicKeyDer the `issuer_key` of `remote.opened` (bytes or base64); the caller has
 *   checked it against the pinned entry (RM-10.3).
 * @param electionIdHex the election id, 64 lowercase hex.
 * @returns {{token: string, blindedMsg: string, state: object}} base64 `token` (T; stays on the
 *   device), base64 `blindedMsg` (the only value sent to the service, with the invitation code),
 *   and `state`, a JSON-serialisable object for finishToken. The state holds the blinding inverse,
 *   which links the blinded message to the final signature: it must never leave the device.
 */
export async function requestToken(issuerPublicKeyDer, electionIdHex) {
  const electionId = fromHex(electionIdHex);
  if (electionId.length !== ELECTION_ID_SIZE) throw new RangeError('an election id is 64 hex digits');
  const der = bytesOrBase64(issuerPublicKeyDer, 'issuer key');
  const key = await importIssuerKey(der);
  const token = crypto.getRandomValues(new Uint8Array(TOKEN_SIZE));
  const rsabssa = suite();
  const prepared = rsabssa.prepare(tokenMessage(electionId, token));
  const { blindedMsg, inv } = await rsabssa.blind(key, prepared);
  const state = {
    format: STATE_FORMAT,
    issuer_key: toBase64(der),
    election_id: electionIdHex,
    token: toBase64(token),
    prepared: toBase64(prepared),
    inv: toBase64(inv),
  };
  return { token: state.token, blindedMsg: toBase64(blindedMsg), state };
}

/**
 * Finalize (RFC 9474 §4.4, which verifies the unblinded signature) (RM-4.3).
 *
 * @param state the `state` of requestToken.
 * @param blindSig the service's BlindSign output (bytes or base64).
 * @returns {{token: string, prefix: string, signature: string}} base64, the `token`,
 *   `token_prefix` and `token_signature` of the cast (RM-4.6).
 * @throws Error('invalid signature') when the issuer's answer is not a valid signature.
 */
export async function finishToken(state, blindSig) {
  if (!state || state.format !== STATE_FORMAT) throw new TypeError('not a token request state');
  const key = await importIssuerKey(state.issuer_key);
  const prepared = fromBase64(state.prepared);
  const token = fromBase64(state.token);
  const expected = tokenMessage(fromHex(state.election_id), token);
  if (
    prepared.length !== PREFIX_SIZE + expected.length ||
    toBase64(prepared.subarray(PREFIX_SIZE)) !== toBase64(expected)
  ) {
    throw new Error('token request state is inconsistent');
  }
  const signature = await suite().finalize(
    key,
    prepared,
    bytesOrBase64(blindSig, 'blind signature'),
    fromBase64(state.inv),
  );
  return {
    token: state.token,
    prefix: toBase64(prepared.subarray(0, PREFIX_SIZE)),
    signature: toBase64(signature),
  };
}

/** RSASSA-PSS-VERIFY of a credential (RM-4.5), as the verifier does; true or false. */
export async function verifyCredential(issuerPublicKeyDer, electionIdHex, credential) {
  const key = await importIssuerKey(issuerPublicKeyDer);
  const token = fromBase64(credential.token);
  const prefix = fromBase64(credential.prefix);
  if (token.length !== TOKEN_SIZE || prefix.length !== PREFIX_SIZE) return false;
  const msg = concatBytes(prefix, tokenMessage(fromHex(electionIdHex), token));
  return suite().verify(key, fromBase64(credential.signature), msg);
}

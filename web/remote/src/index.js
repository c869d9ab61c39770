// Browser-side cryptography of remote voting (spec/remote.md), bundled by build.mjs into
// tally/service/static/remote/remote-crypto.js. Needs a secure context (HTTPS, or
// http://127.0.0.1 / http://localhost) for WebCrypto; see docs/adr/0007-remote-page-crypto.md.

export {
  bytesOrBase64,
  concatBytes,
  fromBase64,
  fromHex,
  fromUtf8,
  toBase64,
  toHex,
  utf8,
} from './encoding.js';
export {
  BALLOT_FORMAT_V2,
  MAX_BALLOT_BYTES_V2,
  MAX_CHOICES,
  RECEIPT_DOMAIN_V2,
  elgamalTesting,
  encryptBallotV2,
  remoteReceiptV2,
  verifyBallotV2,
} from './ballot2.js';
export {
  CHOICE_DOMAIN,
  CIPHERTEXT_SIZE,
  DECRYPTION_DOMAIN,
  DISAPPROVALS_DOMAIN,
  ElGamalError,
  MAX_SCRUTINEERS,
  MAX_SEATS,
  POINT_SIZE,
  SCALAR_SIZE,
  SUM_DOMAIN,
  combinePartials,
  elgamalBench,
  elgamalReady,
  encryptPost,
  parseCiphertext,
  parsePoint,
  parseScalar,
  parseThresholdKey,
  verifyPost,
  verifyShare,
} from './elgamal.js';
export { canonicalBytes, canonicalJson } from './jcs.js';
export { verifyEd25519 } from './sign.js';
export {
  ELECTION_ID_SIZE,
  MIN_MODULUS_BITS,
  PREFIX_SIZE,
  TOKEN_DOMAIN,
  TOKEN_SIZE,
  finishToken,
  importIssuerKey,
  requestToken,
  tokenMessage,
  verifyCredential,
} from './token.js';

/** Whether this page can run the protocol: a secure context with WebCrypto and WebAssembly. */
export function supported() {
  return (
    globalThis.isSecureContext === true &&
    typeof globalThis.crypto?.subtle?.importKey === 'function' &&
    typeof globalThis.WebAssembly?.instantiate === 'function'
  );
}

export const VERSION = 'remote-crypto/1';

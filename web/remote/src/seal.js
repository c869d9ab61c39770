// Sealing a remote ballot (spec/remote.md §5, §6): libsodium crypto_box_seal to the election's
// X25519 ballot key, over the RFC 8785 bytes of the remote-ballot/1 object.

import sodium from 'libsodium-wrappers-sumo';
import { bytesOrBase64, fromBase64, fromHex, toBase64 } from './encoding.js';
import { canonicalBytes } from './jcs.js';
import { ELECTION_ID_SIZE, TOKEN_SIZE } from './token.js';

export const BALLOT_KEY_SIZE = 32;
export const SEAL_OVERHEAD = 48;
export const MAX_BALLOT_BYTES = 16384;
export const BALLOT_FORMAT = 'remote-ballot/1';

/** Resolves once libsodium's WebAssembly module is ready (sealBallot awaits it itself). */
export function ready() {
  return sodium.ready;
}

/**
 * crypto_box_seal(plaintext, ballot_key) (RM-6.2).
 *
 * @param ballotPublicKeyB64 the `ballot_key` of `remote.opened` (base64 of 32 bytes, or bytes).
 * @param plaintextBytes the remote-ballot/1 JCS bytes (see remoteBallotBytes), at most 16384.
 * @returns {Promise<string>} base64 of the sealed box, len(plaintext) + 48 bytes.
 */
export async function sealBallot(ballotPublicKeyB64, plaintextBytes) {
  await sodium.ready;
  const key = bytesOrBase64(ballotPublicKeyB64, 'ballot key');
  if (key.length !== BALLOT_KEY_SIZE) throw new RangeError('a ballot key is 32 bytes');
  const plaintext = bytesOrBase64(plaintextBytes, 'plaintext');
  if (plaintext.length > MAX_BALLOT_BYTES) {
    throw new RangeError(`ballot of ${plaintext.length} bytes exceeds ${MAX_BALLOT_BYTES}`);
  }
  return toBase64(sodium.crypto_box_seal(plaintext, key));
}

/**
 * The remote-ballot/1 object (RM-5.1) with members in any order; `posts` as RM-5.2. Checks the
 * shape this module can check without the manifest (formats, lengths, letters); the candidate
 * lists and write-in limits are the page's business (it has the manifest).
 */
export function remoteBallot(electionIdHex, tokenB64, posts) {
  if (fromHex(electionIdHex).length !== ELECTION_ID_SIZE) {
    throw new RangeError('an election id is 64 lowercase hex digits');
  }
  if (fromBase64(tokenB64).length !== TOKEN_SIZE) throw new RangeError('a token is 32 bytes');
  if (!Array.isArray(posts)) throw new TypeError('posts must be a list');
  return {
    format: BALLOT_FORMAT,
    election_id: electionIdHex,
    token: tokenB64,
    posts: posts.map(checkPost),
  };
}

/** The plaintext of a remote ballot: JCS bytes of remoteBallot(...), size-checked (RM-5.3, 5.4). */
export function remoteBallotBytes(electionIdHex, tokenB64, posts) {
  const bytes = canonicalBytes(remoteBallot(electionIdHex, tokenB64, posts));
  if (bytes.length > MAX_BALLOT_BYTES) {
    throw new RangeError(`ballot of ${bytes.length} bytes exceeds ${MAX_BALLOT_BYTES}`);
  }
  return bytes;
}

function checkPost(p) {
  const { post, candidates, marks, write_ins: writeIns } = p ?? {};
  if (Object.keys(p ?? {}).sort().join() !== 'candidates,marks,post,write_ins') {
    throw new TypeError('a post ballot has exactly post, candidates, marks, write_ins');
  }
  if (typeof post !== 'string' || !post) throw new TypeError('post must be a post code');
  if (!Array.isArray(candidates) || !candidates.every((c) => typeof c === 'string')) {
    throw new TypeError('candidates must be a list of ids');
  }
  if (typeof marks !== 'string' || !/^[ox-]*$/.test(marks) || marks.length !== candidates.length) {
    throw new TypeError('marks must have one of o, x, - per candidate');
  }
  if (!Array.isArray(writeIns)) throw new TypeError('write_ins must be a list');
  return {
    post,
    candidates: [...candidates],
    marks,
    write_ins: writeIns.map((w) => {
      if (Object.keys(w ?? {}).sort().join() !== 'mark,member,name') {
        throw new TypeError('a write-in has exactly name, member, mark');
      }
      if (typeof w.name !== 'string' || w.name.normalize('NFC') !== w.name || !w.name) {
        throw new TypeError('a write-in name is a non-empty NFC string');
      }
      if ([...w.name].length > 32) throw new TypeError('a write-in name has at most 32 characters');
      if (/\p{C}/u.test(w.name)) throw new TypeError('a write-in name has no control or format characters');
      if (typeof w.member !== 'string') throw new TypeError('write-in member must be a string');
      if (w.mark !== 'o' && w.mark !== '-') throw new TypeError('a write-in mark is o or -');
      return { name: w.name, member: w.member, mark: w.mark };
    }),
  };
}

// Remote ballots v2, the ballot document (spec/remote-v2.md §3): `remote-ballot/2` with one
// encrypted post per assembly-voted post (EG-6.3, elgamal.js), the disapproval proofs of RV-3.4
// where the manifest sets write_in_requires_disapproval, and the receipt (RV-3.6). Python twin:
// keys/remote_ballot.py (encrypt_ballot, check_ballot, ballot_receipt).

import sodium from 'libsodium-wrappers-sumo';
import { asBytes, concatBytes, fromBase64, toBase64, toHex, utf8 } from './encoding.js';
import {
  ElGamalError,
  checkDisapprovals,
  hasExactly,
  makeDisapprovals,
  makePost,
  parseContext,
  parseDisapprovals,
  parseKey,
  parsePost,
  verifyDisapprovals,
  verifyParsedPost,
} from './elgamal.js';
import { canonicalBytes } from './jcs.js';

export const BALLOT_FORMAT_V2 = 'remote-ballot/2';
export const RECEIPT_DOMAIN_V2 = 'branch-election/remote-receipt/2';
export const MAX_BALLOT_BYTES_V2 = 262144; // RV-3.5, JCS bytes
export const MAX_CHOICES = 256; // RV-2.2
const POST_ORDER = ['committee', 'secretary', 'deputy_secretary']; // RV-3.1

function fail(code, zh, en) {
  throw new ElGamalError(code, zh, en);
}

function invalid(zh, en) {
  fail('remote.ballot_invalid', zh, en);
}

/**
 * The ballot context (Python: BallotContext): `{electionId, key, posts}` with the election id as
 * 64 lowercase hex, `key` the published election key `{k, n, commitments}` (remote.opened's
 * election_key) and `posts` the assembly-voted posts in ballot order, each
 * `{post, listed, choices, seats, disapprovals}` (listed candidates first, then the write-in list;
 * `disapprovals` is the manifest's write_in_requires_disapproval).
 */
function parseBallotContext(ctx) {
  if (!ctx || typeof ctx !== 'object') invalid('选票上下文无效。', 'not a ballot context');
  const key = parseKey(ctx.key);
  if (typeof ctx.electionId !== 'string' || !/^[0-9a-f]{64}$/.test(ctx.electionId)) {
    invalid('选举标识应为 64 位小写十六进制。', 'the election id is 64 lowercase hex digits');
  }
  const posts = Array.isArray(ctx.posts) ? ctx.posts : [];
  let last = -1;
  for (const p of posts) {
    const order = POST_ORDER.indexOf(p && p.post);
    const ok =
      order > last &&
      Number.isInteger(p.listed) &&
      Number.isInteger(p.choices) &&
      Number.isInteger(p.seats) &&
      p.listed >= 0 &&
      p.choices >= 1 &&
      p.choices <= MAX_CHOICES &&
      p.listed <= p.choices &&
      p.seats >= 1 &&
      p.seats <= 64 &&
      typeof p.disapprovals === 'boolean';
    if (!ok) invalid('选票上下文中的职位无效。', 'a post of the ballot context is not valid');
    last = order;
  }
  if (!posts.length) invalid('选票上没有职位。', 'the ballot context has no post');
  return { electionId: ctx.electionId, key, posts };
}

function tokenBase64(token) {
  let t;
  try {
    t = typeof token === 'string' ? fromBase64(token) : asBytes(token, 'token').slice();
  } catch {
    t = null;
  }
  if (!t || t.length !== 32) invalid('投票凭证应为 32 字节。', 'the token is 32 bytes');
  return toBase64(t);
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

async function build(ctx, token, choices, { onProgress, check = true, unchecked = false } = {}) {
  await sodium.ready;
  const c = parseBallotContext(ctx);
  const t = tokenBase64(token);
  if (!Array.isArray(choices) || choices.length !== c.posts.length) {
    invalid('每个职位应有一份选择。', 'one choice per post of the ballot');
  }
  const posts = [];
  for (let i = 0; i < c.posts.length; i++) {
    const shape = c.posts[i];
    const choice = choices[i] || {};
    const approvals = choice.approvals;
    if (!Array.isArray(approvals) || approvals.length !== shape.choices) {
      invalid(
        `${shape.post} 应有 ${shape.choices} 个选项。`,
        `${shape.post} has ${shape.choices} choices, got ${Array.isArray(approvals) ? approvals.length : 'none'}`,
      );
    }
    const pctx = parseContext({ electionId: c.electionId, publicKey: c.key.publicKey, token: t, post: shape.post });
    const made = makePost(pctx, approvals, shape.seats, { check, unchecked });
    const doc = made.doc;
    if (shape.disapprovals) {
      const d = choice.disapprovals ?? 0;
      doc.disapprovals = makeDisapprovals(pctx, shape.listed, made.cts, made.rs, approvals, d, { unchecked });
      if (check && !unchecked) checkDisapprovals(pctx, doc.disapprovals, made.cts, shape.listed);
    }
    posts.push(doc);
    if (onProgress) onProgress(i + 1, c.posts.length);
    await nextTask(); // let the page draw its progress between posts
  }
  const ballot = { format: BALLOT_FORMAT_V2, election_id: c.electionId, token: t, posts };
  const size = canonicalBytes(ballot).length;
  if (size > MAX_BALLOT_BYTES_V2) {
    fail(
      'remote.ballot_too_large',
      `选票过大（${size} 字节，上限 ${MAX_BALLOT_BYTES_V2}）。`,
      `the ballot is too large (${size} bytes, at most ${MAX_BALLOT_BYTES_V2})`,
    );
  }
  return { ballot, receipt: await remoteReceiptV2(ballot) };
}

/**
 * Encrypt and prove a remote ballot v2 (RV-3.1, RV-3.2, RV-3.4) and check it as the service will
 * before returning it; its receipt (RV-3.6).
 *
 * @param ctx `{electionId, key, posts}` (see parseBallotContext).
 * @param token the credential's token T (base64 or 32 bytes).
 * @param choices one `{approvals, disapprovals}` per post, in ballot order: `approvals` one 0/1 per
 *   choice (listed candidates, then the write-in list), at most `seats` ones; `disapprovals` the
 *   number of listed candidates marked × (used only where the post's `disapprovals` is true, where
 *   the write-ins must be at most it). Refused with `elgamal.parameters` otherwise.
 * @param options `{onProgress(done, total)}` called after each post; `check: false` skips the
 *   self-check (benchmarks).
 * @returns {Promise<{ballot: object, receipt: string}>}
 */
export function encryptBallotV2(ctx, token, choices, options = {}) {
  return build(ctx, token, choices, { ...options, unchecked: false });
}

/** RV-3.6: SHA-256("branch-election/remote-receipt/2" ‖ 0x00 ‖ JCS(ballot)), lowercase hex. */
export async function remoteReceiptV2(ballot) {
  await sodium.ready;
  return toHex(sodium.crypto_hash_sha256(concatBytes(utf8(RECEIPT_DOMAIN_V2), Uint8Array.of(0), canonicalBytes(ballot))));
}

/**
 * Check a remote-ballot/2 (RV-3.5) as the service does, in its order, stopping at the first
 * failure: the size (`remote.ballot_too_large`); the shape — members, format, election id, token
 * encoding, one post object per post named in ballot order (`remote.ballot_invalid`); the token
 * equal to the cast's `token` (`remote.token_mismatch`); then post by post its members (with
 * `disapprovals` exactly under RV-3.4, else `elgamal.encoding`), its encodings and the
 * disapprovals' (EG-6.3), each choice proof, the sum proof, the disapproval proofs. Returns the
 * receipt (RV-3.6).
 */
export async function verifyBallotV2(ctx, ballot, { token } = {}) {
  await sodium.ready;
  const c = parseBallotContext(ctx);
  const cast = fromBase64(tokenBase64(token));
  let size = Infinity;
  try {
    size = canonicalBytes(ballot).length;
  } catch {
    invalid('选票不是有效的 JSON 对象。', 'the ballot is not a JSON object');
  }
  if (size > MAX_BALLOT_BYTES_V2) {
    fail('remote.ballot_too_large', '选票过大。', `the ballot is too large (${size} bytes, at most ${MAX_BALLOT_BYTES_V2})`);
  }
  if (!hasExactly(ballot, ['format', 'election_id', 'token', 'posts']) || ballot.format !== BALLOT_FORMAT_V2) {
    invalid('不是第 2 版远程选票。', 'not a remote-ballot/2 document');
  }
  if (ballot.election_id !== c.electionId) invalid('选票属于另一场选举。', 'the ballot is for another election');
  let own = null;
  try {
    own = typeof ballot.token === 'string' ? fromBase64(ballot.token) : null;
  } catch {
    own = null;
  }
  if (!own || own.length !== 32) invalid('选票中的凭证不是 32 字节的规范 base64。', "the ballot's token is not canonical base64 of 32 bytes");
  const posts = ballot.posts;
  const named = Array.isArray(posts) && posts.length === c.posts.length &&
    posts.every((p, i) => p !== null && typeof p === 'object' && !Array.isArray(p) && p.post === c.posts[i].post);
  if (!named) invalid('选票的职位列表不对。', 'the ballot must have one object per post, in ballot order');
  let same = own.length === cast.length ? 0 : 1;
  for (let i = 0; i < own.length; i++) same |= own[i] ^ cast[i];
  if (same !== 0) {
    fail('remote.token_mismatch', '选票中的凭证与投票所用的凭证不同。', 'the ballot carries another token than the cast');
  }
  c.posts.forEach((shape, i) => {
    const { disapprovals, ...post } = posts[i];
    if ((disapprovals !== undefined) !== shape.disapprovals) {
      fail(
        'elgamal.encoding',
        shape.disapprovals ? '选票缺少不赞成数证明。' : '选票不应有不赞成数证明。',
        shape.disapprovals ? 'disapprovals is missing (RV-3.4)' : 'disapprovals is not expected here (RV-3.4)',
      );
    }
    const pctx = parseContext({ electionId: c.electionId, publicKey: c.key.publicKey, token: ballot.token, post: shape.post });
    const parsed = parsePost(post, shape.choices, shape.seats);
    const extra = shape.disapprovals ? parseDisapprovals(disapprovals, shape.listed) : null;
    verifyParsedPost(pctx, parsed, shape.choices, shape.seats);
    if (extra) verifyDisapprovals(pctx, extra, parsed.choices, shape.listed);
  });
  return remoteReceiptV2(ballot);
}

/**
 * For the interop tests only: `encryptBallotUnchecked` builds a ballot without checking the
 * plaintexts (a 2, an over-vote, more write-ins than × marks) and without the self-check. Its
 * proofs of an out-of-range plaintext are false (the real branch's equation fails), so the
 * service must refuse it; the page never calls it.
 */
export const elgamalTesting = Object.freeze({
  encryptBallotUnchecked(ctx, token, choices) {
    return build(ctx, token, choices, { unchecked: true });
  },
});

// Remote ballots v2, the page's side (spec/remote-v2-crypto.md, draft EG-1..EG-12): exponential
// ElGamal over ristretto255, the 0/1 proof of each choice and the proof that a post's approvals are
// at most its seats, and the checks of the same. Every group and scalar operation is a libsodium
// call (libsodium-wrappers-sumo: the standard build has no ristretto255 at run time, ADR 0024); the
// only arithmetic done here is on bytes (comparison with ℓ, constant-time selection, framing).
// Randomness: libsodium's randombytes_buf (crypto.getRandomValues in a browser).
//
// The ballot document remote-ballot/2 (spec/remote-v2.md §3) is ballot2.js. Python twin:
// keys/elgamal.py (and keys/remote_ballot.py for the disapproval proofs of RV-3.4).

import sodium from 'libsodium-wrappers-sumo';
import { asBytes, concatBytes, fromBase64, fromHex, toBase64 } from './encoding.js';

export const POINT_SIZE = 32;
export const SCALAR_SIZE = 32;
export const CIPHERTEXT_SIZE = 64;
export const MAX_SEATS = 64; // EG-6.2
export const MAX_SCRUTINEERS = 32; // EG-7.1
export const CHOICE_DOMAIN = 'branch-election/elgamal-choice/1';
export const SUM_DOMAIN = 'branch-election/elgamal-sum/1';
export const DECRYPTION_DOMAIN = 'branch-election/elgamal-decryption/1';
export const DISAPPROVALS_DOMAIN = 'branch-election/elgamal-disapprovals/1'; // RV-3.4

const ELECTION_ID_BYTES = 32;
const TOKEN_BYTES = 32;
// ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian (EG-2.1).
const ORDER_LE = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
const IDENTITY = new Uint8Array(POINT_SIZE);
const ZERO = new Uint8Array(SCALAR_SIZE);
const ONE = smallScalar(1);

/**
 * A refusal with the spec's error code (EG-10), e.g. `elgamal.choice_proof`; `zh` and `en` are the
 * message in each language (`message` is the English one). `index` names the choice when known.
 */
export class ElGamalError extends Error {
  constructor(code, zh, en, index) {
    super(en);
    this.name = 'ElGamalError';
    this.code = code;
    this.zh = zh;
    this.en = en;
    if (index !== undefined) this.index = index;
  }
}

function fail(code, zh, en, index) {
  throw new ElGamalError(code, zh, en, index);
}

/** Resolves once libsodium is ready (every async function here awaits it itself). */
export function elgamalReady() {
  return sodium.ready;
}

// ----------------------------------------------------------------------------- bytes

function smallScalar(n) {
  // a public integer 0 ≤ n < 2^32 as a scalar (indices, seats)
  const out = new Uint8Array(SCALAR_SIZE);
  out[0] = n & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 24) & 0xff;
  return out;
}

function u32(n) {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function ascii(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let x = 0;
  for (let i = 0; i < a.length; i++) x |= a[i] ^ b[i];
  return x === 0;
}

function isZeroBytes(a) {
  let x = 0;
  for (let i = 0; i < a.length; i++) x |= a[i];
  return x === 0;
}

/** 1 when a === b, else 0, for integers 0 ≤ a, b < 2^31, without a branch on them. */
function eqBit(a, b) {
  return ((a ^ b) - 1) >>> 31;
}

/** bit ? a : b for byte strings of one length, by masking instead of branching (bit is 0 or 1). */
function select(bit, a, b) {
  const mask = -bit & 0xff;
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i] ^ (mask & (a[i] ^ b[i]));
  return out;
}

/** table[index] with every entry read and none chosen by a branch (index is secret). */
function pick(table, index) {
  let out = new Uint8Array(table[0].length);
  for (let j = 0; j < table.length; j++) out = select(eqBit(j, index), table[j], out);
  return out;
}

// ----------------------------------------------------------------------------- group (libsodium)

// Every libsodium call goes through `lib`, so that elgamalBench.count can count them.
let lib = sodium;

const add = (p, q) => lib.crypto_core_ristretto255_add(p, q);
const sub = (p, q) => lib.crypto_core_ristretto255_sub(p, q);
const sAdd = (a, b) => lib.crypto_core_ristretto255_scalar_add(a, b);
const sSub = (a, b) => lib.crypto_core_ristretto255_scalar_sub(a, b);
const sMul = (a, b) => lib.crypto_core_ristretto255_scalar_mul(a, b);

/** s·P on a validated point (EG-2.4): O when P = O, and libsodium's refusal means O (s = 0). */
function mul(s, p) {
  if (isZeroBytes(p)) return IDENTITY.slice();
  try {
    return lib.crypto_scalarmult_ristretto255(s, p);
  } catch {
    return IDENTITY.slice();
  }
}

/** s·G, O for s = 0 (EG-2.4). */
function base(s) {
  try {
    return lib.crypto_scalarmult_ristretto255_base(s);
  } catch {
    return IDENTITY.slice();
  }
}

/**
 * c·P computed as (c + 1)·P − P: the same libsodium calls whether c is 0 (the real branch of a
 * disjunctive proof) or not, so the prover does not reveal the branch by an exception path.
 */
function mulEven(c, p) {
  return sub(mul(sAdd(c, ONE), p), p);
}

/** EG-2.5: 64 CSPRNG bytes reduced modulo ℓ, redrawn if 0. */
function randomScalar() {
  for (;;) {
    const s = lib.crypto_core_ristretto255_scalar_reduce(lib.randombytes_buf(64));
    if (!isZeroBytes(s)) return s;
  }
}

let multiplesCache = [];
/** (0·G, 1·G, …, (count − 1)·G), by additions from O (public). */
function multiplesOfG(count) {
  if (multiplesCache.length < count) {
    const g = base(ONE);
    const out = [IDENTITY.slice()];
    for (let j = 1; j < count; j++) out.push(add(out[j - 1], g));
    multiplesCache = out;
  }
  return multiplesCache.slice(0, count);
}

function frame(item) {
  return concatBytes(u32(item.length), item);
}

/** EG-4.1, EG-4.2: SHA-512 of frame(domain) ‖ frame(item)…, reduced modulo ℓ. */
function challenge(domain, items) {
  const transcript = concatBytes(frame(ascii(domain)), ...items.map(frame));
  return lib.crypto_core_ristretto255_scalar_reduce(lib.crypto_hash_sha512(transcript));
}

// ----------------------------------------------------------------------------- parsing (EG-2)

function lessThanOrder(b) {
  for (let i = SCALAR_SIZE - 1; i >= 0; i--) {
    if (b[i] !== ORDER_LE[i]) return b[i] < ORDER_LE[i];
  }
  return false;
}

/**
 * A received group element (EG-2.2), refused in the spec's order: length (`elgamal.encoding`),
 * bit 255 or RFC 9496 decoding (`elgamal.invalid_point`), the identity unless allowed
 * (`elgamal.identity`). Returns a copy of the 32 bytes.
 */
export function parsePoint(data, field = 'point', allowIdentity = false) {
  const p = asBytes(data, field);
  if (p.length !== POINT_SIZE) {
    fail('elgamal.encoding', `${field} 应为 32 字节，实为 ${p.length} 字节。`, `${field} must be 32 bytes, got ${p.length}`);
  }
  if (p[31] & 0x80 || !lib.crypto_core_ristretto255_is_valid_point(p)) {
    fail(
      'elgamal.invalid_point',
      `${field} 不是 ristretto255 群元素的规范编码。`,
      `${field} is not the canonical encoding of a ristretto255 element`,
    );
  }
  if (!allowIdentity && isZeroBytes(p)) {
    fail('elgamal.identity', `${field} 不能是单位元。`, `${field} must not be the identity element`);
  }
  return p.slice();
}

/** A received scalar (EG-2.3): 32 bytes (`elgamal.encoding`) below ℓ (`elgamal.noncanonical_scalar`). */
export function parseScalar(data, field = 'scalar') {
  const s = asBytes(data, field);
  if (s.length !== SCALAR_SIZE) {
    fail('elgamal.encoding', `${field} 应为 32 字节，实为 ${s.length} 字节。`, `${field} must be 32 bytes, got ${s.length}`);
  }
  if (!lessThanOrder(s)) {
    fail(
      'elgamal.noncanonical_scalar',
      `${field} 不是规范标量（不小于群的阶）。`,
      `${field} is not a canonical scalar (not below the group order)`,
    );
  }
  return s.slice();
}

function unb64(value, field) {
  if (typeof value !== 'string') fail('elgamal.encoding', `${field} 应为 base64 文本。`, `${field} must be a base64 string`);
  try {
    return fromBase64(value);
  } catch {
    return fail('elgamal.encoding', `${field} 不是规范的 base64。`, `${field} is not canonical base64`);
  }
}

function bytesField(value, field) {
  return typeof value === 'string' ? unb64(value, field) : asBytes(value, field).slice();
}

/** A ciphertext alpha ‖ beta (EG-3.1): identity halves refused unless `allowIdentity` (a sum). */
export function parseCiphertext(data, field = 'ciphertext', allowIdentity = false) {
  const b = asBytes(data, field);
  if (b.length !== CIPHERTEXT_SIZE) {
    fail('elgamal.encoding', `${field} 应为 64 字节，实为 ${b.length} 字节。`, `${field} must be 64 bytes, got ${b.length}`);
  }
  return {
    alpha: parsePoint(b.subarray(0, POINT_SIZE), `${field}.alpha`, allowIdentity),
    beta: parsePoint(b.subarray(POINT_SIZE), `${field}.beta`, allowIdentity),
  };
}

function parseRangeProof(data, values, field) {
  if (data.length !== 2 * SCALAR_SIZE * values) {
    fail(
      'elgamal.proof_length',
      `${field} 应为 ${2 * SCALAR_SIZE * values} 字节，实为 ${data.length} 字节。`,
      `${field} must be ${2 * SCALAR_SIZE * values} bytes, got ${data.length}`,
    );
  }
  const scalars = [];
  for (let i = 0; i < 2 * values; i++) {
    scalars.push(parseScalar(data.subarray(i * SCALAR_SIZE, (i + 1) * SCALAR_SIZE), `${field}[${i}]`));
  }
  return { challenges: scalars.slice(0, values), responses: scalars.slice(values) };
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasExactly(doc, names) {
  if (!isPlainObject(doc)) return false;
  const keys = Object.keys(doc);
  return keys.length === names.length && names.every((n) => Object.prototype.hasOwnProperty.call(doc, n));
}

function checkSeats(seats, choices) {
  if (!Number.isInteger(seats) || seats < 1 || seats > MAX_SEATS || !Number.isInteger(choices) || choices < 1) {
    fail(
      'elgamal.parameters',
      `应选人数须在 1 到 ${MAX_SEATS} 之间，选项至少一个。`,
      `seats must be 1..${MAX_SEATS} and there must be at least one choice`,
    );
  }
}

/** The election id: 64 lowercase hex digits (or 32 bytes), else `elgamal.parameters`. */
function parseElectionId(electionId) {
  let eid = null;
  try {
    eid = typeof electionId === 'string' ? fromHex(electionId) : asBytes(electionId, 'election id').slice();
  } catch {
    // refused below
  }
  if (!eid || eid.length !== ELECTION_ID_BYTES) {
    fail('elgamal.parameters', '选举标识应为 32 字节。', 'the election id is 32 bytes (64 lowercase hex digits)');
  }
  return eid;
}

/**
 * What every ballot proof is bound to (EG-4.3): `{electionId, publicKey, token, post}` with the
 * election id as 64 lowercase hex (or 32 bytes), the election key H and the credential's token T as
 * base64 (or bytes), the post code (ASCII).
 */
function parseContext(context) {
  const { electionId, publicKey, token, post } = context ?? {};
  const eid = parseElectionId(electionId);
  let t;
  try {
    t = bytesField(token, 'token');
  } catch {
    t = null;
  }
  if (!t || t.length !== TOKEN_BYTES) {
    fail('elgamal.parameters', '投票凭证应为 32 字节。', 'the token is 32 bytes');
  }
  if (typeof post !== 'string' || !/^[\x00-\x7f]+$/.test(post)) {
    fail('elgamal.parameters', '职位代码无效。', 'the post code must be non-empty ASCII');
  }
  const h = parsePoint(bytesField(publicKey, 'publicKey'), 'publicKey');
  return { post, publicKey: h, statement: [eid, h, t, ascii(post)] };
}

// ----------------------------------------------------------------------------- proofs (EG-5, EG-6)

function addCiphertexts(cts) {
  let alpha = IDENTITY.slice();
  let beta = IDENTITY.slice();
  for (const ct of cts) {
    alpha = add(alpha, ct.alpha);
    beta = add(beta, ct.beta);
  }
  return { alpha, beta };
}

/**
 * The disjunctive Chaum–Pedersen proof (EG-5.1) that `ct` = Enc(m; r), m in 0..K, with
 * `multiples` = (0·G … K·G). The real branch is not chosen by a branch on m: every alternative
 * draws (c_j, s_j) and computes a_j = s_j·G − c_j·alpha, b_j = s_j·H − c_j·(beta − j·G) with the
 * same calls; for j = m the pair is (0, w), which makes (a_m, b_m) = (w·G, w·H) as EG-5.1 says, and
 * c_m, s_m are put in place by masked selection.
 */
function proveRange(domain, statement, h, ct, m, r, multiples) {
  const w = randomScalar();
  const challenges = [];
  const responses = [];
  const real = [];
  const commitments = [];
  for (let j = 0; j < multiples.length; j++) {
    const bit = eqBit(j, m);
    const c = select(bit, ZERO, randomScalar());
    const s = select(bit, w, randomScalar());
    real.push(bit);
    challenges.push(c);
    responses.push(s);
    commitments.push(sub(base(s), mulEven(c, ct.alpha)));
    commitments.push(sub(mul(s, h), mulEven(c, sub(ct.beta, multiples[j]))));
  }
  const total = challenge(domain, [...statement, ct.alpha, ct.beta, ...commitments]);
  let cReal = total;
  for (const c of challenges) cReal = sSub(cReal, c); // the real slot holds 0
  const sReal = sAdd(w, sMul(cReal, r));
  for (let j = 0; j < multiples.length; j++) {
    challenges[j] = select(real[j], cReal, challenges[j]);
    responses[j] = select(real[j], sReal, responses[j]);
  }
  return concatBytes(...challenges, ...responses);
}

/** EG-5.3: recompute the commitments and accept exactly when Σ c_j ≡ c (mod ℓ). */
function rangeProofHolds(domain, statement, h, ct, proof, multiples) {
  const commitments = [];
  let sum = ZERO;
  for (let j = 0; j < multiples.length; j++) {
    const c = proof.challenges[j];
    const s = proof.responses[j];
    commitments.push(sub(base(s), mul(c, ct.alpha)));
    commitments.push(sub(mul(s, h), mul(c, sub(ct.beta, multiples[j]))));
    sum = sAdd(sum, c);
  }
  return equalBytes(sum, challenge(domain, [...statement, ct.alpha, ct.beta, ...commitments]));
}

function parsePost(doc, choices, seats) {
  if (!hasExactly(doc, ['post', 'choices', 'choice_proofs', 'sum_proof'])) {
    fail('elgamal.encoding', '职位密文的字段不对。', 'a post ballot has exactly post, choices, choice_proofs and sum_proof');
  }
  if (typeof doc.post !== 'string' || !Array.isArray(doc.choices) || !Array.isArray(doc.choice_proofs)) {
    fail('elgamal.encoding', '职位密文的字段类型不对。', "a post ballot's fields have wrong types");
  }
  if (doc.choices.length !== choices || doc.choice_proofs.length !== choices) {
    fail(
      'elgamal.wrong_shape',
      `该职位应有 ${choices} 个选项密文及其证明。`,
      `the post has ${choices} choices: ${doc.choices.length} ciphertexts and ${doc.choice_proofs.length} proofs given`,
    );
  }
  return {
    post: doc.post,
    choices: doc.choices.map((v, i) => parseCiphertext(unb64(v, `choices[${i}]`), `choices[${i}]`)),
    choiceProofs: doc.choice_proofs.map((v, i) =>
      parseRangeProof(unb64(v, `choice_proofs[${i}]`), 2, `choice_proofs[${i}]`),
    ),
    sumProof: parseRangeProof(unb64(doc.sum_proof, 'sum_proof'), seats + 1, 'sum_proof'),
  };
}

function verifyParsedPost(ctx, post, choices, seats) {
  if (post.post !== ctx.post) {
    fail('elgamal.wrong_shape', `选票的职位 ${post.post} 不是 ${ctx.post}。`, `the ballot is for post ${post.post}, not ${ctx.post}`);
  }
  const zeroOne = multiplesOfG(2);
  post.choices.forEach((ct, i) => {
    if (!rangeProofHolds(CHOICE_DOMAIN, [...ctx.statement, u32(i)], ctx.publicKey, ct, post.choiceProofs[i], zeroOne)) {
      fail(
        'elgamal.choice_proof',
        `第 ${i + 1} 个选项的证明无效：不能证明它是 0 或 1。`,
        `choice ${i}: the proof that it encrypts 0 or 1 does not verify`,
        i,
      );
    }
  });
  const sum = addCiphertexts(post.choices);
  const statement = [...ctx.statement, u32(seats), u32(choices)];
  if (!rangeProofHolds(SUM_DOMAIN, statement, ctx.publicKey, sum, post.sumProof, multiplesOfG(seats + 1))) {
    fail(
      'elgamal.sum_proof',
      `赞成总数不超过应选人数 ${seats} 的证明无效。`,
      `the proof that the choices add up to at most ${seats} does not verify`,
    );
  }
}

/**
 * Check one post of an encrypted ballot (EG-6.4), in the spec's order, stopping at the first
 * failure: members, shape, encodings, post code, each choice proof, the sum proof.
 *
 * @param context `{electionId, publicKey, token, post}` (see encryptPost).
 * @param doc the post's JSON form `{post, choices, choice_proofs, sum_proof}` (EG-6.3).
 * @param shape `{choices, seats}` from the manifest, never from the ballot.
 * @returns {Promise<object>} `doc`, verified; throws ElGamalError (with the spec's `code`) otherwise.
 */
export async function verifyPost(context, doc, { choices, seats } = {}) {
  await sodium.ready;
  checkSeats(seats, choices);
  const ctx = parseContext(context);
  verifyParsedPost(ctx, parsePost(doc, choices, seats), choices, seats);
  return doc;
}

/**
 * Encrypt one post's approvals with their proofs (EG-3.2, EG-5.1, EG-6.2) and check the result as
 * the service will (EG-6.4) before returning it.
 *
 * @param context `{electionId, publicKey, token, post}`: the election id (64 lowercase hex), the
 *   election key H (base64 of `C_0` of the published key), the credential's token T (base64, the
 *   one the ballot is cast with) and the post code.
 * @param approvals one 0 or 1 per choice, in order: the listed candidates (manifest order), then
 *   the write-in slots. More ones than seats is an over-vote: refused (`elgamal.parameters`).
 * @param options `{seats}` from the manifest; `check: false` skips the self-check (benchmarks).
 * @returns {Promise<{post: string, choices: string[], choice_proofs: string[], sum_proof: string}>}
 */
export async function encryptPost(context, approvals, { seats, check = true } = {}) {
  await sodium.ready;
  const made = makePost(parseContext(context), approvals, seats, { check });
  return made.doc;
}

/** Refuse (`elgamal.parameters`) anything but 0/1 choices at most `seats` in number; the count. */
function checkApprovals(approvals, seats) {
  const n = Array.isArray(approvals) ? approvals.length : 0;
  checkSeats(seats, n);
  let total = 0;
  for (const a of approvals) {
    if (a !== 0 && a !== 1) {
      fail('elgamal.parameters', '每个选项只能是 0 或 1。', 'each choice is 0 or 1');
    }
    total += a;
  }
  if (total > seats) {
    fail(
      'elgamal.parameters',
      `赞成数 ${total} 超过应选人数 ${seats}：不能生成超额的选票。`,
      `${total} approvals for ${seats} seats: an over-vote cannot be encrypted`,
    );
  }
  return total;
}

/**
 * One post (internal; ballot2.js builds remote-ballot/2 on it): the JSON form, and the parsed
 * ciphertexts with their randomness, which the disapproval proofs of RV-3.4 need. With
 * `unchecked` (elgamalTesting only) the plaintexts are not checked and m·G is computed for any m:
 * the proofs of a plaintext outside its range are then simply false (the cheating prover).
 */
export function makePost(ctx, approvals, seats, { check = true, unchecked = false } = {}) {
  const n = Array.isArray(approvals) ? approvals.length : 0;
  let total = 0;
  if (unchecked) {
    checkSeats(seats, n);
    for (const a of approvals) total += a;
  } else {
    total = checkApprovals(approvals, seats);
  }
  const h = ctx.publicKey;
  const zeroOne = multiplesOfG(2);
  const cts = [];
  const rs = [];
  const proofs = [];
  let rSum = ZERO;
  approvals.forEach((m, i) => {
    const r = randomScalar();
    const mG = unchecked ? multiplesOfG(m + 1)[m] : pick(zeroOne, m); // m·G without a branch
    const ct = { alpha: base(r), beta: add(mG, mul(r, h)) };
    proofs.push(proveRange(CHOICE_DOMAIN, [...ctx.statement, u32(i)], h, ct, m, r, zeroOne));
    cts.push(ct);
    rs.push(r);
    rSum = sAdd(rSum, r);
  });
  const sum = addCiphertexts(cts);
  const statement = [...ctx.statement, u32(seats), u32(n)];
  const sumProof = proveRange(SUM_DOMAIN, statement, h, sum, total, rSum, multiplesOfG(seats + 1));
  const doc = {
    post: ctx.post,
    choices: cts.map((ct) => toBase64(concatBytes(ct.alpha, ct.beta))),
    choice_proofs: proofs.map(toBase64),
    sum_proof: toBase64(sumProof),
  };
  if (check && !unchecked) verifyParsedPost(ctx, parsePost(doc, n, seats), n, seats);
  return { doc, cts, rs };
}

// ----------------------------------------------------------------------------- disapprovals (RV-3.4)

const DISAPPROVAL_PROOFS = [
  ['count_proof', 'count'],
  ['room_proof', 'room'],
  ['write_in_proof', 'write-in'],
];

function subCiphertexts(a, b) {
  return { alpha: sub(a.alpha, b.alpha), beta: sub(a.beta, b.beta) };
}

/**
 * The three ciphertexts the proofs of RV-3.4 are on: `count`, A + count, count − W (A the sum of
 * the listed choices, W of the write-in choices), in DISAPPROVAL_PROOFS order.
 */
function disapprovalTargets(count, cts, listed) {
  const a = addCiphertexts(cts.slice(0, listed));
  const w = addCiphertexts(cts.slice(listed));
  return [count, addCiphertexts([a, count]), subCiphertexts(count, w)];
}

function disapprovalStatement(ctx, listed, name) {
  return [...ctx.statement, u32(listed), ascii(name)];
}

/**
 * RV-3.4: `{count, count_proof, room_proof, write_in_proof}` for a post whose listed candidates are
 * the first `listed` of `cts` (randomness `rs`, plaintexts `approvals`), with `d` × marks among
 * them. Refused (`elgamal.parameters`) unless 0 ≤ d, approvals among the listed + d ≤ listed and
 * write-ins ≤ d, except with `unchecked` (elgamalTesting: the false proofs of a cheating prover).
 */
export function makeDisapprovals(ctx, listed, cts, rs, approvals, d, { unchecked = false } = {}) {
  let a = 0;
  let w = 0;
  approvals.forEach((m, i) => {
    if (i < listed) a += m;
    else w += m;
  });
  if (!unchecked && (!Number.isInteger(d) || d < 0 || a + d > listed || w > d)) {
    fail(
      'elgamal.parameters',
      `不赞成数 ${d} 不符合规定：赞成与不赞成合计不超过 ${listed} 名候选人，另选人数不超过不赞成数。`,
      `${d} disapprovals: approvals plus disapprovals are at most the ${listed} listed candidates, write-ins at most the disapprovals`,
    );
  }
  const h = ctx.publicKey;
  const multiples = multiplesOfG(Math.max(listed, d) + 1);
  const r = randomScalar();
  const count = { alpha: base(r), beta: add(unchecked ? multiples[d] : pick(multiples.slice(0, listed + 1), d), mul(r, h)) };
  let rA = ZERO;
  let rW = ZERO;
  rs.forEach((ri, i) => {
    if (i < listed) rA = sAdd(rA, ri);
    else rW = sAdd(rW, ri);
  });
  const targets = disapprovalTargets(count, cts, listed);
  const plaintexts = [d, a + d, d - w];
  const randomness = [r, sAdd(rA, r), sSub(r, rW)];
  const range = multiplesOfG(listed + 1);
  const doc = { count: toBase64(concatBytes(count.alpha, count.beta)) };
  DISAPPROVAL_PROOFS.forEach(([member, name], k) => {
    doc[member] = toBase64(
      proveRange(DISAPPROVALS_DOMAIN, disapprovalStatement(ctx, listed, name), h, targets[k], plaintexts[k], randomness[k], range),
    );
  });
  return doc;
}

/** RV-3.4's members and encodings (EG-6.3): `elgamal.encoding`, `elgamal.proof_length`, … */
export function parseDisapprovals(doc, listed) {
  if (!hasExactly(doc, ['count', 'count_proof', 'room_proof', 'write_in_proof'])) {
    fail('elgamal.encoding', '不赞成数证明的字段不对。', 'disapprovals has exactly count, count_proof, room_proof and write_in_proof');
  }
  return {
    count: parseCiphertext(unb64(doc.count, 'disapprovals.count'), 'disapprovals.count'),
    proofs: DISAPPROVAL_PROOFS.map(([member]) =>
      parseRangeProof(unb64(doc[member], `disapprovals.${member}`), listed + 1, `disapprovals.${member}`),
    ),
  };
}

/** RV-3.4's three proofs, in the order count, room, write-in, on the post's verified choices `cts`. */
export function verifyDisapprovals(ctx, parsed, cts, listed) {
  const targets = disapprovalTargets(parsed.count, cts, listed);
  const range = multiplesOfG(listed + 1);
  DISAPPROVAL_PROOFS.forEach(([, name], k) => {
    if (!rangeProofHolds(DISAPPROVALS_DOMAIN, disapprovalStatement(ctx, listed, name), ctx.publicKey, targets[k], parsed.proofs[k], range)) {
      // RV-3.5: checked by EG-5.3, so refused with its code (the message names the proof).
      fail('elgamal.choice_proof', `不赞成数的证明（${name}）无效。`, `the disapprovals proof (${name}) does not verify`);
    }
  });
}

/** Both of the above: a post's disapprovals (RV-3.4) against its choices `cts`. */
export function checkDisapprovals(ctx, doc, cts, listed) {
  verifyDisapprovals(ctx, parseDisapprovals(doc, listed), cts, listed);
}

export { hasExactly, parseContext, parseKey, parsePost, verifyParsedPost };

// ----------------------------------------------------------------------------- key, shares, totals (EG-7..EG-9)

function checkIndex(index, n) {
  if (!Number.isInteger(index) || index < 1 || index > n) {
    fail('elgamal.parameters', `监票人序号须在 1 到 ${n} 之间。`, `a scrutineer index is 1..${n}, got ${index}`);
  }
}

/**
 * The published key `{k, n, commitments}` (EG-7.4). Returns `{k, n, commitments, publicKey}` with
 * the points as bytes (`publicKey` = C_0 = H).
 */
export async function parseThresholdKey(doc) {
  await sodium.ready;
  return parseKey(doc);
}

function parseKey(doc) {
  if (!hasExactly(doc, ['k', 'n', 'commitments'])) {
    fail('elgamal.encoding', '选举公钥的字段不对。', 'the key has exactly k, n and commitments');
  }
  const { k, n, commitments } = doc;
  if (!Number.isInteger(k) || !Number.isInteger(n) || !Array.isArray(commitments)) {
    fail('elgamal.encoding', '选举公钥的字段类型不对。', "the key's fields have wrong types");
  }
  if (!(n >= 1 && n <= MAX_SCRUTINEERS && k >= 1 && k <= n && (k >= 2 || n === 1))) {
    fail(
      'elgamal.parameters',
      `门限须满足 2 ≤ k ≤ n ≤ ${MAX_SCRUTINEERS}（只有一名监票人时 k = 1）。`,
      `the threshold must satisfy 2 <= k <= n <= ${MAX_SCRUTINEERS} (k = 1 only if n = 1)`,
    );
  }
  if (commitments.length !== k) {
    fail('elgamal.encoding', `承诺应有 ${k} 个。`, `there must be k = ${k} commitments, got ${commitments.length}`);
  }
  const points = commitments.map((c, j) => parsePoint(unb64(c, `commitments[${j}]`), `commitments[${j}]`));
  return { k, n, commitments: points, publicKey: points[0] };
}

/** Y_i = Σ_j (i^j mod ℓ)·C_j (EG-7.3), from the commitments alone. */
function sharePublicKey(key, index) {
  checkIndex(index, key.n);
  const i = smallScalar(index);
  let power = ONE;
  let total = IDENTITY.slice();
  for (const c of key.commitments) {
    total = add(total, mul(power, c));
    power = sMul(power, i);
  }
  return total;
}

/** EG-7.3: scrutineer `index`'s share (base64 or bytes) matches the commitments, else `elgamal.share_mismatch`. */
export async function verifyShare(keyDoc, index, share) {
  await sodium.ready;
  const key = parseKey(keyDoc);
  const x = parseScalar(bytesField(share, 'share'), 'share');
  if (!equalBytes(base(x), sharePublicKey(key, index))) {
    fail('elgamal.share_mismatch', `第 ${index} 份密钥份额与公布的承诺不符。`, `share ${index} does not match the published commitments`);
  }
}

function parsePartial(doc, n) {
  if (!hasExactly(doc, ['index', 'share', 'proof'])) {
    fail('elgamal.encoding', '部分解密的字段不对。', 'a partial decryption has index, share, proof');
  }
  if (!Number.isInteger(doc.index)) fail('elgamal.encoding', '序号应为整数。', 'index must be an integer');
  checkIndex(doc.index, n);
  const proof = unb64(doc.proof, 'proof');
  if (proof.length !== 2 * SCALAR_SIZE) {
    fail('elgamal.proof_length', '解密证明应为 64 字节。', `proof must be 64 bytes, got ${proof.length}`);
  }
  return {
    index: doc.index,
    share: parsePoint(unb64(doc.share, 'share'), 'share', true),
    c: parseScalar(proof.subarray(0, SCALAR_SIZE), 'proof.c'),
    s: parseScalar(proof.subarray(SCALAR_SIZE), 'proof.s'),
  };
}

function checkPartial(key, total, p, electionId, label) {
  const y = sharePublicKey(key, p.index);
  const t1 = sub(base(p.s), mul(p.c, y));
  const t2 = sub(mul(p.s, total.alpha), mul(p.c, p.share));
  const expected = challenge(DECRYPTION_DOMAIN, [electionId, label, u32(p.index), y, total.alpha, p.share, t1, t2]);
  if (!equalBytes(expected, p.c)) {
    fail(
      'elgamal.decryption_proof',
      `监票人 ${p.index} 的部分解密证明无效。`,
      `the proof of scrutineer ${p.index}'s partial decryption does not verify`,
    );
  }
}

/**
 * Check the partial decryptions of one encrypted total and combine them (EG-8.3, EG-9): every
 * proof, distinct indices, at least k; Lagrange over the k lowest indices; the t in 0..bound with
 * t·G = M.
 *
 * @param keyDoc the published key `{k, n, commitments}`.
 * @param args `{electionId (hex), label (base64 or bytes, EG-8.1), total (base64 of the 64-byte
 *   sum), partials: [{index, share, proof}], bound}`.
 * @returns {Promise<number>} the total.
 */
export async function combinePartials(keyDoc, { electionId, label, total, partials, bound }) {
  await sodium.ready;
  const key = parseKey(keyDoc);
  const eid = parseElectionId(electionId);
  const lab = bytesField(label, 'label');
  const sum = parseCiphertext(bytesField(total, 'total'), 'total', true);
  if (!Array.isArray(partials)) fail('elgamal.encoding', '部分解密应为列表。', 'partials must be a list');
  const parsed = partials.map((p) => parsePartial(p, key.n));
  const seen = new Set();
  for (const p of parsed) {
    if (seen.has(p.index)) {
      fail('elgamal.duplicate_share', `监票人 ${p.index} 的部分解密出现了两次。`, `two partial decryptions from scrutineer ${p.index}`);
    }
    seen.add(p.index);
    checkPartial(key, sum, p, eid, lab);
  }
  if (seen.size < key.k) {
    fail(
      'elgamal.not_enough_shares',
      `需要至少 ${key.k} 名监票人的部分解密，只有 ${seen.size} 份。`,
      `${key.k} partial decryptions are needed, ${seen.size} given`,
    );
  }
  const chosen = [...parsed].sort((a, b) => a.index - b.index).slice(0, key.k);
  let mask = IDENTITY.slice();
  for (const p of chosen) {
    let num = ONE;
    let den = ONE;
    for (const q of chosen) {
      if (q.index !== p.index) {
        num = sMul(num, smallScalar(q.index));
        den = sMul(den, sSub(smallScalar(q.index), smallScalar(p.index)));
      }
    }
    const lambda = sMul(num, lib.crypto_core_ristretto255_scalar_invert(den));
    mask = add(mask, mul(lambda, p.share));
  }
  const m = sub(sum.beta, mask);
  const g = base(ONE);
  let current = IDENTITY.slice();
  for (let t = 0; t <= bound; t++) {
    if (equalBytes(current, m)) return t;
    current = add(current, g);
  }
  return fail(
    'elgamal.total_out_of_range',
    `合并后的结果不是 0 到 ${bound} 之间的票数。`,
    `the combined plaintext is not a total in 0..${bound}`,
  );
}

// ----------------------------------------------------------------------------- benchmark support

/** Run fn with every libsodium call of this module recorded by name, in order. */
async function traced(fn) {
  await sodium.ready;
  const names = [];
  lib = new Proxy(sodium, {
    get(target, name) {
      const f = target[name];
      if (typeof f !== 'function') return f;
      return (...args) => {
        names.push(name);
        return f(...args);
      };
    },
  });
  try {
    await fn();
  } finally {
    lib = sodium;
  }
  return names;
}

/**
 * For bench/bench_page_elgamal.py and the tests only (no effect on results): `count(fn)` counts
 * fn's libsodium calls by name, `trace(fn)` lists them in order, `bare(counts, repeat)` makes
 * exactly those calls, `repeat` times each count, on fixed valid inputs with nothing else in the
 * loop, and returns the milliseconds (the same page, the same WebAssembly instance: the baseline of
 * the page's prover).
 */
export const elgamalBench = Object.freeze({
  async count(fn) {
    const counts = {};
    for (const name of await traced(fn)) counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  },
  trace(fn) {
    return traced(fn);
  },
  async bare(counts, repeat) {
    await sodium.ready;
    const s = randomScalar();
    const t = randomScalar();
    const p = base(s);
    const q = base(t);
    const wide = sodium.randombytes_buf(64);
    const data = sodium.randombytes_buf(512); // about a proof transcript
    const args = {
      crypto_core_ristretto255_add: [p, q],
      crypto_core_ristretto255_sub: [p, q],
      crypto_core_ristretto255_is_valid_point: [p],
      crypto_core_ristretto255_scalar_add: [s, t],
      crypto_core_ristretto255_scalar_sub: [s, t],
      crypto_core_ristretto255_scalar_mul: [s, t],
      crypto_core_ristretto255_scalar_invert: [s],
      crypto_core_ristretto255_scalar_reduce: [wide],
      crypto_scalarmult_ristretto255: [s, p],
      crypto_scalarmult_ristretto255_base: [s],
      crypto_hash_sha512: [data],
      randombytes_buf: [64],
    };
    const plan = Object.entries(counts).map(([name, n]) => {
      if (!(name in args)) throw new Error(`no baseline input for ${name}`);
      return [sodium[name], args[name], n * repeat];
    });
    const start = performance.now();
    for (const [f, a, n] of plan) for (let i = 0; i < n; i++) f(...a);
    return performance.now() - start;
  },
});

// vote.js: the remote voting page (spec/remote.md; remote ballots version 2, spec/remote-v2.md §6).
// Page logic only; the cryptography is remote-crypto.js (ADR 0007; encryptBallotV2, ADR "page
// remote ballot v2"). The credential and the write-in lists live in sessionStorage until it is
// spent; the invitation code never leaves the form except to /api/remote/redeem. An election
// whose /api/remote/info is not version 2 is not voted on here: version 1's sealed ballots, each
// decrypted at the count, are gone (issue 16, RV-1.1).
import * as rc from './remote-crypto.js';

const LANG = document.body.dataset.lang === 'en' ? 'en' : 'zh';
const MSG = {
  zh: {
    seats: (n) => `应选 ${n} 名`,
    chosen: (c, n) => `已选 ${c} / ${n}`,
    overShort: (c, n) => `所选 ${c} 人多于应选 ${n} 名，请减少。`,
    remove: '删除',
    approve: '赞成', disapprove: '不赞成', abstain: '弃权', blank: '空',
    badCode: '邀请码格式不对：应为 24 个字母或数字。',
    typo: '邀请码有输入错误，请核对后重新输入。',
    pinFormat: '校验码格式不对：应为 16 位数字或字母（A–F）。',
    pinBad: '本页面提供的选举密钥与邀请上的校验码不符。请不要在此页面投票，并联系选举工作组和镇党委。',
    checking: '正在核对选举密钥……',
    working: '正在领取凭证……',
    sealing: '正在加密并投出……',
    network: '网络连接失败，请稍后重试。凭证仍保留在本页面。',
    empty: '您没有选择任何人：此选票为空白票。确定要投出吗？',
    emptyPost: (p) => `${p}：未选择任何人。`,
    spent: '此凭证已经使用过。',
    closed: '远程投票已经结束。',
    notOpen: '远程投票尚未开放',
    closedTitle: '远程投票已经结束',
    closedText: '不能再投远程选票。',
    v2: {
      seatsRule: (n) => `应选 ${n} 名。本次选举规定：每另选一人，须对一名候选人划 ×（不赞成）。`,
      writeIn: '另选他人',
      search: '输入姓名查找',
      searchLabel: (post) => `${post}：查找另选人`,
      noMatch: '没有找到。只能另选名单中的党员（本职位的候选人不在其中）。',
      more: (n) => `另有 ${n} 人，请输入更多字查找。`,
      pick: '选择',
      room: (n) => `还可另选 ${n} 人。`,
      roomRule: (n, x, w) => `还可另选 ${n} 人（已划 × ${x} 个，已另选 ${w} 人）。`,
      fullWhy: (n) => `已选满应选的 ${n} 名：要另选他人，请先取消一位“赞成”或删除一位另选人。`,
      ruleWhy: '要另选他人，请先对一名候选人划 ×：本次选举规定另选人数不得多于不赞成数。',
      ruleErr: (w, x) => `另选了 ${w} 人，但只划了 ${x} 个 ×：另选人数不得多于不赞成数。请再划 × 或删除另选人。`,
      writtenIn: '另选',
      privacy: (n) => `注意：本次只有 ${n} 名党员获准远程投票。远程选票的合计会公布，人数这么少，合计可能显示出您的选择。`,
      privacyPost: (p) => `注意：${p}只选 1 名，且获准远程投票的党员不超过 2 名，公布的远程合计可能显示出您的选择。`,
      encrypting: (d, n) => `正在加密并生成证明（${d}/${n}）……`,
      sending: '正在投出……',
      checking: '选票已送达，正在核验……',
      refused: (why) => `您的选票未通过服务器核验：${why} 凭证仍然有效，可以再投一次（选票将重新加密）。`,
      castAgain: '再投一次',
      slow: '选票已送达，核验尚未完成。请稍后在回执页核对。',
      listsBad: '服务器提供的另选名单与选举记录不符。请不要投票，并联系选举工作组和镇党委。',
      keyBad: '服务器提供的选举公钥无效。请不要投票，并联系选举工作组和镇党委。',
      receiptBad: '服务器返回的回执与本机算出的不符。请截屏此页面并联系选举工作组和镇党委。',
      lost: '页面重新打开后找不到另选名单。请联系选举工作组。',
      unsupported: '本次选举的远程投票不是第二版，此页面不能用于投票或核对。请联系选举工作组。',
      check: {
        input: '请填写完整的回执（64 位），或在投票的设备上打开此页面。',
        pendingLine: '回执在待记入的远程选票中',
        pending: '您的选票已被收下，尚未记入选举记录：远程投票结束时所有远程选票按回执顺序一起记入。请在结束后再核对。',
        receivedLine: '回执对应的选票已送达，正在核验',
        received: '您的选票已送达，服务器正在核验其证明。请稍后再核对。',
        refusedLine: '回执对应的选票未通过核验',
        refused: (why) => `此选票未通过核验，没有计入：${why} 如凭证仍在投票的设备上，可以再投一次。`,
        ballot: '记录中的选票与回执一致',
      },
    },
    check: {
      notFound: '没有找到这个序号的远程选票记录。',
      hashMismatch: '回执哈希与记录不符。',
      proof: (n) => `包含证明有效：记录在共 ${n} 条的选举记录中`,
      proofBad: '包含证明无效',
      sig: '检查点有选举工作组的有效签名',
      sigBad: '检查点签名无效',
      sigSkip: '此浏览器不能核对检查点签名（其余各项已核对）',
      ok: '核对通过：您的选票已记入选举记录。',
      fail: '核对失败。请带上回执联系选举工作组和镇党委。',
    },
  },
  en: {
    seats: (n) => `${n} seat${n === 1 ? '' : 's'}`,
    chosen: (c, n) => `chosen ${c} / ${n}`,
    overShort: (c, n) => `${c} chosen, more than ${n} seats: choose fewer.`,
    remove: 'Remove',
    approve: 'approve', disapprove: 'disapprove', abstain: 'abstain', blank: 'blank',
    badCode: 'Not an invitation code: it has 24 letters and digits.',
    typo: 'The invitation code has a typo; check it and type it again.',
    pinFormat: 'Not a check code: it has 16 digits and letters A–F.',
    pinBad: 'The election keys this page was given do not match the check code on your invitation. Do not vote on this page; contact the work group and the town committee.',
    checking: 'Checking the election keys…',
    working: 'Getting your credential…',
    sealing: 'Sealing and casting…',
    network: 'Network failure; try again. Your credential is still on this page.',
    empty: 'You chose nobody: this is a blank ballot. Cast it anyway?',
    emptyPost: (p) => `${p}: nobody chosen.`,
    spent: 'This credential was already used.',
    closed: 'Remote voting has closed.',
    notOpen: 'Remote voting is not open',
    closedTitle: 'Remote voting has closed',
    closedText: 'Remote ballots can no longer be cast.',
    v2: {
      seatsRule: (n) => `${n} seat${n === 1 ? '' : 's'}. In this election each write-in needs one candidate marked × (disapprove).`,
      writeIn: 'Write-in',
      search: 'Type a name to search',
      searchLabel: (post) => `${post}: find a member to write in`,
      noMatch: 'No match. Only members on the write-in list can be written in (this post\'s candidates are not on it).',
      more: (n) => `${n} more: type more of the name.`,
      pick: 'Choose',
      room: (n) => `You can write in ${n} more.`,
      roomRule: (n, x, w) => `You can write in ${n} more (${x} marked ×, ${w} written in).`,
      fullWhy: (n) => `All ${n} seats are chosen: to write someone in, first remove an approval or a write-in.`,
      ruleWhy: 'To write someone in, first mark a candidate ×: in this election write-ins may not exceed disapprovals.',
      ruleErr: (w, x) => `${w} written in but only ${x} marked ×: write-ins may not exceed disapprovals. Mark another × or remove a write-in.`,
      writtenIn: 'write-in',
      privacy: (n) => `Note: only ${n} member${n === 1 ? ' was' : 's were'} approved to vote remotely. The remote totals are published; with so few voters they may reveal your choice.`,
      privacyPost: (p) => `Note: ${p} has 1 seat and at most 2 members may vote remotely; the published remote totals may reveal your choice.`,
      encrypting: (d, n) => `Encrypting and proving (${d}/${n})…`,
      sending: 'Casting…',
      checking: 'Ballot delivered; checking…',
      refused: (why) => `The service refused your ballot: ${why} Your credential is still valid: you can cast again (the ballot is encrypted anew).`,
      castAgain: 'Cast again',
      slow: 'Ballot delivered; the check is not finished yet. Check your receipt on the receipt page later.',
      listsBad: 'The write-in lists from the server do not match the election record. Do not vote; contact the work group and the town committee.',
      keyBad: 'The election key from the server is not valid. Do not vote; contact the work group and the town committee.',
      receiptBad: 'The receipt from the server differs from the one this device computed. Take a screenshot and contact the work group and the town committee.',
      lost: 'The write-in lists are missing after the page was reopened. Contact the work group.',
      unsupported: 'Remote voting in this election is not version 2: this page cannot vote or check receipts for it. Contact the work group.',
      check: {
        input: 'Enter the whole receipt (64 digits), or open this page on the device you voted with.',
        pendingLine: 'The receipt is among the pending remote ballots',
        pending: 'Your ballot was accepted and is not in the election record yet: all remote ballots are entered together, in receipt order, when remote voting closes. Check again after that.',
        receivedLine: 'The ballot of this receipt was delivered and is being checked',
        received: 'Your ballot was delivered; the service is checking its proofs. Check again in a moment.',
        refusedLine: 'The ballot of this receipt failed the check',
        refused: (why) => `This ballot failed the check and does not count: ${why} If the credential is still on the device you voted with, you can cast again.`,
        ballot: 'The ballot in the record matches the receipt',
      },
    },
    check: {
      notFound: 'No remote ballot record has this number.',
      hashMismatch: 'The receipt hash does not match the record.',
      proof: (n) => `Inclusion proof valid: the record is in the log of ${n} entries`,
      proofBad: 'Inclusion proof invalid',
      sig: 'The checkpoint carries a valid work-group signature',
      sigBad: 'Checkpoint signature invalid',
      sigSkip: 'This browser cannot check the checkpoint signature (everything else was checked)',
      ok: 'Check passed: your ballot is in the election record.',
      fail: 'Check failed. Bring the receipt to the work group and the town committee.',
    },
  },
}[LANG];

const $ = (id) => document.getElementById(id);
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const enc = new TextEncoder();
const SECTIONS = ['s-loading', 's-unsupported', 's-notopen', 's-code', 's-ballot', 's-confirm', 's-receipt', 's-error'];

function show(id) {
  for (const s of SECTIONS) if ($(s)) $(s).hidden = s !== id;
  window.scrollTo(0, 0);
  document.body.dataset.step = id;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function flash(id, text) {
  const e = $(id);
  e.textContent = text || '';
  e.hidden = !text;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** A refusal's text: `{code, zh, en}`, or `{code, message}` (message in the page's language). */
function refusalText(r) {
  const d = r.data || {};
  return d.message || d[LANG] || d.zh || `HTTP ${r.status}`;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const r = await fetch(`${path}${path.includes('?') ? '&' : '?'}lang=${LANG}`, {
    ...init, credentials: 'omit', cache: 'no-store',
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  return { status: r.status, ok: r.ok, data };
}

// RM-3.1: normalise a typed code and check its check symbol before it reaches the service.
export async function normalizeCode(text) {
  let s = String(text).replace(/[\s-]+/g, '').toUpperCase();
  s = s.replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== 24 || [...s].some((c) => !CROCKFORD.includes(c))) throw new Error(MSG.badCode);
  const h = await sha256(concat(enc.encode('branch-election/invitation-check/1'), new Uint8Array([0]), enc.encode(s.slice(0, 23))));
  if (CROCKFORD[h[0] >> 3] !== s[23]) throw new Error(MSG.typo);
  return s.match(/.{4}/g).join('-');
}

// RFC 9162 §2.1.3.2 inclusion check (spec/merkle.md M8-M9), SHA-256 from WebCrypto.
export async function verifyInclusion(leafHash, index, size, proof, root) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0 || index >= size) return false;
  if (leafHash.length !== 32 || root.length !== 32) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  const one = new Uint8Array([1]);
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(one, p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await sha256(concat(one, r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && rc.toHex(r) === rc.toHex(root);
}

async function leafHashOf(entryText) {
  return rc.toHex(await sha256(concat(new Uint8Array([0]), enc.encode(entryText))));
}

// ------------------------------------------------------------------ the voting page

const state = { info: null, cred: null, choices: {}, writeIns: null };

function credKey() { return `remote-credential/${state.info.election_id}`; }
function writeInKey() { return `remote-write-ins/${state.info.election_id}`; }
function fpKey() { return `remote-town-fingerprint/${state.info.election_id}`; }
function receiptKey() { return `remote-receipt/${state.info.election_id}`; }

function codeFromUrl() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const code = hash.get('code') || query.get('code');
  const pin = hash.get('pin') || query.get('pin');
  if (code || pin) {
    query.delete('code');
    query.delete('pin');
    const q = query.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : ''));
  }
  return { code, pin };
}

const PUBLIC_SUMMARY_DOMAIN = 'branch-election/public-summary/1';

// RM-10.3: before anything is blinded or sealed, check what this page was served against the
// invitation's check code: the town-signed public summary (spec/manifest.md §6: election id,
// title, posts and candidates, the town and work-group keys; nothing personal) carries a valid
// signature of its own town key, its hash and the leaf hash of the remote.opened entry give the
// check code, the entry carries the issuer key and election key the page was served, the ballot
// the page shows is the summary's, and the entry is in the remote-opened checkpoint signed by the
// summary's work-group key. A service that handed out per-member keys (to link tokens to
// members), an election key it can open alone, or a ballot the town did not approve fails here.
export async function checkPin(text, info) {
  const pin = String(text || '').replace(/[\s-]+/g, '').toUpperCase();
  if (!/^[0-9A-F]{16}$/.test(pin)) throw new Error(MSG.pinFormat);
  const r = await api('/api/remote/pin');
  if (!r.ok) throw new Error((r.data && r.data.message) || `HTTP ${r.status}`);
  const p = r.data;
  const bad = () => { throw new Error(MSG.pinBad); };
  let summary;
  try { summary = JSON.parse(p.summary); } catch { bad(); }
  if (rc.canonicalJson(summary) !== p.summary || summary.format !== 'public-summary/1') bad();
  if (summary.election_id !== info.election_id || summary.title !== info.title) bad();
  const town = summary.town_key || {};
  const wg = summary.work_group_key || {};
  if (town.role !== 'town_committee' || wg.role !== 'work_group') bad();
  if (wg.key !== info.work_group_key) bad();
  if (!(await rc.verifyEd25519(town.key, PUBLIC_SUMMARY_DOMAIN, p.summary, p.summary_signature))) bad();
  const summaryHash = await sha256(concat(enc.encode(PUBLIC_SUMMARY_DOMAIN), new Uint8Array([0]), enc.encode(p.summary)));
  const leaf = await sha256(concat(new Uint8Array([0]), enc.encode(p.entry)));
  const want = await sha256(concat(enc.encode('branch-election/invitation-pin/2'), new Uint8Array([0]), summaryHash, leaf));
  if (rc.toHex(want).slice(0, 16).toUpperCase() !== pin) bad();
  for (const post of info.posts) {
    const signed = (summary.posts || []).find((q) => q.post === post.post);
    if (!signed || signed.seats !== post.seats) bad();
    if (rc.canonicalJson(signed.candidates) !== rc.canonicalJson(listedOf(post).map((c) => ({ id: c.id, name: c.name })))) bad();
  }
  const entry = JSON.parse(p.entry);
  if (entry.type !== 'remote.opened' || entry.seq !== p.seq) bad();
  if (entry.body.issuer_key !== info.issuer_key) bad();
  // RV-5 table: remote.opened logs the election key (EG-7.4) and the write-in lists (RV-2.1).
  if (!entry.body.election_key || rc.canonicalJson(entry.body.election_key) !== rc.canonicalJson(info.election_key)) bad();
  if (!Array.isArray(entry.body.write_in_lists)) bad();
  const lines = p.checkpoint.split('\n');
  if (lines[0] !== `branch-election/${info.election_id}` || lines[3] !== 'remote-opened' || Number(lines[1]) !== p.size) bad();
  if (!(await verifyInclusion(leaf, p.seq, p.size, p.proof.map((h) => rc.fromBase64(h)), rc.fromBase64(lines[2])))) bad();
  if (!(await verifyCheckpointSignature(p.checkpoint, wg.key))) bad();
  return { townFingerprint: await fingerprint(town.key), writeInLists: entry.body.write_in_lists };
}

// spec/keyfile.md §5.3: the 25-digit fingerprint people read aloud to compare keys.
export async function fingerprint(keyB64) {
  const h = await sha256(concat(enc.encode('branch-election/key-fingerprint/1'), new Uint8Array([0]), enc.encode('ed25519'), new Uint8Array([0]), rc.fromBase64(keyB64)));
  const n = BigInt(`0x${rc.toHex(h.slice(0, 10))}`);
  return n.toString().padStart(25, '0').match(/.{5}/g).join(' ');
}

function keepCodeOnLanguageSwitch() {
  for (const a of document.querySelectorAll('a[data-keep-hash]')) {
    a.addEventListener('click', () => {
      const code = $('code') && $('code').value.trim();
      const pin = $('pin') && $('pin').value.trim();
      const parts = [];
      if (code) parts.push(`code=${encodeURIComponent(code)}`);
      if (pin) parts.push(`pin=${encodeURIComponent(pin)}`);
      if (parts.length) a.href = `${a.getAttribute('href')}#${parts.join('&')}`;
    });
  }
}

async function redeem(ev) {
  ev.preventDefault();
  flash('code-err', '');
  let code;
  try {
    code = await normalizeCode($('code').value);
  } catch (e) {
    flash('code-err', e.message);
    return;
  }
  const button = $('redeem');
  button.disabled = true;
  const label = button.textContent;
  button.textContent = MSG.checking;
  try {
    let pinned;
    try {
      pinned = await checkPin($('pin').value, state.info);
      sessionStorage.setItem(fpKey(), pinned.townFingerprint);
    } catch (e) {
      flash('code-err', String(e && e.message ? e.message : e));
      return;
    }
    button.textContent = MSG.working;
    const req = await rc.requestToken(state.info.issuer_key, state.info.election_id);
    let r;
    try {
      r = await api('/api/remote/redeem', { code, blinded_msg: req.blindedMsg });
    } catch {
      flash('code-err', MSG.network);
      return;
    }
    if (!r.ok) {
      flash('code-err', (r.data && r.data.message) || `HTTP ${r.status}`);
      return;
    }
    const cred = await rc.finishToken(req.state, r.data.blind_sig);
    state.cred = cred;
    sessionStorage.setItem(credKey(), JSON.stringify(cred));
    // RV-6.1: the write-in lists come with the credential only; they must be the logged ones.
    const lists = writeInListsOf(r.data, pinned.writeInLists);
    if (!lists) {
      flash('code-err', MSG.v2.listsBad);
      return;
    }
    state.writeIns = lists;
    sessionStorage.setItem(writeInKey(), JSON.stringify(lists));
    $('code').value = '';
    startBallot();
  } catch (e) {
    flash('code-err', String(e && e.message ? e.message : e));
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

function markButtons(p, i, name) {
  const group = el('span', { class: 'marks', role: 'radiogroup', 'aria-label': name });
  const options = [['o', '○', MSG.approve], ['x', '×', MSG.disapprove], ['-', MSG.blank, MSG.abstain]];
  for (const [m, glyph, title] of options) {
    const b = el('button', {
      type: 'button', role: 'radio', 'data-mark': m, 'aria-label': `${name} ${title}`, title,
      class: m === '-' ? 'blank' : '', 'aria-checked': String(state.choices[p.post].marks[i] === m),
    }, glyph);
    b.addEventListener('click', () => {
      const c = state.choices[p.post];
      c.marks = c.marks.slice(0, i) + m + c.marks.slice(i + 1);
      for (const x of group.children) x.setAttribute('aria-checked', String(x.dataset.mark === m));
      refreshPostV2(p);
    });
    group.append(b);
  }
  return group;
}

// spec/log.md §1: the members of every log entry; `salt` is the service's secret per-entry salt
// (32 bytes as 64 lowercase hex, §1.1), which the receipt must carry for its leaf hash to recompute.
const ENTRY_MEMBERS = 'actor,at,body,format,prev,salt,seq,type';

function startBallot() {
  const fp = sessionStorage.getItem(fpKey());
  if (fp) { $('town-fp').querySelector('.fp').textContent = fp; $('town-fp').hidden = false; }
  renderBallotV2();
  show('s-ballot');
}

async function bootVote() {
  keepCodeOnLanguageSwitch();
  const { code, pin } = codeFromUrl();
  if (!rc.supported()) { show('s-unsupported'); return; }
  try { await rc.elgamalReady(); } catch { show('s-unsupported'); return; }
  const r = await api('/api/remote/info');
  if (!r.ok) { $('error-text').textContent = (r.data && r.data.message) || `HTTP ${r.status}`; show('s-error'); return; }
  state.info = r.data;
  if (state.info.version !== 2) {
    // Remote ballots version 1 (a sealed box per ballot) are no longer cast from this page.
    $('error-text').textContent = MSG.v2.unsupported;
    show('s-error');
    return;
  }
  document.body.dataset.version = '2';
  try {
    await rc.parseThresholdKey(state.info.election_key);
  } catch {
    $('error-text').textContent = MSG.v2.keyBad;
    show('s-error');
    return;
  }
  $('election-title').textContent = state.info.title;
  if (state.info.closed || !state.info.open) {
    if (state.info.closed) { $('notopen-title').textContent = MSG.closedTitle; $('notopen-text').textContent = MSG.closedText; }
    show('s-notopen');
    return;
  }
  const saved = sessionStorage.getItem(credKey());
  if (saved) {
    state.cred = JSON.parse(saved);
    state.writeIns = JSON.parse(sessionStorage.getItem(writeInKey()) || 'null');
    if (!state.writeIns) { $('error-text').textContent = MSG.v2.lost; show('s-error'); return; }
    startBallot();
    return;
  }
  if (code) $('code').value = code;
  if (pin) $('pin').value = pin;
  $('f-code').addEventListener('submit', redeem);
  show('s-code');
}

function wireBallot() {
  $('to-confirm').addEventListener('click', toConfirmV2);
  $('back').addEventListener('click', () => show('s-ballot'));
  $('cast').addEventListener('click', castV2);
}

// ------------------------------------------------------------------ remote ballots v2 (spec/remote-v2.md)
// The ballot is encrypted and proven on this device (RV-3, remote-crypto.js encryptBallotV2): one
// ciphertext per choice, the listed candidates then the post's write-in list (RV-2.1). Only ○
// marks and chosen write-ins are encrypted (RV-3.3); × marks count only under
// write_in_requires_disapproval, where the ballot proves write-ins ≤ × marks (RV-3.4).

const POST_ZH = { committee: '委员', secretary: '书记', deputy_secretary: '副书记' };
const MAX_RESULTS = 8;

function listedOf(p) { return p.listed || p.candidates || []; }
function ruleOf(p) { return Boolean(p.write_in_requires_disapproval ?? state.info.write_in_requires_disapproval); }
function postTitle(p) { return LANG === 'en' ? p.post.replace(/_/g, ' ') : (p.post_zh || POST_ZH[p.post] || p.post); }
function writeInListOf(p) {
  const l = (state.writeIns || []).find((w) => w.post === p.post);
  return l ? l.members : [];
}

/**
 * The redemption's write-in lists (RV-6.1: per post `{member, name}` in list order), kept only when
 * their member ids are exactly the lists of the pinned remote.opened entry (RV-2.1), post by post,
 * one list per post of the ballot; otherwise null.
 */
function writeInListsOf(redeemed, logged) {
  const lists = redeemed && redeemed.write_in_lists;
  if (!Array.isArray(lists) || !Array.isArray(logged)) return null;
  const posts = state.info.posts.map((p) => p.post);
  if (lists.length !== posts.length || logged.length !== posts.length) return null;
  const out = [];
  for (let i = 0; i < posts.length; i++) {
    const got = lists[i];
    const want = logged[i];
    if (!got || !want || got.post !== posts[i] || want.post !== posts[i]) return null;
    if (!Array.isArray(got.members) || !Array.isArray(want.members) || got.members.length !== want.members.length) return null;
    const members = [];
    for (let j = 0; j < got.members.length; j++) {
      const m = got.members[j] || {};
      const id = typeof want.members[j] === 'string' ? want.members[j] : (want.members[j] || {}).member;
      if (typeof m.member !== 'string' || m.member !== id || typeof m.name !== 'string') return null;
      members.push({ member: m.member, name: m.name });
    }
    out.push({ post: posts[i], members });
  }
  return out;
}

function countsV2(p) {
  const c = state.choices[p.post];
  const approved = [...c.marks].filter((m) => m === 'o').length;
  const crossed = [...c.marks].filter((m) => m === 'x').length;
  const written = c.picked.length;
  const total = approved + written;
  const rule = ruleOf(p);
  const room = Math.max(0, rule ? Math.min(p.seats - total, crossed - written) : p.seats - total);
  return { approved, crossed, written, total, rule, room, over: total > p.seats, ruleBroken: rule && written > crossed };
}

function postErrorV2(p) {
  const k = countsV2(p);
  if (k.over) return MSG.overShort(k.total, p.seats);
  if (k.ruleBroken) return MSG.v2.ruleErr(k.written, k.crossed);
  return '';
}

function refreshPostV2(p) {
  const box = document.querySelector(`.post[data-post="${p.post}"]`);
  const k = countsV2(p);
  const problem = postErrorV2(p);
  box.classList.toggle('over', Boolean(problem));
  box.querySelector('.tallyline').textContent = MSG.chosen(k.total, p.seats);
  const err = box.querySelector('.post-err');
  err.textContent = problem;
  err.hidden = !problem;
  box.querySelector('.wi-room').textContent = k.rule ? MSG.v2.roomRule(k.room, k.crossed, k.written) : MSG.v2.room(k.room);
  const why = box.querySelector('.wi-why');
  let reason = '';
  if (k.room === 0 && !problem) reason = k.total >= p.seats ? MSG.v2.fullWhy(p.seats) : MSG.v2.ruleWhy;
  why.textContent = reason;
  why.hidden = !reason;
  for (const b of box.querySelectorAll('.wi-pick')) b.disabled = k.room === 0;
  renderPicked(p, box);
  const anyBad = state.info.posts.some((q) => postErrorV2(q));
  $('to-confirm').disabled = anyBad;
  if (!anyBad) flash('ballot-err', '');
}

function renderPicked(p, box) {
  const list = box.querySelector('.wi-chosen');
  list.replaceChildren();
  const byId = new Map(writeInListOf(p).map((m) => [m.member, m]));
  for (const id of state.choices[p.post].picked) {
    const m = byId.get(id);
    const rm = el('button', { type: 'button', class: 'remove', 'aria-label': `${MSG.remove} ${m.name}` }, MSG.remove);
    rm.addEventListener('click', () => {
      const c = state.choices[p.post];
      c.picked = c.picked.filter((x) => x !== id);
      renderResults(p, box);
      refreshPostV2(p);
    });
    list.append(el('li', { class: 'wi-item', 'data-member': id },
      el('span', {}, el('span', { class: 'name', text: m.name }), el('span', { class: 'id', text: m.member }),
        el('span', { class: 'mark', text: '○' })), rm));
  }
}

/** The write-in list's members matching the search box (name or member id), not yet chosen. */
function renderResults(p, box) {
  const out = box.querySelector('.wi-results');
  const note = box.querySelector('.wi-note');
  out.replaceChildren();
  const q = box.querySelector('.wi-q').value.trim().normalize('NFC').toLowerCase();
  note.hidden = true;
  if (!q) return;
  const picked = new Set(state.choices[p.post].picked);
  const hits = writeInListOf(p).filter((m) => !picked.has(m.member) &&
    (m.name.normalize('NFC').toLowerCase().includes(q) || m.member.toLowerCase().startsWith(q)));
  if (!hits.length) { note.textContent = MSG.v2.noMatch; note.hidden = false; return; }
  const room = countsV2(p).room;
  for (const m of hits.slice(0, MAX_RESULTS)) {
    const b = el('button', { type: 'button', class: 'wi-pick', 'data-member': m.member, 'aria-label': `${MSG.v2.pick} ${m.name} ${m.member}` },
      el('span', { class: 'name', text: m.name }), el('span', { class: 'id', text: m.member }));
    b.disabled = room === 0;
    b.addEventListener('click', () => {
      if (countsV2(p).room === 0) return; // the button is disabled; the reason is shown
      state.choices[p.post].picked.push(m.member);
      box.querySelector('.wi-q').value = '';
      renderResults(p, box);
      refreshPostV2(p);
    });
    out.append(el('li', {}, b));
  }
  if (hits.length > MAX_RESULTS) { note.textContent = MSG.v2.more(hits.length - MAX_RESULTS); note.hidden = false; }
}

function renderBallotV2() {
  const root = $('posts');
  root.replaceChildren();
  for (const p of state.info.posts) {
    if (!state.choices[p.post]) state.choices[p.post] = { marks: '-'.repeat(listedOf(p).length), picked: [] };
  }
  for (const p of state.info.posts) {
    const title = postTitle(p);
    const box = el('section', { class: 'post', 'data-post': p.post },
      el('div', { class: 'post-head' }, el('h2', { text: title }), el('span', { class: 'tallyline' })));
    const ol = el('ol', { class: 'cands' });
    listedOf(p).forEach((c, i) => {
      ol.append(el('li', { class: 'cand', 'data-candidate': c.id },
        el('span', {}, el('span', { class: 'no', text: String(i + 1) }), el('span', { class: 'name', text: c.name })),
        markButtons(p, i, c.name)));
    });
    box.append(el('p', { class: 'hint wi-title', text: ruleOf(p) ? MSG.v2.seatsRule(p.seats) : MSG.seats(p.seats) }), ol);
    const search = el('input', {
      type: 'search', class: 'wi-q', placeholder: MSG.v2.search, 'aria-label': MSG.v2.searchLabel(title),
      autocomplete: 'off', spellcheck: 'false', maxlength: '32',
    });
    search.addEventListener('input', () => renderResults(p, box));
    box.append(
      el('h3', { class: 'wi-title', text: MSG.v2.writeIn }),
      el('ul', { class: 'wi-chosen' }),
      el('div', { class: 'wi-search' }, search,
        el('p', { class: 'hint wi-room' }),
        el('p', { class: 'flash warn wi-why', role: 'status', hidden: '' }),
        el('ul', { class: 'wi-results' }),
        el('p', { class: 'hint wi-note', hidden: '' })),
      el('p', { class: 'flash error post-err', role: 'alert', hidden: '' }),
    );
    root.append(box);
    refreshPostV2(p);
  }
}

/** RV-6.3: the warning before casting when the published remote totals may reveal the choice. */
function privacyWarning() {
  const n = state.info.approved_count;
  if (!Number.isInteger(n)) return '';
  if (n < 3) return MSG.v2.privacy(n);
  const single = state.info.posts.find((p) => p.seats === 1 && n <= 2);
  return single ? MSG.v2.privacyPost(postTitle(single)) : '';
}

function toConfirmV2() {
  const bad = state.info.posts.filter((p) => postErrorV2(p));
  if (bad.length) {
    flash('ballot-err', bad.map((p) => `${postTitle(p)}：${postErrorV2(p)}`).join(' '));
    return;
  }
  const sum = $('summary');
  sum.replaceChildren();
  const sign = { o: '○ ' + MSG.approve, x: '× ' + MSG.disapprove, '-': MSG.abstain };
  const empties = [];
  for (const p of state.info.posts) {
    const c = state.choices[p.post];
    const ul = el('ul');
    listedOf(p).forEach((cand, i) => {
      const m = c.marks[i];
      ul.append(el('li', {}, el('span', { text: cand.name }), el('span', { class: `m ${m === 'o' ? 'o' : ''}`, text: sign[m] })));
    });
    const byId = new Map(writeInListOf(p).map((m) => [m.member, m]));
    for (const id of c.picked) {
      ul.append(el('li', { class: 'wi-sum' }, el('span', { text: `${byId.get(id).name}（${MSG.v2.writtenIn}）` }), el('span', { class: 'm o', text: sign.o })));
    }
    const k = countsV2(p);
    sum.append(el('div', { class: 'sum', 'data-post': p.post }, el('h2', { text: `${postTitle(p)} · ${MSG.chosen(k.total, p.seats)}` }), ul));
    if (k.total === 0) empties.push(MSG.emptyPost(postTitle(p)));
  }
  const allEmpty = state.info.posts.every((p) => countsV2(p).total === 0);
  flash('confirm-warn', allEmpty ? MSG.empty : empties.join(' '));
  flash('privacy-warn', privacyWarning());
  flash('cast-err', '');
  $('cast-progress').hidden = true;
  show('s-confirm');
}

/** The ballot context of encryptBallotV2 and the voter's choices, post by post (RV-3.2). */
function ballotV2() {
  const posts = state.info.posts.map((p) => {
    const listed = listedOf(p).length;
    return { post: p.post, listed, choices: listed + writeInListOf(p).length, seats: p.seats, disapprovals: ruleOf(p) };
  });
  const choices = state.info.posts.map((p) => {
    const c = state.choices[p.post];
    const picked = new Set(c.picked);
    return {
      approvals: [...[...c.marks].map((m) => (m === 'o' ? 1 : 0)), ...writeInListOf(p).map((m) => (picked.has(m.member) ? 1 : 0))],
      disapprovals: countsV2(p).crossed,
    };
  });
  return { ctx: { electionId: state.info.election_id, key: state.info.election_key, posts }, choices };
}

function progress(done, total, text) {
  $('cast-progress').hidden = false;
  $('enc-progress').max = total;
  $('enc-progress').value = done;
  $('enc-text').textContent = text;
}

async function castV2() {
  const button = $('cast');
  button.disabled = true;
  $('back').disabled = true;
  const label = button.textContent;
  button.textContent = MSG.sealing;
  flash('cast-err', '');
  try {
    const { ctx, choices } = ballotV2();
    const n = ctx.posts.length;
    progress(0, n + 1, MSG.v2.encrypting(0, n));
    await new Promise((resolve) => setTimeout(resolve, 0)); // draw the progress before the work
    const made = await rc.encryptBallotV2(ctx, state.cred.token, choices, {
      onProgress: (d) => progress(d, n + 1, MSG.v2.encrypting(d, n)),
    });
    progress(n, n + 1, MSG.v2.sending);
    const sent = { token: state.cred.token, token_prefix: state.cred.prefix, token_signature: state.cred.signature, ballot: made.ballot };
    let r;
    try {
      r = await api('/api/remote/cast', sent);
    } catch {
      flash('cast-err', MSG.network);
      return;
    }
    if (!r.ok) {
      if (r.data && r.data.code === 'remote.token_used') sessionStorage.removeItem(credKey());
      flash('cast-err', refusalText(r));
      return;
    }
    progress(n + 1, n + 1, MSG.v2.checking);
    const d = r.data || {};
    const good = d.format === 'remote-receipt/2' && d.election_id === state.info.election_id && d.receipt === made.receipt;
    // RV-6.2: the device keeps the receipt it computed itself (RV-3.6), not the server's word.
    const kept = { format: 'remote-receipt/2', election_id: state.info.election_id, receipt: made.receipt };
    localStorage.setItem(receiptKey(), JSON.stringify(kept));
    // RV-6.4: the proofs are checked after the answer; the credential is kept until they hold.
    const verdict = good ? await awaitVerdict(made.receipt) : { status: 'unchecked' };
    if (verdict.status === 'refused') {
      localStorage.removeItem(receiptKey());
      $('cast-progress').hidden = true;
      flash('cast-err', MSG.v2.refused(verdict.message || verdict.code || ''));
      button.dataset.again = '1';
      return;
    }
    for (const k of [credKey(), fpKey(), writeInKey()]) sessionStorage.removeItem(k);
    state.cred = null;
    $('r-hash').textContent = made.receipt.slice(0, 16).match(/.{4}/g).join(' ');
    $('r-full').textContent = made.receipt;
    $('to-check').href = `/vote/receipt?lang=${LANG}#receipt=${made.receipt}`;
    show('s-receipt');
    if (verdict.status === 'slow') {
      $('s-receipt').prepend(el('p', { class: 'flash warn', role: 'status', id: 'receipt-slow', text: MSG.v2.slow }));
    }
    if (!good) {
      $('s-receipt').prepend(el('p', { class: 'flash error', role: 'alert', id: 'receipt-bad', text: MSG.v2.receiptBad }));
    }
  } catch (e) {
    flash('cast-err', e && e.code && e[LANG] ? e[LANG] : String(e && e.message ? e.message : e));
  } finally {
    button.disabled = false;
    $('back').disabled = false;
    button.textContent = button.dataset.again ? MSG.v2.castAgain : label;
  }
}

// RV-6.4: the receipt's status until it is accepted or refused, asked with a growing pause
// (0.5 s doubling to 4 s); after about two minutes the page stops asking (status 'slow') and
// the receipt page tells the rest.
async function awaitVerdict(receipt) {
  let pause = 500;
  const until = Date.now() + 120000;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 4000);
    let r;
    try {
      r = await api(`/api/remote/receipt?receipt=${receipt}`);
    } catch {
      continue; // the network: ask again after the next pause
    }
    const status = r.ok && r.data ? r.data.status : null;
    if (status === 'accepted' || status === 'logged') return { status: 'accepted' };
    if (status === 'refused') return r.data;
  }
  return { status: 'slow' };
}

// ------------------------------------------------------------------ the receipt page

function line(ok, text) {
  const li = el('li', { class: ok ? 'ok' : 'bad', text: `${ok ? '✓' : '✗'} ${text}` });
  $('steps').append(li);
  return ok;
}

async function verifyCheckpointSignature(checkpoint, wgKeyB64) {
  // spec/log.md §3: Ed25519 over "branch-election/checkpoint/1" || 0x00 || body (first four
  // lines), checked with libsodium (remote-crypto.js), so in every browser.
  const lines = checkpoint.split('\n');
  const body = lines.slice(0, 4).map((l) => `${l}\n`).join('');
  const sigLine = lines.find((l) => l.startsWith('— work_group:'));
  if (!sigLine || !wgKeyB64) return false;
  let raw;
  let pub;
  try { raw = rc.fromBase64(sigLine.split(' ')[2]); pub = rc.fromBase64(wgKeyB64); } catch { return false; }
  const keyId = (await sha256(pub)).slice(0, 4);
  if (raw.length !== 68 || rc.toHex(raw.slice(0, 4)) !== rc.toHex(keyId)) return false;
  return rc.verifyEd25519(pub, 'branch-election/checkpoint/1', body, raw.slice(4));
}

// RV-4.4: before the close the service lists the receipt as pending; after it, the remote.cast
// entry (appended at the close), its inclusion proof and the checkpoint. The entry's ballot must
// hash to the receipt (RV-3.6) and the entry to its leaf; the proof and the checkpoint's work-group
// signature as RM-10.2.
async function checkReceiptV2(info, done) {
  let hex = $('hash').value.replace(/\s+/g, '').toLowerCase();
  const stored = JSON.parse(localStorage.getItem(`remote-receipt/${info.election_id}`) || 'null');
  if (/^[0-9a-f]{16,63}$/.test(hex) && stored && stored.receipt.startsWith(hex)) hex = stored.receipt;
  if (!/^[0-9a-f]{64}$/.test(hex)) { done(false, MSG.v2.check.input); return; }
  const r = await api(`/api/remote/receipt?receipt=${hex}`);
  if (r.status === 404) { done(false, MSG.check.notFound); return; }
  if (!r.ok) { done(false, refusalText(r)); return; }
  const p = r.data || {};
  const waiting = {
    accepted: [true, MSG.v2.check.pendingLine, MSG.v2.check.pending, 'flash warn'],
    received: [true, MSG.v2.check.receivedLine, MSG.v2.check.received, 'flash warn'],
    refused: [false, MSG.v2.check.refusedLine, MSG.v2.check.refused(p.message || p.code || ''), 'flash error'],
  }[p.status];
  if (waiting) {
    line(waiting[0], waiting[1]);
    const result = $('result');
    result.hidden = false;
    result.className = waiting[3];
    result.textContent = waiting[2];
    document.body.dataset.check = p.status === 'accepted' ? 'pending' : p.status;
    return;
  }
  let entry = null;
  try { entry = JSON.parse(p.entry); } catch { entry = null; }
  const shaped = p.status === 'logged' && entry && typeof entry === 'object' && !Array.isArray(entry) &&
    rc.canonicalJson(entry) === p.entry && Object.keys(entry).sort().join(',') === ENTRY_MEMBERS &&
    entry.format === 'log-entry/1' && entry.type === 'remote.cast' && entry.seq === p.leaf_index &&
    entry.body && typeof entry.body.ballot === 'object';
  let ok = line(Boolean(shaped) && (await rc.remoteReceiptV2(entry.body.ballot)) === hex, MSG.v2.check.ballot);
  if (!ok) { done(false, MSG.check.hashMismatch); return; }
  const lines = String(p.checkpoint || '').split('\n');
  const size = Number(lines[1]);
  let proofOk = false;
  try {
    proofOk = lines[0] === `branch-election/${info.election_id}` && Number.isSafeInteger(size) &&
      await verifyInclusion(rc.fromHex(await leafHashOf(p.entry)), p.leaf_index, size, p.proof.map((h) => rc.fromBase64(h)), rc.fromBase64(lines[2]));
  } catch { proofOk = false; }
  ok = line(proofOk, proofOk ? MSG.check.proof(size) : MSG.check.proofBad) && ok;
  let sigOk = null;
  try { sigOk = await verifyCheckpointSignature(p.checkpoint, info.work_group_key); } catch { sigOk = null; }
  if (sigOk === null) line(true, MSG.check.sigSkip);
  else ok = line(sigOk, sigOk ? MSG.check.sig : MSG.check.sigBad) && ok;
  done(ok, ok ? MSG.check.ok : MSG.check.fail);
}

async function checkStoredReceipt(ev) {
  ev.preventDefault();
  $('steps').replaceChildren();
  const result = $('result');
  const done = (ok, text) => { result.hidden = false; result.className = `flash ${ok ? 'ok' : 'error'}`; result.textContent = text; document.body.dataset.check = ok ? 'ok' : 'fail'; };
  if (!state.info || state.info.version !== 2) { done(false, MSG.v2.unsupported); return; }
  await checkReceiptV2(state.info, done);
}

async function bootReceipt() {
  keepCodeOnLanguageSwitch();
  const hash = new URLSearchParams(location.hash.slice(1));
  const about = await api('/api/remote/info');
  state.info = about.ok ? about.data : null;
  if (state.info && state.info.version === 2) {
    document.body.dataset.version = '2';
    const stored = JSON.parse(localStorage.getItem(`remote-receipt/${state.info.election_id}`) || 'null');
    $('hash').value = hash.get('receipt') || (stored ? stored.receipt : '');
  }
  $('f-receipt').addEventListener('submit', checkStoredReceipt);
  document.body.dataset.ready = 'yes';
}

if (document.body.dataset.page === 'receipt') {
  bootReceipt();
} else {
  wireBallot();
  bootVote().finally(() => { document.body.dataset.ready = 'yes'; });
}

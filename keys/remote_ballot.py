"""Remote ballots version 2: the `remote-ballot/2` document (spec/remote-v2.md §3).

* `encrypt_ballot`: one post object per assembly-voted post (EG-6.3), each choice encrypted and
  proven 0/1, the sum proven at most the seats, and under `write_in_requires_disapproval` the
  disapprovals of RV-3.4 (the page does this in the browser; this is the producer's twin, used by
  the tests, the vectors and the demo);
* `check_ballot`: RV-3.5, in a fixed order, stopping at the first failure (the service at the
  cast, the same checks the verifier makes at V18.21);
* `precheck_ballot`: RV-3.5 without the group (RV-4.1, RV-3.7): what the service checks before it
  answers a cast; the checker then runs `check_ballot`;
* `ballot_receipt`: RV-3.6;
* `encrypted_totals`: the per-choice sums of EG-3.3 over checked ballots (what k scrutineers
  decrypt, RV-5.3).

Nothing here decrypts a ballot. The order of RV-3.5 as implemented (spec/remote-v2.md RV-3.5):

1. the size: the ballot's JCS bytes at most MAX_BALLOT_JCS_BYTES (`remote.ballot_too_large`),
   before anything else is looked at;
2. the shape: exactly `{format, election_id, token, posts}`, `format`, `election_id` (64
   lowercase hex, this election's), `token` (canonical base64 of 32 bytes), `posts` a list of
   objects whose `post` members are the context's posts in ballot order (`remote.ballot_invalid`);
3. the token equals the cast's (`remote.token_mismatch`, constant-time compare);
4. each post in ballot order: EG-6.4 (members, shape, encodings, choice proofs, sum proof), then
   its disapprovals (RV-3.4: encodings at the encodings step, then the count, room and write-in
   proofs); the elgamal errors propagate with their own codes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import rfc8785

from keys import elgamal
from keys._remote_common import RemoteError

__all__ = [
    "BALLOT_FORMAT",
    "MAX_BALLOT_JCS_BYTES",
    "MAX_CHOICES",
    "POST_ORDER",
    "RECEIPT_DOMAIN",
    "BallotContext",
    "BallotTooLargeError",
    "CheckedBallot",
    "PostChoice",
    "PostShape",
    "ReceivedBallot",
    "RemoteBallotError",
    "TokenMismatchError",
    "ballot_receipt",
    "check_ballot",
    "encrypt_ballot",
    "encrypted_totals",
    "precheck_ballot",
    "receive_ballot",
]

BALLOT_FORMAT: Final = "remote-ballot/2"
RECEIPT_DOMAIN: Final = b"branch-election/remote-receipt/2"
MAX_BALLOT_JCS_BYTES: Final = 262_144  # RV-3.5
MAX_CHOICES: Final = 256  # RV-2.2
POST_ORDER: Final = ("committee", "secretary", "deputy_secretary")  # RV-3.1
_MEMBERS: Final = frozenset({"format", "election_id", "token", "posts"})
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_CIPHERTEXT_SIZE: Final = 2 * elgamal.POINT_SIZE  # EG-3.1


# --------------------------------------------------------------------------- errors


class RemoteBallotError(RemoteError):
    """A `remote-ballot/2` document of the wrong shape or encoding (RV-3.1, RV-3.5)."""

    code = "remote.ballot_invalid"


class TokenMismatchError(RemoteBallotError):
    """The ballot's `token` is not the token of the cast that carries it (RV-3.5)."""

    code = "remote.token_mismatch"


class BallotTooLargeError(RemoteBallotError):
    """The ballot's JCS bytes exceed MAX_BALLOT_JCS_BYTES (RV-3.5)."""

    code = "remote.ballot_too_large"


def _invalid(zh: str, en: str) -> NoReturn:
    raise RemoteBallotError(zh=f"远程选票格式不对：{zh}。", en=f"invalid remote ballot: {en}")


# --------------------------------------------------------------------------- the context


def _parameters(zh: str, en: str) -> NoReturn:
    raise elgamal.InvalidParametersError(zh=zh, en=en)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class PostShape:
    """One assembly-voted post as the ballot sees it (from the manifest and RV-2.1).

    Raises:
        keys.elgamal.InvalidParametersError: an unknown post code, choices outside 1..256,
            listed outside 0..choices, seats outside 1..64.
    """

    post: str  # post code ("committee", "secretary", "deputy_secretary")
    listed: int  # listed candidates (they are the first `listed` choices)
    choices: int  # listed + write-in list length; 1..256
    seats: int  # 1..64, from the manifest
    disapprovals: bool  # manifest write_in_requires_disapproval (RV-3.4)

    def __post_init__(self) -> None:
        if self.post not in POST_ORDER:
            _parameters(f"未知的职位代码 {self.post!r}。", f"unknown post code {self.post!r}")
        if not (
            _is_int(self.listed)
            and _is_int(self.choices)
            and _is_int(self.seats)
            and 1 <= self.choices <= MAX_CHOICES
            and 0 <= self.listed <= self.choices
            and 1 <= self.seats <= elgamal.MAX_RANGE
        ):
            _parameters(
                f"职位 {self.post} 的选项数须在 1 到 {MAX_CHOICES} 之间，"
                f"应选人数须在 1 到 {elgamal.MAX_RANGE} 之间。",
                f"post {self.post}: choices 1..{MAX_CHOICES}, listed 0..choices, "
                f"seats 1..{elgamal.MAX_RANGE}",
            )

    @property
    def listed_for_proofs(self) -> int | None:
        """`listed` where the post carries disapprovals (RV-3.4), else None."""
        return self.listed if self.disapprovals else None


@dataclass(frozen=True, slots=True)
class BallotContext:
    """What a ballot is checked against: the election, its key and its posts in ballot order.

    Raises:
        keys.elgamal.InvalidParametersError: an election id that is not 32 bytes, no post, or
            posts out of the order committee, secretary, deputy_secretary (or repeated).
    """

    election_id: bytes  # 32 bytes
    key: elgamal.ThresholdKey  # from remote.opened's election_key
    posts: tuple[PostShape, ...]  # assembly-voted posts, ballot order

    def __post_init__(self) -> None:
        if len(self.election_id) != elgamal.ELECTION_ID_SIZE:
            _parameters("选举标识应为 32 字节。", "the election id is 32 bytes")
        order = [POST_ORDER.index(p.post) for p in self.posts]
        if not order or order != sorted(set(order)):
            _parameters(
                "职位须按委员、书记、副书记的顺序各出现一次。",
                "the posts are committee, secretary, deputy_secretary, each at most once, "
                "in that order",
            )

    def proof_context(self, token: bytes, post: str) -> elgamal.ProofContext:
        return elgamal.ProofContext(
            election_id=self.election_id, public_key=self.key.public_key, token=token, post=post
        )


@dataclass(frozen=True, slots=True)
class PostChoice:
    """A voter's marks on one post, in plain (the page's input to encryption)."""

    approvals: tuple[int, ...]  # 0/1 per choice, len == shape.choices
    disapprovals: int = 0  # × marks among the listed (used only when shape.disapprovals)


@dataclass(frozen=True, slots=True)
class CheckedBallot:
    """A ballot that passed RV-3.5, with its receipt (RV-3.6)."""

    receipt: str  # RV-3.6, 64 lowercase hex
    posts: tuple[elgamal.EncryptedPost, ...]  # parsed, proofs verified, ballot order
    doc: Mapping[str, Any]  # the JSON object as received


# --------------------------------------------------------------------------- encryption


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encrypt_ballot(
    ctx: BallotContext,
    token: bytes,
    choices: Sequence[PostChoice],
    *,
    scalars: elgamal.ScalarSource | None = None,
) -> dict[str, Any]:
    """The `remote-ballot/2` document for `choices` (one per post of `ctx`, ballot order).

    Raises:
        keys.elgamal.InvalidParametersError: another number of posts or choices, a value other
            than 0/1, an over-vote, a token that is not 32 bytes, or (RV-3.4) approvals plus
            × marks above the listed candidates or write-ins above the × marks.
    """
    if len(choices) != len(ctx.posts):
        _parameters(
            f"选票应有 {len(ctx.posts)} 个职位。",
            f"the ballot has {len(ctx.posts)} posts, {len(choices)} given",
        )
    rng = scalars if scalars is not None else elgamal.SystemScalars()
    posts = []
    for shape, choice in zip(ctx.posts, choices, strict=True):
        if len(choice.approvals) != shape.choices:
            _parameters(
                f"职位 {shape.post} 应有 {shape.choices} 个选项。",
                f"post {shape.post} has {shape.choices} choices, {len(choice.approvals)} given",
            )
        post = elgamal.encrypt_post(
            ctx.proof_context(token, shape.post),
            choice.approvals,
            seats=shape.seats,
            listed=shape.listed_for_proofs,
            disapprovals=choice.disapprovals if shape.disapprovals else None,
            rng=rng,
        )
        posts.append(post.to_json())
    return {
        "format": BALLOT_FORMAT,
        "election_id": ctx.election_id.hex(),
        "token": _b64(token),
        "posts": posts,
    }


# --------------------------------------------------------------------------- checking


def _jcs(doc: object) -> bytes:
    try:
        return rfc8785.dumps(doc)  # type: ignore[arg-type]  # any object: refused below if not JSON
    except (ValueError, TypeError, RecursionError):  # rfc8785.CanonicalizationError is a ValueError
        _invalid("不是可规范化的 JSON", "not canonicalizable JSON (RFC 8785)")


def _receipt_of_jcs(jcs: bytes) -> str:
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + jcs).hexdigest()


def ballot_receipt(doc: Mapping[str, Any]) -> str:
    """RV-3.6: SHA-256("branch-election/remote-receipt/2" ‖ 0x00 ‖ JCS(ballot)), 64 lowercase hex.

    Raises:
        RemoteBallotError: the document has no JCS form (a float out of range, a non-string key).
    """
    return _receipt_of_jcs(_jcs(doc))


def _token_bytes(value: object) -> bytes:
    if not isinstance(value, str):
        _invalid("token 不是文本", "token is not a string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        _invalid("token 不是有效的 base64", "token is not valid base64")
    if _b64(raw) != value or len(raw) != elgamal.TOKEN_SIZE:
        _invalid("token 应为 32 字节的规范 base64", "token is not the canonical base64 of 32 bytes")
    return raw


def _check_shape(ctx: BallotContext, doc: object) -> tuple[Mapping[str, Any], bytes, list[Any]]:
    if not isinstance(doc, Mapping):
        _invalid("不是 JSON 对象", "not a JSON object")
    if set(doc) != _MEMBERS:
        _invalid(
            "字段应恰为 format、election_id、token、posts",
            "the members are exactly format, election_id, token, posts",
        )
    if doc["format"] != BALLOT_FORMAT:
        _invalid(f"格式不是 {BALLOT_FORMAT}", f"format is not {BALLOT_FORMAT}")
    election = doc["election_id"]
    if not isinstance(election, str) or _HEX64.fullmatch(election) is None:
        _invalid("election_id 应为 64 位小写十六进制", "election_id is not 64 lowercase hex")
    if not hmac.compare_digest(bytes.fromhex(election), ctx.election_id):
        _invalid("选票属于另一场选举", "the ballot is for another election")
    token = _token_bytes(doc["token"])
    posts = doc["posts"]
    expected = [shape.post for shape in ctx.posts]
    if (
        not isinstance(posts, list)
        or len(posts) != len(expected)
        or any(
            not isinstance(p, Mapping) or p.get("post") != e
            for p, e in zip(posts, expected, strict=True)
        )
    ):
        _invalid(
            f"职位应依次为 {'、'.join(expected)}",
            f"posts must be one object per post, in the order {', '.join(expected)}",
        )
    return doc, token, posts


def check_ballot(ctx: BallotContext, doc: object, *, token: bytes) -> CheckedBallot:
    """RV-3.5: check a `remote-ballot/2` document cast with credential `token`; nothing is kept.

    Returns the checked ballot with its receipt (RV-3.6). Raises on the first failure:
        BallotTooLargeError: JCS bytes above MAX_BALLOT_JCS_BYTES (before any other check).
        RemoteBallotError: wrong members, format, election id, token encoding or post list.
        TokenMismatchError: the ballot's token is not `token`.
        keys.elgamal.ElGamalError (its subclasses, each with its own code): a post fails EG-6.4
            or its disapprovals fail RV-3.4.
    """
    jcs = _jcs(doc)
    _check_size(jcs)
    ballot, ballot_token, posts = _check_shape(ctx, doc)
    if not hmac.compare_digest(ballot_token, token):
        _token_mismatch()
    checked = []
    for shape, post_doc in zip(ctx.posts, posts, strict=True):
        listed = shape.listed_for_proofs
        post = elgamal.parse_encrypted_post(
            post_doc, choices=shape.choices, seats=shape.seats, listed=listed
        )
        checked.append(
            elgamal.verify_post(
                ctx.proof_context(token, shape.post),
                post,
                choices=shape.choices,
                seats=shape.seats,
                listed=listed,
            )
        )
    return CheckedBallot(receipt=_receipt_of_jcs(jcs), posts=tuple(checked), doc=ballot)


def _unb64(value: object, *, field: str) -> bytes:
    """Canonical padded base64 (spec/README.md), else elgamal.EncodingError (as EG-6.4 says)."""
    if not isinstance(value, str):
        raise elgamal.EncodingError(zh=f"{field} 应为 base64 文本。", en=f"{field} must be base64")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise elgamal.EncodingError(
            zh=f"{field} 不是有效的 base64。", en=f"{field} is not valid base64"
        ) from None
    if _b64(raw) != value:
        raise elgamal.EncodingError(
            zh=f"{field} 的 base64 不是规范形式。", en=f"{field} is not canonical base64"
        )
    return raw


_B64_LAST = {1: "AQgw", 2: "AEIMQUYcgkosw048"}  # the last symbol when 1 or 2 bytes remain


@functools.cache
def _canonical_b64(size: int) -> re.Pattern[str]:
    """The canonical padded base64 of exactly `size` bytes: full groups, then for 1 or 2 bytes
    left a last symbol whose unused bits are zero and its padding."""
    full, left = divmod(size, 3)
    tail = {0: "", 1: f"[A-Za-z0-9+/][{_B64_LAST[1]}]==", 2: f"[A-Za-z0-9+/]{{2}}[{_B64_LAST[2]}]="}
    return re.compile(f"[A-Za-z0-9+/]{{{4 * full}}}{tail[left]}")


def _is_b64_of(value: object, size: int) -> bool:
    """The fast path of the cheap checks: `value` is canonical base64 of `size` bytes (the slow
    path, decoding, then says what is wrong)."""
    return isinstance(value, str) and _canonical_b64(size).fullmatch(value) is not None


def _ciphertext_bytes(value: object, *, field: str) -> None:
    if _is_b64_of(value, _CIPHERTEXT_SIZE):
        return
    if len(_unb64(value, field=field)) != _CIPHERTEXT_SIZE:
        raise elgamal.EncodingError(
            zh=f"{field} 应为 {_CIPHERTEXT_SIZE} 字节。",
            en=f"{field} must be {_CIPHERTEXT_SIZE} bytes",
        )


def _proof_bytes(value: object, *, values: int, field: str) -> None:
    """A proof over `values` alternatives: canonical base64 of its length (the scalars'
    canonical form is the checker's, with the proofs)."""
    size = 2 * elgamal.SCALAR_SIZE * values
    if _is_b64_of(value, size):
        return
    if len(_unb64(value, field=field)) != size:
        raise elgamal.ProofLengthError(
            zh=f"{field} 应为 {size} 字节。", en=f"{field} must be {size} bytes"
        )


def _precheck_post(shape: PostShape, doc: object) -> None:
    """EG-6.4's members, counts and encodings of one post, and its proofs' lengths (cheap: no
    group element or scalar is decoded and no proof is checked)."""
    listed = shape.listed_for_proofs
    members = {"post", "choices", "choice_proofs", "sum_proof"}
    if listed is not None:
        members.add("disapprovals")
    if not isinstance(doc, Mapping) or set(doc) != members:
        raise elgamal.EncodingError(
            zh="职位密文的字段不对。",
            en=f"a post ballot has exactly the members {', '.join(sorted(members))}",
        )
    cts, cps = doc["choices"], doc["choice_proofs"]
    if not isinstance(cts, list) or not isinstance(cps, list):
        raise elgamal.EncodingError(
            zh="职位密文的字段类型不对。", en="a post ballot's fields have wrong types"
        )
    if len(cts) != shape.choices or len(cps) != shape.choices:
        raise elgamal.WrongShapeError(
            zh=f"该职位应有 {shape.choices} 个选项密文及其证明。",
            en=f"the post has {shape.choices} choices: {len(cts)} ciphertexts and "
            f"{len(cps)} proofs given",
        )
    for i, v in enumerate(cts):
        _ciphertext_bytes(v, field=f"choices[{i}]")
    for i, v in enumerate(cps):
        _proof_bytes(v, values=2, field=f"choice_proofs[{i}]")
    _proof_bytes(doc["sum_proof"], values=shape.seats + 1, field="sum_proof")
    if listed is None:
        return
    dis = doc["disapprovals"]
    if not isinstance(dis, Mapping) or set(dis) != {
        "count",
        "count_proof",
        "room_proof",
        "write_in_proof",
    }:
        raise elgamal.EncodingError(
            zh="反对票数的字段不对。",
            en="disapprovals has exactly count, count_proof, room_proof and write_in_proof",
        )
    _ciphertext_bytes(dis["count"], field="disapprovals.count")
    for name in ("count_proof", "room_proof", "write_in_proof"):
        _proof_bytes(dis[name], values=listed + 1, field=f"disapprovals.{name}")


@dataclass(frozen=True, slots=True)
class ReceivedBallot:
    """A ballot that passed `precheck_ballot`: its receipt (RV-3.6) and its RFC 8785 bytes, the
    bytes the service keeps and the checker checks."""

    receipt: str  # RV-3.6, 64 lowercase hex
    jcs: bytes


def precheck_ballot(
    ctx: BallotContext, doc: object, *, token: bytes, jcs: bytes | None = None
) -> str:
    """RV-3.5 without the group (RV-4.1, RV-3.7): the size, the shape, the token, and each post's
    members, counts, encodings, ciphertext lengths and proof lengths; no group element or
    scalar is decoded and no proof checked. Returns the receipt (RV-3.6) of `jcs`, the ballot's
    RFC 8785 bytes when the caller has them already (else computed here).

    Raises:
        BallotTooLargeError, RemoteBallotError, TokenMismatchError: as check_ballot.
        keys.elgamal.EncodingError, WrongShapeError, ProofLengthError: a post's members,
            counts, encodings or lengths.
    """
    return _precheck(ctx, doc, token, jcs).receipt


def receive_ballot(ctx: BallotContext, doc: object, *, token: bytes) -> ReceivedBallot:
    """`precheck_ballot`, with the ballot's RFC 8785 bytes (the service's cast, RV-4.1).

    Raises:
        the errors of `precheck_ballot`, for the same ballots.
    """
    return _precheck(ctx, doc, token, None)


def _precheck(ctx: BallotContext, doc: object, token: bytes, jcs: bytes | None) -> ReceivedBallot:
    if jcs is None:
        # A ballot of exactly the checked shape gets its JCS bytes built from its checked parts
        # (`_checked_jcs`): the same bytes, and then the size and the token are all that is left
        # to check. Anything else takes the general way below, which says what is wrong.
        fast = _checked_jcs(ctx, doc)
        if fast is not None:
            _check_size(fast)
            assert isinstance(doc, dict)  # as `_checked_jcs` found it
            if not hmac.compare_digest(base64.b64decode(doc["token"]), token):
                _token_mismatch()
            return ReceivedBallot(_receipt_of_jcs(fast), fast)
        jcs = _jcs(doc)
    _check_size(jcs)
    _ballot, ballot_token, posts = _check_shape(ctx, doc)
    if not hmac.compare_digest(ballot_token, token):
        _token_mismatch()
    for shape, post_doc in zip(ctx.posts, posts, strict=True):
        _precheck_post(shape, post_doc)
    return ReceivedBallot(_receipt_of_jcs(jcs), jcs)


def _check_size(jcs: bytes) -> None:
    if len(jcs) > MAX_BALLOT_JCS_BYTES:
        raise BallotTooLargeError(
            zh=f"远程选票超过 {MAX_BALLOT_JCS_BYTES} 字节的上限。",
            en=f"the remote ballot's JCS form has {len(jcs)} bytes, above {MAX_BALLOT_JCS_BYTES}",
        )


def _token_mismatch() -> NoReturn:
    raise TokenMismatchError(
        zh="选票中的投票凭证与提交时使用的凭证不一致。",
        en="the ballot's token is not the token it is cast with",
    )


# -- the fast path of the cheap checks: a whole list at a time, and the JCS bytes built
_B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_POST_MEMBERS: Final = frozenset({"post", "choices", "choice_proofs", "sum_proof"})
_POST_MEMBERS_DIS: Final = _POST_MEMBERS | {"disapprovals"}
_DIS_MEMBERS: Final = frozenset({"count", "count_proof", "room_proof", "write_in_proof"})


def _all_b64_of(values: list[Any], size: int) -> bool:
    """Every item of `values` is the canonical padded base64 text of exactly `size` bytes: the
    lengths, the alphabet, the padding, and the spare bits of the last symbol before it, checked
    over the joined text at once (the same set of texts as `_is_b64_of`, one by one)."""
    try:
        joined = "".join(values).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return False
    full, left = divmod(size, 3)
    width, pad, k = 4 * (full + (left > 0)), (3 - left) % 3, len(values)
    if not k or set(map(len, values)) != {width}:
        return False
    if joined.translate(None, _B64_ALPHABET) != b"=" * (pad * k):  # "=" only as padding
        return False
    if any(joined[width - i :: width] != b"=" * k for i in range(1, pad + 1)):
        return False
    return not pad or set(joined[width - pad - 1 :: width]) <= set(_B64_LAST[left].encode())


def _jcs_texts(values: list[str]) -> str:
    return '["' + '","'.join(values) + '"]'


def _checked_post_jcs(shape: PostShape, doc: object) -> str | None:
    """The JCS text of one post object that `_precheck_post` passes, when it is exactly of the
    checked shape (plain dicts, lists and base64 texts); else None."""
    listed = shape.listed_for_proofs
    members = _POST_MEMBERS if listed is None else _POST_MEMBERS_DIS
    if type(doc) is not dict or doc.keys() != members or doc["post"] != shape.post:
        return None
    cts, cps, total = doc["choices"], doc["choice_proofs"], doc["sum_proof"]
    if not (
        type(cts) is list
        and type(cps) is list
        and len(cts) == len(cps) == shape.choices
        and _all_b64_of(cts, _CIPHERTEXT_SIZE)
        and _all_b64_of(cps, 2 * elgamal.SCALAR_SIZE * 2)
        and _all_b64_of([total], 2 * elgamal.SCALAR_SIZE * (shape.seats + 1))
    ):
        return None
    dis = ""
    if listed is not None:
        d = doc["disapprovals"]
        if type(d) is not dict or d.keys() != _DIS_MEMBERS:
            return None
        proofs = [d["count_proof"], d["room_proof"], d["write_in_proof"]]
        if not (
            _all_b64_of([d["count"]], _CIPHERTEXT_SIZE)
            and _all_b64_of(proofs, 2 * elgamal.SCALAR_SIZE * (listed + 1))
        ):
            return None
        dis = (
            f'"disapprovals":{{"count":"{d["count"]}","count_proof":"{proofs[0]}",'
            f'"room_proof":"{proofs[1]}","write_in_proof":"{proofs[2]}"}},'
        )
    # RFC 8785: the members in code-point order ("choice_proofs" < "choices": "_" < "s").
    return (
        f'{{"choice_proofs":{_jcs_texts(cps)},"choices":{_jcs_texts(cts)},{dis}'
        f'"post":"{shape.post}","sum_proof":"{total}"}}'
    )


def _checked_jcs(ctx: BallotContext, doc: object) -> bytes | None:
    """The RFC 8785 bytes of `doc` when it passes every check of `precheck_ballot` but the size
    and the token's equality, being exactly of the checked shape; None for anything else.

    Every text of such a ballot is ASCII that JSON does not escape (base64, lowercase hex, the
    format and the context's post codes), so its JCS form is those texts in fixed members in
    code-point order; tests/unit/keys/test_remote_precheck.py holds it to `rfc8785.dumps`.
    """
    if type(doc) is not dict or doc.keys() != _MEMBERS or doc["format"] != BALLOT_FORMAT:
        return None
    election, token, posts = doc["election_id"], doc["token"], doc["posts"]
    if not (
        type(election) is str
        and _HEX64.fullmatch(election) is not None
        and hmac.compare_digest(bytes.fromhex(election), ctx.election_id)
        and _all_b64_of([token], elgamal.TOKEN_SIZE)
        and type(posts) is list
        and len(posts) == len(ctx.posts)
    ):
        return None
    parts = [_checked_post_jcs(shape, p) for shape, p in zip(ctx.posts, posts, strict=True)]
    if any(p is None for p in parts):
        return None
    text = (
        f'{{"election_id":"{election}","format":"{BALLOT_FORMAT}",'
        f'"posts":[{",".join(p for p in parts if p is not None)}],"token":"{token}"}}'
    )
    return text.encode("ascii")


# --------------------------------------------------------------------------- totals


def encrypted_totals(
    ctx: BallotContext, ballots: Iterable[CheckedBallot]
) -> tuple[tuple[elgamal.Ciphertext, ...], ...]:
    """Per post (ballot order), per choice: the sum of that choice's ciphertexts over `ballots`
    (EG-3.3; ZERO_CIPHERTEXT, the pair (O, O), without any ballot).

    Raises:
        keys.elgamal.WrongShapeError: a ballot whose posts do not have the context's shape.
    """
    items = list(ballots)
    for ballot in items:
        if [p.post for p in ballot.posts] != [s.post for s in ctx.posts] or any(
            len(p.choices) != s.choices for p, s in zip(ballot.posts, ctx.posts, strict=True)
        ):
            raise elgamal.WrongShapeError(
                zh="选票的职位或选项数与本选举不符。",
                en="a ballot's posts or choices do not match the election's",
            )
    return tuple(
        elgamal.tally_posts([b.posts[i] for b in items], choices=shape.choices)
        for i, shape in enumerate(ctx.posts)
    )

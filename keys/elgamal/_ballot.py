"""Encrypted ballots (spec/remote-v2-crypto.md §5, §6; spec/remote-v2.md RV-3.4): one post's
choices with their proofs, the disapprovals, their JSON form, and the homomorphic tally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from keys.elgamal._ciphertext import (
    Ciphertext,
    RangeProof,
    _encrypt,
    _prove_range,
    _verify_range,
    add_ciphertexts,
    parse_ciphertext,
    parse_range_proof,
    sub_ciphertexts,
)
from keys.elgamal._errors import (
    ChoiceProofError,
    EncodingError,
    InvalidParametersError,
    ProofLengthError,
    SumProofError,
    WrongShapeError,
    _fail,
    _require_in,
)
from keys.elgamal._group import (
    _SYSTEM,
    _ZERO_SCALAR_S,
    CHOICE_DOMAIN,
    DISAPPROVALS_DOMAIN,
    ELECTION_ID_SIZE,
    MAX_RANGE,
    SUM_DOMAIN,
    TOKEN_SIZE,
    Point,
    Scalar,
    ScalarSource,
    _multiples_of_g,
    _s_add,
    _s_sub,
    _u32,
)
from keys.elgamal._wire import _b64, _unb64


@dataclass(frozen=True, slots=True)
class ProofContext:
    """What every ballot proof is bound to (§4.2): the election, its key, the credential the
    ballot is cast with and the post. A proof made for another of any of these does not verify."""

    election_id: bytes
    public_key: Point
    token: bytes
    post: str

    def __post_init__(self) -> None:
        if len(self.election_id) != ELECTION_ID_SIZE or len(self.token) != TOKEN_SIZE:
            _fail(
                InvalidParametersError,
                "选举标识与投票凭证都应为 32 字节。",
                "the election id and the token are 32 bytes each",
            )
        if not self.post or not self.post.isascii():
            _fail(InvalidParametersError, "职位代码无效。", "the post code must be non-empty ASCII")

    def statement(self) -> list[bytes]:
        return [self.election_id, self.public_key, self.token, self.post.encode("ascii")]


@dataclass(frozen=True, slots=True)
class Disapprovals:
    """The × marks of a post under `write_in_requires_disapproval` (spec/remote-v2.md RV-3.4):
    `count` encrypts D, the number of listed candidates marked ×, and three proofs over 0..L
    (L listed candidates): D ∈ 0..L, A + D ≤ L (A the listed approvals), W ≤ D (W the write-ins).
    """

    count: Ciphertext
    count_proof: RangeProof
    room_proof: RangeProof
    write_in_proof: RangeProof

    def to_json(self) -> dict[str, Any]:
        return {
            "count": _b64(self.count.to_bytes()),
            "count_proof": _b64(self.count_proof.to_bytes()),
            "room_proof": _b64(self.room_proof.to_bytes()),
            "write_in_proof": _b64(self.write_in_proof.to_bytes()),
        }


@dataclass(frozen=True, slots=True)
class EncryptedPost:
    """One post of an encrypted ballot (§6): a 0/1 ciphertext per choice (the listed candidates,
    then the write-in slots), a proof per choice, the proof on their sum, and, under
    `write_in_requires_disapproval`, the disapprovals (spec/remote-v2.md RV-3.4)."""

    post: str
    choices: tuple[Ciphertext, ...]
    choice_proofs: tuple[RangeProof, ...]
    sum_proof: RangeProof
    disapprovals: Disapprovals | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "post": self.post,
            "choices": [_b64(ct.to_bytes()) for ct in self.choices],
            "choice_proofs": [_b64(p.to_bytes()) for p in self.choice_proofs],
            "sum_proof": _b64(self.sum_proof.to_bytes()),
        }
        if self.disapprovals is not None:
            doc["disapprovals"] = self.disapprovals.to_json()
        return doc


def _check_seats(seats: int, choices: int) -> None:
    if not 1 <= seats <= MAX_RANGE or choices < 1:
        _fail(
            InvalidParametersError,
            f"应选人数须在 1 到 {MAX_RANGE} 之间，选项至少一个。",
            f"seats must be 1..{MAX_RANGE} and there must be at least one choice",
        )


def _check_listed(listed: int, choices: int) -> None:
    _require_in(listed, 0, choices, zh="列名候选人数", en="the listed candidates are")


def _disapproval_targets(
    choices: Sequence[Ciphertext], count: Ciphertext, listed: int
) -> tuple[Ciphertext, Ciphertext, Ciphertext]:
    """The three ciphertexts RV-3.4 proves in 0..L: count, A + count, count − W."""
    listed_sum = add_ciphertexts(choices[:listed])
    write_ins = add_ciphertexts(choices[listed:])
    return count, add_ciphertexts([listed_sum, count]), sub_ciphertexts(count, write_ins)


_DISAPPROVAL_PROOF_NAMES: Final = (b"count", b"room", b"write-in")


def _prove_disapprovals(
    context: ProofContext,
    *,
    listed: int,
    choices: Sequence[Ciphertext],
    randomness: Sequence[Scalar],
    approvals: Sequence[int],
    marks: int,
    rng: ScalarSource,
) -> Disapprovals:
    """Encrypt D = `marks` and prove RV-3.4's three ranges. No check of the plaintexts: the
    caller validates (and the tests' cheating prover does not, so its proofs fail)."""
    r_count = rng.scalar()
    count = _encrypt(context.public_key, marks, r_count)
    r_listed, r_written = _ZERO_SCALAR_S, _ZERO_SCALAR_S
    for i, r in enumerate(randomness):
        if i < listed:
            r_listed = _s_add(r_listed, r)
        else:
            r_written = _s_add(r_written, r)
    listed_ones = sum(approvals[:listed])
    written_ones = sum(approvals[listed:])
    targets = _disapproval_targets(choices, count, listed)
    plain = (marks, listed_ones + marks, marks - written_ones)
    rand = (r_count, _s_add(r_listed, r_count), _s_sub(r_count, r_written))
    prefix = [*context.statement(), _u32(listed)]
    proofs = [
        _prove_range(
            DISAPPROVALS_DOMAIN,
            [*prefix, name],
            public_key=context.public_key,
            ct=ct,
            m=m,
            r=r,
            values=listed + 1,
            rng=rng,
        )
        for name, ct, m, r in zip(_DISAPPROVAL_PROOF_NAMES, targets, plain, rand, strict=True)
    ]
    return Disapprovals(
        count=count, count_proof=proofs[0], room_proof=proofs[1], write_in_proof=proofs[2]
    )


def _verify_disapprovals(context: ProofContext, post: EncryptedPost, *, listed: int) -> None:
    found = post.disapprovals
    if found is None:
        _fail(
            WrongShapeError,
            "该职位的选票缺少反对票数的证明。",
            "the post requires the disapprovals and its proofs",
        )
    proofs = (found.count_proof, found.room_proof, found.write_in_proof)
    if any(len(p.challenges) != listed + 1 for p in proofs):
        _fail(ProofLengthError, "证明的长度不对。", "a proof covers the wrong number of values")
    prefix = [*context.statement(), _u32(listed)]
    multiples = _multiples_of_g(listed + 1)
    targets = _disapproval_targets(post.choices, found.count, listed)
    texts = (
        (f"反对票数在 0 到 {listed} 之间", f"the number of × marks is in 0..{listed}"),
        (
            "赞成与反对合计不超过列名候选人数",
            f"approvals and × marks among the listed add up to at most {listed}",
        ),
        ("另选他人的人数不超过反对票数", "the write-ins are at most the × marks"),
    )
    for name, ct, proof, (zh, en) in zip(
        _DISAPPROVAL_PROOF_NAMES, targets, proofs, texts, strict=True
    ):
        if not _verify_range(
            DISAPPROVALS_DOMAIN,
            [*prefix, name],
            public_key=context.public_key,
            ct=ct,
            proof=proof,
            multiples=multiples,
        ):
            _fail(
                ChoiceProofError,
                f"“{zh}”的证明无效。",
                f"disapprovals: the proof that {en} does not verify",
            )


def encrypt_post(
    context: ProofContext,
    approvals: Sequence[int],
    *,
    seats: int,
    listed: int | None = None,
    disapprovals: int | None = None,
    rng: ScalarSource = _SYSTEM,
) -> EncryptedPost:
    """Encrypt one post's choices (each 0 or 1, at most `seats` ones) with their proofs (§5, §6).

    With `listed` (the post's listed candidates, its first choices) and `disapprovals` (D, the
    × marks among them) the post also carries RV-3.4's disapprovals (spec/remote-v2.md).

    Raises:
        InvalidParametersError: a value other than 0/1, more ones than seats, or bad seats; with
            disapprovals: approvals plus × marks above `listed`, or write-ins above the × marks.
    """
    _check_seats(seats, len(approvals))
    if any(a not in (0, 1) for a in approvals) or sum(approvals) > seats:
        _fail(
            InvalidParametersError,
            "每个选项只能是 0 或 1，且赞成数不能超过应选人数。",
            "each choice is 0 or 1 and the ones are at most the seats",
        )
    if (listed is None) != (disapprovals is None):
        _fail(
            InvalidParametersError,
            "列名候选人数与反对票数须同时给出。",
            "listed and disapprovals go together",
        )
    if listed is not None and disapprovals is not None:
        _check_listed(listed, len(approvals))
        if (
            isinstance(disapprovals, bool)
            or disapprovals < 0
            or sum(approvals[:listed]) + disapprovals > listed
            or sum(approvals[listed:]) > disapprovals
        ):
            _fail(
                InvalidParametersError,
                "反对票数须不小于另选他人的人数，且与赞成票合计不超过列名候选人数。",
                "the × marks must be at least the write-ins, and with the listed approvals at "
                "most the listed candidates",
            )
    return _encrypt_post_unchecked(
        context, approvals, seats=seats, listed=listed, disapprovals=disapprovals, rng=rng
    )


def _encrypt_post_unchecked(
    context: ProofContext,
    approvals: Sequence[int],
    *,
    seats: int,
    listed: int | None,
    disapprovals: int | None,
    rng: ScalarSource,
) -> EncryptedPost:
    """`encrypt_post` without its checks of the plaintexts: also the cheating prover of the tests
    and vectors (a plaintext outside a proof's range gives a proof that does not verify)."""
    statement = context.statement()
    choices: list[Ciphertext] = []
    proofs: list[RangeProof] = []
    randomness: list[Scalar] = []
    r_sum = _ZERO_SCALAR_S
    for index, m in enumerate(approvals):
        r = rng.scalar()
        randomness.append(r)
        ct = _encrypt(context.public_key, m, r)
        proofs.append(
            _prove_range(
                CHOICE_DOMAIN,
                [*statement, _u32(index)],
                public_key=context.public_key,
                ct=ct,
                m=m,
                r=r,
                values=2,
                rng=rng,
            )
        )
        choices.append(ct)
        r_sum = _s_add(r_sum, r)
    total = add_ciphertexts(choices)
    sum_proof = _prove_range(
        SUM_DOMAIN,
        [*statement, _u32(seats), _u32(len(choices))],
        public_key=context.public_key,
        ct=total,
        m=sum(approvals),
        r=r_sum,
        values=seats + 1,
        rng=rng,
    )
    marks = None
    if listed is not None and disapprovals is not None:
        marks = _prove_disapprovals(
            context,
            listed=listed,
            choices=choices,
            randomness=randomness,
            approvals=approvals,
            marks=disapprovals,
            rng=rng,
        )
    return EncryptedPost(
        post=context.post,
        choices=tuple(choices),
        choice_proofs=tuple(proofs),
        sum_proof=sum_proof,
        disapprovals=marks,
    )


_POST_MEMBERS: Final = frozenset({"post", "choices", "choice_proofs", "sum_proof"})
_DISAPPROVALS_MEMBERS: Final = frozenset({"count", "count_proof", "room_proof", "write_in_proof"})


def parse_encrypted_post(
    doc: object, *, choices: int, seats: int, listed: int | None = None
) -> EncryptedPost:
    """Parse the JSON form of one post (§6.3), for a post with `choices` choices and `seats` seats
    (both from the manifest, never from the ballot). With `listed` (the post requires the
    disapprovals of spec/remote-v2.md RV-3.4) the member `disapprovals` is required, else it is
    refused; its proofs are over 0..listed.

    Raises:
        EncodingError, ProofLengthError, InvalidPointError, IdentityPointError,
        NonCanonicalScalarError, WrongShapeError.
    """
    _check_seats(seats, choices)
    if listed is not None:
        _check_listed(listed, choices)
    members = _POST_MEMBERS if listed is None else _POST_MEMBERS | {"disapprovals"}
    if not isinstance(doc, Mapping) or set(doc) != members:
        _fail(
            EncodingError,
            "职位密文的字段不对。",
            f"a post ballot has exactly the members {', '.join(sorted(members))}",
        )
    post, cts, cps = doc["post"], doc["choices"], doc["choice_proofs"]
    if not isinstance(post, str) or not isinstance(cts, list) or not isinstance(cps, list):
        _fail(EncodingError, "职位密文的字段类型不对。", "a post ballot's fields have wrong types")
    if len(cts) != choices or len(cps) != choices:
        _fail(
            WrongShapeError,
            f"该职位应有 {choices} 个选项密文及其证明。",
            f"the post has {choices} choices: {len(cts)} ciphertexts and {len(cps)} proofs given",
        )
    return EncryptedPost(
        post=post,
        choices=tuple(
            parse_ciphertext(_unb64(v, field=f"choices[{i}]"), field=f"choices[{i}]")
            for i, v in enumerate(cts)
        ),
        choice_proofs=tuple(
            parse_range_proof(
                _unb64(v, field=f"choice_proofs[{i}]"), values=2, field=f"choice_proofs[{i}]"
            )
            for i, v in enumerate(cps)
        ),
        sum_proof=parse_range_proof(
            _unb64(doc["sum_proof"], field="sum_proof"), values=seats + 1, field="sum_proof"
        ),
        disapprovals=None
        if listed is None
        else _parse_disapprovals(doc["disapprovals"], listed=listed),
    )


def _parse_disapprovals(doc: object, *, listed: int) -> Disapprovals:
    """RV-3.4's `{count, count_proof, room_proof, write_in_proof}`, proofs over 0..listed."""
    if not isinstance(doc, Mapping) or set(doc) != _DISAPPROVALS_MEMBERS:
        _fail(
            EncodingError,
            "反对票数的字段不对。",
            "disapprovals has exactly count, count_proof, room_proof and write_in_proof",
        )

    def proof(name: str) -> RangeProof:
        field = f"disapprovals.{name}"
        return parse_range_proof(_unb64(doc[name], field=field), values=listed + 1, field=field)

    return Disapprovals(
        count=parse_ciphertext(
            _unb64(doc["count"], field="disapprovals.count"), field="disapprovals.count"
        ),
        count_proof=proof("count_proof"),
        room_proof=proof("room_proof"),
        write_in_proof=proof("write_in_proof"),
    )


def verify_post(
    context: ProofContext,
    post: EncryptedPost,
    *,
    choices: int,
    seats: int,
    listed: int | None = None,
) -> EncryptedPost:
    """Check one post of a ballot (§5.3, §6.2): its shape, every choice proof and the sum proof;
    with `listed`, then the disapprovals' three proofs (spec/remote-v2.md RV-3.4: count, room,
    write-in, in that order). A post carrying disapprovals when `listed` is None is refused.

    Returns the post, verified. Raises on the first failure:
        WrongShapeError: another post, or another number of choices or proofs, or disapprovals
            missing or unexpected.
        ProofLengthError: a proof over another number of alternatives.
        ChoiceProofError: a choice that is not proven 0 or 1 (with its index), or a failed
            disapprovals proof.
        SumProofError: the choices are not proven to add up to at most `seats`.
    """
    _check_seats(seats, choices)
    if listed is not None:
        _check_listed(listed, choices)
    elif post.disapprovals is not None:
        _fail(
            WrongShapeError,
            "该职位的选票不应带有反对票数。",
            "the post does not take disapprovals",
        )
    if post.post != context.post:
        _fail(
            WrongShapeError,
            f"选票的职位 {post.post} 不是 {context.post}。",
            f"the ballot is for post {post.post!r}, not {context.post!r}",
        )
    if len(post.choices) != choices or len(post.choice_proofs) != choices:
        _fail(
            WrongShapeError,
            f"该职位应有 {choices} 个选项密文及其证明。",
            f"the post has {choices} choices",
        )
    if len(post.sum_proof.challenges) != seats + 1 or any(
        len(p.challenges) != 2 for p in post.choice_proofs
    ):
        _fail(ProofLengthError, "证明的长度不对。", "a proof covers the wrong number of values")
    statement = context.statement()
    zero_one = _multiples_of_g(2)
    for index, (ct, proof) in enumerate(zip(post.choices, post.choice_proofs, strict=True)):
        if not _verify_range(
            CHOICE_DOMAIN,
            [*statement, _u32(index)],
            public_key=context.public_key,
            ct=ct,
            proof=proof,
            multiples=zero_one,
        ):
            _fail(
                ChoiceProofError,
                f"第 {index + 1} 个选项的证明无效：不能证明它是 0 或 1。",
                f"choice {index}: the proof that it encrypts 0 or 1 does not verify",
            )
    if not _verify_range(
        SUM_DOMAIN,
        [*statement, _u32(seats), _u32(choices)],
        public_key=context.public_key,
        ct=add_ciphertexts(post.choices),
        proof=post.sum_proof,
        multiples=_multiples_of_g(seats + 1),
    ):
        _fail(
            SumProofError,
            f"赞成总数不超过应选人数 {seats} 的证明无效。",
            f"the proof that the choices add up to at most {seats} does not verify",
        )
    if listed is not None:
        _verify_disapprovals(context, post, listed=listed)
    return post


def tally_posts(posts: Sequence[EncryptedPost], *, choices: int) -> tuple[Ciphertext, ...]:
    """The encrypted totals of one post (§3.3): for each choice, the sum over the verified ballots
    (ZERO_CIPHERTEXT for a choice of no ballot at all)."""
    return tuple(add_ciphertexts(p.choices[i] for p in posts) for i in range(choices))

"""Exponential ElGamal over ristretto255 for remote ballots (spec/remote-v2-crypto.md, draft).

The producer's side of the encrypted-tally design (DESIGN.md §2 point 2, ADR
0024-remote-ballot-group):

* the group: ristretto255 (RFC 9496) through libsodium (`pysodium`, a ctypes binding of the
  system library); every group and scalar operation is a libsodium call, with the identity
  element handled explicitly (libsodium refuses to *return* it from a scalar multiplication);
* strict parsing of points, scalars, ciphertexts and proofs (canonical encodings only, the
  identity only where the spec allows it);
* encryption of one approval (0 or 1) with a disjunctive Chaum-Pedersen (CDS) proof, and the
  proof that a post's choices add up to at most its seats (the same disjunction over 0..seats);
* homomorphic addition of ballots;
* a k-of-n Shamir-shared key with Feldman commitments, generated and split in memory (the whole
  key is never returned or written), partial decryption with a Chaum-Pedersen proof, Lagrange
  combination and the recovery of the (small) total from total·G.

Nothing here decrypts a single ballot: there is no whole private key to decrypt with. Verification
raises (`ElGamalError` subclasses, each with a spec error code) and returns the verified value.

The package, by what each part is: `_group` (constants, libsodium's group, randomness), `_wire`
(points, scalars and base64 as received), `_ciphertext` (ciphertexts and the disjunctive proof),
`_ballot` (encrypted posts, their proofs and JSON), `_threshold` (the shared key and decryption),
`_errors`. This `__init__` is the API: import from `keys.elgamal`, never from a part.
"""

from __future__ import annotations

# The names in __all__ are the API. The `X as X` imports are re-exported outside it: module
# constants the other key modules use (MAX_RANGE, ELECTION_ID_SIZE, TOKEN_SIZE, ...), and the
# group's primitives and the cheating prover (_prove_range, _encrypt_post_unchecked, ...) that
# the tests, the vector generators and the benchmarks reach through this package as they did
# through the module.
from keys.elgamal._ballot import (
    Disapprovals,
    EncryptedPost,
    ProofContext,
    encrypt_post,
    parse_encrypted_post,
    tally_posts,
    verify_post,
)
from keys.elgamal._ballot import _encrypt_post_unchecked as _encrypt_post_unchecked
from keys.elgamal._ciphertext import (
    ZERO_CIPHERTEXT,
    Ciphertext,
    RangeProof,
    add_ciphertexts,
    parse_ciphertext,
    parse_range_proof,
    sub_ciphertexts,
)
from keys.elgamal._ciphertext import _encrypt as _encrypt
from keys.elgamal._ciphertext import _prove_range as _prove_range
from keys.elgamal._ciphertext import _verify_range as _verify_range
from keys.elgamal._errors import (
    ChoiceProofError,
    DecryptionProofError,
    DuplicateShareError,
    ElGamalError,
    EncodingError,
    IdentityPointError,
    InvalidParametersError,
    InvalidPointError,
    NonCanonicalScalarError,
    NotEnoughSharesError,
    ProofLengthError,
    ShareMismatchError,
    SumProofError,
    TotalOutOfRangeError,
    WrongShapeError,
)
from keys.elgamal._group import _IDENTITY_POINT as _IDENTITY_POINT
from keys.elgamal._group import (
    CHOICE_DOMAIN,
    DECRYPTION_DOMAIN,
    DISAPPROVALS_DOMAIN,
    IDENTITY,
    MAX_SCRUTINEERS,
    ORDER,
    POINT_SIZE,
    SCALAR_SIZE,
    SUM_DOMAIN,
    Point,
    Scalar,
    ScalarSource,
    SystemScalars,
    UnsafeDeterministicScalars,
)
from keys.elgamal._group import CIPHERTEXT_SIZE as CIPHERTEXT_SIZE
from keys.elgamal._group import ELECTION_ID_SIZE as ELECTION_ID_SIZE
from keys.elgamal._group import MAX_RANGE as MAX_RANGE
from keys.elgamal._group import TEST_SCALARS_DOMAIN as TEST_SCALARS_DOMAIN
from keys.elgamal._group import TOKEN_SIZE as TOKEN_SIZE
from keys.elgamal._group import _add as _add
from keys.elgamal._group import _base as _base
from keys.elgamal._group import _mul as _mul
from keys.elgamal._group import _multiples_of_g as _multiples_of_g
from keys.elgamal._group import _s_add as _s_add
from keys.elgamal._group import _s_sub as _s_sub
from keys.elgamal._group import _scalar as _scalar
from keys.elgamal._group import _sub as _sub
from keys.elgamal._group import _u32 as _u32
from keys.elgamal._threshold import (
    KeyShare,
    PartialDecryption,
    ThresholdKey,
    combine_partials,
    decode_total,
    generate_threshold_key,
    parse_partial_decryption,
    parse_threshold_key,
    partial_decrypt,
    tally_label,
    verify_partial,
    verify_share,
)
from keys.elgamal._threshold import _lagrange_at_zero as _lagrange_at_zero
from keys.elgamal._wire import _unb64 as _unb64
from keys.elgamal._wire import (
    parse_point,
    parse_scalar,
)

__all__ = [
    "CHOICE_DOMAIN",
    "DECRYPTION_DOMAIN",
    "DISAPPROVALS_DOMAIN",
    "IDENTITY",
    "MAX_SCRUTINEERS",
    "ORDER",
    "POINT_SIZE",
    "SCALAR_SIZE",
    "SUM_DOMAIN",
    "ZERO_CIPHERTEXT",
    "ChoiceProofError",
    "Ciphertext",
    "DecryptionProofError",
    "Disapprovals",
    "DuplicateShareError",
    "ElGamalError",
    "EncodingError",
    "EncryptedPost",
    "IdentityPointError",
    "InvalidParametersError",
    "InvalidPointError",
    "KeyShare",
    "NonCanonicalScalarError",
    "NotEnoughSharesError",
    "PartialDecryption",
    "Point",
    "ProofContext",
    "ProofLengthError",
    "RangeProof",
    "Scalar",
    "ScalarSource",
    "ShareMismatchError",
    "SumProofError",
    "SystemScalars",
    "ThresholdKey",
    "TotalOutOfRangeError",
    "UnsafeDeterministicScalars",
    "WrongShapeError",
    "add_ciphertexts",
    "combine_partials",
    "decode_total",
    "encrypt_post",
    "generate_threshold_key",
    "parse_ciphertext",
    "parse_encrypted_post",
    "parse_partial_decryption",
    "parse_point",
    "parse_range_proof",
    "parse_scalar",
    "parse_threshold_key",
    "partial_decrypt",
    "sub_ciphertexts",
    "tally_label",
    "tally_posts",
    "verify_partial",
    "verify_post",
    "verify_share",
]

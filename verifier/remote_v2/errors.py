"""The verifier's errors for remote ballots v2 (spec/remote-v2-crypto.md §10).

One class per error code of §10, all under ``ElGamalVerificationError`` (a ``VerificationError``):
each carries the EG clause that refuses the input, the stable code, and the message in Simplified
Chinese and English. The classes are the verifier's own; the producer's live in ``keys.elgamal``.
"""

from __future__ import annotations

from typing import ClassVar

from verifier.errors import VerificationError

__all__ = [
    "ChoiceProofError",
    "DecryptionProofError",
    "DuplicateShareError",
    "ElGamalEncodingError",
    "ElGamalParametersError",
    "ElGamalVerificationError",
    "IdentityPointError",
    "InvalidPointError",
    "NonCanonicalScalarError",
    "NotEnoughSharesError",
    "ProofLengthError",
    "ShareMismatchError",
    "SumProofError",
    "TotalOutOfRangeError",
    "WrongShapeError",
]


class ElGamalVerificationError(VerificationError):
    """A remote-ballot v2 input that spec/remote-v2-crypto.md refuses (one subclass per code)."""

    CODE: ClassVar[str] = "elgamal"

    def __init__(self, *, clause: str, zh: str, en: str, path: str = "") -> None:
        super().__init__(clause=clause, code=self.CODE, zh=zh, en=en, path=path)


class ElGamalEncodingError(ElGamalVerificationError):
    """A wrong length, a missing or unknown member, a wrong JSON type, bad base64."""

    CODE = "elgamal.encoding"


class InvalidPointError(ElGamalVerificationError):
    """32 bytes that are not the canonical RFC 9496 encoding of a group element (EG-2.2)."""

    CODE = "elgamal.invalid_point"


class IdentityPointError(ElGamalVerificationError):
    """The identity where EG-2.2 forbids it (key, commitments, ballot ciphertexts)."""

    CODE = "elgamal.identity"


class NonCanonicalScalarError(ElGamalVerificationError):
    """A scalar >= the group order (EG-2.3)."""

    CODE = "elgamal.noncanonical_scalar"


class ProofLengthError(ElGamalVerificationError):
    """A proof whose length is not the one its statement fixes (EG-5.2, EG-6.3, EG-8.2)."""

    CODE = "elgamal.proof_length"


class WrongShapeError(ElGamalVerificationError):
    """A post with the wrong number of choices or proofs, or for another post (EG-6.4)."""

    CODE = "elgamal.wrong_shape"


class ChoiceProofError(ElGamalVerificationError):
    """A 0/1 proof that does not verify (EG-5.3), e.g. one bound to another statement (EG-4.3)."""

    CODE = "elgamal.choice_proof"


class SumProofError(ElGamalVerificationError):
    """A post's sum proof that does not verify: an over-vote or a forged proof (EG-6.2)."""

    CODE = "elgamal.sum_proof"


class DecryptionProofError(ElGamalVerificationError):
    """A partial decryption whose Chaum-Pedersen proof does not verify (EG-8.3)."""

    CODE = "elgamal.decryption_proof"


class ElGamalParametersError(ElGamalVerificationError):
    """k, n, seats, an index or a statement input out of its range (EG-7.1, EG-6.2, EG-8.2)."""

    CODE = "elgamal.parameters"


class ShareMismatchError(ElGamalVerificationError):
    """A key share that does not match the published commitments (EG-7.3)."""

    CODE = "elgamal.share_mismatch"


class NotEnoughSharesError(ElGamalVerificationError):
    """Fewer than k partial decryptions (EG-9.1)."""

    CODE = "elgamal.not_enough_shares"


class DuplicateShareError(ElGamalVerificationError):
    """Two partial decryptions from the same scrutineer (EG-9.1)."""

    CODE = "elgamal.duplicate_share"


class TotalOutOfRangeError(ElGamalVerificationError):
    """A combined total that is no t·G with t in 0..bound (EG-9.2)."""

    CODE = "elgamal.total_out_of_range"

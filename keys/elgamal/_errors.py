"""The errors of keys.elgamal (spec/remote-v2-crypto.md §10): one class per spec error code."""

from __future__ import annotations

from typing import NoReturn

from keys._errors import KeysError


class ElGamalError(KeysError):
    """Base of the errors of this module (spec/remote-v2-crypto.md §10)."""

    code = "elgamal.error"


class EncodingError(ElGamalError):
    """Wrong length, not canonical base64, or a malformed document (§2)."""

    code = "elgamal.encoding"


class InvalidPointError(ElGamalError):
    """32 bytes that are not the canonical encoding of a ristretto255 element (§2.1)."""

    code = "elgamal.invalid_point"


class IdentityPointError(InvalidPointError):
    """The identity element where the spec forbids it (§2.1)."""

    code = "elgamal.identity"


class NonCanonicalScalarError(ElGamalError):
    """A scalar encoding whose value is not below the group order (§2.2)."""

    code = "elgamal.noncanonical_scalar"


class ProofLengthError(EncodingError):
    """A proof of the wrong length for what it proves (§5, §6, §8)."""

    code = "elgamal.proof_length"


class WrongShapeError(ElGamalError):
    """A post ballot for another post, or with another number of choices than the post has (§6)."""

    code = "elgamal.wrong_shape"


class ChoiceProofError(ElGamalError):
    """A choice's proof that it encrypts 0 or 1 does not verify (§5)."""

    code = "elgamal.choice_proof"


class SumProofError(ElGamalError):
    """A post's proof that its choices add up to at most its seats does not verify (§6)."""

    code = "elgamal.sum_proof"


class DecryptionProofError(ElGamalError):
    """A partial decryption's Chaum-Pedersen proof does not verify (§8)."""

    code = "elgamal.decryption_proof"


class InvalidParametersError(ElGamalError):
    """k, n, seats, an index or a plaintext outside what the spec allows (§3, §4, §7)."""

    code = "elgamal.parameters"


class ShareMismatchError(ElGamalError):
    """A key share does not match the published Feldman commitments (§7.3)."""

    code = "elgamal.share_mismatch"


class NotEnoughSharesError(ElGamalError):
    """Fewer than k partial decryptions from distinct scrutineers (§9)."""

    code = "elgamal.not_enough_shares"


class DuplicateShareError(ElGamalError):
    """Two partial decryptions with the same scrutineer index (§9)."""

    code = "elgamal.duplicate_share"


class TotalOutOfRangeError(ElGamalError):
    """The combined plaintext is not t·G for any t in 0..bound (§9.2)."""

    code = "elgamal.total_out_of_range"


def _fail(cls: type[ElGamalError], zh: str, en: str) -> NoReturn:
    raise cls(zh=zh, en=en)


def _require_in(value: int, low: int, high: int, *, zh: str, en: str) -> None:
    """InvalidParametersError unless `value` is an integer (a bool is not one) in low..high: the
    count of listed candidates, a scrutineer's index (§6, §7). `zh` and `en` name the value."""
    if isinstance(value, bool) or not low <= value <= high:
        _fail(
            InvalidParametersError,
            f"{zh}须在 {low} 到 {high} 之间。",
            f"{en} {low}..{high}, got {value}",
        )

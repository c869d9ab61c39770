"""Remote ballots v2, the verifier's own implementation (spec/remote-v2-crypto.md, EG-1..EG-12).

Written from the spec and its vectors alone, with libsodium's ristretto255 through ``pysodium``;
nothing here imports the producer (``keys.elgamal``). Every refusal raises an
``ElGamalVerificationError`` subclass carrying its EG clause, its code, and the message in
Simplified Chinese and English.

* ``group``: points, scalars, ciphertexts, the Fiat-Shamir challenge (§2-§4);
* ``ballot``: a post's encrypted ballot, its 0/1 and sum proofs, the encrypted totals (§3.3,
  §5, §6);
* ``threshold``: the shared key, partial decryptions, Lagrange combination, the total (§7-§9);
* ``remote_ballot``: the ballot ``remote-ballot/2`` of spec/remote-v2.md (RV-3.1-RV-3.6: its
  shape, token, posts, the disapproval proofs of RV-3.4, its receipt), used by V18.21.
"""

from verifier.remote_v2.ballot import (
    EncryptedPost,
    PostStatement,
    PostTotals,
    VerifiedPost,
    make_statement,
    parse_post,
    tally_post,
    verify_post,
    verify_post_json,
)
from verifier.remote_v2.errors import ElGamalVerificationError
from verifier.remote_v2.group import Ciphertext, add_ciphertexts, parse_ciphertext, sum_ciphertexts
from verifier.remote_v2.threshold import (
    DecryptedTotal,
    ThresholdKey,
    check_share,
    decrypt_total,
    decryption_label,
    parse_threshold_key,
)

__all__ = [
    "Ciphertext",
    "DecryptedTotal",
    "ElGamalVerificationError",
    "EncryptedPost",
    "PostStatement",
    "PostTotals",
    "ThresholdKey",
    "VerifiedPost",
    "add_ciphertexts",
    "check_share",
    "decrypt_total",
    "decryption_label",
    "make_statement",
    "parse_ciphertext",
    "parse_post",
    "parse_threshold_key",
    "sum_ciphertexts",
    "tally_post",
    "verify_post",
    "verify_post_json",
]

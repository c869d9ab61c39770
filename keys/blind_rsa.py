"""RSA blind signatures: RSABSSA-SHA384-PSS-Randomized (RFC 9474).

Implements RFC 9474 §4 (Prepare §4.1, Blind §4.2, BlindSign §4.3, Finalize §4.4, Verify §4.5)
for the four SHA-384 variants of §5 / Appendix A. The production variant is
RSABSSA-SHA384-PSS-Randomized (salt length 48, 32-byte random message prefix); the other three
(PSSZERO-Randomized, PSS-Deterministic, PSSZERO-Deterministic) are selected through
``randomized=`` and ``salt_len=`` so that every Appendix A vector can be replayed.

What ``cryptography`` cannot do is written here, following the RFC steps and names:
EMSA-PSS-ENCODE with MGF1 (RFC 8017 §9.1.1, §B.2.1), the blinding arithmetic and RSASP1 with CRT
(RFC 8017 §5.2.1). The issuer's private-key operation runs on attacker-chosen input, so both CRT
exponentiations use GMP's constant-time ``mpz_powm_sec`` and the result is checked with
s^e mod n == m before it leaves (RFC 9474 §4.3 step 4, against fault attacks). Key generation, key
parsing and the final RSASSA-PSS verification are ``cryptography``'s.

Decision record: docs/adr/0003-rfc9474-own-implementation.md.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field

import gmpy2  # ships no stubs: used only through the typed _powmod_sec wrapper
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bilingual import BilingualError

__all__ = [
    "MIN_MODULUS_BITS",
    "PREFIX_LEN",
    "SALT_LEN_PSS",
    "SALT_LEN_PSSZERO",
    "BlindResult",
    "BlindSignatureError",
    "BlindingError",
    "EncodingError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidParameterError",
    "InvalidSignatureError",
    "MessageRepresentativeOutOfRangeError",
    "SigningFailureError",
    "UnexpectedInputSizeError",
    "blind",
    "blind_sign",
    "emsa_pss_encode",
    "finalize",
    "generate_issuer_key",
    "load_public_key_der",
    "mgf1_sha384",
    "prepare",
    "public_key_to_der",
    "verify",
]

HASH_LEN = 48  # SHA-384 output length (hLen)
SALT_LEN_PSS = 48  # RFC 9474 §5: RSABSSA-SHA384-PSS-*, sLen = hLen
SALT_LEN_PSSZERO = 0  # RFC 9474 §5: RSABSSA-SHA384-PSSZERO-*
PREFIX_LEN = 32  # RFC 9474 §4.1: randomized Prepare prepends 32 random bytes
MIN_MODULUS_BITS = 2048  # project policy; Privacy Pass's RFC 9474 token type also uses 2048
PUBLIC_EXPONENT = 65537

_ALLOWED_SALT_LENS = frozenset({SALT_LEN_PSS, SALT_LEN_PSSZERO})


# --------------------------------------------------------------------------- errors


class BlindSignatureError(BilingualError):
    """Base of every error raised by this module (RFC 9474 §6.1 error names in ``code``)."""

    code = "blind_rsa.error"


class EncodingError(BlindSignatureError):
    """EMSA-PSS-ENCODE failed: "encoding error" (RFC 8017 §9.1.1 step 3)."""

    code = "blind_rsa.encoding_error"


class InvalidInputError(BlindSignatureError):
    """RFC 9474 §4.2 "invalid input": m not coprime with n, or a bad injected r / inv."""

    code = "blind_rsa.invalid_input"


class BlindingError(BlindSignatureError):
    """RFC 9474 §4.2 "blinding error": the blinding factor has no inverse modulo n."""

    code = "blind_rsa.blinding_error"


class MessageRepresentativeOutOfRangeError(BlindSignatureError):
    """RSASP1 "message representative out of range" (RFC 8017 §5.2.1 step 1)."""

    code = "blind_rsa.message_representative_out_of_range"


class UnexpectedInputSizeError(BlindSignatureError):
    """RFC 9474 §4.4 "unexpected input size": a value is not modulus_len bytes long."""

    code = "blind_rsa.unexpected_input_size"


class SigningFailureError(BlindSignatureError):
    """RFC 9474 §4.3 "signing failure": s^e mod n != m (a fault in the private operation)."""

    code = "blind_rsa.signing_failure"


class InvalidSignatureError(BlindSignatureError):
    """RFC 9474 §4.4/§4.5 "invalid signature": RSASSA-PSS-VERIFY rejected the signature."""

    code = "blind_rsa.invalid_signature"


class InvalidParameterError(BlindSignatureError):
    """A parameter outside the RFC 9474 §5 variants (salt length, prefix length, salt size)."""

    code = "blind_rsa.invalid_parameter"


class InvalidKeyError(BlindSignatureError):
    """A key that is not a plain rsaEncryption RSA key of at least MIN_MODULUS_BITS bits."""

    code = "blind_rsa.invalid_key"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class BlindResult:
    """Output of Blind (RFC 9474 §4.2).

    ``blinded_msg`` goes to the issuer; ``inv`` stays with the client until Finalize. ``inv``
    links the blinded message to the final signature, so it is kept out of ``repr``.
    """

    blinded_msg: bytes
    inv: int = field(repr=False)


# --------------------------------------------------------------------------- helpers


def _powmod_sec(base: int, exp: int, mod: int) -> int:
    """base**exp mod mod in constant time (GMP ``mpz_powm_sec``; mod odd, exp > 0)."""
    return int(gmpy2.powmod_sec(base, exp, mod))


def _int_to_bytes(x: int, length: int) -> bytes:
    """I2OSP (RFC 8017 §4.1); callers guarantee 0 <= x < 256**length."""
    return x.to_bytes(length, "big")


def _modulus_len(n: int) -> int:
    return (n.bit_length() + 7) // 8


def _public_numbers(public_key: rsa.RSAPublicKey) -> rsa.RSAPublicNumbers:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidKeyError(zh="不是 RSA 公钥", en="not an RSA public key")
    numbers = public_key.public_numbers()
    _check_modulus_size(numbers.n)
    return numbers


def _check_modulus_size(n: int) -> None:
    if n.bit_length() < MIN_MODULUS_BITS:
        raise InvalidKeyError(
            zh=f"RSA 模数只有 {n.bit_length()} 位，至少需要 {MIN_MODULUS_BITS} 位",
            en=f"RSA modulus has {n.bit_length()} bits; at least {MIN_MODULUS_BITS} are required",
        )


def _check_salt_len(salt_len: int) -> None:
    if salt_len not in _ALLOWED_SALT_LENS:
        raise InvalidParameterError(
            zh=f"盐长度必须为 {SALT_LEN_PSS}（PSS）或 {SALT_LEN_PSSZERO}（PSSZERO），"
            f"实际为 {salt_len}",
            en=f"salt length must be {SALT_LEN_PSS} (PSS) or {SALT_LEN_PSSZERO} (PSSZERO), "
            f"got {salt_len}",
        )


def _pss_padding(salt_len: int) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=salt_len)


# --------------------------------------------------------------------------- RFC 8017 encoding


def mgf1_sha384(seed: bytes, mask_len: int) -> bytes:
    """MGF1 with SHA-384 (RFC 8017 §B.2.1).

    Args:
        seed: the seed from which the mask is generated.
        mask_len: intended length of the mask in octets.

    Returns:
        The mask, ``mask_len`` octets.
    """
    t = bytearray()
    counter = 0
    while len(t) < mask_len:
        t += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(t[:mask_len])


def emsa_pss_encode(msg: bytes, em_bits: int, *, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE with SHA-384 and MGF1-SHA-384 (RFC 8017 §9.1.1).

    Args:
        msg: message to be encoded (the prepared message of RFC 9474).
        em_bits: maximal bit length of the integer OS2IP(EM); RSASSA-PSS uses modBits - 1.
        salt: the salt, of the intended salt length (0 or 48 octets here).

    Raises:
        EncodingError: emLen < hLen + sLen + 2 (step 3).

    Returns:
        EM, ceil(em_bits / 8) octets.
    """
    em_len = (em_bits + 7) // 8
    s_len = len(salt)
    m_hash = hashlib.sha384(msg).digest()  # step 2 (SHA-384 has no practical input limit)
    if em_len < HASH_LEN + s_len + 2:  # step 3
        raise EncodingError(zh="编码错误：模数过短", en="encoding error: modulus too short")
    m_prime = b"\x00" * 8 + m_hash + salt  # step 5
    h = hashlib.sha384(m_prime).digest()  # step 6
    ps = b"\x00" * (em_len - s_len - HASH_LEN - 2)  # step 7
    db = ps + b"\x01" + salt  # step 8
    db_mask = mgf1_sha384(h, em_len - HASH_LEN - 1)  # step 9
    masked_db = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))  # step 10
    # Step 11: clear the leftmost 8*emLen - emBits bits so that EM < 2^emBits <= n.
    masked_db[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked_db) + h + b"\xbc"  # step 12


# --------------------------------------------------------------------------- RFC 9474 §4


def prepare(msg: bytes, *, randomized: bool = True, prefix: bytes | None = None) -> bytes:
    """Prepare (RFC 9474 §4.1).

    Randomized: input_msg = msg_prefix || msg with a fresh 32-byte msg_prefix.
    Deterministic: input_msg = msg.

    Args:
        msg: the application message.
        randomized: use the Randomized variant (the project's choice).
        prefix: test hook for the Randomized variant; production leaves it None and the prefix
            comes from ``secrets``.

    Raises:
        InvalidParameterError: a prefix of the wrong length, or a prefix for Deterministic.

    Returns:
        input_msg, which the client keeps and passes to Blind, Finalize and Verify.
    """
    if not randomized:
        if prefix is not None:
            raise InvalidParameterError(
                zh="确定性变体不使用消息前缀",
                en="the deterministic variant takes no message prefix",
            )
        return msg
    if prefix is None:
        prefix = secrets.token_bytes(PREFIX_LEN)
    elif len(prefix) != PREFIX_LEN:
        raise InvalidParameterError(
            zh=f"消息前缀必须为 {PREFIX_LEN} 字节，实际为 {len(prefix)} 字节",
            en=f"message prefix must be {PREFIX_LEN} bytes, got {len(prefix)}",
        )
    return prefix + msg


def blind(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    *,
    salt_len: int = SALT_LEN_PSS,
    salt: bytes | None = None,
    r: int | None = None,
) -> BlindResult:
    """Blind (RFC 9474 §4.2).

    Args:
        public_key: the issuer's public key.
        prepared_msg: output of ``prepare``.
        salt_len: 48 (PSS) or 0 (PSSZERO).
        salt: test hook; production leaves it None and the salt comes from ``secrets``.
        r: test hook for the blinding factor; production leaves it None and r is drawn
            uniformly from [1, n) with ``secrets``.

    Raises:
        InvalidKeyError: not an RSA key, or modulus below MIN_MODULUS_BITS.
        InvalidParameterError: unsupported salt length, or injected salt of the wrong size.
        EncodingError: EMSA-PSS-ENCODE failed.
        InvalidInputError: m not coprime with n, or injected r outside [1, n).
        BlindingError: r has no inverse modulo n.

    Returns:
        The blinded message (modulus_len bytes) and inv, the inverse of r modulo n.
    """
    numbers = _public_numbers(public_key)
    n, e = numbers.n, numbers.e
    _check_salt_len(salt_len)
    if salt is None:
        salt = secrets.token_bytes(salt_len)
    elif len(salt) != salt_len:
        raise InvalidParameterError(
            zh=f"盐必须为 {salt_len} 字节，实际为 {len(salt)} 字节",
            en=f"salt must be {salt_len} bytes, got {len(salt)}",
        )
    # Steps 1-3: RSASSA-PSS encodes with emBits = modBits - 1 (RFC 8017 §8.1.1).
    encoded_msg = emsa_pss_encode(prepared_msg, n.bit_length() - 1, salt=salt)
    m = int.from_bytes(encoded_msg, "big")
    if math.gcd(m, n) != 1:  # steps 4-5
        raise InvalidInputError(
            zh="输入无效：消息与模数不互素", en="invalid input: message not coprime with n"
        )
    if r is None:  # step 6: uniform in [1, n), redrawn until invertible
        r = secrets.randbelow(n - 1) + 1
        while math.gcd(r, n) != 1:
            r = secrets.randbelow(n - 1) + 1
    elif not 1 <= r < n:
        raise InvalidInputError(
            zh="输入无效：盲化因子超出 [1, n) 范围",
            en="invalid input: blinding factor outside [1, n)",
        )
    try:
        inv = pow(r, -1, n)  # step 7
    except ValueError as exc:  # step 8
        raise BlindingError(
            zh="盲化错误：r 模 n 不可逆", en="blinding error: r is not invertible mod n"
        ) from exc
    x = pow(r, e, n)  # step 9: RSAVP1(pk, r), a public-key operation
    z = (m * x) % n  # step 10
    return BlindResult(blinded_msg=_int_to_bytes(z, _modulus_len(n)), inv=inv)  # steps 11-12


def _rsasp1_crt(private_numbers: rsa.RSAPrivateNumbers, m: int) -> int:
    """RSASP1 with the CRT representation (RFC 8017 §5.2.1 step 2.b), constant-time powmods."""
    p, q = private_numbers.p, private_numbers.q
    s_1 = _powmod_sec(m % p, private_numbers.dmp1, p)
    s_2 = _powmod_sec(m % q, private_numbers.dmq1, q)
    h = ((s_1 - s_2) * private_numbers.iqmp) % p
    return s_2 + q * h


def blind_sign(private_key: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """BlindSign (RFC 9474 §4.3): the issuer's RSASP1 on the blinded message.

    Args:
        private_key: the issuer's private key (used for nothing but RFC 9474, §6.2).
        blinded_msg: the client's blinded message, exactly modulus_len bytes.

    Raises:
        InvalidKeyError: not an RSA key, or modulus below MIN_MODULUS_BITS.
        UnexpectedInputSizeError: blinded_msg is not modulus_len bytes.
        MessageRepresentativeOutOfRangeError: bytes_to_int(blinded_msg) >= n.
        SigningFailureError: s^e mod n != m; the signature is withheld.

    Returns:
        blind_sig, modulus_len bytes.
    """
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise InvalidKeyError(zh="不是 RSA 私钥", en="not an RSA private key")
    private_numbers = private_key.private_numbers()
    n, e = private_numbers.public_numbers.n, private_numbers.public_numbers.e
    _check_modulus_size(n)
    modulus_len = _modulus_len(n)
    if len(blinded_msg) != modulus_len:
        raise UnexpectedInputSizeError(
            zh=f"盲化消息必须为 {modulus_len} 字节，实际为 {len(blinded_msg)} 字节",
            en=f"blinded message must be {modulus_len} bytes, got {len(blinded_msg)}",
        )
    m = int.from_bytes(blinded_msg, "big")  # step 1
    if m >= n:  # RSASP1 step 1
        raise MessageRepresentativeOutOfRangeError(
            zh="消息代表值超出范围", en="message representative out of range"
        )
    s = _rsasp1_crt(private_numbers, m)  # step 2
    m_prime = pow(s, e, n)  # step 3: RSAVP1, public exponent
    # Step 4: a faulty CRT half would leak a factor of n through s; never release it.
    if not hmac.compare_digest(_int_to_bytes(m_prime, modulus_len), blinded_msg):
        raise SigningFailureError(
            zh="签名失败：s^e mod n 与 m 不一致", en="signing failure: s^e mod n != m"
        )
    return _int_to_bytes(s, modulus_len)  # step 5


def finalize(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    blind_sig: bytes,
    inv: int,
    *,
    salt_len: int = SALT_LEN_PSS,
) -> bytes:
    """Finalize (RFC 9474 §4.4): unblind and check the signature.

    Args:
        public_key: the issuer's public key.
        prepared_msg: output of ``prepare`` (the same bytes given to ``blind``).
        blind_sig: the issuer's output of ``blind_sign``.
        inv: ``BlindResult.inv`` from ``blind``.
        salt_len: 48 (PSS) or 0 (PSSZERO), as used in ``blind``.

    Raises:
        InvalidKeyError: not an RSA key, or modulus below MIN_MODULUS_BITS.
        InvalidParameterError: unsupported salt length.
        UnexpectedInputSizeError: blind_sig is not modulus_len bytes.
        InvalidInputError: inv outside [1, n).
        InvalidSignatureError: the unblinded signature does not verify.

    Returns:
        sig, an RSASSA-PSS signature on prepared_msg, modulus_len bytes.
    """
    numbers = _public_numbers(public_key)
    n = numbers.n
    _check_salt_len(salt_len)
    modulus_len = _modulus_len(n)
    if len(blind_sig) != modulus_len:  # step 1
        raise UnexpectedInputSizeError(
            zh=f"盲签名必须为 {modulus_len} 字节，实际为 {len(blind_sig)} 字节",
            en=f"blind signature must be {modulus_len} bytes, got {len(blind_sig)}",
        )
    if not 1 <= inv < n:
        raise InvalidInputError(
            zh="输入无效：inv 超出 [1, n) 范围", en="invalid input: inv outside [1, n)"
        )
    z = int.from_bytes(blind_sig, "big")  # step 2
    s = (z * inv) % n  # step 3
    sig = _int_to_bytes(s, modulus_len)  # step 4
    verify(public_key, prepared_msg, sig, salt_len=salt_len)  # steps 5-6
    return sig


def verify(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    sig: bytes,
    *,
    salt_len: int = SALT_LEN_PSS,
) -> None:
    """Verify (RFC 9474 §4.5): RSASSA-PSS-VERIFY with SHA-384, MGF1-SHA-384, by ``cryptography``.

    Args:
        public_key: the issuer's public key.
        prepared_msg: input_msg (msg_prefix || msg for the Randomized variant).
        sig: the finalized signature.
        salt_len: 48 (PSS) or 0 (PSSZERO).

    Raises:
        InvalidKeyError: not an RSA key, or modulus below MIN_MODULUS_BITS.
        InvalidParameterError: unsupported salt length.
        UnexpectedInputSizeError: sig is not modulus_len bytes (RFC 8017 §8.1.2 step 1).
        InvalidSignatureError: the signature does not verify.
    """
    numbers = _public_numbers(public_key)
    _check_salt_len(salt_len)
    modulus_len = _modulus_len(numbers.n)
    if len(sig) != modulus_len:  # RFC 8017 §8.1.2 step 1; OpenSSL alone accepts shorter input
        raise UnexpectedInputSizeError(
            zh=f"签名必须为 {modulus_len} 字节，实际为 {len(sig)} 字节",
            en=f"signature must be {modulus_len} bytes, got {len(sig)}",
        )
    try:
        public_key.verify(sig, prepared_msg, _pss_padding(salt_len), hashes.SHA384())
    except InvalidSignature as exc:
        raise InvalidSignatureError(zh="签名无效", en="invalid signature") from exc


# --------------------------------------------------------------------------- keys


def generate_issuer_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """Generate a dedicated RSABSSA issuer key (RFC 9474 §6.2: use it for nothing else).

    Args:
        bits: modulus size; at least MIN_MODULUS_BITS.

    Raises:
        InvalidKeyError: bits below MIN_MODULUS_BITS.

    Returns:
        A fresh RSA private key with e = 65537.
    """
    if bits < MIN_MODULUS_BITS:
        raise InvalidKeyError(
            zh=f"签发密钥至少需要 {MIN_MODULUS_BITS} 位，实际为 {bits} 位",
            en=f"issuer key must have at least {MIN_MODULUS_BITS} bits, got {bits}",
        )
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def public_key_to_der(public_key: rsa.RSAPublicKey) -> bytes:
    """Export as DER SubjectPublicKeyInfo with the plain rsaEncryption algorithm identifier.

    Raises:
        InvalidKeyError: not an RSA key, or modulus below MIN_MODULUS_BITS.
    """
    _public_numbers(public_key)
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key_der(data: bytes) -> rsa.RSAPublicKey:
    """Parse a DER SubjectPublicKeyInfo holding a plain rsaEncryption key.

    The input must be the exact bytes ``public_key_to_der`` produces, so id-RSASSA-PSS keys,
    non-canonical DER and trailing data are all refused.

    Raises:
        InvalidKeyError: unparsable, not RSA, not canonical rsaEncryption, or too small.
    """
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidKeyError(zh="无法解析公钥", en="unparsable public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidKeyError(zh="不是 RSA 公钥", en="not an RSA public key")
    if public_key_to_der(key) != data:
        raise InvalidKeyError(
            zh="公钥不是规范的 DER rsaEncryption SubjectPublicKeyInfo",
            en="public key is not canonical DER rsaEncryption SubjectPublicKeyInfo",
        )
    return key

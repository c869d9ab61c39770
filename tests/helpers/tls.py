"""TLS certificates for tests, made with ``cryptography``'s ``CertificateBuilder``.

- ``certificate(not_before=, not_after=)``: a self-signed certificate for 127.0.0.1 valid over
  that period (both ends included, RFC 5280), and its P-256 key.
- ``write_pair(folder, cert, key)``: the PEM files ``tally serve --tls-cert/--tls-key`` take
  (the key unencrypted, mode 0600 unless told); ``self_signed`` does both.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["certificate", "pem", "self_signed", "write_pair"]


def certificate(
    *, not_before: dt.datetime, not_after: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed certificate for 127.0.0.1 valid from ``not_before`` to ``not_after``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_pair(
    folder: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, *, key_mode: int = 0o600
) -> tuple[Path, Path]:
    """``folder/cert.pem`` and ``folder/key.pem`` (unencrypted PKCS #8, mode ``key_mode``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(pem(cert))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(key_mode)
    return cert_path, key_path


def self_signed(
    folder: Path, *, not_before: dt.datetime, not_after: dt.datetime, key_mode: int = 0o600
) -> tuple[Path, Path]:
    """The two files of a fresh certificate valid from ``not_before`` to ``not_after``."""
    cert, key = certificate(not_before=not_before, not_after=not_after)
    return write_pair(folder, cert, key, key_mode=key_mode)

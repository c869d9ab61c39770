"""Shared keys for the RFC 9474 tests: generated once per session so the suite stays fast."""

from __future__ import annotations

import math
import random

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import blind_rsa


def _next_prime(n: int) -> int:
    return int(gmpy2.next_prime(n))


def _key_from_primes(p: int, q: int, e: int = 65537) -> rsa.RSAPrivateKey:
    lam = math.lcm(p - 1, q - 1)
    d = pow(e, -1, lam)
    return rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e=e, n=p * q),
    ).private_key()


@pytest.fixture(scope="session")
def issuer_key() -> rsa.RSAPrivateKey:
    return blind_rsa.generate_issuer_key(2048)


@pytest.fixture(scope="session")
def other_issuer_key() -> rsa.RSAPrivateKey:
    return blind_rsa.generate_issuer_key(2048)


@pytest.fixture(scope="session")
def key_2049_bits() -> rsa.RSAPrivateKey:
    """modBits = 2049, so emBits = 2048 and EM is one byte shorter than the modulus.

    OpenSSL only generates even sizes, so the primes are built here (seeded: deterministic).
    """
    rng = random.Random(9474)
    while True:
        p = _next_prime(rng.getrandbits(1025) | (0b11 << 1023))
        q = _next_prime(rng.getrandbits(1024) | (0b11 << 1022))
        if math.gcd(65537, (p - 1) * (q - 1)) == 1 and (p * q).bit_length() == 2049:
            return _key_from_primes(p, q)

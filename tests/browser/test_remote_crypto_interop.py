"""The remote voting page's cryptography in real chromium against the Python side (spec/remote.md).

The built bundle ``tally/service/static/remote/remote-crypto.js`` (web/remote, ADR 0007) is served
from a throwaway http.server on 127.0.0.1 (a secure context, so WebCrypto works) with the service's
Content-Security-Policy, and driven through Playwright:

* RFC 9474 tokens: JS requestToken -> Python TokenIssuer.sign_blinded -> JS finishToken -> Python
  verify_credential (RM-4.2..4.5), and the failures around it;
* canonical JSON: the JS serialiser byte-equal to ``rfc8785.dumps`` (the receipt, RV-3.6);
* unlinkability sanity: what the issuer sees neither equals nor contains the token (RM-4.3).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import blind_rsa
from keys.remote_tokens import (
    RemoteCredential,
    TokenIssuer,
    TokenSignatureError,
    begin_token_request,
    finish_token_request,
    token_message,
    verify_credential,
)
from tests.helpers.bundle_server import serve_bundle

# The test page: imports the bundle as the remote page will, and exposes it to page.evaluate.
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>remote-crypto interop</title>
<script type="module" src="/boot.js"></script></head><body>远程投票密码学互通测试</body></html>
"""
BOOT = """import * as rc from './remote-crypto.js';
window.rc = rc;
await rc.elgamalReady();
document.body.dataset.ready = rc.supported() ? 'yes' : 'unsupported';
"""


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """One chromium page on http://127.0.0.1 with the bundle loaded as ``window.rc``."""
    with serve_bundle(PAGE, BOOT) as address:
        context = browser.new_context()
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            pg.goto(address)
            pg.wait_for_selector("body[data-ready]", state="attached", timeout=15_000)
            assert pg.evaluate("document.body.dataset.ready") == "yes", errors
            assert pg.evaluate("window.isSecureContext") is True
            yield pg
        finally:
            context.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _js(page: Any, body: str, *args: Any) -> Any:
    """Run ``async (args) => { body }`` in the page, with ``rc`` bound to the bundle."""
    return page.evaluate(f"async (args) => {{ const rc = window.rc; {body} }}", list(args))


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate()


def _request(page: Any, issuer: TokenIssuer, election_id: bytes) -> dict[str, Any]:
    out: dict[str, Any] = _js(
        page,
        "return await rc.requestToken(args[0], args[1]);",
        _b64(issuer.public_key_der),
        election_id.hex(),
    )
    return out


def _finish(page: Any, state: dict[str, Any], blind_sig: bytes) -> RemoteCredential:
    cred = _js(page, "return await rc.finishToken(args[0], args[1]);", state, _b64(blind_sig))
    assert set(cred) == {"token", "prefix", "signature"}
    return RemoteCredential(
        token=_unb64(cred["token"]),
        prefix=_unb64(cred["prefix"]),
        signature=_unb64(cred["signature"]),
    )


# ----------------------------------------------------------------------------- (a) tokens


def test_js_token_signed_by_python_verifies_in_python(page: Any, issuer: TokenIssuer) -> None:
    election_id = secrets.token_bytes(32)
    req = _request(page, issuer, election_id)
    blinded = _unb64(req["blindedMsg"])
    assert len(blinded) == 256  # modulus length (RM-4.3)
    # The state survives a JSON round trip (the page may keep it in sessionStorage).
    state = json.loads(json.dumps(req["state"]))
    cred = _finish(page, state, issuer.sign_blinded(blinded))

    assert cred.token == _unb64(req["token"])
    assert len(cred.token) == 32
    assert len(cred.prefix) == 32
    assert len(cred.signature) == 256
    verify_credential(issuer.public_key, election_id, cred)  # RM-4.5 / V18.3: no exception
    # Stock RSASSA-PSS over prefix || msg, exactly the 127 bytes of RM-4.2.
    prepared = cred.prefix + token_message(election_id, cred.token)
    assert len(prepared) == 127
    blind_rsa.verify(issuer.public_key, prepared, cred.signature)
    # The JS verifier agrees.
    doc = {
        "token": _b64(cred.token),
        "prefix": _b64(cred.prefix),
        "signature": _b64(cred.signature),
    }
    check = "return await rc.verifyCredential(args[0], args[1], args[2]);"
    assert _js(page, check, _b64(issuer.public_key_der), election_id.hex(), doc) is True


def test_credential_fails_for_another_key_election_or_token(page: Any, issuer: TokenIssuer) -> None:
    election_id = secrets.token_bytes(32)
    req = _request(page, issuer, election_id)
    cred = _finish(page, req["state"], issuer.sign_blinded(_unb64(req["blindedMsg"])))
    other = TokenIssuer.generate()
    with pytest.raises(TokenSignatureError):
        verify_credential(other.public_key, election_id, cred)
    with pytest.raises(TokenSignatureError):
        verify_credential(issuer.public_key, secrets.token_bytes(32), cred)
    with pytest.raises(TokenSignatureError):
        verify_credential(
            issuer.public_key,
            election_id,
            RemoteCredential(secrets.token_bytes(32), cred.prefix, cred.signature),
        )


def test_blind_signature_from_another_issuer_is_refused_by_finalize(
    page: Any, issuer: TokenIssuer
) -> None:
    election_id = secrets.token_bytes(32)
    req = _request(page, issuer, election_id)
    # An issuer whose modulus is larger, so that its BlindSign accepts our blinded message (a
    # smaller one may refuse it as out of range, which would not exercise finalize).
    other = TokenIssuer.generate()
    while other.public_key.public_numbers().n <= issuer.public_key.public_numbers().n:
        other = TokenIssuer.generate()
    wrong = other.sign_blinded(_unb64(req["blindedMsg"]))
    err = _js(
        page,
        "try { await rc.finishToken(args[0], args[1]); return null; }"
        " catch (e) { return String(e.message); }",
        req["state"],
        _b64(wrong),
    )
    assert err == "invalid signature"
    # A cut blind signature is refused before any arithmetic.
    err = _js(
        page,
        "try { await rc.finishToken(args[0], args[1]); return null; }"
        " catch (e) { return String(e.message); }",
        req["state"],
        _b64(issuer.sign_blinded(_unb64(req["blindedMsg"]))[:-1]),
    )
    assert err == "unexpected input size"


def test_python_credential_verifies_in_js(page: Any, issuer: TokenIssuer) -> None:
    election_id = secrets.token_bytes(32)
    request = begin_token_request(issuer.public_key, election_id)
    cred = finish_token_request(
        request, issuer.public_key, issuer.sign_blinded(request.blinded_msg)
    )
    doc = {
        "token": _b64(cred.token),
        "prefix": _b64(cred.prefix),
        "signature": _b64(cred.signature),
    }
    check = "return await rc.verifyCredential(args[0], args[1], args[2]);"
    der = _b64(issuer.public_key_der)
    assert _js(page, check, der, election_id.hex(), doc) is True
    assert _js(page, check, der, secrets.token_bytes(32).hex(), doc) is False
    other = _b64(TokenIssuer.generate().public_key_der)
    assert _js(page, check, other, election_id.hex(), doc) is False


def _spki(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _request_error(page: Any, der: bytes) -> str | None:
    err: str | None = _js(
        page,
        "try { await rc.requestToken(args[0], args[1]); return null; }"
        " catch (e) { return String(e.message); }",
        _b64(der),
        secrets.token_bytes(32).hex(),
    )
    return err


def test_js_refuses_a_short_issuer_key(page: Any) -> None:
    der = _spki(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.load_public_key_der(der)
    err = _request_error(page, der)
    assert err is not None
    assert "at least 2048" in err


def test_js_refuses_an_issuer_key_with_another_exponent(page: Any) -> None:
    der = _spki(rsa.generate_private_key(public_exponent=3, key_size=2048).public_key())
    err = _request_error(page, der)  # V18.1: e = 65537
    assert err is not None
    assert "not 65537" in err


def test_js_refuses_non_canonical_issuer_key(page: Any, issuer: TokenIssuer) -> None:
    der = issuer.public_key_der + b"\x00"  # trailing data: Python refuses it too
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.load_public_key_der(der)
    err = _request_error(page, der)
    assert err is not None
    assert err.startswith("invalid issuer key")


# ----------------------------------------------------------------------------- (c) JCS

DOCUMENTS: list[Any] = [
    {"format": "remote-ballot/1", "posts": [], "election_id": "00" * 32, "token": "AAAA"},
    {"b": [1, -2, 0, 9007199254740991, -9007199254740991], "a": {"z": None, "y": True, "x": False}},
    {"name": "王小明", "label": "红旗镇党委 第一支部", "members": ["张三", "李四", "欧阳修"]},
    {"ctl": "tab\tnl\ncr\rbs\bff\f\u0001\u001f\u007f", "quote": '"\\/', "emoji": "👍🏽 党"},
    {"é": 1, "中": 2, "😀": 3, "\uffff": 4, "Z": 5, "a": 6, "": 7, "aa": [[], {}, [{}]]},
    [{"post": "committee", "candidates": ["M002", "M001"], "marks": "o-", "write_ins": []}],
    "\u00e9 vs e\u0301",  # no normalisation: NFC and NFD stay different bytes
]


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_js_canonical_json_equals_rfc8785(page: Any, doc: Any) -> None:
    js_b64 = _js(page, "return rc.toBase64(rc.canonicalBytes(args[0]));", doc)
    assert _unb64(js_b64) == rfc8785.dumps(doc)
    assert _js(page, "return rc.canonicalJson(args[0]);", doc) == rfc8785.dumps(doc).decode()


@pytest.mark.parametrize("expr", ["1.5", "2 ** 53", "NaN", "undefined", "new Date(0)", "'\\ud800'"])
def test_js_canonical_json_refuses_what_remote_ballots_never_hold(page: Any, expr: str) -> None:
    err = _js(
        page,
        f"try {{ rc.canonicalJson({{v: {expr}}}); return null; }}"
        " catch (e) { return String(e.message); }",
    )
    assert err is not None


# ----------------------------------------------------------------------------- (d) unlinkability


def test_issuer_view_is_independent_of_the_token(page: Any, issuer: TokenIssuer) -> None:
    election_id = secrets.token_bytes(32)
    first = _request(page, issuer, election_id)
    second = _request(page, issuer, election_id)
    for req in (first, second):
        token = _unb64(req["token"])
        blinded = _unb64(req["blindedMsg"])
        state = req["state"]
        prepared = _unb64(state["prepared"])
        prefix = prepared[:32]
        assert blinded != token
        for secret in (token, prefix, token_message(election_id, token), prepared):
            assert secret not in blinded
        assert req["token"] not in req["blindedMsg"]
        # The issuer's answer and the final signature differ: the service cannot match a cast
        # signature to the blind signature it returned.
        blind_sig = issuer.sign_blinded(blinded)
        cred = _finish(page, state, blind_sig)
        assert cred.signature != blind_sig
        assert cred.signature not in (blinded, blind_sig)
        verify_credential(issuer.public_key, election_id, cred)
    # Fresh token, prefix and blinding factor each time.
    assert first["token"] != second["token"]
    assert first["blindedMsg"] != second["blindedMsg"]
    assert first["state"]["prepared"] != second["state"]["prepared"]
    assert first["state"]["inv"] != second["state"]["inv"]


# ----------------------------------------------------------------------------- (e) signatures


def test_js_checks_a_town_signature_made_in_python_on_the_public_summary(page: Any) -> None:
    """rc.verifyEd25519 (libsodium) accepts the town's signature on a public summary made by the
    producer (keys, OpenSSL) over domain || 0x00 || JCS, and refuses one flipped bit, another
    domain, another key, another message and malformed values (spec/manifest.md §6)."""
    import keys  # noqa: PLC0415

    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    other = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "other")
    text = '{"format":"public-summary/1","title":"中共青山村支部委员会换届选举"}'
    domain = "branch-election/public-summary/1"
    sig = town.sign(domain.encode(), text.encode())
    check = "return await rc.verifyEd25519(args[0], args[1], args[2], args[3]);"
    pub = _b64(town.public_key.key)
    assert _js(page, check, pub, domain, text, _b64(sig)) is True
    flipped = bytearray(sig)
    flipped[7] ^= 1
    assert _js(page, check, pub, domain, text, _b64(bytes(flipped))) is False
    assert _js(page, check, pub, "branch-election/manifest/1", text, _b64(sig)) is False
    assert _js(page, check, _b64(other.public_key.key), domain, text, _b64(sig)) is False
    assert _js(page, check, pub, domain, text.replace("青山", "青石"), _b64(sig)) is False
    assert _js(page, check, pub, domain, text, _b64(sig[:63])) is False
    assert _js(page, check, "not base64!", domain, text, _b64(sig)) is False

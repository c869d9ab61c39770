"""The procedure pages over a real procedure file (tests/helpers/procedure_log.StoreDriver): the
app, the station accounts, sign-in through the page, and the steps a test skips by driving the
store directly (a whole recommendation of both groups, the proposal)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nacl.pwhash
from fastapi import FastAPI
from fastapi.testclient import TestClient

import keys
from ballot_printer import PaperKind, ProcedureForm, encode_procedure_qr_text
from ballot_printer.procedure_qr import sign_procedure_payload
from tally.core.model import PostKind
from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import (
    count_body,
    evaluation_opening,
    proposal_body,
    vetting_body,
)
from tally.procedure_store import ProcedureStore
from tally.service.accounts import AccountStore, Role, accounts_path
from tally.service.procedure import ProcedureServiceConfig, create_app
from tests.helpers.procedure import SCRUTINEERS, WORK_GROUP, signer
from tests.helpers.procedure_log import ELECTION_DATE, StoreDriver, marks

FAST: dict[str, Any] = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = (
    ("chair", Role.CHAIR),
    ("teller", Role.TELLER),
    ("teller2", Role.TELLER),
    ("clerk", Role.CLERK),
    ("scrutineer", Role.SCRUTINEER),
)
PREFIX = "/station/procedure"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


SCRUTINEER_PASSPHRASES = ("黄德明的口令 1234", "赵红梅的口令 5678")


def key_file(folder: Path, role: keys.Role, label: str, seed: int, passphrase: str) -> Path:
    """An encrypted key file of the fixed test key ``seed`` (tests/helpers/procedure.signer),
    at the fastest KDF cost the key files allow."""
    data, _ = keys.generate_keypair(
        role,
        label,
        passphrase=passphrase,
        limits=keys.INTERACTIVE_LIMITS,
        unsafe_randomness=keys.UnsafeFixedRandomness(
            seed=bytes([seed]) * 32, salt=bytes([seed]) * 16, nonce=bytes([seed]) * 24
        ),
    )
    path = folder / f"{role.value}-{seed}.key"
    path.write_bytes(data)
    return path


def scrutineer_key_files(folder: Path) -> tuple[Path, ...]:
    """The key files of the example procedure's two scrutineers (SCRUTINEERS: seeds 4 and 5),
    their passphrases ``SCRUTINEER_PASSPHRASES``."""
    folder.mkdir(parents=True, exist_ok=True)
    return tuple(
        key_file(folder, keys.Role.SCRUTINEER, s.public_key.label, seed, passphrase)
        for s, seed, passphrase in zip(SCRUTINEERS, (4, 5), SCRUTINEER_PASSPHRASES, strict=True)
    )


def make_service(
    folder: Path,
    *,
    extra: Mapping[str, Any] | None = None,
    scrutineer_keys: tuple[Path, ...] = (),
) -> tuple[FastAPI, StoreDriver]:
    """A procedure file with the members' and the public stock of round 1 committed, the station
    accounts (password ``<name>-password``), and the service over them (given the scrutineers'
    key files ``scrutineer_keys``, see :func:`scrutineer_key_files`)."""
    driver = StoreDriver(folder / "qingshan.procedure.sqlite")
    for form, n in ((Form.MEMBER, 25), (Form.PUBLIC, 60)):
        for post in ("committee", "secretary"):
            driver.stock(form, post, 1, n)
    data = folder / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, role in ACCOUNTS:
        accounts.add(name, role, f"{name}-password")
    config = ProcedureServiceConfig(
        driver.store.path,
        data,
        signer=WORK_GROUP,
        scrutineer_keys=scrutineer_keys,
        extra={"argon2_limits": FAST, **(extra or {})},
    )
    return create_app(config), driver


def sign_in(client: TestClient, name: str) -> str:
    """Sign ``name`` in through the page; the session's CSRF token."""
    page = client.get(f"{PREFIX}/login")
    token = _CSRF.search(page.text)
    assert token is not None
    r = client.post(
        f"{PREFIX}/login",
        data={
            "csrf": token.group(1),
            "next": f"{PREFIX}/",
            "name": name,
            "password": f"{name}-password",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    home = client.get(f"{PREFIX}/")
    found = _CSRF.search(home.text)
    assert found is not None
    return found.group(1)


def log_types(path: Path) -> list[str]:
    """The types of the file's entries, read beside the service."""
    conn = sqlite3.connect(path)
    try:
        return [str(r[0]) for r in conn.execute("SELECT type FROM log ORDER BY seq")]
    finally:
        conn.close()


def other_procedure_qr(form: Form, post: str, round_no: int) -> str:
    """A ``BP1:`` text well signed by another procedure's work group for another procedure."""
    other = signer(keys.Role.WORK_GROUP, "另一个工作组", 9)
    paper = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}.get(post)
    payload = sign_procedure_payload(
        procedure_id=bytes(32),
        form=ProcedureForm[form.name],
        post=paper,
        round_number=round_no,
        ballot_id=bytes(range(16)),
        signer=other,
    )
    return encode_procedure_qr_text(payload)


def refresh(driver: StoreDriver) -> None:
    """The driver's handle opened again after the service wrote to the file."""
    driver.store.close()
    driver.store = ProcedureStore.open(driver.store.path)


def recommend_all(driver: StoreDriver) -> None:
    """Both groups' round 1 of both posts entered and counted through the store (beside the
    service, as the CLI would), then the proposal; the service reopens the file."""
    d = driver
    order = d.procedure.ballot_order
    papers = {
        "committee": [list(order[:5])] * 14 + [list(order[2:7])] * 6,
        "secretary": [[order[2]]] * 12 + [[order[3]]] * 8,
    }
    for form, present, copies in ((Form.MEMBER, 20, 1), (Form.PUBLIC, 40, 2)):
        ids = list(d.procedure.expected_electors[:present]) if form is Form.MEMBER else []
        d.append(
            "recommendation.opened",
            {
                "group": form.value,
                "round": 1,
                "posts": ["committee", "secretary"],
                "present": present,
                "present_members": ids,
            },
        )
        for post, chosen_list in papers.items():
            chosen_all = chosen_list * copies
            for type_, n in (("ballots.issued", present), ("ballots.returned", len(chosen_all))):
                d.append(type_, {"form": form.value, "post": post, "round": 1, "count": n})
            for i, chosen in enumerate(chosen_all):
                ballot_id, qr = d.ballot(form, post, 1, i)
                d.append(
                    "recommendation.entered",
                    {
                        "group": form.value,
                        "post": post,
                        "round": 1,
                        "ballot_id": ballot_id,
                        "qr": qr,
                        "marks": marks(d.procedure, chosen),
                        "written": [],
                    },
                )
            d.append("recommendation.counted", count_body(d.store.ledger, form, PostKind(post)))
    d.append(
        "preliminary.proposed",
        proposal_body(d.store.ledger, election_date=ELECTION_DATE).to_json(),
    )


def evaluate_and_vet(driver: StoreDriver) -> None:
    """After :func:`recommend_all`: the evaluation of version 1 (40 public representatives, 30
    ballots; the last person gets 11 不满意 of 30 and does not proceed), counted, and the vetting
    record, through the store."""
    d = driver
    opening = evaluation_opening(d.store.ledger)
    assert opening is not None
    round_no, version, persons = opening
    d.stock(Form.EVALUATION, "", round_no, 60)
    d.append(
        "evaluation.opened",
        {
            "round": round_no,
            "version": version,
            "candidates": list(persons),
            "present_members": [],
            "public_present": 40,
            "present": 40,
        },
    )
    papers = ["s" * len(persons)] * 19 + ["s" * (len(persons) - 1) + "d"] * 11
    base = {"form": "evaluation", "post": "", "round": round_no}
    d.append("ballots.issued", {**base, "count": 40})
    d.append("ballots.returned", {**base, "count": len(papers)})
    for i, paper in enumerate(papers):
        ballot_id, qr = d.ballot(Form.EVALUATION, "", round_no, i)
        d.append(
            "evaluation.entered",
            {"round": round_no, "ballot_id": ballot_id, "qr": qr, "marks": paper, "added_rows": 0},
        )
    d.append("evaluation.counted", count_body(d.store.ledger, Form.EVALUATION, None))
    d.append("vetting.recorded", vetting_body(d.store.ledger).to_json())

"""The demo election that ``make run`` serves: keys, signed manifest and election file, made once.

Everything is created under a folder (``.run/demo`` by default) with a published demo passphrase;
it is for trying the software on one machine, never for a real election.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service.accounts import ensure_demo_accounts
from tally.session_config import SessionConfig

__all__ = ["DEMO_PASSPHRASE", "DemoElection", "ensure_demo"]

DEMO_PASSPHRASE = "demo-passphrase-not-for-real-use"  # noqa: S105 - published on purpose


@dataclass(frozen=True, slots=True)
class DemoElection:
    folder: Path
    election: Path
    work_group_key: Path
    town_pub: Path
    scrutineer_keys: tuple[Path, ...]


def _key(folder: Path, role: keys.Role, label: str, name: str) -> tuple[Path, Path]:
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    if not key_path.exists():
        data, pub = keys.generate_keypair(
            role, label, passphrase=DEMO_PASSPHRASE, limits=keys.INTERACTIVE_LIMITS
        )
        keys.write_new_file(key_path, data, mode=keys.PRIVATE_FILE_MODE)
        keys.write_new_file(pub_path, keys.export_public_key(pub), mode=keys.PUBLIC_FILE_MODE)
    return key_path, pub_path


def ensure_demo(
    folder: Path, definition: Path, *, accounts_dir: Path | None = None
) -> DemoElection:
    """Create the demo election in ``folder`` unless it is already there, and the published demo
    sign-in accounts (``accounts.DEMO_ACCOUNTS``) in the service data folder ``accounts_dir``
    (default: ``service`` beside ``folder``, which is where ``tally serve`` keeps its data)."""
    folder.mkdir(parents=True, exist_ok=True)
    ensure_demo_accounts(accounts_dir or folder.parent / "service")
    town, town_pub = _key(folder, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
    wg, wg_pub = _key(folder, keys.Role.WORK_GROUP, "选举工作组", "work_group")
    scrutineers = [
        _key(folder, keys.Role.SCRUTINEER, label, f"scrutineer{i}")
        for i, label in enumerate(("黄德明", "赵红梅"), start=1)
    ]
    election = folder / "election.db"
    if not election.exists():
        parsed = parse_definition(definition.read_text(encoding="utf-8"))

        def doc(p: Path) -> dict[str, object]:
            value: dict[str, object] = json.loads(p.read_bytes())
            return value

        manifest = build_manifest(
            parsed,
            work_group_key=doc(wg_pub),
            scrutineer_keys=tuple(doc(p) for _, p in scrutineers),
        )
        town_signer = keys.load_signer(
            town, DEMO_PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE
        )
        signed = sign_manifest(manifest, town_signer)
        (folder / "manifest.json").write_bytes(signed)
        wg_signer = keys.load_signer(wg, DEMO_PASSPHRASE, expected_role=keys.Role.WORK_GROUP)
        # Remote voting is open in the demo, so that `tally remote invite` works straight away.
        os.environ.setdefault("TALLY_PASSPHRASE", DEMO_PASSPHRASE)
        config = SessionConfig(
            election,
            passphrase=DEMO_PASSPHRASE,
            data_dir=accounts_dir or folder.parent / "service",
        )
        session = ElectionSession.init(config, signed, wg_signer, actor="demo")
        session.remote.open(signer=wg_signer, k=2, actor="demo")
        session.store.close()
    return DemoElection(
        folder=folder,
        election=election,
        work_group_key=wg,
        town_pub=town_pub,
        scrutineer_keys=tuple(k for k, _ in scrutineers),
    )

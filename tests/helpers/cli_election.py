"""Elections made through the `tally` CLI in tests (in-process, with real files).

``Election(folder, definition)`` makes the keys (town committee, work group, two scrutineers;
``existing_keys=True`` takes those already in the folder), signs the manifest and runs ``tally
init``; its methods drive the meeting (check-in, print, issue, return, enter, close, co-sign),
``finish`` publishes and verifies. ``checked_in`` is the usual start: examples/qingshan.toml with
the 23 members of ``PRESENT`` checked in. ``remote_definition`` writes qingshan with other remote
voters; ``marks_for`` turns approvals per candidate into marks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import ballot_printer
import keys
from tally.cli import app
from tests.helpers.elections import ballots_for

PASSPHRASE = "correct horse battery"
ENV = {"TALLY_PASSPHRASE": PASSPHRASE, "TALLY_LANG": "zh"}
ROOT = Path(__file__).resolve().parents[2]
QINGSHAN = ROOT / "examples" / "qingshan.toml"
# 23 of qingshan's 25 expected electors (M015 is excluded, M020 votes remotely, M025 absent).
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]


def marks_for(approvals: list[int], ballots: int, seats: int) -> list[str]:
    """Marks for ``ballots`` ballots giving the listed candidates these approvals."""
    return ["".join(m.value for m in b.marks) for b in ballots_for(approvals, ballots, seats)]


def remote_definition(folder: Path, approved: Sequence[str]) -> Path:
    """examples/qingshan.toml with ``approved`` as its remote voters, written into ``folder``."""
    text = QINGSHAN.read_text(encoding="utf-8")
    path = folder / "definition.toml"
    path.write_text(
        text.replace('approved = ["M020"]', f"approved = {json.dumps(list(approved))}"),
        encoding="utf-8",
    )
    return path


def make_key(folder: Path, role: keys.Role, label: str, name: str) -> tuple[Path, Path]:
    data, pub = keys.generate_keypair(
        role, label, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS
    )
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    key_path.write_bytes(data)
    pub_path.write_bytes(keys.export_public_key(pub))
    return key_path, pub_path


def _existing_key(folder: Path, role: keys.Role, label: str, name: str) -> tuple[Path, Path]:
    """The key file ``name`` already in ``folder`` and its public key (``role``, ``label``
    are those it was made with)."""
    del role, label
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    assert key_path.is_file() and pub_path.is_file(), key_path
    return key_path, pub_path


def qr_texts(pdf: Path, dpi: int = 150) -> list[str]:
    """Every ballot's QR text, as a scanner at the counting table reads it."""
    pages = ballot_printer.read_qr_pages(pdf, dpi=dpi)
    assert all(len(p.texts) == 1 for p in pages), [p.page for p in pages if len(p.texts) != 1]
    return [p.texts[0] for p in pages]


@dataclass
class Election:
    """An election file with its keys, driven through the CLI."""

    folder: Path
    definition: Path
    db: Path = field(init=False)
    wg: Path = field(init=False)
    town: Path = field(init=False)
    scrutineers: list[Path] = field(default_factory=list)
    stocks: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=lambda: CliRunner(env=ENV))
    #: sign with the key files already in ``folder`` (``town``, ``wg``, ``s1``, ``s2`` ``.key`` and
    #: ``.pub``, as a branch's procedure made them) instead of making new ones
    existing_keys: bool = False

    def __post_init__(self) -> None:
        f = self.folder
        make = _existing_key if self.existing_keys else make_key
        self.town, self.town_pub = make(f, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
        town = self.town
        self.wg, wg_pub = make(f, keys.Role.WORK_GROUP, "工作组", "wg")
        pubs = []
        for i in (1, 2):
            k, p = make(f, keys.Role.SCRUTINEER, f"监票人{i}", f"s{i}")
            self.scrutineers.append(k)
            pubs += ["--scrutineer-pub", str(p)]
        self.ok(
            "manifest",
            "sign",
            str(self.definition),
            "--town-key",
            str(town),
            "--work-group-pub",
            str(wg_pub),
            *pubs,
            "--out",
            str(f / "manifest.json"),
        )
        self.db = f / "election.db"
        self.ok(
            "init",
            str(f / "manifest.json"),
            "--out",
            str(self.db),
            "--key",
            str(self.wg),
            "--town-key",
            str(self.town_pub),
        )

    def run(self, *args: str) -> Any:
        return self.runner.invoke(app, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> str:
        r = self.run(*args)
        assert r.exit_code == 0, (args, r.output)
        return str(r.output)

    def fails(self, *args: str) -> str:
        r = self.run(*args)
        assert r.exit_code == 1, (args, r.output)
        return str(r.output)

    def json(self, *args: str) -> dict[str, Any]:
        r = self.run(*args, "--json")
        data: dict[str, Any] = json.loads(r.output)
        return data

    def print_stock(self, kind: str, round_number: int, count: int) -> list[str]:
        pdf = self.folder / f"{kind}-{round_number}.pdf"
        self.ok(
            "print",
            str(self.db),
            "--kind",
            kind,
            "--round",
            str(round_number),
            "--count",
            str(count),
            "--out",
            str(pdf),
            "--key",
            str(self.wg),
        )
        texts = qr_texts(pdf)
        self.stocks[(kind, round_number)] = texts
        return texts

    def checkin(self, members: Sequence[str]) -> None:
        self.ok("checkin", str(self.db), *members)

    def vote(
        self,
        kind: str,
        round_number: int,
        marks: Sequence[str | tuple[str, Sequence[str]]],
        *,
        returned: int | None = None,
        members: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Issue (= present), return, enter ``marks`` (with optional write-ins), close, co-sign."""
        if (kind, round_number) not in self.stocks:
            self.print_stock(kind, round_number, max(len(marks), returned or 0) + 2)
        member_args = [a for m in members for a in ("--member", m)]
        issued = self.json("issue", str(self.db), "--key", str(self.wg), *member_args)["issued"]
        n = len(marks) if returned is None else returned
        back = self.json("return", str(self.db), "--count", str(n), "--key", str(self.wg))
        if not back["valid"]:
            self.cosign()
            return {"void": True, "issued": issued}
        batch = self.folder / f"batch-{kind}-{round_number}.jsonl"
        texts = self.stocks[(kind, round_number)]
        with batch.open("w", encoding="utf-8") as fh:
            for qr, m in zip(texts, marks, strict=False):
                text, write_ins = (m, ()) if isinstance(m, str) else m
                fh.write(
                    json.dumps(
                        {"qr": qr, "marks": text, "write_ins": list(write_ins)}, ensure_ascii=False
                    )
                    + "\n"
                )
        self.ok("enter", str(self.db), "--batch", str(batch))
        out = self.json("close", str(self.db), "--key", str(self.wg))
        self.cosign()
        outcome: dict[str, Any] = out["outcome"]
        return outcome

    def amend(self, kind: str, *candidates: str, approval: str = "红组〔2026〕40号") -> str:
        """(RS7) The work group writes the list, the town signs it, the work group records it."""
        n = len(list(self.folder.glob("amend-*.json")))
        request, signed = self.folder / f"amend-{n}.json", self.folder / f"signed-{n}.sjson"
        self.ok(
            "amend-request",
            str(self.db),
            "--kind",
            kind,
            *candidates,
            "--approval",
            approval,
            "--out",
            str(request),
        )
        self.ok("amend-sign", str(request), "--key", str(self.town), "--out", str(signed))
        return self.ok("amend-candidates", str(self.db), str(signed))

    def cosign(self) -> None:
        for s in self.scrutineers:
            self.ok("cosign", str(self.db), "--key", str(s))

    def publish(self) -> Path:
        """``tally publish`` into ``folder / "published"`` (the bundle folder and its zip)."""
        out = self.folder / "published"
        self.ok("publish", str(self.db), "--out", str(out))
        return out

    def finish(self) -> Path:
        self.ok("result", str(self.db), "--key", str(self.wg))
        self.cosign()
        out = self.publish()
        self.verify(out / "bundle")
        self.verify(out / "bundle.zip")
        return out

    def verify(self, bundle: Path) -> dict[str, Any]:
        """The town committee's check: the independent verifier passes the bundle."""
        from verifier.cli import app as verifier_app  # noqa: PLC0415

        r = CliRunner().invoke(
            verifier_app,
            ["verify", str(bundle), "--town-key", str(self.town_pub), "--json", "--jobs", "1"],
            catch_exceptions=False,
        )
        assert r.exit_code == 0, r.output
        report: dict[str, Any] = json.loads(r.output)
        return report


def checked_in(folder: Path, present: Sequence[str] = PRESENT) -> Election:
    """examples/qingshan.toml through ``tally init``, ``present`` checked in."""
    e = Election(folder, QINGSHAN)
    e.checkin(present)
    return e

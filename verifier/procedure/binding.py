"""(V29) The election binding: the procedure log against the branch's election bundle
(spec/procedure.md RP-6.5, RP-7, §13 V29).

``read_election`` verifies the election bundle given with ``verifier procedure --election`` by the
verifier's own ``verify_bundle`` (V1-V19, what ``verifier verify`` runs) against the same trust
root, and reads the documents the binding compares: ``manifest.json`` (its bytes' SHA-256, its
town key, the manifest) and ``result.json`` (``elected``, the publicity dates and the final
checkpoint's size and root). ``check_binding`` then holds the log to them:

* the election bundle verifies: each of its failures is a V29 finding "election bundle: …" with
  the election clause as ``rule``;
* its town key is the procedure's (``binding.town_key``);
* ``election.bound`` names its election id and the SHA-256 of its ``manifest.json``
  (``binding.manifest``);
* its manifest meets RP-6.5 against the town's approval (``binding.candidates_differ``,
  ``binding.parameter_differs``, ``binding.name_differs``);
* ``election.concluded`` is its election, final checkpoint, ``elected`` and publicity dates
  (``binding.concluded_differs``).

Without the election bundle V29 is not checked at all ("the election bundle was not given"), and
so it is while the log binds no election yet; a bound election not yet concluded is checked in
part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifier.bundle import open_bundle, read_file
from verifier.canonical import DOCUMENT_LIMIT, parse_canonical
from verifier.checks import TownKey, verify_bundle
from verifier.crypto import PublicKey
from verifier.errors import VerificationError
from verifier.model import Manifest
from verifier.parse import parse_checkpoint, parse_manifest, parse_signed_manifest
from verifier.parse.documents import parse_result
from verifier.report import Report, Status

if TYPE_CHECKING:
    from verifier.procedure.bundle import Signed, _Run
    from verifier.procedure.log import Entry

__all__ = ["ElectionBundle", "check_binding", "read_election"]


@dataclass(frozen=True, slots=True)
class ElectionBundle:
    """What V29 reads of the election bundle: the verifier's report on it (V1-V19) and the
    documents the binding compares (None where a document could not be read: the report says
    why)."""

    path: str
    report: Report
    manifest_sha256: str | None
    town_key: PublicKey | None
    manifest: Manifest | None
    result: Mapping[str, Any] | None
    """``{elected, publicity_start, publicity_end, size, root}`` of ``result.json``."""


def read_election(path: Path, town: TownKey, *, jobs: int | None = None) -> ElectionBundle:
    """(V29) Verify the election bundle (V1-V19) against ``town`` and read what V29 compares.

    Raises:
        BundleOpenError: the election bundle cannot be read at all.
    """
    report = verify_bundle(path, town, jobs=jobs)
    bundle, problems = open_bundle(path)
    digest: str | None = None
    town_key: PublicKey | None = None
    manifest: Manifest | None = None
    result: dict[str, Any] | None = None
    if not any(p.fatal for p in problems):
        try:
            data = read_file(bundle, "manifest.json", DOCUMENT_LIMIT)
            digest = hashlib.sha256(data).hexdigest()
            raw, town_key, _sig, _summary = parse_signed_manifest(
                parse_canonical(data, clause="V2", path="manifest.json")
            )
            manifest = parse_manifest(raw)
        except (VerificationError, KeyError, OSError):
            pass
        try:
            doc = parse_result(
                parse_canonical(
                    read_file(bundle, "result.json", DOCUMENT_LIMIT),
                    clause="V15",
                    path="result.json",
                )
            )
            final = parse_checkpoint(doc.checkpoint, "result.json")
            result = {
                "elected": doc.elected,
                "publicity_start": doc.publicity_start,
                "publicity_end": doc.publicity_end,
                "size": final.size,
                "root": final.root.hex(),
            }
        except (VerificationError, KeyError, OSError):
            pass
    return ElectionBundle(str(path), report, digest, town_key, manifest, result)


def check_binding(
    run: _Run, signed: Signed, entries: Sequence[Entry], election: ElectionBundle | None
) -> None:
    """(V29) The log's binding against the election bundle (module docstring)."""
    bound = [e for e in entries if e.type == "election.bound"]
    if election is None:
        run.unchecked.append("V29")
        run.skip(
            "V29",
            "未给出选举结果包，选举绑定未核验",
            "the election bundle was not given: the binding is not checked",
        )
        return
    if not bound:
        run.unchecked.append("V29")
        run.skip(
            "V29",
            "日志中尚未登记选举，选举绑定无从核验",
            "no election is bound in the log yet: there is no binding to check",
        )
        return
    _election_failures(run, election)
    manifest = election.manifest
    if election.town_key is not None and election.town_key.key != signed.town.key:
        _fail(
            run,
            "binding.town_key",
            "选举清单与推荐程序不是同一镇党委签署",
            "the manifest and the procedure have different town keys",
            file="election:manifest.json",
            rule="RP-7.1",
            expected=signed.town.fingerprint,
            found=election.town_key.fingerprint,
        )
    if manifest is None or election.manifest_sha256 is None:
        run.skip(
            "V29",
            "选举结果包的清单无法读取，绑定与候选人未核对",
            "the election bundle's manifest is unreadable: the binding and the lists not checked",
        )
    else:
        _bound(run, bound[-1], manifest, election.manifest_sha256)
        approved = [e for e in entries if e.type == "candidates.approved"]
        if approved:
            _approval(run, signed, approved[-1], manifest)
    concluded = [e for e in entries if e.type == "election.concluded"]
    if not concluded:
        run.skip(
            "V29",
            "日志中尚未记录选举结果，结果未与选举结果包核对",
            "the log records no concluded election yet: the result is not compared",
        )
    elif election.result is None or manifest is None:
        run.skip(
            "V29",
            "选举结果包的清单或 result.json 无法读取，选举结果未核对",
            "the election bundle's manifest or result.json is unreadable: the result not compared",
        )
    else:
        _concluded(run, concluded[-1], manifest, election.result)


def _fail(run: _Run, code: str, zh: str, en: str, **where: Any) -> None:
    run.f.fail(code, zh, en, clause="V29", **where)


def _election_failures(run: _Run, election: ElectionBundle) -> None:
    """(V29) The election bundle verifies (V1-V19): each of its failures, under V29."""
    report = election.report
    for c in report.clauses:
        for x in c.findings:
            _fail(
                run,
                x.code,
                f"选举结果包：{x.zh}",
                f"election bundle: {x.en}",
                file=f"election:{x.file}" if x.file else "election",
                seq=x.seq,
                ballot_id=x.ballot_id,
                path=x.path,
                expected=x.expected,
                found=x.found,
                rule=x.clause,
            )
        if c.status is Status.FAILED and (c.omitted or not c.findings):
            _fail(
                run,
                "binding.election_failed",
                f"选举结果包：{c.clause} 未通过（另有 {c.omitted} 项问题未列出）",
                f"election bundle: {c.clause} failed ({c.omitted} more findings not listed)",
                file="election",
                rule=c.clause,
            )


def _bound(run: _Run, e: Entry, manifest: Manifest, digest: str) -> None:
    """(V29, RP-7.1) ``election.bound`` names the bundle's election id and manifest bytes."""
    want = {"election_id": manifest.election_id.hex(), "manifest_sha256": digest}
    for key, value in want.items():
        if e.body.get(key) != value:
            _fail(
                run,
                "binding.manifest",
                "登记的选举与选举结果包的清单不一致",
                f"election.bound's {key} is not the election bundle's manifest's",
                file="log.jsonl",
                seq=e.seq,
                path=f"body.{key}",
                expected=value,
                found=str(e.body.get(key)),
                rule="RP-7.1",
            )


def _approval(run: _Run, signed: Signed, e: Entry, manifest: Manifest) -> None:
    """(V29, RP-6.5) The manifest has every post's ``seats``, ``margin`` and ``candidates`` (same
    ids, same order) of the approval, its ``secretary.elected_by``, the procedure's
    ``publicity_working_days`` and each candidate's name of the procedure's roster."""
    approval = e.body.get("approval")
    if not isinstance(approval, dict):
        return
    d = manifest.definition
    approved = {str(p.get("post")): p for p in approval.get("posts") or [] if isinstance(p, dict)}
    posts = {p.post: p for p in d.posts}
    where: dict[str, Any] = {"file": "election:manifest.json", "rule": "RP-6.5"}
    for code in sorted(set(approved) | set(posts), key=_post_rank):
        a, m = approved.get(code), posts.get(code)
        path = f"definition.posts.{code}"
        if a is None or m is None:
            _fail(
                run,
                "binding.candidates_differ",
                "职位与批复不一致",
                "the post differs from the approval",
                path=path,
                **where,
            )
            continue
        if list(m.candidates) != a.get("candidates"):
            _fail(
                run,
                "binding.candidates_differ",
                "候选人或其顺序与镇党委批复不一致",
                "the candidates or their order differ from the approval",
                path=f"{path}.candidates",
                expected=", ".join(map(str, a.get("candidates") or [])),
                found=", ".join(m.candidates),
                **where,
            )
        for key, have in (("seats", m.seats), ("margin", m.margin)):
            if have != a.get(key):
                _parameter(run, f"{path}.{key}", str(a.get(key)), str(have))
    body = approval.get("secretary")
    if not isinstance(body, dict) or d.elected_by != body.get("elected_by"):
        want = str(body.get("elected_by")) if isinstance(body, dict) else ""
        _parameter(run, "definition.secretary.elected_by", want, d.elected_by)
    days = signed.value.get("publicity_working_days")
    if d.parameters.publicity_working_days != days:
        found = str(d.parameters.publicity_working_days)
        _parameter(run, "definition.parameters.publicity_working_days", str(days), found)
    roster = {
        str(m.get("id")): m.get("name") for m in signed.value["members"] if isinstance(m, dict)
    }
    names = {m.id: m.name for m in d.members}
    candidates = [c for a in approved.values() for c in a.get("candidates") or []]
    for cid in dict.fromkeys(map(str, candidates)):
        if names.get(cid) != roster.get(cid):
            _fail(
                run,
                "binding.name_differs",
                f"候选人 {cid} 的姓名与推荐程序名册不一致",
                f"candidate {cid}'s name differs from the procedure roster",
                path=f"definition.members.{cid}.name",
                expected=str(roster.get(cid)),
                found=str(names.get(cid)),
                **where,
            )


def _parameter(run: _Run, path: str, expected: str, found: str) -> None:
    _fail(
        run,
        "binding.parameter_differs",
        "选举参数与推荐程序或镇党委批复不一致",
        f"{path} differs from the procedure or the approval",
        file="election:manifest.json",
        path=path,
        expected=expected,
        found=found,
        rule="RP-6.5",
    )


def _post_rank(code: str) -> tuple[int, str]:
    order = ("committee", "secretary", "deputy_secretary")
    return (order.index(code) if code in order else len(order), code)


def _concluded(run: _Run, e: Entry, manifest: Manifest, result: Mapping[str, Any]) -> None:
    """(V29, RP-7.2) ``election.concluded`` is the bundle's election, its final checkpoint's size
    and root, and ``result.json``'s ``elected`` and publicity dates."""
    want = {"election_id": manifest.election_id.hex(), **result}
    for key, value in want.items():
        if e.body.get(key) != value:
            _fail(
                run,
                "binding.concluded_differs",
                "选举结果记录与选举结果包不一致",
                f"election.concluded's {key} differs from the election bundle",
                file="log.jsonl",
                seq=e.seq,
                path=f"body.{key}",
                expected=str(value)[:200],
                found=str(e.body.get(key))[:200],
                rule="RP-7.2",
            )

"""``tally procedure higher-level|approve|record|manifest|bind|conclude|appoint``: the town's acts
on the branch procedure file (spec/procedure.md RP-3.9, RP-6.4, RP-6.5, RP-7, RP-10).

A thin shell over :mod:`tally.procedure_town`: the town committee signs with its key
(``--town-key``) and the work group records the act with its key (``--key``) in one command; or
``--out`` keeps the signed act, which ``record`` records later. ``manifest`` writes the approved
lists into the election definition for ``tally manifest sign``; ``bind`` records the town-signed
manifest, ``conclude`` the election's result, ``appoint`` the town's appointment, refused while an
objection of the branch is open. Chinese by default, ``--lang en``, ``--json``; every refusal is
one line and exit 1, and nothing is stored. Registered on ``tally procedure`` by :func:`register`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.casework_store import CaseworkStore
from tally.cli_day import _run, _signer
from tally.cli_errors import CliError, run
from tally.cli_input import parse_date, read_input, read_input_text
from tally.cli_options import (
    KIND_NAMES,
    ActorOpt,
    JsonOpt,
    KeyOpt,
    LangOpt,
    ProcedureDbArg,
    TownSigningKeyOpt,
)
from tally.cli_procedure_log import with_store
from tally.core.model import Election, MemberId, PostKind, zh_label
from tally.core.procedure.entries import ProcedureEntry, TownActBody
from tally.election_log import now
from tally.procedure_store import ProcedureStore
from tally.procedure_town import (
    appoint,
    approve,
    bind,
    check_election,
    conclude,
    election_definition,
    recommend_higher_level,
    record_signed,
)

__all__ = ["check_binding", "register", "toml_text"]

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="另存镇党委签署的文件（JSON，可用 record 记录）")
]
ReferenceOpt = Annotated[str, typer.Option("--reference", help="镇党委文号，如 红组〔2026〕12号")]
_MAX_INPUT = 16 * 1024 * 1024


def _post(value: str) -> PostKind:
    try:
        return KIND_NAMES[value]
    except KeyError:
        raise CliError(
            "recommendation.post",
            zh=f"未知职位 {value}（committee / secretary / deputy）",
            en=f"unknown post {value} (committee / secretary / deputy)",
        ) from None


def _write_new(path: Path, data: bytes) -> None:
    keys.write_new_file(path, data, mode=keys.PUBLIC_FILE_MODE)


def _act(entry: ProcedureEntry) -> Mapping[str, Any]:
    """The body of a town act or binding entry as recorded (its typed value's JSON)."""
    value = entry.value
    assert isinstance(value, TownActBody)
    return value.json


def _recorded(entry: ProcedureEntry, lg: str, zh: str, en: str) -> list[str]:
    """The first line of a recorded act's output."""
    if lg == "zh":
        return [f"已记录 {entry.type}（第 {entry.seq} 条）：{zh}"]
    return [f"recorded {entry.type} (entry {entry.seq}): {en}"]


def _record(
    store: ProcedureStore,
    body: Mapping[str, Any],
    *,
    key: Path,
    actor: str,
    out: Path | None,
) -> ProcedureEntry:
    """Keep the signed act (``--out``) and record it with the work group key."""
    data = json.dumps(body, ensure_ascii=False, indent=2).encode()
    wg = _signer(key, keys.Role.WORK_GROUP)
    entry = record_signed(
        store, data, work_group=wg, at=now(), actor=actor, random=secrets.token_bytes
    )
    if out is not None:
        _write_new(out, data)
    return entry


def higher_level_cmd(
    db: ProcedureDbArg,
    post: Annotated[str, typer.Option("--post", help="职位：committee / secretary / deputy")],
    member: Annotated[list[str], typer.Option("--member", help="推荐的党员编号（可多次）")],
    reference: ReferenceOpt,
    town_key: TownSigningKeyOpt,
    key: KeyOpt,
    out: OutOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """镇党委的上级党组织推荐（RP-3.9） / The higher level's recommendation (RP-3.9)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        kind = _post(post)

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            body = recommend_higher_level(
                store,
                post=kind,
                members=[MemberId(m) for m in member],
                reference=reference,
                town=_signer(town_key, keys.Role.TOWN_COMMITTEE),
            )
            entry = _record(store, body, key=key, actor=actor, out=out)
            names = "、".join(store.signed.procedure.member(MemberId(m)).name for m in member)
            lines = _recorded(
                entry, lg, f"{zh_label(kind)}：{names}", f"{kind.value}: {', '.join(member)}"
            )
            return lines, {"seq": entry.seq, "post": kind.value, "members": member}

        return with_store(db, run)

    _run(lang, as_json, act)


def approve_cmd(
    db: ProcedureDbArg,
    reference: ReferenceOpt,
    town_key: TownSigningKeyOpt,
    key: KeyOpt,
    secretary_order: Annotated[
        list[str] | None,
        typer.Option("--secretary-order", help="书记候选人顺序（镇党委确定；可多次）"),
    ] = None,
    deputy_order: Annotated[
        list[str] | None,
        typer.Option("--deputy-order", help="副书记候选人顺序（镇党委确定；可多次）"),
    ] = None,
    out: OutOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """镇党委批复正式候选人（RP-6.4） / The town approves the formal candidates (RP-6.4)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        orders: dict[PostKind, list[MemberId]] = {}
        if secretary_order:
            orders[PostKind.SECRETARY] = [MemberId(m) for m in secretary_order]
        if deputy_order:
            orders[PostKind.DEPUTY_SECRETARY] = [MemberId(m) for m in deputy_order]

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            town = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            body = approve(store, reference=reference, town=town, orders=orders)
            entry = _record(store, body, key=key, actor=actor, out=out)
            posts = body["approval"]["posts"]
            p = store.signed.procedure
            lines = _recorded(entry, lg, reference, reference)
            for item in posts:
                kind = PostKind(item["post"])
                names = [p.member(MemberId(c)).name for c in item["candidates"]]
                lines.append(
                    f"{zh_label(kind)}：应选 {item['seats']} 名，正式候选人 "
                    f"{len(names)} 名：{'、'.join(names)}"
                    if lg == "zh"
                    else f"{kind.value}: {item['seats']} seat(s), {len(names)} formal "
                    f"candidates: {', '.join(item['candidates'])}"
                )
            return lines, {"seq": entry.seq, "approval": body["approval"]}

        return with_store(db, run)

    _run(lang, as_json, act)


def record_cmd(
    db: ProcedureDbArg,
    signed: Annotated[Path, typer.Argument(help="镇党委签署的文件（approve 等的 --out）")],
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录在别处签署的镇党委审批文件 / Record a town act signed elsewhere."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        raw = read_input(signed, limit=_MAX_INPUT)

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            wg = _signer(key, keys.Role.WORK_GROUP)
            entry = record_signed(
                store, raw, work_group=wg, at=now(), actor=actor, random=secrets.token_bytes
            )
            lines = _recorded(entry, lg, str(signed), str(signed))
            return lines, {"seq": entry.seq, "type": entry.type}

        return with_store(db, run)

    _run(lang, as_json, act)


# -- the election definition (RP-6.5) ---------------------------------------------------------------
def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | dt.date):
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list) and all(not isinstance(x, dict) for x in v):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise CliError(
        "definition.toml_form",
        zh=f"选举定义草稿中有无法写出的值（{type(v).__name__}）：只支持一层表",
        en=f"the draft holds a value with no TOML form here ({type(v).__name__}): one level of "
        "tables only",
    )


def toml_text(doc: Mapping[str, Any]) -> str:
    """An election definition (decoded TOML: strings, integers, booleans, dates, lists, tables,
    arrays of tables, at most one level deep) written back as TOML."""
    scalars, tables, arrays = [], [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            scalars.append(f"{k} = {_toml_value(v)}")
    out = [*scalars]
    for k, table in tables:
        out += ["", f"[{k}]", *(f"{tk} = {_toml_value(tv)}" for tk, tv in table.items())]
    for k, items in arrays:
        for item in items:
            out += ["", f"[[{k}]]", *(f"{ik} = {_toml_value(iv)}" for ik, iv in item.items())]
    return "\n".join(out) + "\n"


def manifest_cmd(
    db: ProcedureDbArg,
    definition: Annotated[
        Path,
        typer.Option(
            "--definition",
            help="选举定义草稿（TOML：至少 [election] 的 date、objections_to 和 [officials]）",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="写出的选举定义（不会覆盖）")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """把镇党委批复的正式候选人写入选举定义（RP-6.5） / Write the approved lists into the
    election definition (RP-6.5)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        try:
            draft = tomllib.loads(read_input_text(definition, limit=_MAX_INPUT))
        except tomllib.TOMLDecodeError as e:
            raise CliError(
                "toml.malformed",
                zh=f"{definition} 不是有效的 TOML：{e}",
                en=f"{definition} is not valid TOML: {e}",
            ) from e

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            doc = election_definition(store, draft)
            approval = store.ledger.town.approval or {}
            header = (
                f"# 由 tally procedure manifest 按镇党委批复（{approval.get('reference', '')}）"
                "写出：候选人及其顺序、应选名额、差额和公示天数不得改动（RP-6.5）\n"
            )
            _write_new(out, (header + toml_text(doc)).encode())
            posts = [p["post"] for p in doc["posts"]]
            return (
                [
                    f"已写出选举定义：{out}（候选人按镇党委批复）",
                    f"下一步：tally check {out} --procedure {db}",
                ]
                if lg == "zh"
                else [
                    f"election definition written: {out} (approved candidates)",
                    f"next: tally check {out} --procedure {db}",
                ],
                {"out": str(out), "posts": posts},
            )

        return with_store(db, run)

    _run(lang, as_json, act)


def bind_cmd(
    db: ProcedureDbArg,
    manifest: Annotated[Path, typer.Argument(help="镇党委签署的选举清单（tally manifest sign）")],
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记本次选举：核对签署的选举清单与批复一致（RP-7.1） / Bind the election (RP-7.1)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        raw = read_input(manifest, limit=_MAX_INPUT)

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            wg = _signer(key, keys.Role.WORK_GROUP)
            entry = bind(
                store, raw, work_group=wg, at=now(), actor=actor, random=secrets.token_bytes
            )
            body = _act(entry)
            eid = body["election_id"]
            lines = _recorded(entry, lg, f"选举标识 {eid}", f"election id {eid}")
            return lines, {"seq": entry.seq, **body}

        return with_store(db, run)

    _run(lang, as_json, act)


def conclude_cmd(
    db: ProcedureDbArg,
    election: Annotated[Path, typer.Argument(help="已宣布结果的选举文件（tally result 之后）")],
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录选举结果和公示期（RP-7.2） / Record the election's result and publicity (RP-7.2)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            wg = _signer(key, keys.Role.WORK_GROUP)
            entry = conclude(
                store, election, work_group=wg, at=now(), actor=actor, random=secrets.token_bytes
            )
            b = _act(entry)
            lines = _recorded(
                entry,
                lg,
                f"公示期 {b['publicity_start']} 至 {b['publicity_end']}",
                f"publicity {b['publicity_start']} to {b['publicity_end']}",
            )
            return lines, {"seq": entry.seq, **b}

        return with_store(db, run)

    _run(lang, as_json, act)


def appoint_cmd(
    db: ProcedureDbArg,
    casework: Annotated[Path, typer.Option("--casework", help="本镇事项登记簿文件")],
    casework_key: Annotated[
        Path, typer.Option("--casework-key", help="查核组密钥文件（签署 appointment 检查点）")
    ],
    date: Annotated[str, typer.Option("--date", help="审批任命日期 YYYY-MM-DD（公示期满之后）")],
    reference: ReferenceOpt,
    town_key: TownSigningKeyOpt,
    key: KeyOpt,
    out: OutOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """镇党委审批任命（RP-10）；有异议未办结时拒绝 / The town's appointment (RP-10); refused
    while an objection is open."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        day = parse_date(date, option="--date")

        def run(store: ProcedureStore) -> tuple[list[str], dict[str, Any]]:
            cw = CaseworkStore.open(casework)
            try:
                entry = appoint(
                    store,
                    cw,
                    casework_signer=_signer(casework_key, keys.Role.CASEWORK),
                    town=_signer(town_key, keys.Role.TOWN_COMMITTEE),
                    date=day,
                    reference=reference,
                    work_group=_signer(key, keys.Role.WORK_GROUP),
                    at=now(),
                    actor=actor,
                    random=secrets.token_bytes,
                )
            finally:
                cw.close()
            body = _act(entry)
            doc = body["appointment"]
            if out is not None:
                _write_new(out, json.dumps(body, ensure_ascii=False, indent=2).encode())
            return _appointment_lines(store, entry, doc, lg), {"seq": entry.seq, "appointment": doc}

        return with_store(db, run)

    _run(lang, as_json, act)


def _appointment_lines(
    store: ProcedureStore, entry: ProcedureEntry, doc: Mapping[str, Any], lg: str
) -> list[str]:
    p = store.signed.procedure
    zh = lg == "zh"
    decision = {"approved": "批准", "refused": "不批准（选举无效，须重新选举）"}
    lines = _recorded(
        entry,
        lg,
        f"{decision[doc['decision']]}，{doc['reference']}",
        f"{doc['decision']}, {doc['reference']}",
    )
    for person in doc["persons"]:
        name = p.member(MemberId(person["member"])).name
        status = "任命" if person["status"] == "appointed" else "不予任命"
        refs = "、".join(person["objections"])
        lines.append(
            f"{zh_label(PostKind(person['post']))} {name}：{status}"
            + (f"（{refs}）" if refs else "")
            if zh
            else f"{person['post']} {person['member']}: {person['status']}"
            + (f" ({refs})" if refs else "")
        )
    for o in doc["objections"]:
        lines.append(
            f"异议 {o['reference']}：{o['finding']}，{o['effect']}，{o['concluded']} 办结"
            if zh
            else f"objection {o['reference']}: {o['finding']}, {o['effect']}, concluded "
            f"{o['concluded']}"
        )
    return lines


def register(app: typer.Typer) -> None:
    """Add the town's acts to the ``tally procedure`` app."""
    app.command("higher-level")(higher_level_cmd)
    app.command("approve")(approve_cmd)
    app.command("record")(record_cmd)
    app.command("manifest")(manifest_cmd)
    app.command("bind")(bind_cmd)
    app.command("conclude")(conclude_cmd)
    app.command("appoint")(appoint_cmd)


def check_binding(db: Path, election: Election, lang: str, as_json: bool) -> None:
    """``tally check --procedure``: refuse a definition that differs from the approval (RP-6.5),
    every difference listed; exit 1."""

    def act() -> None:
        store = ProcedureStore.open(db)
        try:
            check_election(store, election)
        finally:
            store.close()

    run(lang, as_json, act)

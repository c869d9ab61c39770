"""`tally keys ...`: create, show and export role keys (spec/keyfile.md §4.4, §5, §8).

A thin shell over `keys`: parse the arguments, call one `keys` operation, translate its errors.
Messages are Simplified Chinese unless `--lang en` or `TALLY_LANG=en`; `--json` prints one JSON
object on stdout instead. Passphrases come from `TALLY_PASSPHRASE` or a hidden prompt (on stderr, so
`--json` output stays clean).
"""

from __future__ import annotations

import base64
import enum
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.cli_day.common import MAX_KEY_BYTES
from tally.cli_errors import CliError, run
from tally.cli_input import read_input

__all__ = ["app"]

PASSPHRASE_ENV = "TALLY_PASSPHRASE"
LANG_ENV = "TALLY_LANG"

app = typer.Typer(
    name="keys",
    help="管理角色密钥 / Manage role keys (Ed25519, encrypted key files).",
    no_args_is_help=True,
    add_completion=False,
)


class Lang(enum.StrEnum):
    ZH = "zh"
    EN = "en"


class KdfPreset(enum.StrEnum):
    MODERATE = "moderate"
    INTERACTIVE = "interactive"


_KDF_LIMITS = {
    KdfPreset.MODERATE: keys.MODERATE_LIMITS,
    KdfPreset.INTERACTIVE: keys.INTERACTIVE_LIMITS,
}

_TEXT: dict[str, dict[Lang, str]] = {
    "prompt_new": {Lang.ZH: "请设置密钥文件口令", Lang.EN: "New key file passphrase"},
    "prompt_again": {Lang.ZH: "请再次输入口令", Lang.EN: "Repeat the passphrase"},
    "prompt_open": {Lang.ZH: "请输入密钥文件口令", Lang.EN: "Key file passphrase"},
    "role": {Lang.ZH: "角色", Lang.EN: "role"},
    "label": {Lang.ZH: "标签", Lang.EN: "label"},
    "fingerprint": {Lang.ZH: "指纹", Lang.EN: "fingerprint"},
    "kind": {Lang.ZH: "文件类型", Lang.EN: "file type"},
    "keyfile": {Lang.ZH: "加密密钥文件", Lang.EN: "encrypted key file"},
    "pubkey": {Lang.ZH: "公钥文件", Lang.EN: "public key file"},
    "key_written": {Lang.ZH: "已写入密钥文件", Lang.EN: "key file written"},
    "pub_written": {Lang.ZH: "已写入公钥文件", Lang.EN: "public key file written"},
}


def _lang(option: Lang | None) -> Lang:
    """`--lang` wins, then `TALLY_LANG`, then Chinese."""
    if option is not None:
        return option
    value = os.environ.get(LANG_ENV, Lang.ZH.value)
    try:
        return Lang(value)
    except ValueError:
        raise CliError(
            "cli.bad_lang",
            zh=f"环境变量 {LANG_ENV} 的值“{value}”无效，应为 zh 或 en。",
            en=f"{LANG_ENV}={value!r} is not valid; use zh or en",
        ) from None


def _t(key: str, lang: Lang) -> str:
    return _TEXT[key][lang]


def _file_error(e: OSError) -> CliError:
    """The key commands' refusal for a file they could not read or write."""
    name = e.filename
    if isinstance(e, FileNotFoundError):
        return CliError(
            "cli.file_not_found", zh=f"找不到文件：{name}", en=f"file not found: {name}"
        )
    return CliError(
        "cli.io_error", zh=f"无法读写文件 {name}：{e.strerror}", en=f"{name}: {e.strerror}"
    )


def _run(lang_option: Lang | None, as_json: bool, action: Callable[[Lang], dict[str, Any]]) -> None:
    """Run one command: its result as lines or JSON; every expected failure as one line, exit 1."""
    lang = run(Lang.ZH, as_json, lambda: _lang(lang_option), on_file_error=_file_error)
    result = run(lang, as_json, lambda: action(lang), on_file_error=_file_error)
    if as_json:
        typer.echo(json.dumps({"ok": True, **result}, ensure_ascii=False, sort_keys=True))
        return
    for key in ("kind", "role", "label", "fingerprint", "key_written", "pub_written"):
        if result.get(key) is not None:
            typer.echo(f"{_t(key, lang)}: {_human(key, result[key], lang)}")


def _human(key: str, value: Any, lang: Lang) -> str:
    if key == "kind":
        return _t(str(value), lang)
    if key == "role" and lang is Lang.ZH:
        return f"{keys.ROLE_NAMES_ZH[keys.Role(value)]} ({value})"
    return str(value)


def _passphrase(lang: Lang, *, new: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    first: str = typer.prompt(
        _t("prompt_new" if new else "prompt_open", lang), hide_input=True, err=True
    )
    if new:
        again: str = typer.prompt(_t("prompt_again", lang), hide_input=True, err=True)
        if again != first:
            raise CliError(
                "cli.passphrase_mismatch",
                zh="两次输入的口令不一致。",
                en="the two passphrases do not match",
            )
    return first


def _must_not_exist(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and (path.exists() or path.is_symlink()):
            raise keys.KeyFileExistsError(
                zh=f"文件已存在，拒绝覆盖：{path}", en=f"refusing to overwrite existing file {path}"
            )


def _describe(public_key: keys.PublicKey) -> dict[str, Any]:
    return {
        "role": public_key.role.value,
        "label": public_key.label,
        "fingerprint": keys.fingerprint(public_key),
        "public_key": base64.b64encode(public_key.key).decode("ascii"),
    }


LangOption = Annotated[
    Lang | None,
    typer.Option("--lang", help="消息语言 / message language (default: $TALLY_LANG or zh)."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="输出 JSON / print one JSON object on stdout.")
]


@app.command("new")
def new(
    *,
    role: Annotated[keys.Role, typer.Option("--role", help="密钥角色 / key role.")],
    label: Annotated[str, typer.Option("--label", help="持有人或单位名称 / holder's name.")],
    out: Annotated[Path, typer.Option("--out", help="新密钥文件 / new key file (0600).")],
    pub_out: Annotated[
        Path | None, typer.Option("--pub-out", help="同时导出公钥 / also write the public key.")
    ] = None,
    kdf: Annotated[
        KdfPreset,
        typer.Option("--kdf", help="口令派生强度 / Argon2id cost; interactive: tests only."),
    ] = KdfPreset.MODERATE,
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """生成新密钥并加密保存 / Generate a key and save it encrypted (never overwrites)."""

    def action(lang_: Lang) -> dict[str, Any]:
        if pub_out is not None and pub_out.resolve() == out.resolve():
            raise CliError(
                "cli.same_output",
                zh="--out 与 --pub-out 不能是同一个文件。",
                en="--out and --pub-out must be different files",
            )
        _must_not_exist(out, pub_out)  # before the passphrase and the slow KDF
        passphrase = _passphrase(lang_, new=True)
        key_file, public_key = keys.generate_keypair(
            role, label, passphrase=passphrase, limits=_KDF_LIMITS[kdf]
        )
        keys.write_new_file(out, key_file, mode=keys.PRIVATE_FILE_MODE)
        if pub_out is not None:
            data = keys.export_public_key(public_key)
            keys.write_new_file(pub_out, data, mode=keys.PUBLIC_FILE_MODE)
        return {
            **_describe(public_key),
            "key_written": str(out),
            "pub_written": None if pub_out is None else str(pub_out),
        }

    _run(lang, as_json, action)


@app.command("show")
def show(
    file: Annotated[Path, typer.Argument(help="密钥文件或公钥文件 / key file or public key file.")],
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示角色、标签和指纹（无需口令）/ Show role, label and fingerprint (no passphrase)."""

    def action(_lang: Lang) -> dict[str, Any]:
        data = read_input(file, limit=MAX_KEY_BYTES)
        try:
            public_key = keys.parse_key_file(data).public_key
            kind = "keyfile"
        except keys.UnsupportedFormatError as not_a_key_file:
            try:
                public_key = keys.parse_public_key(data)
            except keys.UnsupportedFormatError:
                raise not_a_key_file from None
            kind = "pubkey"
        return {"kind": kind, **_describe(public_key)}

    _run(lang, as_json, action)


@app.command("export-public")
def export_public(
    file: Annotated[Path, typer.Argument(help="加密密钥文件 / encrypted key file.")],
    out: Annotated[Path, typer.Option("--out", help="公钥文件 / public key file to write.")],
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """验证口令后导出公钥 / Export the public key after checking the passphrase."""

    def action(lang_: Lang) -> dict[str, Any]:
        _must_not_exist(out)
        key_file = keys.parse_key_file(read_input(file, limit=MAX_KEY_BYTES))
        # Decrypting authenticates the header, so the exported key is the one the seed matches.
        signer = keys.unlock_key_file(key_file, _passphrase(lang_, new=False), expected_role=None)
        keys.write_new_file(
            out, keys.export_public_key(signer.public_key), mode=keys.PUBLIC_FILE_MODE
        )
        return {**_describe(signer.public_key), "pub_written": str(out)}

    _run(lang, as_json, action)

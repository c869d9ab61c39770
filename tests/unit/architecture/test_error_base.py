"""Issue 17 point 6: one bilingual error base for tally, keys and ballot_printer, and one way the
CLI refuses (bilingual.BilingualError, tally.cli_errors)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from types import ModuleType
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import ballot_printer
import keys
import tally
from bilingual import BilingualError
from tally.cli_errors import CliError, fail
from tally.core.errors import TallyError

# Exceptions that carry no message for anyone: control flow inside one module.
NOT_REFUSALS = {
    "tally.cli_day.Done",  # unused marker
    "tally.service.limits._Refused",  # raised into the app after the refusal was sent
    "tally.service.transport._Encrypted",  # the TLS key asked for a passphrase
    "tally.service.station.routes.SignInNeeded",  # redirect to the sign-in page
    "tally.service.casework.reporters.NoReporter",  # sign-in page, or the 401 refusal it builds
    "tally.service.casework.group.NoOfficial",  # sign-in page, or the 401 refusal it builds
    "tally.service.casework.group.ClerkNotHere",  # the 403 refusal its handler builds
    "tally.service.procedure.routes.SignInNeeded",  # redirect to the sign-in page
    "tally.town_report.GatesStoppedError",  # a gate after a stop; the stopping error is reported
}
# Every method of the base that a family must not define again (the copies issue 17 removed).
BASE_METHODS = ("__init__", "__str__", "message", "to_json")
# Classes whose constructor takes other arguments and builds the texts (not a copy of the base's).
OWN_CONSTRUCTORS = {
    "tally.core.errors.DefinitionError",
    "tally.core.procedure.errors.ProcedureDefinitionError",
    "tally.core.procedure.errors.ApprovalBlockedError",
    "tally.procedure_town.BindingError",
    "tally.core.double_entry.DoubleEntryMismatchError",
    "tally.session_errors.ManifestDefinitionError",
    "tally.calendar.CalendarYearUnknownError",
    "tally.calendar.InvalidCalendarError",
    "tally.calendar.CalendarConflictError",
    "tally.strokes.UnknownCharacterError",
    "tally.strokes.EmptyNameError",
    "tally.strokes.InvalidStrokeDataError",
    "tally.service.accounts.SignInLocked",
    "tally.service.station.auth.Refused",
    "ballot_printer.errors.MissingGlyphError",
}


def _modules(package: ModuleType) -> list[ModuleType]:
    names = [package.__name__] + [
        m.name
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if not m.name.endswith("__main__")  # `python -m tally` runs the CLI on import
    ]
    return [importlib.import_module(n) for n in names]


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (tally, keys, ballot_printer):
        for module in _modules(package):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


CLASSES = _exception_classes()


def test_the_walk_finds_every_family() -> None:
    roots = {"TallyError", "StoreError", "CalendarError", "MerkleError", "StrokeOrderError"}
    roots |= {"AccountError", "CliError", "KeysError", "BlindSignatureError"}
    roots |= {"BallotPrinterError", "ElGamalError", "RemoteError", "TransportError", "Refused"}
    assert roots <= {cls.__name__ for cls in CLASSES.values()}
    assert len(CLASSES) > 100


def test_every_exception_of_the_producer_is_a_bilingual_error() -> None:
    stray = sorted(
        name
        for name, cls in CLASSES.items()
        if not issubclass(cls, BilingualError) and name not in NOT_REFUSALS
    )
    assert stray == [], (
        "derive these from bilingual.BilingualError (or say why not):\n" + "\n".join(stray)
    )
    assert CLASSES.keys() >= NOT_REFUSALS, "a listed exception is gone: drop it from NOT_REFUSALS"


@pytest.mark.parametrize(
    "name", sorted(n for n, c in CLASSES.items() if issubclass(c, BilingualError))
)
def test_every_error_class_has_a_code_and_no_copy_of_the_base(name: str) -> None:
    cls = CLASSES[name]
    assert issubclass(cls, BilingualError)
    assert isinstance(cls.code, str)
    assert cls.code
    assert cls.code != BilingualError.code, "each family names its own default code"
    assert isinstance(cls.clause, str)
    again = [m for m in BASE_METHODS if m in vars(cls)]
    if name in OWN_CONSTRUCTORS:
        again.remove("__init__")
    assert again == [], f"{name} defines {again} again"


def test_own_constructors_list_is_current() -> None:
    stale = {n for n in OWN_CONSTRUCTORS if n not in CLASSES or "__init__" not in vars(CLASSES[n])}
    assert stale == set()


# --------------------------------------------------------------------------- the base


class _Family(BilingualError):
    code = "family.default"


def test_message_is_chinese_unless_english_is_asked_for() -> None:
    e = _Family(zh="选票无效", en="invalid ballot")
    assert e.message("en") == "invalid ballot"
    assert e.message("zh") == "选票无效"
    assert e.message("fr") == "选票无效"
    assert e.message("") == "选票无效"
    assert e.message("EN") == "选票无效"


def test_str_and_args_are_the_english_text() -> None:
    e = _Family(zh="选票无效", en="invalid ballot")
    assert str(e) == "invalid ballot"
    assert e.args == ("invalid ballot",)


def test_code_and_clause_are_class_defaults_an_instance_may_override() -> None:
    plain = _Family(zh="甲", en="a")
    assert (plain.code, plain.clause) == ("family.default", "")
    named = _Family("family.named", zh="甲", en="a", clause="R8")
    assert (named.code, named.clause) == ("family.named", "R8")
    assert _Family.code == "family.default"
    assert _Family.clause == ""


def test_to_json_is_the_refusal_body_in_one_language() -> None:
    e = _Family("family.x", zh="选票无效", en="invalid ballot", clause="R8")
    assert e.to_json("zh") == {"ok": False, "code": "family.x", "message": "选票无效"}
    assert e.to_json("en") == {"ok": False, "code": "family.x", "message": "invalid ballot"}
    assert json.dumps(e.to_json("zh"), ensure_ascii=False) == (
        '{"ok": false, "code": "family.x", "message": "选票无效"}'
    )


def test_the_call_styles_of_the_families_still_work() -> None:
    positional = TallyError("round.closed", zh="本轮已结束", en="the round is closed", clause="R8")
    assert (positional.code, positional.clause, str(positional)) == (
        "round.closed",
        "R8",
        "the round is closed",
    )
    per_class = keys.WrongPassphraseError(zh="口令错误", en="wrong passphrase")
    assert per_class.code == "keyfile.wrong_passphrase"
    printer = ballot_printer.BadEncodingError(zh="编码错误", en="bad encoding")
    assert (printer.code, printer.clause) == ("qr.bad_encoding", "Q1")
    assert ballot_printer.QrFormatError(zh="甲", en="a").clause == ""


# --------------------------------------------------------------------------- the CLI's refusal


def _refuse(lang: str, as_json: bool, **extra: Any) -> tuple[int, str, str]:
    app = typer.Typer()

    @app.command()
    def cmd() -> None:
        fail(lang, as_json, CliError("cli.test", zh="出错了", en="it failed"), **extra)

    r = CliRunner().invoke(app, [])
    return r.exit_code, r.stdout, r.stderr


def test_fail_prints_one_line_on_stderr_and_exits_1() -> None:
    assert _refuse("zh", False) == (1, "", "错误：出错了\n")
    assert _refuse("en", False) == (1, "", "error: it failed\n")


def test_fail_prints_the_details_before_the_line() -> None:
    assert _refuse("zh", False, details=["a（R1）", "b"]) == (1, "", "a（R1）\nb\n错误：出错了\n")


def test_fail_with_json_prints_the_body_on_stdout() -> None:
    code, out, err = _refuse("en", True, problems=[{"code": "p"}], details=["unused"])
    assert (code, err) == (1, "")
    assert (
        out
        == '{"ok": false, "code": "cli.test", "message": "it failed", "problems": [{"code": "p"}]}\n'
    )
    _, indented, _ = _refuse("zh", True, indent=2)
    assert json.loads(indented) == {"ok": False, "code": "cli.test", "message": "出错了"}
    assert indented.startswith('{\n  "ok": false')

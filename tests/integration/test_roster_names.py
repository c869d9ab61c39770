"""`tally check` flags look-alike names (spec/definition.md D-5.3, TR39) and refuses non-ASCII ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QINGSHAN = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")


def tally(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tally", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "TALLY_LANG": "zh"},
        timeout=60,
        check=False,
    )


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "e.toml"
    f.write_text(text, encoding="utf-8")
    return f


def _warnings(path: Path) -> list[str]:
    r = tally("check", path, "--json", "--lang", "en")
    assert r.returncode == 0, r.stderr
    return list(json.loads(r.stdout)["warnings"])


def test_the_example_roster_has_no_name_warning(tmp_path: Path) -> None:
    assert not [w for w in _warnings(_write(tmp_path, QINGSHAN)) if "D-5.3" in w]


def test_a_name_mixing_scripts_is_a_warning(tmp_path: Path) -> None:
    text = QINGSHAN.replace('name = "王卫东"', 'name = "王卫\u0434"', 1)  # Cyrillic д
    got = [w for w in _warnings(_write(tmp_path, text)) if "D-5.3" in w]
    assert got == ["M003's name '王卫д' mixes scripts: check it (member.name_mixed_script, D-5.3)"]


def test_a_name_confusable_with_another_members_is_a_warning(tmp_path: Path) -> None:
    # A zero-width space inside: the TR39 skeleton is 丁建国's, the text is not.
    text = QINGSHAN.replace('name = "马秀英"', 'name = "丁\u200b建国"', 1)
    got = [w for w in _warnings(_write(tmp_path, text)) if "D-5.3" in w]
    assert got == [
        "M002's name '丁\\u200b建国' looks like M001's '丁建国': check it"
        " (member.name_confusable, D-5.3)"
    ]
    zh = tally("check", _write(tmp_path, text))
    assert zh.returncode == 0 and "看起来相同" in zh.stdout


def test_a_cyrillic_look_alike_id_is_refused(tmp_path: Path) -> None:
    text = QINGSHAN.replace('id = "M003"', 'id = "\u041c003"', 1)
    r = tally("check", _write(tmp_path, text), "--json")
    assert r.returncode == 1
    assert "members.id_format" in {p["code"] for p in json.loads(r.stdout)["problems"]}

"""README.md's command-line section, run exactly as written (issue 13 item 4).

The commands are read from README.md itself, never retyped here: the shell block under "The
election, step by step" runs in a fresh temporary folder holding a copy of examples/ (what the
README says it needs), with only what the README documents supplied from outside: the ``tally`` and
``verifier`` commands of this environment first on PATH, and the key passphrase in
TALLY_PASSPHRASE (PYTHONPATH names this checkout, so a virtualenv shared between checkouts runs
this one's code). Any drift between the README and the command line fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## The election, step by step"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, f"README.md has no section {HEADING!r}"
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    match = re.search(r"```sh\n(.*?)\n```", section, re.S)
    assert match, "the section has no ```sh block"
    return match.group(1)


def command_lines(block: str) -> list[str]:
    """The block's commands, continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [
        line.split("   #")[0].split("  #")[0].strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_readme_commands_are_complete_and_only_tally_or_verifier() -> None:
    commands = command_lines(readme_block())
    assert len(commands) >= 20
    for c in commands:
        assert c.split()[0] in {"tally", "verifier"}, c
        assert "..." not in c and "…" not in c, f"placeholder left in the README: {c}"
    names = [" ".join(c.split()[:2]) for c in commands]
    # the documented order: the result, then the scrutineers' co-signature, then publish
    assert names.index("tally result") < names.index("tally cosign") < names.index("tally publish")
    assert names[-1] == "verifier verify"


def test_readme_election_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    script = tmp_path / "readme.sh"
    script.write_text("set -euxo pipefail\n" + readme_block() + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TALLY_PASSPHRASE"] = "readme-walkthrough-passphrase"
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, f"README step failed:\n{r.stderr[-4000:]}\n{r.stdout[-2000:]}"
    assert "结论：全部条款通过" in r.stdout
    assert "本次 23 人全部签到" in r.stdout
    assert (tmp_path / "published" / "bundle.zip").is_file()
    assert (tmp_path / "published" / "notice.pdf").is_file()

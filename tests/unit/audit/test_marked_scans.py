"""A5 with marked paper: the voters' pen marks drawn into the scanned pages do not stop the audit's
scanner from reading each ballot's QR code, and the reconciliation of the marked stock is clean.

The stock is rendered to PDF, each page to a 150 dpi image; ○ and × marks are drawn by hand-like
strokes into the candidate grid, the page is rotated slightly and saved as JPEG, as a scanner would
deliver it. The marks the auditor reads off the paper go into the marks file, as in the real audit.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

from ballot_printer import BallotPaper, PaperKind, render_stock_pdf
from tests.unit.audit import fixtures as F
from verifier.audit.cli import _paper, _Scans
from verifier.audit.election import load_election
from verifier.audit.marks import parse_marks_file
from verifier.audit.reconcile import reconcile

# builder.py's committee round 1: ids 0..7 entered with these marks, id 8 withdrawn, id 9 entered.
C1_MARKS = ["ooox", "ooox", "ooxo", "ooxo", "ooox", "ooxo", "oxoo", "x-oo", None, "oooo"]


def _draw_marks(img: Image.Image, marks: str, rng: random.Random) -> Image.Image:
    """Pen strokes in the mark cells' band of the page (○ as an ellipse, × as two lines)."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    top = int(h * 0.30)
    for j, m in enumerate(marks):
        cx = int(w * (0.2 + 0.16 * j)) + rng.randint(-8, 8)
        cy = top + rng.randint(-6, 6)
        r = 22
        if m == "o":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=20, width=4)
        elif m == "x":
            draw.line((cx - r, cy - r, cx + r, cy + r), fill=20, width=4)
            draw.line((cx - r, cy + r, cx + r, cy - r), fill=20, width=4)
    return img.rotate(rng.uniform(-1.5, 1.5), expand=False, fillcolor=255)


def test_a5_marked_and_scanned_stock_reconciles_cleanly(tmp_path: Path) -> None:
    bundle = F.small_bundle(tmp_path)
    paper = BallotPaper(
        title="中共青山村支部委员会换届选举",
        branch="中共青山村支部",
        term="第十一届",
        kind=PaperKind.COMMITTEE,
        round_number=1,
        seats=3,
        candidates=("党员01", "党员02", "党员03", "党员04"),
    )
    pdf = render_stock_pdf(paper, F.small_stock(), tmp_path / "stock.pdf")
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True
    )
    rng = random.Random(5)
    lines = []
    for page, marks in enumerate(C1_MARKS, start=1):
        if marks is None:
            continue  # the withdrawn ballot went back to the unused pile
        png = next(tmp_path.glob(f"p-{page:02d}.png"))
        scan = _draw_marks(Image.open(png).convert("L"), marks, rng)
        jpg = tmp_path / f"scan-{page:02d}.jpg"
        scan.save(jpg, quality=70)
        lines.append(
            {
                "image": jpg.name,
                "marks": marks,
                "write_ins": (
                    [{"name": "党员05", "member": "M05", "mark": "o"}] if page == 8 else []
                ),
            }
        )
    marks_file = tmp_path / "marks.jsonl"
    marks_file.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    election = load_election(bundle, F.TOWN)
    scans = _Scans(marks_file.parent)
    papers = [_paper(line, scans) for line in parse_marks_file(marks_file)]
    assert all(p.qr for p in papers), "every marked, rotated JPEG scan decodes"
    result = reconcile(election, papers, [("committee", 1)])
    assert not result.discrepancies, [(d.kind, d.code) for d in result.discrepancies]
    assert all(o.matches for o in result.outcomes)

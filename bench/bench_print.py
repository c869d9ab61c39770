"""Ballot printing throughput (spec/ballot-qr.md §7): ballots per second, single process.

Prints three figures measured in the same run on a 1,000-ballot stock:
  * signing the stock (make_stock with a PyNaCl signer),
  * render_stock_pdf (static page as one form XObject + a vector QR and code per page),
  * baseline: reportlab drawing the same page without the QR (the same renderer with the QR
    drawing replaced by a no-op), so the QR's own cost is the difference.
Target: >= 100 ballots/s for render_stock_pdf. Run: .venv/bin/python bench/bench_print.py [N]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import figures
from nacl.signing import SigningKey

from ballot_printer import BallotPaper, PaperKind, make_stock, render_stock_pdf
from ballot_printer import render as render_module


class _Signer:
    def __init__(self) -> None:
        self._key = SigningKey(b"\x01" * 32)

    def sign(self, domain: bytes, message: bytes) -> bytes:
        return self._key.sign(domain + b"\x00" + message).signature


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1000
    paper = BallotPaper(
        title="中共某某村支部委员会换届选举",
        branch="中共某某村支部委员会",
        term="第十一届",
        kind=PaperKind.COMMITTEE,
        round_number=1,
        seats=7,
        candidates=(
            "王小明", "李华", "张伟", "刘芳", "陈静", "杨帆", "赵丽", "黄磊", "周杰",
        ),
    )  # fmt: skip
    render_module.load_font()  # font loading is a one-off; keep it out of the timings

    t0 = time.perf_counter()
    stock = make_stock(
        election_id=hashlib.sha256(b"bench").digest(),
        kind=PaperKind.COMMITTEE,
        round_number=1,
        count=n,
        signer=_Signer(),
    )
    t_sign = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stock.pdf"
        t0 = time.perf_counter()
        render_stock_pdf(paper, stock, out)
        t_full = time.perf_counter() - t0
        size_full = out.stat().st_size

        # Same renderer, QR generation and drawing swapped for no-ops (restored afterwards).
        saved = {name: getattr(render_module, name) for name in ("_draw_qr", "qr_matrix")}

        def no_op(*_args: Any, **_kwargs: Any) -> tuple[()]:
            return ()

        for name in saved:
            setattr(render_module, name, no_op)
        try:
            t0 = time.perf_counter()
            render_stock_pdf(paper, stock, out)
            t_base = time.perf_counter() - t0
        finally:
            for name, fn in saved.items():
                setattr(render_module, name, fn)
        size_base = out.stat().st_size

    print(f"ballots: {n} (A4, 9 candidates, 7 write-in cells, single process)")
    print(f"make_stock (sign {n} payloads):      {n / t_sign:8.0f} ballots/s  ({t_sign:.2f} s)")
    print(
        f"render_stock_pdf with QR:             {n / t_full:8.0f} ballots/s  ({t_full:.2f} s, "
        f"{size_full / n / 1024:.1f} KiB/page)"
    )
    print(
        f"baseline, same page without QR:       {n / t_base:8.0f} ballots/s  ({t_base:.2f} s, "
        f"{size_base / n / 1024:.1f} KiB/page)"
    )
    print(f"target >= 100 ballots/s with QR:      {'met' if n / t_full >= 100 else 'NOT met'}")
    figures.write(
        figures.json_target(),
        {
            "ballots": n,
            "sign_rate": n / t_sign,
            "qr_rate": n / t_full,
            "qr_seconds": t_full,
            "qr_kib_per_page": size_full / n / 1024,
            "baseline_rate": n / t_base,
        },
    )


if __name__ == "__main__":
    main()

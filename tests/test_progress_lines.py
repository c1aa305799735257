"""Progress where no bar can be drawn: a line every few seconds, so a log never looks hung."""

from __future__ import annotations

import re
import time

from modelcollapse.runner.progress import progress_bar, progress_lines


def test_lines_report_the_share_done_and_the_time_left(capsys):
    with progress_lines(200, "vae 10×20", every=0.05) as advance:
        advance(50)
        time.sleep(0.32)
        advance(50)
        time.sleep(0.2)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 4  # one per 0.05 s, however the threads interleave
    first = re.fullmatch(r"vae 10×20: (\d+) of 200 gen \((\d+)%\), \d+ s so far, about \d+ s left",
                         lines[0])
    assert first is not None and first.group(1) == "50" and first.group(2) == "25"
    assert lines[-1].startswith("vae 10×20: 100 of 200 gen (50%)")


def test_quick_work_prints_nothing_and_nothing_after_it_ends(capsys):
    with progress_lines(10, "coin", every=0.2) as advance:
        advance(10)
    time.sleep(0.3)  # the watcher has stopped: no line after the work
    assert capsys.readouterr().err == ""


def test_a_bar_that_is_switched_off_stays_silent_in_either_form(capsys):
    for plain in (False, True):
        with progress_bar(10, "coin", enabled=False, plain=plain, every=0.01) as advance:
            advance(5)
            time.sleep(0.05)
    assert capsys.readouterr().err == ""


def test_plain_progress_prints_lines_not_a_bar(capsys):
    with progress_bar(4, "gmm 2×2", plain=True, every=0.05) as advance:
        advance(1)
        time.sleep(0.12)
    err = capsys.readouterr().err
    assert "gmm 2×2: 1 of 4 gen (25%)" in err and "\r" not in err

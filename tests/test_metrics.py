"""The process's metrics under a threaded server: the first checks arrive together."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import threading
from xinyong.metrics import count_check

start = threading.Barrier(8)
failed = []

def first_check():
    start.wait()
    try:
        count_check("buy_flight_ticket", "deny")
    except Exception as error:
        failed.append(repr(error))

threads = [threading.Thread(target=first_check) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
from xinyong.metrics import instruments
total = instruments().checks.labels("buy_flight_ticket", "deny")._value.get()
print(len(failed), int(total))
"""


def test_the_first_checks_of_many_threads_are_all_counted() -> None:
    # A fresh process: the instruments are created by whichever first check comes first.
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["0", "8"], done.stdout + done.stderr

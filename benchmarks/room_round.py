"""The classroom benchmark's room (benchmarks/classroom.py --room N): a teacher's board open
while learners post.

Two measures:
- what the board's updates cost the server: its CPU with the teacher's board open and idle
  (polling), and while a result arrives every POST_INTERVAL seconds, each against the same
  time with no board open. The results of this part are posted straight to the database by
  the benchmark, from seats it joined, as the server would post them: what is measured is the
  board's reading and redrawing, not training;
- how soon the board shows a learner's real result: N learners join through the page, train
  the default network in turn, and the teacher's page notes when each nickname appears; the
  database notes when each result was posted, at the training's end.
"""

from __future__ import annotations

import time
from datetime import UTC

from benchmarks.learners import RESULT_TIMEOUT_SECONDS, go, new_page, press
from benchmarks.processes import server_cpu_seconds
from playground.board.rooms import board, join_room, post_result
from playground.board.store import Store
from playground.lessons.goals import TrainingOutcome

POST_INTERVAL = 2.0
IDLE_SECONDS = 30.0
CHALLENGE = "accuracy >= 0.97"

# When each nickname first shows in the board's table, noted by the teacher's page itself.
BOARD_WATCH_JS = """() => {
  window.nicknameShownAt = {};
  const note = () => document.querySelectorAll("[data-testid='stTable'] tbody tr").forEach((row) => {
    const name = row.querySelectorAll("td")[1]?.textContent;
    if (name && !(name in window.nicknameShownAt)) window.nicknameShownAt[name] = Date.now();
  });
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""


def open_room_page(browser, url: str):
    context, page = new_page(browser, url, "board")
    page.get_by_label("Room title").fill("Benchmark room")
    page.get_by_role("textbox", name="Challenge (goals, as in a lesson; separated by ;)").fill(CHALLENGE)
    page.get_by_role("button", name="Open the room").click()
    page.get_by_text("No results yet").wait_for()
    code = page.url.split("room=", 1)[1].split("&", 1)[0]
    return context, page, code


def cpu_over(pids: list[int], seconds: float, during=None) -> float:
    start, began = server_cpu_seconds(pids), time.perf_counter()
    if during is not None:
        during()
    time.sleep(max(0.0, seconds - (time.perf_counter() - began)))
    return server_cpu_seconds(pids) - start


def board_cost(browser, url: str, pids: list[int], store: Store, posts: int) -> dict:
    """Server CPU (fraction of a core) of an open board: idle, and with `posts` results arriving."""
    posting_seconds = posts * POST_INTERVAL
    baseline = cpu_over(pids, IDLE_SECONDS) / IDLE_SECONDS
    context, page, code = open_room_page(browser, url)
    seats = [join_room(store, code, f"posted-{index}") for index in range(posts)]
    time.sleep(3)
    idle = cpu_over(pids, IDLE_SECONDS) / IDLE_SECONDS

    def post_every_interval():
        for index, seat in enumerate(seats):
            outcome = TrainingOutcome("mnist", 0.97 + index / 10_000, 100_000 + index, 1_000_000, 5.0,
                                      frozenset({"Conv2D", "Dense"}))
            post_result(store, seat, outcome)
            time.sleep(POST_INTERVAL)

    posting = cpu_over(pids, posting_seconds, post_every_interval) / posting_seconds
    shown = len(board(store, code).entries)
    context.close()
    return {"baseline": baseline, "idle": idle, "posting": posting, "posts": posts, "shown": shown}


def learner_joins(browser, url: str, code: str, nickname: str):
    context, page = new_page(browser, url, f"board?room={code}")
    page.get_by_role("textbox", name="Nickname").fill(nickname)
    page.get_by_role("button", name="Join").click()
    page.get_by_text(f"You are {nickname}").wait_for()
    go(page, "Build & Train")
    page.get_by_text("press Train").wait_for()
    return context, page


def board_delays(browser, url: str, learners: int, store: Store) -> dict:
    """Seconds from each real training's end (its result posted) to the teacher's board showing it."""
    teacher_context, teacher, code = open_room_page(browser, url)
    teacher.evaluate(BOARD_WATCH_JS)
    pages = [learner_joins(browser, url, code, f"learner-{index:02d}") for index in range(learners)]
    for _, page in pages:
        press(page, "Train")
    started = time.perf_counter()
    while time.perf_counter() - started < RESULT_TIMEOUT_SECONDS:
        shown = teacher.evaluate("window.nicknameShownAt")
        if len(shown) >= learners:
            break
        time.sleep(1)
    entries = {entry.nickname: entry for entry in board(store, code).entries}
    delays = [shown[name] / 1000 - entries[name].posted.replace(tzinfo=UTC).timestamp()
              for name in shown if name in entries]
    for context, _ in pages:
        context.close()
    teacher_context.close()
    return {"delays": sorted(delays), "posted": len(entries), "shown": len(shown)}

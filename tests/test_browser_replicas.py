"""Real-browser test of deploy/: two replicas behind nginx keep each browser on its replica, and
share one class board through PostgreSQL."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from browser import fill_number, free_port, open_page, wait_until_healthy
from conftest import ROOT, postgres_url, skip_unless_ci
from test_browser_board import join_and_train, open_room

from playground.board.store import DATABASE_URL_VARIABLE

sys.path.insert(0, str(ROOT / "deploy"))
from replicas import nginx_config, start_nginx, start_replica  # noqa: E402

pytestmark = pytest.mark.browser
BROWSERS = 4


@pytest.fixture(scope="module")
def through_nginx():
    if shutil.which("nginx") is None:
        skip_unless_ci("nginx is not installed (apt-get install nginx).")
    database = postgres_url()  # every replica's board in one PostgreSQL database, as deployed
    with (tempfile.TemporaryDirectory() as name, open(Path(name) / "streamlit.log", "w+") as log,
          pytest.MonkeyPatch.context() as environment):
        environment.setenv(DATABASE_URL_VARIABLE, database)
        folder, ports = Path(name), [free_port(), free_port()]
        replicas = [start_replica(port, (), log) for port in ports]
        listen = free_port()
        nginx = start_nginx(nginx_config(listen, ports, folder, "127.0.0.1"), folder)
        try:
            for port, process in zip(ports, replicas, strict=True):
                wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            wait_until_healthy(f"http://127.0.0.1:{listen}", nginx, log)
            direct = [f"http://127.0.0.1:{port}" for port in ports]
            yield f"http://127.0.0.1:{listen}", folder / "access.log", direct
        finally:
            for process in [nginx, *replicas]:
                process.terminate()
                process.wait(timeout=15)


def test_each_browser_stays_on_one_replica_and_keeps_its_session(browser, through_nginx):
    url, access_log, _ = through_nginx
    contexts = []
    for index in range(BROWSERS):
        page = open_page(browser, f"{url}/build_train", timeout_ms=60_000)
        context = page.context
        page.get_by_text("press Train").wait_for()
        fill_number(page, "Epochs", 11 + index)
        page.wait_for_timeout(300)
        contexts.append((context, page))
    for index, (_, page) in enumerate(contexts):
        navigation = page.get_by_test_id("stSidebarNav")
        navigation.get_by_role("link", name="Draw").click()
        page.get_by_text("Draw a digit from 0 to 9").wait_for()
        navigation.get_by_role("link", name="Build & Train").click()
        field = page.get_by_label("Epochs", exact=True)
        field.wait_for()
        assert field.input_value() == str(11 + index), "the session, and so the replica, stayed the same"
    for context, _ in contexts:
        context.close()
    replicas_of = {}
    for line in access_log.read_text().splitlines():
        key, upstream, request = line.split(" ", 2)
        if key != "-":
            replicas_of.setdefault(key, set()).add(upstream)
    assert len(replicas_of) >= BROWSERS
    assert all(len(upstreams) == 1 for upstreams in replicas_of.values()), replicas_of


def test_two_replicas_show_one_board(browser, through_nginx):
    """The teacher's browser on one replica, a learner's on the other: the learner's result,
    posted on its replica, reaches the teacher's board on the other."""
    _, _, (first, second) = through_nginx
    teacher = open_page(browser, f"{first}/board", timeout_ms=60_000)
    code = open_room(teacher)
    learner = open_page(browser, f"{second}/board", timeout_ms=60_000)
    join_and_train(learner, code, "Ada", "Blog: Dense-only baseline")
    learner.get_by_test_id("stMetricLabel").filter(has_text="Test accuracy").wait_for(timeout=180_000)
    teacher.get_by_test_id("stTable").get_by_text("Ada").wait_for(timeout=30_000)
    assert "1 learners joined · 1 results" in teacher.get_by_text("learners joined").inner_text()

"""Build & Train's live view of a job: the progress line and the training chart, redrawn
from the script thread while the job trains in the background (playground.jobs.job)."""

import time

import streamlit as st

from pages.parts.reload import PageView
from pages.parts.streamlit_private import answer_clicks, on_streamlit_stop
from playground.jobs.job import TrainingJob
from playground.views import live_chart
from playground.views.describe import training_curve_text
from playground.views.figures import training_figure
from playground.views.text import duration, ordinal

# The script thread redraws the live charts this often while training runs. Two redraws a
# second keep the charts lively; each costs Chromium a redraw on the same two cores that
# train (benchmarks/live_training.py).
POLL_SECONDS = 0.4
# A page that opens on a training under way (a reload, a page switch back) must first load
# its widgets' code. While its chart was redrawn (then a new Plotly chart each time) every beat,
# a slow or busy browser showed Stop and the settings as grey placeholders until the epoch
# ended: up to a minute in CI. So such a page redraws its chart gently at first.
ARRIVAL_SECONDS, ARRIVAL_CHART_SECONDS = 12.0, 2.0
# While a page follows a training its script runs for minutes, and two things animate without
# end: Streamlit's running icon (top right), which changes picture several times a second, and
# the progress bar, whose half-second slide never ends when it moves every beat. The icon is
# hidden then (its Stop beside it kept) and the bar steps instead of sliding: waiting pages
# cost Chromium about half as much (benchmarks/live_training.py; the README gives the figures).
QUIET_WHILE_FOLLOWING = ("<style>[data-testid='stStatusWidgetRunningIcon'] {display: none}"
                         " [data-testid='stProgress'] * {transition: none}</style>")
STATE_TEXT = {"evaluating": "Evaluating on the test set…", "stopping": "Stopping…"}


def queue_text(snapshot) -> str:
    if snapshot.place_in_line is None:
        return "Queued: starting…"
    seconds = snapshot.seconds_to_wait
    wait = "" if seconds is None else f" · starts in about {duration(seconds)}"
    return (f"Queued: {ordinal(snapshot.place_in_line)} in line{wait}. Other learners are training on this "
            "server; yours starts by itself, and you may visit other pages meanwhile.")


def progress_text(snapshot) -> str:
    progress = snapshot.progress
    if snapshot.state == "queued":
        return queue_text(snapshot)
    if snapshot.state in STATE_TEXT:
        return STATE_TEXT[snapshot.state]
    if snapshot.state == "stopped" and snapshot.stop_reason == "closed":
        return f"Stopped in epoch {progress.epoch}/{progress.epochs} while this page was away"
    if not snapshot.started:
        return "Starting: preparing the first batch…"
    left = "" if progress.seconds_left is None else f" · about {progress.seconds_left:.0f} s left"
    return (f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/{progress.batches_per_epoch}"
            f" · {progress.samples_per_second:,.0f} images/s{left}")


def draw_chart(snapshot, slot, frame: int) -> None:
    """While training, the curves as an SVG: a Plotly chart rebuilt every beat cost the browser
    most of the training's own share of the cores (see playground.views.live_chart). Once it ends,
    the interactive Plotly chart of the same curves."""
    with slot.container():
        if snapshot.active:
            pictures = live_chart.training_svgs(snapshot)
            for column, picture, description in zip(st.columns(2), pictures, live_chart.DESCRIPTIONS,
                                                    strict=True):
                column.image(picture, width="stretch", alt=description)
        else:
            st.plotly_chart(training_figure(snapshot), key=f"training_chart_{frame}",
                            config={"displayModeBar": False})
        st.caption(training_curve_text(snapshot.batch_points, snapshot.epoch_points))


def chart_interval(view: PageView) -> float:
    """Seconds between chart redraws now: every beat, but gently just after arriving mid-run."""
    arriving = view.training_at_arrival and view.seconds() < ARRIVAL_SECONDS
    return ARRIVAL_CHART_SECONDS if arriving else 0.0


def follow_training(job: TrainingJob, view: PageView):
    """Redraw from the script thread until the job ends; the job's thread never calls Streamlit.

    Every beat gives Streamlit a yield point, even when nothing changed: a click or a page
    switch starts a new run, and the old run's loop ends only at a yield point (Streamlit's
    toolbar Stop acts only there). When nothing changed, the beat sends the browser nothing
    (`answer_clicks`); a progress line redrawn unchanged cost it about a tenth of a core per
    waiting page.

    Streamlit's own Stop (top right, while a script runs) would end this loop and leave the
    display frozen while the job trained on; it stops the job, as the page's Stop does.
    """
    st.html(QUIET_WHILE_FOLLOWING)
    progress_slot, chart_slot = st.empty(), st.empty()
    frame, drawn, shown, next_draw, chart_drawn_at = 0, None, None, time.monotonic(), 0.0
    with on_streamlit_stop(job.request_stop):
        while True:
            snapshot = job.snapshot()
            progress = (snapshot.progress.fraction, progress_text(snapshot))
            if progress != shown:
                progress_slot.progress(progress[0], text=progress[1])
                shown = progress
            else:
                answer_clicks()
            seen = None if drawn is None else (drawn.batch_points, drawn.state)
            due = not snapshot.active or time.monotonic() - chart_drawn_at >= chart_interval(view)
            if snapshot.started and (snapshot.batch_points, snapshot.state) != seen and due:
                draw_chart(snapshot, chart_slot, frame)  # the chart only when it has something new
                drawn, frame, chart_drawn_at = snapshot, frame + 1, time.monotonic()
            if not snapshot.active:
                return snapshot
            next_draw += POLL_SECONDS  # a steady beat, however long the drawing took
            time.sleep(max(0.0, next_draw - time.monotonic()))

"""Retry in the Prefect UI, pressed in a real browser, redoes only what failed or changed."""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
from pathlib import Path
from uuid import UUID

import pytest

from tests.helpers import needs
from tests.live import (
    LiveServer,
    broken_preset,
    collected_workspace,
    prefect_server,
    repair_template,
    shiryo_serve,
    start_deployment_run,
    task_states,
    wait_for_final_state,
)

pytestmark = pytest.mark.scenario

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAS_BROWSER = CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None


def _retry_in_browser(server: LiveServer, run_id: UUID, screenshots: Path) -> dt.datetime:
    """Open the run's page, press Retry, confirm, wait for the run; return when it was confirmed.

    Screenshots of the page before the Retry and after the run completed go to ``screenshots``.
    """
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/runs/flow-run/{run_id}")
            expect(page.get_by_text("Failed", exact=True).first).to_be_visible(timeout=60_000)
            retry = page.get_by_role("button", name="Retry")
            expect(retry).to_be_visible(timeout=60_000)
            page.screenshot(path=str(screenshots / "failed-run.png"), full_page=True)
            retry.click()
            # The confirmation dialog has its own Retry button.
            confirm = page.get_by_role("dialog").get_by_role("button", name="Retry")
            expect(confirm).to_be_visible(timeout=30_000)
            moment = dt.datetime.now(dt.UTC)
            confirm.click()
            expect(page.get_by_role("dialog")).to_be_hidden(timeout=30_000)
            wait_for_final_state(server, run_id, after=moment)
            page.reload()
            badge = page.get_by_text("Completed", exact=True).first
            expect(badge).to_be_visible(timeout=60_000)
            page.wait_for_timeout(3_000)  # the run graph is a canvas drawn after the page
            page.screenshot(path=str(screenshots / "retried-run.png"), full_page=True)
            page.get_by_text("Task Runs", exact=True).first.click()
            expect(page.get_by_text("Cached", exact=True).first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(screenshots / "retried-task-runs.png"), full_page=True)
        finally:
            browser.close()
    return moment


@needs(HAS_BROWSER, "Chromium (/usr/bin/chromium) with the playwright package")
def test_retry_in_the_ui_skips_the_finished_steps(tmp_path: Path) -> None:
    """It fails at a broken template, then Retry in the UI renders and reuses the plan."""
    started = time.monotonic()
    plan_yaml, template = broken_preset(tmp_path)
    workspace, plan = collected_workspace(tmp_path, plan_yaml)
    with prefect_server(tmp_path) as server, shiryo_serve(server, workspace, plan_yaml, tmp_path):
        ready = time.monotonic()
        run_id = start_deployment_run(server, "publish-shiryo/publish-shiryo")
        failed = wait_for_final_state(server, run_id)
        assert failed.state.is_failed(), failed.state
        first = task_states(server, run_id, dt.datetime.min.replace(tzinfo=dt.UTC))
        # The template is checked before anything is rendered: the run stops there.
        assert first == {"load-plan": "Completed", "check-templates": "Failed"}, first
        assert not list(workspace.glob("reports/*/*.docx"))

        repair_template(template)
        failed_at = time.monotonic()
        moment = _retry_in_browser(server, run_id, tmp_path)
        retried = wait_for_final_state(server, run_id)
        done = time.monotonic()
        again = task_states(server, run_id, moment)

    print(f"\nflow run {retried.name} ({run_id}) after UI Retry: {retried.state_name}")
    for name, state in again.items():
        print(f"  {name} → {state}")
    print(
        f"timings: setup+server+serve {ready - started:.1f} s, failing run {failed_at - ready:.1f}"
        f" s, browser Retry to Completed {done - failed_at:.1f} s"
    )
    print(f"screenshots: {sorted(p.name for p in tmp_path.glob('*.png'))} in {tmp_path}")
    assert retried.state.is_completed(), retried.state
    assert retried.run_count == 2
    # The plan comes from the cache; the repaired template's check, the look for deleted 資料
    # and the render run.
    assert again == {
        "load-plan": "Cached",
        "check-templates": "Completed",
        "look-for-outputs": "Completed",
        "render-shiryo": "Completed",
    }, again
    year = plan.fiscal_year.current
    assert len(list(workspace.glob(f"reports/{year}/*.docx"))) == 1
    assert (tmp_path / "retried-run.png").stat().st_size > 0

"""Take the screenshots of docs/coordinator-guide.md (docs/images/*.png) from a live demo.

Run from the repository root with the project's Python (nothing else to install; needs
Debian's Chromium at /usr/bin/chromium and a Japanese font, fonts-noto-cjk):

    .venv/bin/python docs/screenshots.py [--keep]

It sets up a workspace of 新潟市南区's preset under a temporary folder, starts
``shiryo serve`` there (its own Prefect server on a free port, its own PREFECT_HOME,
telemetry off), runs a collection in which one department's file is sent back
(差戻し) and one department has not submitted, makes ``publish-shiryo`` fail on a broken
Word template, then drives headless Chromium over the DevTools protocol (the
``websockets`` package Prefect already depends on) to photograph what the guide
describes: the runs, a run's task runs and artifacts, the deployments and Quick run,
Retry on the failed run (pressed for real after the template is repaired), and the
指摘事項一覧. What it checked on the way (task states, Ctrl+C of ``shiryo serve``) is
printed. Images are 1280 px wide, reduced to 256 colours.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.settings import PRESETS_DIR, QUIET_DEFAULTS  # noqa: E402

YEAR = 2021
REFUSED, MISSING = "chiiki-somu", "npo"  # 地域総務課 gets a 差戻し票; NPO法人 sends nothing
REFUSED_NAME = "地域総務課"
IMAGES = REPO / "docs" / "images"
WIDTH = 1280
CHROMIUM = "/usr/bin/chromium"


class Demo:
    """The temporary world: a preset copy, a workspace, a PREFECT_HOME, ``shiryo serve``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.template = root / "templates" / "shiryo.docx"
        self.plan_yaml = root / "config" / "plan.yaml"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PREFECT_", "AWS_", "SHIRYO_", "GX_"))
        }
        self.env |= QUIET_DEFAULTS | {
            "PREFECT_HOME": str(root / "prefect-home"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # a Quick run starts within 2 s, not 10
            "PYTHONPATH": str(REPO),
        }
        self.url = ""
        self.serve: subprocess.Popen[str] | None = None

    def prepare_config(self) -> None:
        """Copy the preset, with its Word template where a coordinator could break it."""
        shutil.copytree(PRESETS_DIR / "niigata-minami", self.plan_yaml.parent)
        self.template.parent.mkdir()
        shutil.copy(REPO / "templates" / "hyoka" / "shiryo.docx", self.template)
        text = self.plan_yaml.read_text(encoding="utf-8")
        text = text.replace("docx_template: hyoka/shiryo.docx", f"docx_template: {self.template}")
        self.plan_yaml.write_text(text, encoding="utf-8")

    def shiryo(self, *args: str) -> str:
        """Run a ``shiryo`` command as a coordinator would; return what it printed."""
        command = [sys.executable, "-c", "from flows.cli import app; app()", *args]
        command += ["-w", str(self.workspace), "-c", str(self.plan_yaml)]
        done = subprocess.run(
            command, env=self.env, cwd=REPO, capture_output=True, text=True, timeout=900
        )
        print(f"$ shiryo {' '.join(args)} → {done.returncode}\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            raise SystemExit(f"shiryo {args[0]} failed")
        return done.stdout + done.stderr

    def start_serve(self) -> None:
        """Start ``shiryo serve`` on a free port; wait for its UI and its deployments."""
        from flows.servers import free_port

        port = free_port()
        log = (self.root / "shiryo-serve.log").open("w")
        command = [sys.executable, "-c", "from flows.cli import app; app()", "serve"]
        command += ["-w", str(self.workspace), "-c", str(self.plan_yaml), "--port", str(port)]
        self.serve = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        self.url = f"http://127.0.0.1:{port}"
        wait(lambda: f"Prefect の画面: {self.url}" in self.serve_log(), 240, "shiryo serve's UI")
        wait(lambda: len(self.deployments()) >= 4, 240, "the four deployments")

    def serve_log(self) -> str:
        """Return what ``shiryo serve`` printed so far (failing if it exited)."""
        assert self.serve is not None
        if self.serve.poll() is not None:
            raise SystemExit(f"shiryo serve exited:\n{self.serve_log_text()}")
        return self.serve_log_text()

    def serve_log_text(self) -> str:
        """Return the service's log file."""
        return (self.root / "shiryo-serve.log").read_text(encoding="utf-8", errors="replace")

    def stop_serve(self) -> float:
        """Stop ``shiryo serve`` as Ctrl+C does; return how many seconds it took."""
        assert self.serve is not None
        started = time.monotonic()
        self.serve.send_signal(signal.SIGINT)
        try:
            self.serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.serve.kill()  # its Prefect server, in a session of its own, may stay: say so
            print(f"shiryo serve did not stop on Ctrl+C; see {self.root}/shiryo-serve.log")
        return time.monotonic() - started

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the Prefect server's REST API (POST with ``body``, else GET)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/api{path}", data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def deployments(self) -> dict[str, str]:
        """Return deployment name → id."""
        return {d["name"]: d["id"] for d in self.api("/deployments/filter", {})}

    def flow_runs(self, name: str) -> list[dict[str, Any]]:
        """Return the flow runs of that name, oldest first."""
        body = {"flow_runs": {"name": {"any_": [name]}}, "sort": "START_TIME_ASC"}
        return list(self.api("/flow_runs/filter", body))

    def task_states(self, flow_run_id: str) -> dict[str, str]:
        """Return task name → state of a flow run's latest run of each task."""
        runs = self.api("/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})
        states = {}
        for run in sorted(runs, key=lambda r: r["created"]):
            states[run["name"].rsplit("-", 1)[0]] = run["state"]["name"]
        return states

    def wait_final(self, flow_run_id: str, after: str = "") -> dict[str, Any]:
        """Wait until the flow run is in a final state entered after ``after``; return it."""

        def final() -> dict[str, Any] | None:
            run = self.api(f"/flow_runs/{flow_run_id}")
            state = run["state"]
            done = state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
            return run if done and state["timestamp"] > after else None

        return wait(final, 600, f"flow run {flow_run_id}")


def wait(check: Any, seconds: float, what: str) -> Any:
    """Poll ``check()`` until it returns something truthy; stop the script after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {what}")


def fill_intake(demo: Demo) -> None:
    """Drop the departments' files as the demo fills them; break one, hold one back."""
    from openpyxl import load_workbook

    from tasks.call.workbook import HEADER_ROW, field_label
    from tasks.cycle.steps import drop_demo_submissions
    from tasks.plan.load import load_plan
    from tasks.workspace.storage import open_storage

    plan = load_plan(demo.plan_yaml)
    keys = drop_demo_submissions(plan, str(demo.plan_yaml), open_storage(str(demo.workspace)))
    for key in keys:
        path = demo.workspace / key
        if f"/{MISSING}/" in key:
            path.unlink()
        elif f"/{REFUSED}/" in key:
            book = load_workbook(path)
            sheet = book[plan.submission.sheet_name]
            headers = {c.value: c.column for c in sheet[HEADER_ROW]}
            labels = {f.key: field_label(plan, f.label) for f in plan.submission.fields}
            grade, result = headers[labels["grade"]], headers[labels["result_text"]]
            sheet.cell(row=HEADER_ROW + 1, column=grade, value="E")  # not in A–D
            sheet.cell(row=HEADER_ROW + 2, column=result, value=None)  # required
            book.save(path)


def break_template(path: Path) -> None:
    """Leave a tag unclosed in the Word template, as a slip while restyling it would."""
    from docx import Document

    document = Document(str(path))
    document.add_paragraph("{{ title } }}")
    document.save(str(path))


def repair_template(path: Path) -> None:
    """Take the broken tag out again and save, as the coordinator does in Word."""
    from docx import Document

    document = Document(str(path))
    slip = document.paragraphs[-1]._element
    slip.getparent().remove(slip)
    document.save(str(path))


def run_the_season(demo: Demo) -> dict[str, str]:
    """Call, collect with one 差戻し, a failed publication; return the runs to photograph."""
    demo.prepare_config()
    demo.shiryo("template", "--year", str(YEAR))  # before serve: its own temporary server
    demo.start_serve()
    recorded = bool(demo.flow_runs(f"call-{YEAR}"))
    print(f"shiryo serve: {demo.url}; the template's run call-{YEAR} is on its server: {recorded}")
    fill_intake(demo)
    printed = demo.shiryo("run", "--year", str(YEAR))
    assert "shiryo serve" in printed, "shiryo run did not hand its run to shiryo serve"
    cycle = demo.flow_runs(f"annual-cycle-{YEAR}")[-1]
    print(f"annual-cycle-{YEAR}: {demo.task_states(cycle['id'])}")
    again = demo.shiryo("run", "--year", str(YEAR))  # nothing new
    print(f"a second shiryo run makes no run: {len(demo.flow_runs(f'annual-cycle-{YEAR}')) == 1}")
    assert "新しい提出はなく" in again
    break_template(demo.template)
    deployment = demo.deployments()["publish-shiryo"]
    failed = demo.api(f"/deployments/{deployment}/create_flow_run", {})
    final = demo.wait_final(failed["id"])
    print(f"{final['name']}: {final['state']['name']} {demo.task_states(failed['id'])}")
    print(f"  its message: {final['state']['message']}")
    return {"cycle": cycle["id"], "failed": failed["id"], "failed_at": final["state"]["timestamp"]}


def has_text(text: str, within: str = "document") -> str:
    """Return a JavaScript test: the page (or the last ``within``) shows ``text``."""
    scope = f"[...document.querySelectorAll({json.dumps(within)})].pop()"
    node = "document.body" if within == "document" else scope
    return f"!!{node} && {node}.innerText.includes({json.dumps(text)})"


def take_run_shots(demo: Demo, browser: Browser, runs: dict[str, str]) -> None:
    """Photograph the runs, the collection's run, its task runs, artifacts and status table."""
    browser.goto(demo.url, has_text("Dashboard"))
    print(f"{demo.url} opens {browser.evaluate('location.href')}")
    browser.goto(f"{demo.url}/v2/runs", has_text(f"annual-cycle-{YEAR}"))
    browser.shoot(IMAGES / "ui-runs.png", 1000)
    run = f"{demo.url}/v2/runs/flow-run/{runs['cycle']}"
    browser.goto(f"{run}?tab=TaskRuns", has_text("render-shiryo"))
    browser.shoot(IMAGES / "ui-flow-run-task-runs.png", 1000)
    browser.goto(f"{run}?tab=Artifacts", has_text(f"status-{YEAR}"))
    browser.shoot(IMAGES / "ui-flow-run-artifacts.png", 1100)
    browser.click_text(f"status-{YEAR}", prefix=True)
    browser.wait_for(has_text("差戻し中"), "the status table")
    browser.shoot(IMAGES / "ui-artifact-status.png", 620)


def take_deployment_shots(demo: Demo, browser: Browser) -> None:
    """Photograph the deployments, the Run menu and Quick run's form; run it, as asked."""
    deployment = demo.deployments()["collect-submissions"]
    browser.goto(f"{demo.url}/v2/deployments", has_text("publish-shiryo"))
    browser.shoot(IMAGES / "ui-deployments.png", 460)
    run_button = (
        "[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Run')"
    )
    browser.goto(f"{demo.url}/v2/deployments/deployment/{deployment}", run_button)
    browser.click_text("Run")
    browser.wait_for(has_text("Quick run", "[role=menu]"), "the Run menu")
    browser.shoot(IMAGES / "ui-deployment-run-menu.png", 400)
    browser.click_text("Quick run")
    browser.wait_for(has_text("Run Deployment", "[role=dialog]"), "Quick run's form")
    browser.shoot(IMAGES / "ui-quick-run-form.png", 960)
    browser.click_text("Run", inside="[role=dialog]")
    body = {"flow_runs": {"deployment_id": {"any_": [deployment]}}}
    started = wait(lambda: demo.api("/flow_runs/filter", body), 60, "the Quick run")[0]
    final = demo.wait_final(started["id"])
    print(f"Quick run: {final['name']} {final['parameters']['fiscal_year']=}")
    print(f"  {final['state']['name']} {demo.task_states(started['id'])}")


def take_retry_shots(demo: Demo, browser: Browser, runs: dict[str, str]) -> None:
    """Open the failed run (by a link, then from the UI), repair, press Retry, show what ran."""
    browser.goto(f"{demo.url}/runs/flow-run/{runs['failed']}", has_text("Retry"))
    print(f"a link to /runs/flow-run/… stays at {browser.evaluate('location.href')}")
    browser.shoot(IMAGES / "ui-v1-failed-run.png", 330)
    run = f"{demo.url}/v2/runs/flow-run/{runs['failed']}"
    browser.goto(f"{run}?tab=TaskRuns", has_text("check-templates"))
    browser.click_label("Open menu")
    browser.wait_for(has_text("Retry", "[role=menu]"), "the run's menu")
    browser.shoot(IMAGES / "ui-failed-run-menu.png", 820)
    repair_template(demo.template)
    browser.click_text("Retry", inside="[role=menu]")
    browser.wait_for(has_text("Retry Flow Run", "[role=alertdialog]"), "the Retry dialog")
    browser.shoot(IMAGES / "ui-retry-dialog.png", 600)
    browser.click_text("Retry", inside="[role=alertdialog]")
    final = demo.wait_final(runs["failed"], after=runs["failed_at"])
    print(f"after Retry: {final['state']['name']} {demo.task_states(runs['failed'])}")
    browser.goto(f"{run}?tab=TaskRuns", has_text("Cached"))
    browser.shoot(IMAGES / "ui-retried-run.png", 1000)


def take_page_shots(demo: Demo, browser: Browser) -> None:
    """Photograph the 指摘事項一覧 and the GX Data Docs' index (files in the workspace)."""
    pages = demo.workspace / "datadocs" / str(YEAR)
    browser.goto((pages / "指摘事項一覧.html").as_uri(), "document.readyState == 'complete'")
    browser.shoot(IMAGES / "findings-page.png", 560)
    # The file's name in the first table leads to its findings.
    links = "[...document.querySelectorAll('table a')]"
    browser.evaluate(f"{links}.find(a => a.text.includes({json.dumps(REFUSED_NAME)})).click()")
    time.sleep(1)
    browser.shoot(IMAGES / "findings-page-file.png", 560)
    browser.goto((pages / "index.html").as_uri(), "!!document.querySelector('.bootstrap-table')")
    browser.shoot(IMAGES / "datadocs-index.png", 640)


def main() -> None:
    """Set up the demo, take every screenshot, stop the service, report what was checked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    keep = parser.parse_args().keep
    root = Path(tempfile.mkdtemp(prefix="shiryo-screenshots-"))
    demo = Demo(root)
    IMAGES.mkdir(exist_ok=True)
    for stale in IMAGES.glob("*.png"):
        stale.unlink()  # git has them; what the guide no longer shows must not stay
    try:
        runs = run_the_season(demo)
        with Browser(root / "chromium", WIDTH) as browser:
            take_run_shots(demo, browser, runs)
            take_deployment_shots(demo, browser)
            take_retry_shots(demo, browser, runs)
            take_page_shots(demo, browser)
        seconds = demo.stop_serve()
        last = demo.serve_log_text().strip().splitlines()[-1]
        print(f"Ctrl+C of shiryo serve: stopped in {seconds:.1f} s; its last line: {last}")
    finally:
        if demo.serve is not None and demo.serve.poll() is None:
            demo.stop_serve()  # as Ctrl+C: it stops its Prefect server too
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    sizes = {p.name: p.stat().st_size for p in sorted(IMAGES.glob("*.png"))}
    print(f"{len(sizes)} images, {sum(sizes.values()) / 1024:.0f} KiB in all")
    print(f"kept: {root}" if keep else "")


class Browser:
    """Headless Chromium driven over the DevTools protocol: go, wait, click, shoot."""

    def __init__(self, profile: Path, width: int) -> None:
        self.profile, self.width, self.calls = profile, width, 0
        self.process: subprocess.Popen[bytes] | None = None
        self.socket: Any = None

    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        command += ["--disable-background-networking", "--disable-component-update"]
        command += ["--disable-sync", "--hide-scrollbars", "--lang=ja-JP"]
        command += [f"--user-data-dir={self.profile}", "--remote-debugging-port=0"]
        command += [f"--window-size={self.width},800", "about:blank"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        active = self.profile / "DevToolsActivePort"
        port = wait(lambda: active.exists() and active.read_text().split("\n")[0], 60, "Chromium")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(t for t in json.loads(answer.read()) if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None)
        # As a coordinator's machine in Japan shows dates.
        self.call("Emulation.setTimezoneOverride", timezoneId="Asia/Tokyo")
        self.call("Emulation.setLocaleOverride", locale="ja-JP")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.socket is not None:
            self.socket.close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are dropped)."""
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.calls:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, seconds: float = 90) -> None:
        """Wait until the expression is true in the page, then let it settle."""
        wait(lambda: self.evaluate(expression), seconds, what)
        time.sleep(1.5)  # transitions and the run graph's canvas

    def goto(self, url: str, ready: str) -> None:
        """Open ``url`` at the first height and wait until ``ready`` holds."""
        self.resize(800)
        self.call("Page.navigate", url=url)
        self.wait_for(ready, url)

    def resize(self, height: int) -> None:
        """Set the viewport to the image's width and ``height``."""
        metrics = {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", **metrics)

    def click_at(self, point: list[float], what: str) -> None:
        """Press and release the mouse at ``point``: real pointer events, as menus need."""
        if not point:
            raise SystemExit(f"nothing to click: {what}")
        x, y = point
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        time.sleep(1)

    def click_text(self, text: str, prefix: bool = False, inside: str = "body") -> None:
        """Click the last visible element inside ``inside`` whose own text is ``text``."""
        match = "t.startsWith(want)" if prefix else "t === want"
        self._click(
            f"""[...[...document.querySelectorAll({json.dumps(inside)})].pop()
              .querySelectorAll('a, button, [role=menuitem], span, div')]
              .filter(e => {{ const t = e.textContent.trim(); return ({match})
                && e.getClientRects().length && ![...e.children].some(
                  c => c.textContent.trim() === t); }}).pop()""",
            text,
            want=text,
        )

    def click_label(self, label: str) -> None:
        """Click the button whose screen-reader text is ``label`` (an icon button)."""
        self._click(
            f"""[...document.querySelectorAll('button')].find(b => b.textContent.trim()
              === {json.dumps(label)} && b.getClientRects().length)""",
            label,
        )

    def _click(self, finder: str, what: str, want: str = "") -> None:
        """Scroll the element ``finder`` finds into view, then press the mouse on it."""
        script = f"""(() => {{ const want = {json.dumps(want)}; const hit = {finder};
            if (!hit) return null; hit.scrollIntoView({{block: 'center'}});
            const r = hit.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()"""
        self.click_at(self.evaluate(script), what)

    def shoot(self, path: Path, height: int) -> None:
        """Save the top ``height`` pixels of the page to ``path``, reduced."""
        self.resize(height)
        time.sleep(1)
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(reduce_png(base64.b64decode(shot["data"])))
        print(f"  {path.name}: {path.stat().st_size / 1024:.0f} KiB")


def reduce_png(data: bytes) -> bytes:
    """Return the PNG at 256 colours, optimised (UI screenshots lose nothing one can see)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


if __name__ == "__main__":
    main()

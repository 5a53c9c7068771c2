"""GX Data Docs on a closed network: every script, style and image from the site itself."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from tasks.check.datadocs import ASSETS_DIR, VENDOR_DIR, asset_urls, localise_page
from tasks.plan.model import Plan
from tasks.workspace.keys import FINDINGS_PAGE
from tests.helpers import cell_of, filled_workbook, needs, submit

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, minami: Plan) -> Path:
    """A workspace after a real collection run with findings: its Data Docs folder."""
    workspace = tmp_path_factory.mktemp("ws")

    def bad_grade(workbook: object) -> None:
        sheet = workbook[minami.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(minami, workbook, "i049", "評価")] = "E"  # type: ignore[arg-type]

    data = filled_workbook(minami, "chiiki-somu", edit=bad_grade)
    summary = submit(workspace, minami, "intake/2021/chiiki-somu/提出.xlsx", data)
    assert summary.data_docs == str(workspace / "datadocs" / "2021" / "index.html")
    return workspace / "datadocs" / "2021"


class _Loads(HTMLParser):
    """Every address a page makes the browser load: scripts, styles, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.loads.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.loads.append(str(values["href"]))
        self._in_style = tag == "style"
        if values.get("style"):
            self.styles.append(str(values["style"]))

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _loads_of(page: Path) -> _Loads:
    parser = _Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _css_urls(css: str) -> list[str]:
    return [u for _, u in re.findall(r"""url\((["']?)([^"')]+)\1\)""", css)]


def test_every_page_loads_its_scripts_and_styles_from_the_site(site: Path) -> None:
    """It leaves no http(s) script, style, icon or image in any page; each copy is there."""
    pages = sorted(site.rglob("*.html"))
    assert len([p for p in pages if "validations" in p.parts]) == 3  # identity, hyoka, indicators
    checked: set[Path] = set()
    for page in pages:
        parsed = _loads_of(page)
        assert parsed.loads or page.name == FINDINGS_PAGE, page  # that one loads nothing
        for address in parsed.loads:
            assert not re.match(r"(https?:)?//", address), (page, address)
            target = (page.parent / address).resolve()
            assert target.is_file() and site.resolve() in target.parents, (page, address)
            checked.add(target)
        for css in parsed.styles:  # inline styles: GX's dark-mode logo
            assert not any(re.match(r"(https?:)?//", u) for u in _css_urls(css)), page
    assert len({p.name for p in checked if "vendor" in p.parts}) == 16
    # The stylesheets' own fonts and images (font-awesome's webfonts) are there too.
    for sheet in (p for p in checked if p.suffix == ".css"):
        for address in _css_urls(sheet.read_text(encoding="utf-8")):
            if not address.startswith("data:"):
                assert (sheet.parent / address.split("?")[0].split("#")[0]).is_file(), address


def test_the_pages_are_japanese_where_gx_lets_them_be(site: Path) -> None:
    """It titles each page in Japanese and links it to the 指摘事項一覧 beside the index."""
    for page in site.rglob("*.html"):
        if page.name == FINDINGS_PAGE:
            continue
        text = page.read_text(encoding="utf-8")
        assert '<html lang="ja">' in text
        assert "<title>新潟市南区 2021年度（令和3年度） 確認結果の詳細" in text
        link = re.search(r'<a href="([^"]+)"[^>]*>指摘事項一覧（日本語）</a>', text)
        assert link is not None, page
        assert (page.parent / unquote(link.group(1))).resolve() == (site / FINDINGS_PAGE)


def test_the_logo_url_loses_its_time_and_context_id() -> None:
    """It maps GX's logo to the same local copy whatever time and context id its URL carries."""
    logo = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png"
    page = '<html><head><title>x</title></head><body><img src="{}"></body></html>'
    one = localise_page(page.format(f"{logo}?d=20211207T1&dataContextId=a"), "a/b.html", "t", "f")
    two = localise_page(page.format(f"{logo}?d=20261207T2&dataContextId=b"), "a/b.html", "t", "f")
    assert one == two and 'src="../static/images/logo-long.png"' in one


def test_the_vendored_copies_are_the_releases_gx_names() -> None:
    """It keeps the bytes GX's templates pin (SRI), its sums, and a licence for each package."""
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    imports = (templates / "js_script_imports.j2").read_text(encoding="utf-8")
    pinned = re.findall(r'src="(https://[^"]+)" integrity="sha384-([^"]+)"', imports)
    assert len(pinned) == 2  # popper.js and bootstrap's script
    for url, digest in pinned:
        copy = VENDOR_DIR.parent / asset_urls()[url]
        assert base64.b64encode(hashlib.sha384(copy.read_bytes()).digest()).decode() == digest
    sums = (VENDOR_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    files = sorted(p for p in VENDOR_DIR.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    assert len(sums) == len(files)
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((VENDOR_DIR / name).read_bytes()).hexdigest() == digest, name
    manifest = json.loads((ASSETS_DIR / "assets.json").read_text(encoding="utf-8"))
    for package in manifest["packages"]:
        folder = VENDOR_DIR / f"{package['name'].split('/')[-1]}-{package['version']}"
        assert any(folder.glob("LICENSE*")), folder


def test_every_address_gx_templates_load_has_a_local_copy() -> None:
    """It knows every CDN address in GX's templates, so a GX upgrade that adds one fails here."""
    import great_expectations

    view = Path(great_expectations.__file__).parent / "render" / "view"
    found: set[str] = set()
    for source in [*view.glob("templates/*.j2"), *view.glob("static/styles/*.css")]:
        text = source.read_text(encoding="utf-8")
        found |= set(re.findall(r"""<(?:script|link)\b[^>]*(?:src|href)="(https?://[^"]+)""", text))
        found |= {u for u in _css_urls(text) if u.startswith("http")}
        # The logo: a folder on the CDN plus a file name, put together in the template.
        for folder in re.findall(r'static_images_dir = "(https?://[^"]+)"', text):
            found |= {folder + name for name in re.findall(r'static_images_dir \+ "([^"]+)"', text)}
    assert found and found <= set(asset_urls()), found - set(asset_urls())


@needs(CHROMIUM.exists(), "Chromium (/usr/bin/chromium)")
def test_the_index_renders_in_chromium_with_the_network_refused(site: Path) -> None:
    """It runs the index's scripts with every network load refused: bootstrap-table (jquery,
    bootstrap) builds one row per validation, which only happens if the site's own copies
    load."""
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu"]
    command += ["--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000", "--dump-dom"]
    done = subprocess.run(
        [*command, (site / "index.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dom = done.stdout
    assert 'class="bootstrap-table' in dom, dom[:2000]
    rows = re.findall(r'<tr[^>]* data-href="(\w+)/[^"]*" data-index="\d+"', dom)
    assert sorted(rows) == ["expectations"] * 3 + ["validations"] * 3, rows

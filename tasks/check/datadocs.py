"""GX Data Docs pages that work on a closed network and point the coordinator to Japanese.

GX's page templates load bootstrap, jquery, font-awesome, vega and their logo from internet
CDNs (and put a data-context id and the time in the logo's URL); on a closed network (LGWAN)
the index stays empty. ``templates/datadocs/assets.json`` maps each such URL to a copy kept
in ``templates/datadocs/vendor/`` (fetched from the npm registry, with its licence) or to an
image GX ships itself. :func:`localise_page` rewrites one built page to those copies under
the site's ``static/`` folder and adds what Japanese is cheap: ``lang="ja"``, the title, and
a line on top that links to the Japanese 指摘事項一覧. GX's own text stays English: its
templates and renderers have no language setting, and a custom views folder can only add
templates, not replace them. Plain string work: the same page gives the same bytes.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

from tasks.settings import TEMPLATES_DIR

ASSETS_DIR = TEMPLATES_DIR / "datadocs"
VENDOR_DIR = ASSETS_DIR / "vendor"

_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_URL_ATTR = re.compile(r"""\b(src|href)=(["'])(https?://[^"']*)\2""")
_CSS_URL = re.compile(r"""url\((["']?)(https?://[^"')]*)\1\)""")
# A file:// page cannot fetch with CORS, so a local copy loads only without these; the
# copies' bytes are checked against GX's own integrity hashes by the tests instead.
_CORS = re.compile(r"""\s+(?:integrity|crossorigin)=(["'])[^"']*\1""")
# GX counts a validation page's folders wrong for its favicon (three up for four).
_FAVICON = re.compile(r"""href="(?:\./|(?:\.\./)+)static/images/favicon\.ico\"""")

_SECTIONS = {"validations": "検証結果", "expectations": "確認ルール"}


@cache
def asset_urls() -> dict[str, str]:
    """Return each CDN URL the GX templates load, with its copy's path under ``static/``."""
    manifest = json.loads((ASSETS_DIR / "assets.json").read_text(encoding="utf-8"))
    return dict(manifest["urls"])


def vendored_files() -> list[tuple[str, Path]]:
    """Return every vendored file (licences included) as (path under ``static/``, file)."""
    return [
        (f"vendor/{path.relative_to(VENDOR_DIR).as_posix()}", path)
        for path in sorted(VENDOR_DIR.rglob("*"))
        if path.is_file()
    ]


def local_url(url: str, page: str) -> str | None:
    """Return the local copy of ``url`` relative to ``page`` (a path in the site), or None."""
    target = asset_urls().get(url.split("?", 1)[0])  # the logo's ?d=<time>&dataContextId=…
    return None if target is None else f"{'../' * page.count('/')}static/{target}"


def localise_page(text: str, page: str, title: str, findings_page: str) -> str:
    """Return a built Data Docs page that loads nothing from the network, titled in Japanese.

    ``page`` is the page's path in the site (``index.html``, ``validations/…/x.html``);
    ``title`` the Japanese title; ``findings_page`` the 指摘事項一覧's path in the site.
    """
    up = "../" * page.count("/")

    def attribute(match: re.Match[str]) -> str:
        local = local_url(match.group(3), page)
        return match.group(0) if local is None else f'{match.group(1)}="{local}"'

    def tag(match: re.Match[str]) -> str:
        rewritten = _URL_ATTR.sub(attribute, match.group(0))
        return _CORS.sub("", rewritten) if rewritten != match.group(0) else rewritten

    def css_url(match: re.Match[str]) -> str:
        local = local_url(match.group(2), page)
        return match.group(0) if local is None else f"url('{local}')"

    text = _TAG.sub(tag, text)
    text = _CSS_URL.sub(css_url, text)
    text = _FAVICON.sub(f'href="{up}static/images/favicon.ico"', text)
    text = text.replace("<html>", '<html lang="ja">', 1)
    section = _SECTIONS.get(page.split("/", 1)[0])
    full_title = f"{title}（{section}）" if section else title
    text = re.sub(
        r"<title>[^<]*</title>", f"<title>{html.escape(full_title)}</title>", text, count=1
    )
    return text.replace("<body>", f"<body>\n{_banner(up + findings_page)}", 1)


def _banner(findings_href: str) -> str:
    """Return the Japanese line on top of every GX page: what it is, where the Japanese is."""
    return (
        '<div lang="ja" style="padding:8px 16px;background:#fff8e1;border-bottom:1px solid '
        '#e0c068;font-size:15px;color:#333">この画面は Great Expectations（GX）による'
        "検証結果の詳細です（表示は英語）。部署・ファイルごとの指摘事項は "
        f'<a href="{html.escape(quote(findings_href))}" style="font-weight:bold">'
        "指摘事項一覧（日本語）</a> をご覧ください。</div>"
    )

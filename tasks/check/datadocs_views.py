"""GX's Data Docs views, with their Jinja templates compiled once per process.

GX makes new views, each with a new Jinja environment, at every build of the site, and each
environment parses and compiles the same fifty templates again: 0.5 s of the 0.8 s a
municipality's Data Docs took. These views share one in-memory bytecode cache, so that a
template is compiled once per process; the pages are the same (the cache is keyed by the
template's name and checked against its source). Named in the site's configuration
(``tasks.check.gx_context``).
"""

from __future__ import annotations

import threading
from typing import Any

from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _CompiledOnce(BytecodeCache):
    """Jinja's compiled templates kept in memory, for every environment of the process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # dropped by Jinja if the source changed

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code


_COMPILED = _CompiledOnce()


class PageView(DefaultJinjaPageView):  # type: ignore[misc]
    """GX's page view (a validation's or a suite's page), compiled once per process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _COMPILED


class IndexPageView(DefaultJinjaIndexPageView):  # type: ignore[misc]
    """GX's index page view, compiled once per process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _COMPILED


def site_views() -> dict[str, Any]:
    """Return the site configuration's parts that name these views (GX merges them)."""
    page = {"module_name": __name__, "class_name": PageView.__name__}
    index = {"module_name": __name__, "class_name": IndexPageView.__name__}
    return {
        "site_section_builders": {
            section: {"view": page} for section in ("expectations", "validations", "profiling")
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": index},
    }

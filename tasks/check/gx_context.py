"""Great Expectations plumbing: one ephemeral context per process, a Data Docs site, runs.

Importing GX costs about 2 s, so the context is made once and kept; each suite becomes one
checkpoint (named after the suite and a hash of its JSON, so that an edited suite file is a
new checkpoint). :func:`publish_data_docs` builds the Data Docs site of the validations run
since the last publication, once, copies it into the workspace for the coordinator and then
forgets those validations: a process that serves several municipalities one after another
never shows one's results in another's site.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from tasks.check.datadocs import localise_page, vendored_files
from tasks.errors import ConfigError
from tasks.settings import quiet_environment
from tasks.workspace.keys import FINDINGS_PAGE
from tasks.workspace.storage import Storage

SITE_NAME = "shiryo"
DOCS_TITLE = "確認結果の詳細（GX Data Docs）"
RECORD_ID = "record_id"
_RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [RECORD_ID]}


@cache
def _context() -> tuple[Any, Any, Path]:
    quiet_environment()  # GX reads this at import; the product never sends usage statistics
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from tasks.check.datadocs_views import site_views

    # GX sets one of its loggers to INFO itself (a line about a temporary folder each run).
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    site = Path(tempfile.mkdtemp(prefix="shiryo-datadocs-"))
    atexit.register(shutil.rmtree, site, ignore_errors=True)
    site_config: Any = {  # GX's type for it lacks the section builders
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        **site_views(),
    }
    context.add_data_docs_site(site_name=SITE_NAME, site_config=site_config)
    source = context.data_sources.add_pandas("shiryo")
    return context, source, site


def warm_up_context() -> None:
    """Import GX and make the process's context now (about 2–4 s the first time)."""
    _context()


_checkpoints: dict[str, Any] = {}


def checkpoint_name(suite_spec: dict[str, Any]) -> str:
    """Return the name a suite runs under: its own name and a hash of its JSON."""
    digest = hashlib.sha256(json.dumps(suite_spec, sort_keys=True).encode()).hexdigest()[:8]
    return f"{suite_spec.get('name', 'suite')}-{digest}"


def register_suite(suite_spec: dict[str, Any]) -> str:
    """Make a suite known to the context (its Data Docs page) without running it; its name."""
    _checkpoint(suite_spec)
    return checkpoint_name(suite_spec)


def _checkpoint(suite_spec: dict[str, Any]) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    name = checkpoint_name(suite_spec)
    if name in _checkpoints:
        return _checkpoints[name]
    context, source, _ = _context()
    try:
        configs = [ExpectationConfiguration(**spec) for spec in suite_spec["expectations"]]
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=configs))
    except Exception as err:  # GX raises a zoo of types for a malformed expectation
        raise ConfigError(
            f"確認ルール {suite_spec.get('name')}: 書き方に誤りがあります: {err}"
        ) from err
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[],
            result_format=_RESULT_FORMAT,
        )
    )
    _checkpoints[name] = checkpoint
    return checkpoint


def run_suite(frame: Any, suite_spec: dict[str, Any], parameters: dict[str, Any]) -> list[Any]:
    """Validate a frame with a suite; return GX's expectation results (COMPLETE format)."""
    result = _checkpoint(suite_spec).run(
        batch_parameters={"dataframe": _inert_markup(frame)}, expectation_parameters=parameters
    )
    return [outcome for run in result.run_results.values() for outcome in run.results]


_MARKUP = str.maketrans({"<": "＜", ">": "＞", "&": "＆"})


def _inert_markup(frame: Any) -> Any:
    """Return a copy whose text cannot become markup in the Data Docs pages.

    GX writes unexpected values into its HTML unescaped; a department's ``<script>`` must not
    run in the coordinator's browser. Full-width look-alikes keep every length and set test.
    """
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object:
            safe[column] = safe[column].map(
                lambda v: v.translate(_MARKUP) if isinstance(v, str) else v
            )
    return safe


def take_validations() -> list[tuple[Any, Any]]:
    """Return the validations run since the last publication (key, result), dropping them."""
    if not _context.cache_info().currsize:
        return []
    store = _context()[0].validation_results_store
    taken = [(key, store.get(key)) for key in store.list_keys()]
    for key, _ in taken:
        store.remove_key(key)
    return taken


def keep_validations(validations: list[tuple[Any, Any]]) -> None:
    """Put validations (key, result) run elsewhere in the store: the next publication's."""
    store = _context()[0].validation_results_store
    for key, result in validations:
        store.set(key, result)


def forget_validations(rehearse: bool = False) -> None:
    """Drop the validations run since the last publication, without publishing their pages.

    With ``rehearse``, their pages are built first and dropped too: GX's page templates are
    then compiled (``tasks.check.datadocs_views``) before a coordinator's run needs them.
    """
    if not _context.cache_info().currsize:
        return
    context, _, site = _context()
    validations = context.validation_results_store.list_keys()
    if rehearse and validations:
        _build_site(context, site, validations)
    _clear_site(context, site, validations)


def publish_data_docs(
    storage: Storage, prefix: str, title: str = DOCS_TITLE, findings_page: str = FINDINGS_PAGE
) -> str | None:
    """Build the Data Docs of the validations run since the last call; copy them under ``prefix``.

    Every page loads its scripts, styles and images from the site's own ``static/`` folder
    (``tasks.check.datadocs``), so the site works on a closed network; ``title`` is the pages'
    Japanese title and ``findings_page`` the 指摘事項一覧's path in the site, linked from each.
    Returns the index's key, or None when nothing was validated. The validations are then
    dropped from the (in-memory) store and the site, so the next call starts afresh.
    """
    if not _context.cache_info().currsize:
        return None
    context, _, site = _context()
    validations = context.validation_results_store.list_keys()
    if not validations:
        return None
    built = _build_site(context, site, validations)
    for page, path in built + [(f"static/{name}", path) for name, path in vendored_files()]:
        key = f"{prefix}/{page}"
        # Static assets never change; validation pages are new files each run.
        if page.startswith("static/") and storage.exists(key):
            continue
        data = path.read_bytes()
        if page.endswith(".html"):
            data = localise_page(data.decode("utf-8"), page, title, findings_page).encode("utf-8")
        storage.write_bytes(key, data)
    _clear_site(context, site, validations)
    return f"{prefix}/index.html"


def _build_site(context: Any, site: Path, validations: list[Any]) -> list[tuple[str, Path]]:
    """Build the pages of these validations and their suites; return (page, file) each."""
    # Only these validations' suites: a process that served other municipalities knows
    # their suites too, and none of them belongs in this site.
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    suites = {
        ExpectationSuiteIdentifier(name=v.expectation_suite_identifier.name) for v in validations
    }
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[*validations, *suites])
    return [(p.relative_to(site).as_posix(), p) for p in sorted(site.rglob("*")) if p.is_file()]


def _clear_site(context: Any, site: Path, validations: list[Any]) -> None:
    """Drop these validations from the store and every built page but the static assets."""
    store = context.validation_results_store
    for validation in validations:
        store.remove_key(validation)
    for built_path in site.iterdir():
        if built_path.name != "static":
            shutil.rmtree(built_path) if built_path.is_dir() else built_path.unlink()

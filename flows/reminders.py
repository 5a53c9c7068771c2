"""Reminders (督促) as a Prefect flow: who is late, their mail, the 督促一覧, the UI's table.

``send-reminders`` runs weekly during the collection (``prefect.yaml``) and from
``shiryo remind``. The work is in ``tasks.cycle.reminders`` (who and why),
``tasks.cycle.reminder_mail`` (the words, SMTP) and ``tasks.cycle.reminder_sheet`` (the list);
the mail goes through the notification block of ``flows.mail``, one task run per department.
Mail goes only when asked for (``send``) and set up (``reminders.yaml``); the list is
written either way. A department's mail that fails fails the run at its end, after the list
records it, so that the failure notifications report it and a Retry sends only that one.
"""

from __future__ import annotations

from typing import Any, cast

from prefect import State, flow, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.futures import PrefectFutureList
from prefect.states import Failed

from flows.annual_cycle import kept, opaque
from flows.artifacts import artifact_key
from flows.mail import send_reminder_task
from flows.results import workspace_results
from flows.steps import STORAGE_RETRIES, UNCACHED, load_plan_task, run_name
from tasks.cycle.reminder_mail import (
    ReminderMessage,
    check_all_sent,
    mail_outcomes,
    messages_to_send,
    unsent_outcome,
)
from tasks.cycle.reminder_settings import ReminderSettings, load_reminder_settings
from tasks.cycle.reminder_sheet import (
    RemindResult,
    reminder_heading,
    reminder_rows,
    write_reminder_list,
)
from tasks.cycle.reminders import ReminderList, list_reminders, locator
from tasks.errors import MailError
from tasks.plan.model import Plan
from tasks.workspace.names import markdown_text
from tasks.workspace.storage import Storage, open_storage


def publish_reminder_artifact(
    plan: Plan,
    storage: Storage,
    reminders: ReminderList,
    settings: ReminderSettings,
    result: RemindResult,
) -> None:
    """Show the 督促一覧 in the Prefect UI as a Markdown table (department text never markup)."""
    workspace = storage.describe("")
    rows = reminder_rows(reminders, locator(storage, settings.department_folder), result.outcomes)
    columns = list(rows[0]) if rows else []
    lines = [
        f"# {markdown_text(line)}" if i == 0 else markdown_text(line)
        for i, line in enumerate(reminder_heading(plan, reminders))
    ]
    lines = [lines[0], "", *[f"- {line}" for line in lines[1:]], ""]
    if rows:
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + " --- |" * len(columns))
        for row in rows:
            cells = [markdown_text(row[c]).replace("\n", "<br>") for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"督促一覧: {markdown_text(result.list_location)}"]
    create_markdown_artifact(
        key=artifact_key(plan, "reminders", reminders.fiscal_year, workspace),
        markdown="\n".join(lines),
        description=f"{plan.municipality}（{workspace}）{reminders.fiscal_year}年度 督促一覧",
    )


def collect_outcomes(
    messages: list[ReminderMessage], sent: PrefectFutureList[Any]
) -> dict[str, str]:
    """Return what became of each message sent: its result, or why it could not go."""
    sent.wait()
    outcomes = {}
    for message, future in zip(messages, sent, strict=True):
        state = future.state
        outcomes[message.department_id] = (
            future.result() if state.is_completed() else unsent_outcome(state.message or "")
        )
    return outcomes


def finished(result: RemindResult, reminders: ReminderList) -> RemindResult | State[Any]:
    """Return the run's result, or a Failed state carrying the MailError when some mail did
    not go: the run fails with that one message (the command prints it, no traceback)."""
    try:
        check_all_sent(result.outcomes, reminders, result.list_location)
    except MailError as err:
        return Failed(message=str(err), data=err)
    return result


load_reminder_settings_task = task(name="load-reminder-settings", **UNCACHED)(
    load_reminder_settings
)
list_reminders_task = task(name="list-reminders", **UNCACHED, **STORAGE_RETRIES)(list_reminders)
messages_to_send_task = task(name="prepare-reminder-mail", **UNCACHED)(messages_to_send)
write_reminder_list_task = task(name="write-reminder-list", **UNCACHED, **STORAGE_RETRIES)(
    write_reminder_list
)
publish_reminder_artifact_task = task(name="publish-reminder-list", **UNCACHED)(
    publish_reminder_artifact
)


@flow(name="send-reminders", flow_run_name=run_name("remind"))
def send_reminders(
    fiscal_year: int | None, config: str, workspace: str, send: bool = True
) -> RemindResult:
    """List the departments to remind (督促), mail them when mail is set up, keep the list."""
    storage, results = open_storage(workspace), workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    settings = load_reminder_settings_task(config)
    reminders = list_reminders_task(opaque(plan), opaque(storage), settings.days_before)
    messages = messages_to_send_task(opaque(plan), opaque(storage), reminders, settings, send)
    sent = kept(send_reminder_task, results).map(unmapped(settings.mail), messages)
    outcomes = mail_outcomes(reminders, collect_outcomes(messages, sent), send, settings)
    result = write_reminder_list_task(opaque(plan), opaque(storage), reminders, settings, outcomes)
    publish_reminder_artifact_task(opaque(plan), opaque(storage), reminders, settings, result)
    # A returned state is the run's final state: the caller gets the result, or the MailError.
    return cast(RemindResult, finished(result, reminders))

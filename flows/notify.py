"""Failure notifications (失敗の通知): Prefect automations that post to a webhook.

``config/notifications.yaml`` says where to send and what to say; ``shiryo serve`` turns it
into a webhook block and two automations on the Prefect server, by name, so that serving
again updates them instead of adding copies:

- a step (task run) of a shiryo deployment's run ends ``Failed``: the message names the run,
  the step and the reason, with a link to the run in the UI;
- a run of a shiryo deployment ends ``Crashed`` (machine stopped, process killed).

The server's triggers and actions services evaluate them, so a notification goes out even
when the flow's own process is gone. Runs started from the command line (``shiryo run``)
have no deployment and notify nobody: the coordinator sees those errors on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from jinja2 import Environment, TemplateSyntaxError
from pydantic import BaseModel, ConfigDict, Field

from tasks.errors import ConfigError
from tasks.settings import NOTIFICATIONS_YAML, load_yaml_model, secret_from

BLOCK_NAME = "shiryo-failure-webhook"
STEP_FAILED_AUTOMATION = "shiryo: ステップの失敗を通知"
RUN_CRASHED_AUTOMATION = "shiryo: 実行の中断を通知"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookSettings(_Strict):
    """Where notifications go: a URL read from an environment variable, and what is sent."""

    url_env: str = "SHIRYO_NOTIFY_WEBHOOK_URL"
    method: Literal["POST", "PUT"] = "POST"
    json_body: dict[str, Any] = Field(
        default_factory=lambda: {"text": "{{subject}}\n\n{{body}}"}, alias="json"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    allow_private_urls: bool = False


class MessageTemplate(_Strict):
    """A notification's subject and body, as Jinja templates rendered by the Prefect server."""

    subject: str
    body: str


class NotifySettings(_Strict):
    """The failure notifications of ``config/notifications.yaml``."""

    enabled: bool = True
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    ui_url: str | None = None
    step_failed: MessageTemplate
    run_crashed: MessageTemplate


def load_notify_settings(path: Path | None = None) -> NotifySettings:
    """Load and check the notification settings; a mistake names the file and the key."""
    source = NOTIFICATIONS_YAML if path is None else path
    settings = load_yaml_model(source, NotifySettings, "通知の設定")
    for name in ("step_failed", "run_crashed"):
        message: MessageTemplate = getattr(settings, name)
        for part in ("subject", "body"):
            try:
                Environment().parse(getattr(message, part))
            except TemplateSyntaxError as err:
                raise ConfigError(
                    f"{source}: 通知の設定に 1 件の問題があります\n"
                    f"  場所 {name}.{part}: 書き方に誤りがあります"
                    f"（{err.lineno} 行目: {err.message}）"
                ) from err
    return settings


def webhook_url(settings: NotifySettings) -> str | None:
    """Return the webhook's URL from its environment variable, or None when it is not set."""
    return secret_from(settings.webhook.url_env)


def failure_automations(
    settings: NotifySettings, deployment_names: list[str], block_id: UUID, ui_url: str
) -> list[Any]:
    """Return the two automations (step failed, run crashed) for the named deployments."""
    from prefect.automations import Automation
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    # Set on the server before each message: the link from the run's id and the UI's address
    # known here; the step and the reason from the event itself, because the task run's own
    # record may not be stored yet when the action runs.
    link = f'{{% set run_url = "{ui_url.rstrip("/")}/runs/flow-run/" ~ flow_run.id %}}'
    reason = '{% set reason = event.resource["prefect.state-message"] %}'
    step = '{% set step = event.resource["prefect.resource.name"].rsplit("-", 1)[0] %}'
    of_shiryo: dict[str, str | list[str]] = {
        "prefect.resource.role": "deployment",
        "prefect.resource.name": deployment_names,
    }

    def automation(name: str, event: str, kind: str, message: MessageTemplate, prelude: str) -> Any:
        return Automation(
            name=name,
            description="shiryo serve が config/notifications.yaml から登録します",
            enabled=settings.enabled,
            trigger=EventTrigger(
                expect={event},
                match={"prefect.resource.id": f"prefect.{kind}.*"},
                match_related=of_shiryo,
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject=prelude + message.subject,
                    body=prelude + message.body,
                )
            ],
        )

    return [
        automation(
            STEP_FAILED_AUTOMATION,
            "prefect.task-run.Failed",
            "task-run",
            settings.step_failed,
            link + reason + step,
        ),
        automation(
            RUN_CRASHED_AUTOMATION,
            "prefect.flow-run.Crashed",
            "flow-run",
            settings.run_crashed,
            link + reason,
        ),
    ]


def apply_failure_notifications(
    settings: NotifySettings, deployment_names: list[str], ui_url: str
) -> list[UUID]:
    """Create or update the webhook block and the automations; return the automations' ids.

    Without a webhook URL, or with ``enabled: false``, existing automations are disabled.
    """
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    url = webhook_url(settings)
    if url is None or not settings.enabled:
        return _disable_existing()
    block = CustomWebhookNotificationBlock(
        name="shiryo",
        url=url,
        method=settings.webhook.method,
        json_data=settings.webhook.json_body,
        headers=settings.webhook.headers or None,
        cookies=None,
        allow_private_urls=settings.webhook.allow_private_urls,
    )
    block_id: UUID = block.save(BLOCK_NAME, overwrite=True)  # type: ignore[assignment]
    ids = []
    with get_client(sync_client=True) as client:
        for automation in failure_automations(settings, deployment_names, block_id, ui_url):
            # Left unset, not None: the server refuses owner_resource in an update.
            core = AutomationCore(**automation.model_dump(exclude={"id", "owner_resource"}))
            existing = client.read_automations_by_name(automation.name)
            if existing:
                client.update_automation(existing[0].id, core)
                for extra in existing[1:]:  # copies made by hand or by an older version
                    client.delete_automation(extra.id)
                ids.append(existing[0].id)
            else:
                ids.append(client.create_automation(core))
    return ids


def _disable_existing() -> list[UUID]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for name in (STEP_FAILED_AUTOMATION, RUN_CRASHED_AUTOMATION):
            for automation in client.read_automations_by_name(name):
                client.pause_automation(automation.id)
    return []

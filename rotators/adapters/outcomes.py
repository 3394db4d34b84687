"""Outcome events: one CloudEvent per outcome to the Event Grid topic ``ROTATION_EVENTS_TOPIC_ENDPOINT``.

Operators learn of a failed rotation from an event (an email, a Logic App, a ticket) instead
of from logs. Publishing is a courtesy: a failure to publish is logged and never fails, or
undoes, the rotation it reports; it is bounded by the trigger's deadline like every call.
The data never holds a value: names, versions, credentials (key names), the resource's ID,
the reason and the trigger.
"""

from __future__ import annotations

import logging
from typing import Any

from rotators.adapters import clients
from rotators.core.clouds import VaultAddress
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings

logger = get_logger(__name__)

SECRET_ROTATED = "KeyRotation.SecretRotated"
ROTATION_FAILED = "KeyRotation.RotationFailed"
ROTATION_PENDING = "KeyRotation.RotationPending"
SECRET_MISCONFIGURED = "KeyRotation.SecretMisconfigured"
CONSUMER_NOT_REFRESHED = "KeyRotation.ConsumerNotRefreshed"  # for the consumers' refresh, when it reports
# The producer, as CloudEvents' ``source`` names it.
SOURCE = "/rotators"


def publish(event_type: str, vault: VaultAddress, secret: str, data: dict[str, Any]) -> bool:
    """Send one event; ``False`` (and a warning) when it could not be sent or no topic is set."""
    endpoint = get_settings().events_topic_endpoint
    if endpoint is None:
        return False
    try:
        from azure.core.messaging import CloudEvent

        event = CloudEvent(
            source=SOURCE,
            type=event_type,
            subject=f"{vault.url.rstrip('/')}/secrets/{secret}",
            data={"vault": str(vault), "vaultUrl": vault.url, "secret": secret, **data},
        )
        options = clients.publish_call_options()
        _quiet_sdk_warnings(options)
        clients.event_publisher(endpoint).send([event], **options)
    except Exception as exc:  # never the rotation's failure; never a message that might quote a request
        logger.warning(
            "Outcome event %s for secret %s was not published (%s); what it reports stands.",
            event_type,
            secret,
            type(exc).__name__,
        )
        return False
    return True


# azure-eventgrid 4.22's basic-topic ``send`` also hands its keyword arguments to each event's model
# (``_legacy/_helpers.py`` ``_cloud_event_to_generated``), whose constructor (``_legacy/_generated/
# _serialization.py`` ``Model.__init__``) warns of each that it "is not a known attribute ... and will be
# ignored": true, and no fault. Only those warnings, for the options the product passes, are dropped.
_SDK_SERIALIZER = "azure.eventgrid._legacy._generated._serialization"
_NOT_AN_ATTRIBUTE = "%s is not a known attribute of class %s and will be ignored"


class _PerCallOptionsAreNoAttributes(logging.Filter):
    def __init__(self, options: frozenset[str]) -> None:
        super().__init__()
        self.options = options

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (record.msg == _NOT_AN_ATTRIBUTE and args[:1] and args[0] in self.options)


def _quiet_sdk_warnings(options: dict[str, Any]) -> None:
    serializer = logging.getLogger(_SDK_SERIALIZER)
    if not any(isinstance(installed, _PerCallOptionsAreNoAttributes) for installed in serializer.filters):
        serializer.addFilter(_PerCallOptionsAreNoAttributes(frozenset(options)))

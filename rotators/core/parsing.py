"""What the product accepts from outside, each by an explicit grammar, before any call to Azure.

Everything that arrives from a request, an event, a tag or a setting is text an attacker
or an unlucky operator chose. ``str.isdigit``, ``str.isalnum`` and ``int`` accept far more
than ASCII (superscripts, fullwidth and circled digits), so numbers and names are matched
by ASCII-only patterns here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rotators.core.errors import BadRequest

_ASCII_DIGITS = re.compile(r"[0-9]{1,9}")
PRINTABLE_ASCII = re.compile(r"[!-~]{1,2048}")
_SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
# Key Vault: 3-24 characters, ASCII letters, digits and single hyphens; starts with a letter,
# ends with a letter or digit (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates).
VAULT_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?!-)){1,22}[a-z0-9]")


def shown(value: object, limit: int = 120) -> str:
    """``repr`` for messages, cut short: input echoed into an error must not flood a log line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "…" + text[-3:]


def ascii_int(raw: str, *, low: int, high: int) -> int | None:
    """A whole number written in ASCII digits within ``[low, high]``, or ``None``."""
    text = raw.strip()
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def check_secret_name(name: object) -> str:
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name.strip()):
        raise BadRequest(f"Secret name {shown(name)} is invalid: 1-127 letters, digits and hyphens.")
    return name.strip()


def is_vault_name(name: str) -> bool:
    return VAULT_NAME.fullmatch(name) is not None


# ARM resource IDs. Segments are ASCII and never empty, ".", ".." or percent-encoded, so the
# path the product calls is exactly the one the parsed parts spell.
_SUBSCRIPTION = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]", re.ASCII)
_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+")
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.()-]{0,258}[A-Za-z0-9_)-])?")


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM resource ID: ``types`` and ``names`` run from the top resource down to the child."""

    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def resource_type(self) -> str:
        """``Microsoft.ServiceBus/namespaces/queues/authorizationRules``, as spelled in the ID."""
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    def __str__(self) -> str:
        path = "".join(f"/{kind}/{name}" for kind, name in zip(self.types, self.names, strict=True))
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{self.namespace}{path}"
        )


def parse_resource_id(text: str) -> ResourceId | None:
    """The ID's parts, or ``None`` unless it is one canonical ARM resource ID."""
    segments = text.strip().split("/")
    if len(segments) < 9 or len(segments) % 2 == 0 or segments[0] != "":
        return None
    _, subscriptions, subscription, groups, group, providers, namespace, *rest = segments
    if (
        subscriptions.lower() != "subscriptions"
        or groups.lower() != "resourcegroups"
        or providers.lower() != "providers"
        or not _SUBSCRIPTION.fullmatch(subscription)
        or not _RESOURCE_GROUP.fullmatch(group)
        or not _NAMESPACE.fullmatch(namespace)
    ):
        return None
    types, names = tuple(rest[0::2]), tuple(rest[1::2])
    if not all(_TYPE.fullmatch(kind) for kind in types) or not all(_NAME.fullmatch(name) for name in names):
        return None
    if any(".." in name for name in names):
        return None
    return ResourceId(subscription, group, namespace, types, names)


# Entra ID applications, by their Microsoft Graph path: the object ID or the client ID (appId), each a GUID
# (learn "Get application": GET /applications/{applicationObjectId} and GET /applications(appId='{appId}')).
GRAPH_APPLICATIONS = "Microsoft.Graph/applications"
_BY_CLIENT_ID = re.compile(r"/applications\(appId='([0-9a-fA-F-]{36})'\)")
_BY_OBJECT_ID = re.compile(r"(?:/applications/)?([0-9a-fA-F-]{36})")


@dataclass(frozen=True)
class ApplicationPath:
    """An Entra ID application as Microsoft Graph addresses it: by object ID, or by client ID (``by_client_id``).

    It lives in a tenant, not in a subscription or a resource group: both read as empty.
    """

    id: str
    by_client_id: bool = False
    subscription = ""
    resource_group = ""

    @property
    def resource_type(self) -> str:
        return GRAPH_APPLICATIONS

    @property
    def name(self) -> str:
        return self.id

    def __str__(self) -> str:
        return f"/applications(appId='{self.id}')" if self.by_client_id else f"/applications/{self.id}"


def parse_application_path(text: str) -> ApplicationPath | None:
    """The application a ``ProviderAddress`` names: ``/applications/<object id>``, ``/applications(appId='<client
    id>')``, or a bare object ID as Microsoft's rotation sample tags it (Azure/KeyVault-Secrets-Rotation-AADApp-
    PowerShell passes its ProviderAddress to ``New-AzADAppCredential -ObjectId``); ``None`` for anything else."""
    text = text.strip()
    for pattern, by_client_id in ((_BY_CLIENT_ID, True), (_BY_OBJECT_ID, False)):
        matched = pattern.fullmatch(text)
        if matched and _SUBSCRIPTION.fullmatch(matched.group(1)):
            return ApplicationPath(matched.group(1).lower(), by_client_id)
    return None

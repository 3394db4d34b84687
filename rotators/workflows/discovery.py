"""Discovery: which apps of a scope read a vault's secrets through Key Vault references.

Each App Service and Function app (and slot) of the scope is asked for its Key Vault
references (app settings and connection strings), each API Management service for its named
values and each Container App for its secrets' ``keyVaultUrl``; a reference to one of the vault's
enrolled secrets makes the app (or named value) that secret's consumer. ``apply`` records them: in
the ``Consumers`` tag of the current version (a tag update, never a new version) when they fit,
else in the registry with the tag set to ``@registry``. Consumers already declared (App Configuration stores included)
are kept. Reads only, until ``apply``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rotators.adapters import apim, appservice, containerapps, registry, vault
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import (
    ARM_ID_KINDS,
    CONSUMERS,
    MAX_CONSUMERS,
    MAX_REGISTERED,
    REGISTRY,
    Consumer,
    Reference,
    declarable,
    referenced_secret,
    tag_value,
)
from rotators.core.contract import MAX_TAGS, ROTATED_BY, Contract, is_enrolled, read_contract, tag_name
from rotators.core.errors import BadRequest, NotRotatable
from rotators.core.parsing import shown
from rotators.kinds import KINDS

TAG_VALUE_LIMIT = 256  # Key Vault's limit on a tag value
_SCOPE = re.compile(
    r"/subscriptions/(?P<sub>[0-9A-Fa-f-]{36})(?:/resourceGroups/(?P<rg>[A-Za-z0-9_.()-]{1,90}))?/?", re.IGNORECASE
)


@dataclass(frozen=True)
class Scope:
    subscription: str
    resource_group: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        match = _SCOPE.fullmatch(text.strip())
        if match is None:
            raise BadRequest(
                f"Scope {shown(text)} is not /subscriptions/<id> or /subscriptions/<id>/resourceGroups/<group>."
            )
        return cls(match["sub"].lower(), match["rg"])

    def __str__(self) -> str:
        group = f"/resourceGroups/{self.resource_group}" if self.resource_group else ""
        return f"/subscriptions/{self.subscription}{group}"


@dataclass(frozen=True)
class Found:
    secret: str
    subscription: str
    consumer: Consumer
    reference: Reference


@dataclass(frozen=True)
class Enrolled:
    name: str
    contract: Contract


def enrolled(address: VaultAddress, secret: str | None) -> list[Enrolled]:
    """The secret named (which must be enrolled), or every enrolled secret of the vault."""
    if secret is not None:
        current, _ = vault.read_current(address, secret)
        return [Enrolled(current.name, read_contract(current.tags, address.cloud, KINDS))]
    found = []
    for listed in vault.list_secrets(address):
        if is_enrolled(listed.tags):
            try:
                found.append(Enrolled(listed.name, read_contract(listed.tags, address.cloud, KINDS)))
            except NotRotatable:
                continue  # misconfigured: status and the sweep say why
    return found


def discover(address: VaultAddress, secrets: list[Enrolled], scope: Scope | None) -> list[Found]:
    """Every reference, in the scope (default: each secret's ProviderAddress subscription), to one of ``secrets``."""
    names = {secret.name.lower(): secret.name for secret in secrets}
    subscriptions = {s.contract.resource.subscription.lower() for s in secrets} - {""}  # an application has none
    scopes = [scope] if scope else sorted({Scope(subscription) for subscription in subscriptions}, key=str)
    found = []
    for where in scopes:
        for consumer in appservice.apps(where.subscription, address.cloud, where.resource_group):
            for reference in appservice.references(consumer, where.subscription, address.cloud):
                name = names.get(reference.secret_name.lower())
                if name is not None and reference.vault_name.lower() == address.name.lower():
                    found.append(Found(name, where.subscription, consumer, reference))
        for consumer, named in apim.named_values(where.subscription, address.cloud, where.resource_group):
            if (ours := _ours(named.secret_identifier, names, address)) is not None:
                reference = Reference(named.name, named.status_code or "", address.name, ours[0], ours[1], None)
                found.append(Found(ours[0], where.subscription, consumer, reference))
        for consumer, app in containerapps.apps(where.subscription, address.cloud, where.resource_group):
            for held in app.secrets:
                if (ours := _ours(held.key_vault_url, names, address)) is not None:
                    reference = Reference(held.name, "", address.name, ours[0], ours[1], None)
                    found.append(Found(ours[0], where.subscription, consumer, reference))
    return found


def unsearched(secrets: list[Enrolled], scope: Scope | None) -> list[str]:
    """Why a secret had no app searched: an Entra ID application's is searched only in a ``--scope``."""
    if scope is not None:
        return []
    return [
        f"{secret.name}: not searched: an Entra ID application is in no subscription; give --scope "
        "/subscriptions/<id> (its consumers are recorded by their ARM resource IDs)"
        for secret in secrets
        if not secret.contract.resource.subscription
    ]


def _ours(identifier: str | None, names: dict[str, str], address: VaultAddress) -> tuple[str, str | None] | None:
    """The enrolled secret (and the version, if pinned) a Key Vault secret identifier names in this vault."""
    secret = referenced_secret(identifier or "")
    if secret is None or secret[0] != address.name.lower() or secret[1] not in names:
        return None
    return names[secret[1]], secret[2]


def apply(address: VaultAddress, secrets: list[Enrolled], found: Iterable[Found]) -> list[str]:
    """Record each secret's discovered consumers; returns what was done, one line per secret."""
    lines = []
    for secret in secrets:
        mine = [f for f in found if f.secret == secret.name]
        if not mine:
            continue
        subscription = secret.contract.resource.subscription.lower()
        if not subscription:  # an Entra ID application is in no subscription: its consumers go by their ARM IDs
            by_id = [f for f in mine if f.consumer.kind in ARM_ID_KINDS]
            if others := sorted({str(f.consumer) for f in mine if f.consumer.kind not in ARM_ID_KINDS}):
                lines.append(
                    f"{secret.name}: not recorded {', '.join(others)}: an Entra ID application's consumers are "
                    "recorded by ARM resource ID, which the Consumers tag takes for App Service and App "
                    "Configuration only"
                )
            discovered = [replace(f.consumer, subscription=f.subscription) for f in by_id]
        else:
            elsewhere = sorted({str(f.consumer) for f in mine if f.subscription != subscription})
            if elsewhere:
                lines.append(
                    f"{secret.name}: not recorded {', '.join(elsewhere)}: consumers are resolved in the subscription "
                    f"of ProviderAddress ({subscription})"
                )
            discovered = [f.consumer for f in mine if f.subscription == subscription]
        refused = sorted({str(consumer) for consumer in discovered if not declarable(consumer)})
        if refused:
            lines.append(
                f"{secret.name}: not recorded {', '.join(refused)}: an app or slot name beyond ASCII letters, "
                "digits and hyphens, which the Consumers tag refuses (see README, Consumers)"
            )
        discovered = [consumer for consumer in discovered if declarable(consumer)]
        if discovered:
            lines.append(_record(address, secret, discovered))
    return lines


def _record(address: VaultAddress, secret: Enrolled, discovered: list[Consumer]) -> str:
    """Merge ``discovered`` into what the current version declares, and write it there (or to the registry)."""
    current, _ = vault.read_current(address, secret.name)  # a listing carries no version id
    try:
        known = list(
            registry.declared(read_contract(current.tags, address.cloud, KINDS).consumers, address, secret.name)
        )
    except NotRotatable:
        known = []  # a missing or malformed registry entry is written anew; any other failure writes nothing
    names = {str(consumer).lower() for consumer in known}
    merged = known + [c for c in dict.fromkeys(discovered) if str(c).lower() not in names]
    if len(merged) == len(known):
        return f"{secret.name}: already records every consumer found ({len(known)})"
    if len(merged) > MAX_REGISTERED:
        return f"{secret.name}: not recorded: {len(merged)} consumers, more than the registry's {MAX_REGISTERED}"
    value = tag_value(merged)
    tags = dict(current.tags)
    tags.pop(tag_name(tags, CONSUMERS), None)
    if (needed := len(tags) + 1 + (tag_name(tags, ROTATED_BY) not in tags)) > MAX_TAGS:
        return (
            f"{secret.name}: not recorded: version {current.version} has {len(tags)} other tags, and with "
            f"{CONSUMERS} and the rotation's {ROTATED_BY} its next version would need {needed}; Key Vault keeps at "
            f"most {MAX_TAGS} on a secret. Remove {needed - MAX_TAGS} tag(s) the rotation does not read, then run again"
        )
    if len(merged) <= MAX_CONSUMERS and len(value) <= TAG_VALUE_LIMIT:
        where = f"tag {CONSUMERS} of version {current.version}"
        tags[CONSUMERS] = value
    else:
        registry.save(address, secret.name, tuple(merged))
        where = f"the registry (tag {CONSUMERS}={REGISTRY} on version {current.version})"
        tags[CONSUMERS] = REGISTRY
    vault.update_tags(address, secret.name, current.version, tags)
    line = f"{secret.name}: recorded {len(merged)} consumers in {where}"
    latest, _ = vault.read_current(address, secret.name)
    if latest.version != current.version:
        line += f"; version {latest.version} was written meanwhile without them: run again"
    return line

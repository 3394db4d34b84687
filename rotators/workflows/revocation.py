"""Early revocation (an option, ``ROTATION_EARLY_PASSWORD_REVOCATION=confirmed``): an Entra ID application's
older passwords are removed as soon as every declared consumer confirms it runs the current version.

A rotation keeps the password the previous version holds until the next rotation, as the old key of a pair
stays valid: an app may still run that version. Once every consumer the secret declares reports the current
version active (the rule that may end the cool-down early: :meth:`rotators.core.consumers.Confirmation.holding`)
and the current version is older than the revocation's own floor (``ROTATION_EARLY_REVOCATION_MIN_HOURS``, at
least App Service's 24-hour refetch: a confirmation tells what App Service's reference cache holds, not what a
running process read), no declared app is taken to hold an older one. Then, under the application's lock, the
enabled versions holding the product's other passwords for this secret are disabled first (Key Vault refuses
their values from then on, and a rollback never picks them), and those passwords are removed.

Never removed: the password the current version holds, any password whose hint matches the current value, a
password of a rotation under way (its record resumes the current version), and any password the product did not
add. Nothing is removed unless, read under the lock, the current value is a live password its CredentialId names
(else an app may still run an older one, the last that works: the states the rotation refuses as SecretBroken and
CredentialDrift). Nothing happens without declared consumers, or while any of them is behind, failing,
unreported, unreachable, or an App Configuration store (which cannot confirm). The sweep runs it
(:func:`rotators.workflows.sweep.follow_up`); a second run finds nothing left to remove, so a duplicate trigger
removes nothing more.
"""

from __future__ import annotations

from datetime import datetime

from rotators.adapters import lock, vault
from rotators.core.clouds import VaultAddress
from rotators.core.contract import CREDENTIAL_ID, Contract, read_contract, tag_name
from rotators.core.logs import get_logger
from rotators.core.records import SecretRef, SecretVersionInfo
from rotators.core.settings import get_settings
from rotators.kinds import KINDS, canonical, entra, password_kind
from rotators.workflows import consumers

logger = get_logger(__name__)

# What the consumers' reads leave of the trigger's time: the disables, the removals and letting go of the lock.
REVOCATION_RESERVE_SECONDS = 5.0


def wanted(contract: Contract) -> bool:
    """Whether early revocation applies to a secret: the setting is on, it rotates an application's password,
    and it declares its consumers (without them nobody can confirm anything)."""
    return get_settings().early_password_revocation and password_kind(contract) is not None and bool(contract.consumers)


def revoke_early(address: VaultAddress, current: SecretVersionInfo, contract: Contract, *, now: datetime) -> list[str]:
    """Remove the product's passwords for this secret that the current version does not hold, once every declared
    consumer confirms the current version; returns the keyIds removed (none, most of the time)."""
    kind = password_kind(contract)
    if not wanted(contract) or kind is None or now - current.created_on < get_settings().early_revocation_min_age:
        return []
    naming = entra.Naming(address.name, current.name)
    if not _older(kind.read(contract.resource), naming, contract):
        return []  # the common case: one Graph read, nothing locked, nobody asked
    me, pair = SecretRef.of(address.url, current.name), canonical(contract).pair_name
    with lock.hold(pair, holder=str(me)) as lease:
        again, value = vault.read_current(address, current.name)
        contract = canonical(read_contract(again.tags, address.cloud, KINDS))
        rotation = lease.record.rotation
        if (
            again.version != current.version
            or not wanted(contract)
            or contract.pair_name != pair
            or lease.record.owner != me
            or lease.record.contested_by is not None
            or (rotation is not None and rotation.base_version == again.version)
        ):
            return []  # rotated or retagged meanwhile, not this secret's application, or a rotation under way
        application = kind.read(contract.resource)
        if (doubt := _doubt(application, contract, value, now)) is not None:
            logger.warning("Secret %s in %s: no password removed early: %s.", current.name, address, doubt)
        targets = [p for p in _older(application, naming, contract) if doubt is None and not entra.holds(p, value)]
        if not targets:
            return []
        confirmation = consumers.confirm(
            consumers.Written.of(contract, address, again), reserve=REVOCATION_RESERVE_SECONDS
        )
        if (holding := confirmation.holding()) is not None:
            logger.info(
                "Secret %s in %s: older password(s) %s kept: %s.",
                current.name,
                address,
                ", ".join(p.key_id for p in targets),
                holding,
            )
            return []
        removing = {p.key_id for p in targets}
        for info, enabled in vault.list_versions(address, current.name):
            held = (info.tags.get(tag_name(info.tags, CREDENTIAL_ID)) or "").strip().lower()
            if enabled and info.version != again.version and held in removing:
                lease.ensure_held()
                vault.disable_version(address, current.name, info.version)
        removed = []
        for password in targets:
            lease.ensure_held()
            kind.remove_password(contract.resource, password.key_id)
            removed.append(password.key_id)
    logger.info(
        "Secret %s in %s: every declared consumer runs version %s; removed older password(s) %s early and disabled "
        "the versions that held them.",
        current.name,
        address,
        current.version,
        ", ".join(removed),
    )
    return removed


def _older(application: entra.Application, naming: entra.Naming, contract: Contract) -> list[entra.Password]:
    """The product's passwords for this secret but the one the current version holds."""
    held = contract.credential.tag.lower()
    return [p for p in application.passwords if naming.ours(p) and p.key_id.lower() != held]


def _doubt(application: entra.Application, contract: Contract, value: str, now: datetime) -> str | None:
    """Why the current version may not run on the password its CredentialId names (``None`` when it does): the
    rotation refuses the same states (SecretBroken, CredentialDrift), and an app there may still run an older
    password, which is then the last one that works."""
    keyid = contract.credential.tag
    held = application.password(keyid)
    if held is None:
        return f"the current version names password {keyid}, which the application no longer has"
    if held.ends <= now:
        return f"password {keyid}, which the current version names, ended at {held.end}"
    if not entra.holds(held, value):
        return f"the current version's value is not password {keyid} (its first characters differ from its hint)"
    return None

"""``python -m rotators``: the operators' command line.

Exit codes: 0 done, 1 failed (Azure unavailable or refusing; retry may help),
2 refused (bad input, not allowed, not rotatable, cooling down, in progress, rollback refused).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rotators.core.errors import RotationError, TransientError, UpstreamError
from rotators.core.logs import aligned, escape

if TYPE_CHECKING:
    from rotators.core.clouds import VaultAddress

OK, FAILED, REFUSED = 0, 1, 2
VAULT_HELP = "vault name (public Azure) or vault URL (any cloud)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from rotators.core.deadline import budget
        from rotators.core.settings import get_settings

        command: Callable[[argparse.Namespace], int] = args.run
        with budget(get_settings().cli_budget_seconds):
            return command(args)
    except RotationError as exc:
        print(f"error: {escape(exc.code)}: {escape(exc.message)}", file=sys.stderr)
        return FAILED if isinstance(exc, (TransientError, UpstreamError)) else REFUSED
    except Exception as exc:  # one line, never a traceback that could carry key material
        print(f"error: InternalError: unexpected {type(exc).__name__}", file=sys.stderr)
        return FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rotators", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    rotate = commands.add_parser("rotate", help="rotate one secret now")
    rotate.add_argument("--vault", required=True, help=VAULT_HELP)
    rotate.add_argument("--secret", required=True)
    rotate.add_argument("--force", action="store_true", help="rotate even inside the cool-down")
    rotate.add_argument("--dry-run", action="store_true", help="show the plan; write and regenerate nothing")
    rotate.set_defaults(run=_rotate)

    status = commands.add_parser("status", help="list a vault's enrolled secrets and their state")
    status.add_argument("--vault", required=True, help=VAULT_HELP)
    status.add_argument(
        "--quick", action="store_true", help="the vault's listing only: skip comparing values with keys"
    )
    status.set_defaults(run=_status)

    enroll = commands.add_parser("enroll", help="write a secret's first tagged version")
    enroll.add_argument("--vault", required=True, help=VAULT_HELP)
    enroll.add_argument("--secret", required=True)
    enroll.add_argument(
        "--resource-id",
        required=True,
        help="ARM resource ID of the resource whose keys rotate, or an Entra ID application's Graph path "
        "(/applications/<object id>)",
    )
    enroll.add_argument(
        "--credential",
        help="key the first version holds (default: the kind's first, such as key1 or PrimaryKey); for an application, "
        "the keyId of the password the secret already holds (default: the one its value matches)",
    )
    enroll.add_argument("--validity-days", type=int, default=90)
    enroll.add_argument("--value-format", default="Key", choices=["Key", "ConnectionString"])
    enroll.set_defaults(run=_enroll)

    history = commands.add_parser("history", help="every version of a secret: who wrote it, how long it was current")
    history.add_argument("--vault", required=True, help=VAULT_HELP)
    history.add_argument("--secret", required=True)
    history.set_defaults(run=_history)

    rollback = commands.add_parser("rollback", help="publish the previous version's key again, if it is still live")
    rollback.add_argument("--vault", required=True, help=VAULT_HELP)
    rollback.add_argument("--secret", required=True)
    rollback.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    rollback.set_defaults(run=_rollback)

    sweep = commands.add_parser(
        "sweep", help="sweep the allowed vaults now, in this process: rotate what is due, report the misconfigured"
    )
    sweep.add_argument("--vault", action="append", help=f"{VAULT_HELP}; repeat for several (default: every allowed)")
    sweep.add_argument("--dry-run", action="store_true", help="plan each due rotation; write and regenerate nothing")
    sweep.set_defaults(run=_sweep)

    consumers = commands.add_parser(
        "consumers", help="find the apps whose Key Vault references read a vault's secrets; --apply records them"
    )
    consumers.add_argument("--vault", required=True, help=VAULT_HELP)
    consumers.add_argument("--secret", help="one enrolled secret (default: every enrolled secret of the vault)")
    consumers.add_argument(
        "--scope",
        help="/subscriptions/<id>[/resourceGroups/<group>] (default: each secret's ProviderAddress subscription)",
    )
    consumers.add_argument(
        "--apply", action="store_true", help="record them: the Consumers tag (no new version) or the registry"
    )
    consumers.set_defaults(run=_consumers)

    grant = commands.add_parser(
        "grant-graph",
        help="with your own credential, give the function's identity Application.ReadWrite.OwnedBy and ownership "
        "of each application it rotates (each read first, written once when missing)",
    )
    grant.add_argument("--identity", required=True, help="principal (object) ID of the function app's managed identity")
    grant.add_argument(
        "--application", action="append", default=[], help="object ID of an application to rotate (repeatable)"
    )
    grant.add_argument("--graph-host", default="graph.microsoft.com", help="the cloud's Microsoft Graph host")
    grant.add_argument(
        "--owners-only",
        action="store_true",
        help="only add the identity as an owner of each application (the app role granted otherwise)",
    )
    grant.set_defaults(run=_grant_graph)

    return parser


def _rotate(args: argparse.Namespace) -> int:
    from rotators.core.clouds import VaultAddress
    from rotators.core.parsing import check_secret_name
    from rotators.workflows.rotation import RotationRequest, Trigger, rotate

    outcome = rotate(
        RotationRequest(
            VaultAddress.parse(args.vault),
            check_secret_name(args.secret),
            Trigger.CLI,
            force=args.force,
            dry_run=args.dry_run,
        )
    )
    _print_fields(outcome.as_dict())
    return OK


def _sweep(args: argparse.Namespace) -> int:
    """The sweep a vault at a time, a line per vault as it finishes (the Functions app fans the same work out)."""
    from rotators.core.deadline import remaining
    from rotators.core.settings import get_settings
    from rotators.workflows.sweep import sweep

    settings = get_settings()
    vaults = (
        [_allowed_vault(text) for text in args.vault]
        if args.vault
        else sorted(settings.allowed_vaults, key=lambda vault: vault.url)
    )
    if not vaults:
        sweep()  # no allowlist: refused with the sweep's own configuration error
    failed = False
    for address in vaults:
        tally = sweep(vaults=[address], dry_run=args.dry_run, budget_seconds=max(remaining() or 0.0, 0.0))
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(tally.items())) or "no enrolled secret"
        print(escape(f"{address}: {counts}"))
        failed = failed or bool(tally["failed"])
    return FAILED if failed else OK


def _status(args: argparse.Namespace) -> int:
    from rotators.workflows.status import poison_note, render, vault_status

    address = _allowed_vault(args.vault)
    print(render(vault_status(address, now=datetime.now(timezone.utc), check_keys=not args.quick)))
    note = None if args.quick else poison_note()
    if note:
        print(escape(note))
    return OK


def _enroll(args: argparse.Namespace) -> int:
    from rotators.core.clouds import VaultAddress
    from rotators.core.parsing import check_secret_name
    from rotators.workflows.enrollment import Enrolment, enroll

    enrolment = Enrolment(args.resource_id, args.credential, args.validity_days, args.value_format)
    written = enroll(VaultAddress.parse(args.vault), check_secret_name(args.secret), enrolment)
    print(
        f"enrolled {written.name}: version {written.version}, CredentialId {written.tags.get('CredentialId')}, "
        f"expires {written.expires_on.isoformat() if written.expires_on else 'never'}"
    )
    return OK


def _history(args: argparse.Namespace) -> int:
    from rotators.adapters import vault
    from rotators.core.history import history
    from rotators.core.parsing import check_secret_name

    address = _allowed_vault(args.vault)
    entries = history(vault.list_versions(address, check_secret_name(args.secret)), now=datetime.now(timezone.utc))
    header = ("VERSION", "CREATED", "EXPIRES", "ENABLED", "CREDENTIAL", "CURRENT FOR", "WRITTEN BY")
    rows = [header] + [
        (
            entry.version + (" *" if entry.is_current else ""),
            entry.created_on.strftime("%Y-%m-%d %H:%M"),
            entry.expires_on.strftime("%Y-%m-%d %H:%M") if entry.expires_on else "never",
            "yes" if entry.enabled else "no",
            escape(entry.credential),
            _span(entry.current_for.total_seconds()),
            escape(entry.written_by),
        )
        for entry in entries
    ]
    _table(rows)
    return OK


def _span(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def _rollback(args: argparse.Namespace) -> int:
    from rotators.core.clouds import VaultAddress
    from rotators.core.parsing import check_secret_name
    from rotators.workflows.rollback import rollback

    outcome = rollback(VaultAddress.parse(args.vault), check_secret_name(args.secret), dry_run=args.dry_run)
    _print_fields(outcome.as_dict())
    return OK


def _consumers(args: argparse.Namespace) -> int:
    from rotators.core.parsing import check_secret_name
    from rotators.workflows.discovery import Scope, apply, discover, enrolled, unsearched

    address = _allowed_vault(args.vault)
    scope = Scope.parse(args.scope) if args.scope else None
    secrets = enrolled(address, check_secret_name(args.secret) if args.secret else None)
    found = discover(address, secrets, scope)
    header = ("SECRET", "CONSUMER", "SETTING", "STATUS", "ACTIVE VERSION")
    rows = [header] + [
        tuple(
            escape(cell)
            for cell in (
                f.secret,
                str(f.consumer),
                f.reference.setting,
                f.reference.status or "-",
                f.reference.active_version or "-",
            )
        )
        for f in found
    ]
    _table(rows)
    if not found:
        print("(no app in the scope references these secrets)")
    for line in unsearched(secrets, scope):
        print(escape(line))
    if args.apply:
        for line in apply(address, secrets, found):
            print(escape(line))
    return OK


def _grant_graph(args: argparse.Namespace) -> int:
    from rotators.workflows.graphgrants import grant

    for line in grant(args.identity, args.application, args.graph_host, owners_only=args.owners_only):
        print(escape(line))
    return OK


def _table(rows: Sequence[Sequence[str]]) -> None:
    for line in aligned(rows):
        print(line)


def _print_fields(fields: dict[str, Any]) -> None:
    """An outcome as ``name: value`` lines, leaving out what it does not say."""
    for key, value in fields.items():
        if value is not None:
            print(f"{key}: {value}")


def _allowed_vault(text: str) -> VaultAddress:
    """The vault ``--vault`` names, refused unless ROTATION_ALLOWED_VAULTS lists it (commands that only read)."""
    from rotators.core.clouds import VaultAddress
    from rotators.core.settings import get_settings

    address = VaultAddress.parse(text)
    get_settings().check_vault(address)
    return address

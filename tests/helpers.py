"""Building blocks for the tests: enrolled secrets, events, handler calls, assertions."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import azure.functions as func

import function_app
from localazure import LocalAzure
from localazure.faults import Fault
from localazure.services import SERVICES
from localazure.services.arm.models import ArmResource
from rotators.core.errors import RotationError

ROOT = Path(__file__).resolve().parent.parent
VAULT = "kv-app"
VAULT_URL = f"https://{VAULT}.vault.azure.net"
EVENTS = Path(__file__).parent / "events"
TOPIC = "https://rotations.eastus-1.eventgrid.azure.net/api/events"  # the outcome events' topic, in the stand-in

# Text the product showed the outside world during the session: checked for keys at the end.
PRODUCED: list[str] = []

# FunctionApp.get_functions() validates and must run once per app.
_DEFINED = function_app.app.get_functions()
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in _DEFINED}
TRIGGERS = {f.get_function_name(): f.get_trigger().type for f in _DEFINED}


def vault_address(text: str) -> Any:
    from rotators.core.clouds import VaultAddress

    return VaultAddress.parse(text)


def now() -> datetime:
    return datetime.now(timezone.utc)


def enroll_storage(cloud: LocalAzure, *, secret: str = "storage-key", account: str = "stapp", **options: Any) -> str:
    """A Storage account and a secret whose current version holds ``credential``; returns the version."""
    resource = cloud.storage.accounts.get(account) or cloud.storage.create_account(account)
    return _enroll(cloud, resource, secret, **{"credential": "key1", **options})


def enroll_cosmos(cloud: LocalAzure, *, secret: str = "cosmos-key", account: str = "cosmos-app", **options: Any) -> str:
    """A Cosmos DB account and a secret whose current version holds ``credential``; returns the version."""
    resource = cloud.cosmosdb.accounts.get(account) or cloud.cosmosdb.create_account(account)
    return _enroll(cloud, resource, secret, **{"credential": "primary", **options})


def _enroll(
    cloud: LocalAzure,
    resource: ArmResource,
    secret: str,
    *,
    credential: str,
    age: timedelta = timedelta(hours=73),  # past the default cool-down (72 h)
    validity: str = "90",
    extra_tags: dict[str, str] | None = None,
    value: str | None = None,
) -> str:
    tags = {"CredentialId": credential, "ProviderAddress": resource.id, "ValidityPeriodDays": validity}
    formatted = (extra_tags or {}).get("ValueFormat", "Key") == "ConnectionString"
    return cloud.keyvault.seed_secret(
        VAULT,
        secret,
        value
        if value is not None
        else secret_value(resource, live_key(resource, credential), connection_string=formatted),
        tags={**tags, **(extra_tags or {})},
        created=now() - age,
        expires=now() + timedelta(days=20),
    )


def enroll_servicebus(
    cloud: LocalAzure,
    *,
    secret: str = "servicebus-key",
    namespace: str = "sb-app",
    entity: tuple[str, str] | None = None,
    **options: Any,
) -> str:
    """A Service Bus rule (of the namespace, or of a queue or topic) and a secret holding its PrimaryKey."""
    rule = cloud.servicebus.create_rule(namespace, f"app-{entity[1] if entity else 'ns'}", entity=entity)
    return _enroll(cloud, rule, secret, **{"credential": "PrimaryKey", **options})


def enroll_eventhubs(
    cloud: LocalAzure,
    *,
    secret: str = "eventhubs-key",
    namespace: str = "eh-app",
    hub: str | None = None,
    **options: Any,
) -> str:
    """An Event Hubs rule (of the namespace, or of an event hub) and a secret holding its PrimaryKey."""
    entity = ("eventhubs", hub) if hub else None
    rule = cloud.eventhubs.create_rule(namespace, f"app-{hub or 'ns'}", entity=entity)
    return _enroll(cloud, rule, secret, **{"credential": "PrimaryKey", **options})


def enroll_rule(
    cloud: LocalAzure, service: str, *, secret: str, entity: tuple[str, str] | None = None, **options: Any
) -> str:
    """A rule of a Service Bus family stand-in (``cloud.<service>``: Relay, Notification Hubs), of the namespace
    or of an entity ``(collection, name)``, and a secret holding its PrimaryKey."""
    rule = getattr(cloud, service).create_rule(f"{service}-app", f"app-{entity[1] if entity else 'ns'}", entity=entity)
    return _enroll(cloud, rule, secret, **{"credential": "PrimaryKey", **options})


def enroll_keyed(cloud: LocalAzure, service: str, credential: str, *, secret: str, **options: Any) -> str:
    """A resource of one of the stand-in's keyed services (``cloud.<service>``) and a secret holding ``credential``."""
    backend = getattr(cloud, service)
    resource = backend.items.get(f"{service}-app") or backend.create(f"{service}-app")
    return _enroll(cloud, resource, secret, **{"credential": credential, **options})


# Each service's documented connection string around a key (``r`` the stand-in's resource, ``k`` the key).
CONNECTION_STRINGS: dict[str, Callable[[Any, str], str]] = {
    # "Configure Azure Storage connection strings": the EndpointSuffix form, or explicit endpoints for an
    # account served elsewhere (Azure DNS zone endpoints).
    "Microsoft.Storage/storageAccounts": lambda r, k: (
        f"DefaultEndpointsProtocol=https;AccountName={r.name};AccountKey={k};EndpointSuffix=core.windows.net"
        if r.dns_endpoint_type == "Standard"
        else "DefaultEndpointsProtocol=https;"
        + "".join(
            f"{s.title()}Endpoint=https://{r.host(s)};" for s in ("blob", "file", "queue", "table") if r.serves(s)
        )
        + f"AccountName={r.name};AccountKey={k}"
    ),
    "Microsoft.DocumentDB/databaseAccounts": lambda r, k: (
        f"AccountEndpoint=https://{r.name}.documents.azure.com:443/;AccountKey={k};"
    ),
    "Microsoft.Communication/communicationServices": lambda r, k: f"endpoint=https://{r.host_name}/;accesskey={k}",
    "Microsoft.SignalRService/signalR": lambda r, k: f"Endpoint=https://{r.host_name};AccessKey={k};Version=1.0;",
    "Microsoft.SignalRService/webPubSub": lambda r, k: f"Endpoint=https://{r.host_name};AccessKey={k};Version=1.0;",
    "Microsoft.Cache/redis": lambda r, k: (
        f"{r.name}.redis.cache.windows.net:6380,password={k},ssl=True,abortConnect=False"
    ),
    # The cluster's hostName and the database's port.
    "Microsoft.Cache/redisEnterprise/databases": lambda r, k: (
        f"{r.host_name}:{r.port},password={k},ssl=True,abortConnect=False"
    ),
}


def secret_value(resource: ArmResource, key: str, *, connection_string: bool = False) -> str:
    """What a secret holds for a key, as the services document their connection strings."""
    if not connection_string:
        return key
    if resource.provider.startswith(
        ("Microsoft.ServiceBus/", "Microsoft.EventHub/", "Microsoft.Relay/", "Microsoft.NotificationHubs/")
    ):
        # Relay's listKeys names no entity (RelayHybridConnectionAuthorizationRuleListKey.json); the others do.
        named = resource.entity and not resource.provider.startswith("Microsoft.Relay/")
        entity = f";EntityPath={resource.entity[1]}" if named else ""
        host = f"{resource.namespace.name}.servicebus.windows.net"
        return f"Endpoint=sb://{host}/;SharedAccessKeyName={resource.name};SharedAccessKey={key}{entity}"
    if resource.provider == "Microsoft.AppConfiguration/configurationStores":
        name = next(name for name, value in resource.keys.items() if value == key)
        return f"Endpoint=https://{resource.name}.azconfig.io;Id={resource.ids[name]};Secret={key}"
    return CONNECTION_STRINGS.get(resource.provider, lambda r, k: k)(resource, key)  # the rest have none


def age_current_version(cloud: LocalAzure, secret: str, age: timedelta) -> None:
    """Pretend the current version was written ``age`` ago (a simulated day passing)."""
    current = cloud.keyvault.current_secret(VAULT, secret)
    current.created = current.updated = int((now() - age).timestamp())


def event(
    event_type: str = "Microsoft.KeyVault.SecretNearExpiry",
    *,
    secret: str,
    version: str,
    vault_url: str = VAULT_URL,
    schema: str = "eventgrid",
) -> Any:
    """An event built from the captured payload in tests/events, as the worker would hand it over."""
    text = (EVENTS / f"secret_event_{schema}.json").read_text()
    text = (
        text.replace("ee059b2bb5bc48398a53b168c6cdcb10", version)
        .replace("https://kv-app.vault.azure.net", vault_url)
        .replace("kv-app", vault_url.split("//")[1].split(".", maxsplit=1)[0])
        .replace("storage-key", secret)
    )
    raw = json.loads(text)
    data = raw["data"]
    if schema == "cloudevents":
        return func.CloudEvent(
            id=raw["id"], source=raw["source"], type=event_type, specversion="1.0", time=None, subject=secret, data=data
        )
    return func.EventGridEvent(
        id=raw["id"],
        data=data,
        topic=raw["topic"],
        subject=secret,
        event_type=event_type,
        event_time=None,
        data_version="1",
    )


def deliver(evt: Any) -> None:
    FUNCTIONS["RotateOnSecretEvent"](evt)


# Each queue-triggered function by the queue it names.
QUEUE_FUNCTIONS = {
    f.get_trigger().queue_name: f.get_user_function() for f in _DEFINED if f.get_trigger().type == "queueTrigger"
}


def sweep(*, release_visibility: float = 0) -> Any:
    """The timer, then the host's queue triggers in this process until the queues are empty; returns
    how many messages each queue's function took (and released or moved to the poison queue).

    A failed message is visible again after ``release_visibility`` (host.json's 30 s, compressed to 0)."""
    FUNCTIONS["SweepVaults"](None)
    return drain(release_visibility=release_visibility)


def drain(*, release_visibility: float = 0) -> Any:
    from tests.queue_worker import Worker

    worker = Worker(release_visibility=release_visibility, functions=QUEUE_FUNCTIONS)
    return worker.run(idle=0, limit=300)


def delete_queues(connection_string: str) -> None:
    """Forget every message of the sweep's queues (Azurite is shared by the session's tests)."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.queue import QueueServiceClient

    service = QueueServiceClient.from_connection_string(connection_string)
    for queue in service.list_queues():
        with contextlib.suppress(ResourceNotFoundError):
            service.delete_queue(queue.name)


def post_rotate(
    body: Any = None,
    *,
    params: dict[str, str] | None = None,
    raw: bytes | None = None,
    function: str = "RotateSecret",
) -> tuple[int, Any]:
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    request = func.HttpRequest(
        "POST",
        "https://func.example/api/" + function.removesuffix("Secret").lower(),
        body=payload,
        params=params or {},
        headers={"Content-Type": "application/json"},
    )
    response = FUNCTIONS[function](request)
    text = response.get_body().decode()
    PRODUCED.append(text)
    return response.status_code, json.loads(text)


def post_rollback(body: Any) -> tuple[int, Any]:
    return post_rotate(body, function="RollbackSecret")


def calls(cloud: LocalAzure, route: str) -> int:
    return len(cloud.calls(route))


def regenerations(cloud: LocalAzure) -> int:
    """Regenerations Azure accepted (a refused or faulted request changed nothing)."""
    return sum(1 for call in cloud.writes() if not call.route.startswith("keyvault.") and 200 <= call.status < 300)


def assert_nothing_written(cloud: LocalAzure) -> None:
    written = [f"{r.method} {r.path}" for r in cloud.writes()]
    assert written == [], f"a refused request wrote: {written}"


def trigger_all(triggers: list[Callable[[], object]]) -> list[object]:
    """Run the triggers at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(triggers))
    results: list[object] = [None] * len(triggers)

    def run(index: int, trigger: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = trigger()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(triggers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def run_until(fault: Fault, secret: str, *, must_reach: bool = True) -> None:
    """Start a rotation in another process and kill it the moment it meets ``fault``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rotators", "rotate", "--vault", VAULT, "--secret", secret],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not fault.taken.wait(0.05) and process.poll() is None and time.monotonic() < deadline:
        pass
    process.kill()
    out, err = process.communicate()
    PRODUCED.extend([out.decode(), err.decode()])
    if must_reach and not fault.taken.is_set():
        raise AssertionError(f"the rotation never reached {fault.route}: {err.decode()[-500:]!r}")


def redeliver_until_done(event: Any, attempts: int = 20) -> None:
    """Event Grid's behaviour: redeliver while the function raises."""
    for _ in range(attempts):
        try:
            deliver(event)
            return
        except RotationError as exc:
            assert exc.retryable, exc.code
            time.sleep(0.25)
    raise AssertionError(f"still failing after {attempts} deliveries")


def delete_lock_container(connection_string: str) -> None:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob import BlobServiceClient

    with contextlib.suppress(ResourceNotFoundError):
        BlobServiceClient.from_connection_string(connection_string).delete_container("secret-rotation")


def pair_blob_name(cloud: LocalAzure, secret: str) -> str:
    """The lock blob of the key pair a secret's current tags name (the product's own naming)."""
    from rotators.adapters.lock import blob_name
    from rotators.core.clouds import PUBLIC
    from rotators.core.contract import read_contract
    from rotators.kinds import KINDS

    return blob_name(read_contract(cloud.keyvault.current_secret(VAULT, secret).tags, PUBLIC, KINDS).pair_name)


def record_blob(cloud: LocalAzure, connection_string: str, secret: str) -> Any:
    from azure.storage.blob import BlobClient

    return BlobClient.from_connection_string(connection_string, "secret-rotation", pair_blob_name(cloud, secret))


def expire_lock(cloud: LocalAzure, connection_string: str, secret: str) -> None:
    """What lease expiry does for a dead holder, without waiting the 60 s out (no lease: nothing to do)."""
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
    from azure.storage.blob import BlobLeaseClient

    with contextlib.suppress(ResourceExistsError, ResourceNotFoundError):
        BlobLeaseClient(record_blob(cloud, connection_string, secret)).break_lease(lease_break_period=0)


def settle_request(cloud: LocalAzure, connection_string: str, secret: str) -> None:
    """What time does for a regeneration request Azure may still act on, without waiting the settle period out.

    Only for a request Azure has finished with: one still stalled in the stand-in would land later.
    """
    from azure.core.exceptions import ResourceNotFoundError

    blob = record_blob(cloud, connection_string, secret)
    try:
        record = json.loads(blob.download_blob().readall() or b"{}")
    except ResourceNotFoundError:
        return
    rotation = record.get("rotation") or {}
    if rotation.get("requestedAt"):
        rotation["requestedAt"] = (now() - timedelta(days=1)).isoformat()
        metadata = blob.get_blob_properties().metadata
        blob.upload_blob(json.dumps(record).encode(), overwrite=True, metadata=metadata)


# The shapes of the secrets the stand-in issues: 64-byte base64 keys, and Entra ID client secrets
# (localazure.services.graph.models.new_secret_text).
_KEY_SHAPE = re.compile(r"[A-Za-z0-9+/]{86}==|[A-Za-z0-9._~-]{3}8Q~[A-Za-z0-9._~-]{34}")


def assert_no_key_in(texts: list[str], keys: set[str]) -> None:
    leaked = sum(1 for text in texts for token in _KEY_SHAPE.findall(text) if token in keys)
    # Count only: printing the match would itself leak the key into the test report.
    assert leaked == 0, f"{leaked} key value(s) appeared in logs, responses or CLI output"


def same(actual: str, expected: str, what: str) -> None:
    """Compare secret material without letting either value into the failure report."""
    if actual != expected:
        raise AssertionError(f"expected {what}; the values differ (not shown: they are keys)")


def differ(actual: str, other: str, what: str) -> None:
    if actual == other:
        raise AssertionError(f"expected {what}; the values are equal (not shown: they are keys)")


def live_key(resource: ArmResource, credential: str) -> str:
    """The live value of the key a ``CredentialId`` tag names, as the product's kind reads the tag."""
    from rotators.core.resources import credential_key
    from rotators.kinds import kind_for

    return resource.keys[kind_for(resource.provider).credentials[credential_key(credential)].key]


def resource_of(cloud: LocalAzure, resource_id: str) -> ArmResource:
    """The stand-in's resource with this ID, whichever provider serves it."""
    for service in SERVICES:
        backend = getattr(cloud, service.name)
        for resource in backend.resources() if hasattr(backend, "resources") else ():
            if resource.id.lower() == resource_id.lower():
                return resource
    raise AssertionError(f"no resource {resource_id} in the stand-in")


def holds_live_key(cloud: LocalAzure, secret: str) -> None:
    """Safety: the current version's value is the live key its CredentialId names (as is or in a connection string)."""
    current = cloud.keyvault.current_secret(VAULT, secret)
    resource = resource_of(cloud, current.tags["ProviderAddress"])
    if live_key(resource, current.tags["CredentialId"]) not in current.value:
        raise AssertionError(f"secret {secret} does not hold the live {current.tags['CredentialId']} of its account")

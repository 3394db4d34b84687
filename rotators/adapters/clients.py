"""The credential and SDK clients, built on first use and reused for the life of the process.

One ``DefaultAzureCredential`` serves every client, so a warm instance asks for one token
per audience, not one per rotation. Every client, and the credential itself, gets the same
bounded timeouts and retries (azure-core honours ``Retry-After``), and every call is clamped
to the time its trigger has left (``rotators.adapters.bounds``).
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rotators.core.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from azure.core import PipelineClient
    from azure.core.credentials import TokenCredential
    from azure.core.rest import HttpRequest, HttpResponse
    from azure.eventgrid import EventGridPublisherClient
    from azure.keyvault.secrets import SecretClient
    from azure.mgmt.cosmosdb import CosmosDBManagementClient
    from azure.mgmt.storage import StorageManagementClient
    from azure.storage.blob import ContainerClient

    from rotators.core.clouds import Cloud


# The api-version each client sends, pinned so that a dependency bump cannot change what is
# sent, to versions that public Azure, Azure China and Azure US Government all serve (the
# newest SDKs send 2026 versions the sovereign clouds have answered 400 to; README, "Azure API
# versions", gives each choice's source). Each pinned version carries every field the kinds read.
KEY_VAULT_API_VERSION = "7.5"
STORAGE_API_VERSION = "2023-01-01"
COSMOS_API_VERSION = "2023-11-15"
# Event Grid's data plane for basic topics ("Publish events to custom topics"); the SDK's default too.
EVENT_GRID_API_VERSION = "2018-01-01"


def transport_options() -> dict[str, Any]:
    """Timeouts and retries for every pipeline, the credential's included."""
    timeout = get_settings().http_timeout_seconds
    return {
        "connection_timeout": min(timeout, 10.0),
        "read_timeout": timeout,
        "retry_total": 3,
        "retry_backoff_factor": 0.5,
        "retry_backoff_max": 20,
    }


def client_options() -> dict[str, Any]:
    """What every azure-core client gets: the transport options, the whole-call budget, the deadline."""
    from rotators.adapters.bounds import DeadlinePolicy

    options = transport_options()
    return {
        **options,
        "timeout": get_settings().call_budget_seconds,
        "per_call_policies": [
            DeadlinePolicy(read_timeout=options["read_timeout"], connection_timeout=options["connection_timeout"])
        ],
    }


def data_plane_options() -> dict[str, Any]:
    """An azure-core data-plane client that tests a key: the usual bounds, one retry (a refusal is
    retried with backoff by the verification itself)."""
    return {**client_options(), "retry_total": 1}


def blob_options(*, retries: int) -> dict[str, Any]:
    """azure-storage-blob's options: it ignores azure-core's backoff options (its default waits 15 s + 3^n)."""
    from rotators.adapters.bounds import DeadlineRetry

    return {
        **transport_options(),
        # Its annotations say int; the policy computes in floats, and whole seconds would triple the waits.
        "retry_policy": DeadlineRetry(
            initial_backoff=0.5,  # type: ignore[arg-type]
            increment_base=1.5,  # type: ignore[arg-type]
            retry_total=retries,
            random_jitter_range=0.5,  # type: ignore[arg-type]
        ),
    }


def blob_call_options() -> dict[str, Any]:
    """Per-call timeouts clamped to the trigger's time: azure-storage-blob takes no per-call policy."""
    from rotators.core import deadline

    timeout = get_settings().http_timeout_seconds
    return deadline.call_options(read_timeout=timeout, connection_timeout=min(timeout, 10.0))


def arm_options(cloud: Cloud) -> dict[str, Any]:
    """The vault's cloud decides the ARM endpoint and the token audience."""
    return {
        "base_url": cloud.arm_endpoint,
        "credential_scopes": [f"{cloud.arm_endpoint}/.default"],
        **client_options(),
    }


@functools.cache
def credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential

    from rotators.adapters.bounds import DeadlineCredential

    return DeadlineCredential(DefaultAzureCredential(**transport_options()))


@functools.cache
def secret_client(vault_url: str) -> SecretClient:
    from azure.keyvault.secrets import SecretClient

    return SecretClient(vault_url, credential(), api_version=KEY_VAULT_API_VERSION, **client_options())


@functools.cache
def storage_client(subscription: str, cloud: Cloud) -> StorageManagementClient:
    from azure.mgmt.storage import StorageManagementClient

    return StorageManagementClient(credential(), subscription, api_version=STORAGE_API_VERSION, **arm_options(cloud))


@functools.cache
def cosmos_client(subscription: str, cloud: Cloud) -> CosmosDBManagementClient:
    from azure.mgmt.cosmosdb import CosmosDBManagementClient

    return CosmosDBManagementClient(credential(), subscription, api_version=COSMOS_API_VERSION, **arm_options(cloud))


@functools.cache
def management_client(client: str, api_version: str, subscription: str, cloud: Cloud) -> Any:
    """The management client ``package.module:Class`` at a kind's pinned api-version, imported on
    first use and built once per subscription and cloud, so a new kind needs no code here."""
    import importlib

    module, _, name = client.partition(":")
    factory = getattr(importlib.import_module(module), name)
    return factory(credential(), subscription, api_version=api_version, **arm_options(cloud))


@functools.cache
def arm_client(cloud: Cloud) -> Any:
    """azure-mgmt-core's ARM pipeline with the policies a generated management client builds, for a
    kind whose management SDK is not a dependency (those of :mod:`rotators.kinds.armrest`): requests
    go out with ``send_request`` on absolute URLs, under the same timeouts, retries and deadline as
    every client."""
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    options = client_options()
    config = _configuration(options, ARMChallengeAuthenticationPolicy(credential(), f"{cloud.arm_endpoint}/.default"))
    return ARMPipelineClient(cloud.arm_endpoint, config=config, **options)


def data_plane_client(endpoint: str, authentication: Any) -> PipelineClient[HttpRequest, HttpResponse]:
    """A bare azure-core pipeline on ``endpoint`` for a key test no SDK makes (Container Registry's ``/v2/``):
    the bounds of :func:`data_plane_options`, ``authentication`` carrying the key, and no redirect followed
    (the key goes to ``endpoint`` only). Not cached: it holds the key, which is about to change."""
    from azure.core import PipelineClient

    options = {**data_plane_options(), "permit_redirects": False}
    return PipelineClient(endpoint, config=_configuration(options, authentication), **options)


def arm_send(cloud: Cloud, request: HttpRequest, *, accept: tuple[int, ...] = (200,), **options: Any) -> Any:
    """One ARM call through :func:`arm_client`'s pipeline, for a provider whose management SDK is not a
    dependency; an answer outside ``accept`` raises as a generated operation's would (``map_error``, then
    ``HttpResponseError`` in ARM's error format). Returns the JSON answer, ``None`` for an empty one."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        map_error,
    )
    from azure.mgmt.core.exceptions import ARMErrorFormat

    response = arm_client(cloud).send_request(request, **options)
    if response.status_code not in accept:
        errors = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
        map_error(status_code=response.status_code, response=response, error_map=errors)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.json() if response.content else None


def arm_request(cloud: Cloud, method: str, url: str, api_version: str) -> HttpRequest:
    """A request to an ARM path (or to a ``nextLink`` as given, which carries its own api-version)."""
    from azure.core.rest import HttpRequest

    if url.startswith("https://"):
        if not url.lower().startswith(cloud.arm_endpoint.lower() + "/"):  # never send the ARM token elsewhere
            raise ValueError("a link outside the cloud's ARM endpoint")
        return HttpRequest(method, url)
    return HttpRequest(method, cloud.arm_endpoint + url, params={"api-version": api_version})


def arm_call(cloud: Cloud, method: str, path: str, api_version: str, **options: Any) -> Any:
    """:func:`arm_send` of one request to an ARM path."""
    return arm_send(cloud, arm_request(cloud, method, path, api_version), **options)


def arm_scope(subscription: str, resource_group: str | None = None) -> str:
    """The ARM path of a subscription, or of one of its resource groups."""
    scope = f"/subscriptions/{quote(subscription, safe='')}"
    return f"{scope}/resourceGroups/{quote(resource_group, safe='')}" if resource_group else scope


def listed_group(item: dict[str, Any]) -> str | None:
    """The resource group a listed resource's ``id`` names (``None``: an ``id`` not of that shape: skip it)."""
    parts = str(item.get("id") or "").split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" and parts[4] else None


def arm_items(cloud: Cloud, path: str, api_version: str) -> Iterator[dict[str, Any]]:
    """The items of an ARM collection, page by page, following ``nextLink`` as given."""
    link: str | None = path
    while link:
        page = arm_send(cloud, arm_request(cloud, "GET", link, api_version)) or {}
        yield from (item for item in page.get("value") or [] if isinstance(item, dict))
        link = page.get("nextLink") if isinstance(page.get("nextLink"), str) else None


def _configuration(options: dict[str, Any], authentication: Any) -> Any:
    """The policies a generated client builds, from ``options`` (:func:`client_options`), with ``authentication``:
    for a pipeline sent raw requests with ``send_request``."""
    from azure.core.configuration import Configuration
    from azure.core.pipeline import policies

    config: Configuration[Any, Any] = Configuration(**options)
    config.headers_policy = policies.HeadersPolicy(**options)
    config.user_agent_policy = policies.UserAgentPolicy(**options)
    config.proxy_policy = policies.ProxyPolicy(**options)
    config.logging_policy = policies.NetworkTraceLoggingPolicy(**options)
    config.retry_policy = policies.RetryPolicy(**options)
    config.redirect_policy = policies.RedirectPolicy(**options)
    config.custom_hook_policy = policies.CustomHookPolicy(**options)
    config.authentication_policy = authentication
    return config


@functools.cache
def event_publisher(endpoint: str) -> EventGridPublisherClient:
    """The outcome events' publisher: the managed identity, audience https://eventgrid.azure.net.

    Built without options: azure-eventgrid 4.22's ``EventGridPublisherClient`` drops every keyword
    option when no namespace topic is given (its ``_patch.py`` builds the basic-topic client from the
    endpoint, the credential and the api-version alone), so its pipeline keeps azure-core's defaults,
    10 retries and 300 s read timeouts. The bounds go with each send (:func:`publish_call_options`).
    """
    from azure.eventgrid import EventGridPublisherClient

    return EventGridPublisherClient(endpoint, credential(), api_version=EVENT_GRID_API_VERSION)


def publish_call_options() -> dict[str, Any]:
    """One try per send, its timeouts the product's, cut to the trigger's time.

    ``send`` hands its keyword arguments to the pipeline's run (the basic-topic client's ``send`` passes
    them to ``send_request``), where azure-core's retry policy reads ``retry_total`` and the transport
    the timeouts. An event is a courtesy: a second try is not worth the caller's time.
    """
    from rotators.core import deadline

    timeout = get_settings().http_timeout_seconds
    bounds = {"read_timeout": timeout, "connection_timeout": min(timeout, 10.0)}
    return {"retry_total": 0, **bounds, **deadline.call_options(**bounds)}


@functools.cache
def lock_container() -> ContainerClient:
    """The container for rotation locks and records in the host's own ``AzureWebJobsStorage``
    (reached as :func:`host_storage` says).

    The container is created here, once per process, as a call to the lock store like any other:
    bounded by the trigger's time, and a failure mapped by the one error table (a store that does
    not answer, or answers 5xx, is transient). Until it succeeds nothing is cached, so the next
    call tries again.
    """
    from azure.storage.blob import BlobServiceClient

    from rotators.adapters.upstream import calling
    from rotators.core.errors import RotationError

    options = blob_options(retries=3)
    connection, endpoint = host_storage("blob")
    if connection:
        service = BlobServiceClient.from_connection_string(connection, **options)
    else:
        service = BlobServiceClient(endpoint, credential(), **options)
    container = service.get_container_client(LOCK_CONTAINER)
    try:
        with calling("Create the rotation records' container", role=LOCK_STORE_ROLE):
            container.create_container(**blob_call_options())
    except RotationError as exc:
        if exc.answer is None or exc.answer.status != 409:  # 409 ContainerAlreadyExists: it is there
            raise
    return container


LOCK_CONTAINER = "secret-rotation"
# What the function's identity needs for every call to the lock store, named in a 403's message.
LOCK_STORE_ROLE = "Storage Blob Data Owner on the function's own storage account (AzureWebJobsStorage)"


# The identity-based connection's endpoint setting for each service the product uses.
SERVICE_URI_SETTINGS = {
    "blob": "AzureWebJobsStorage__blobServiceUri",
    "queue": "AzureWebJobsStorage__queueServiceUri",
}


def host_storage(service: str) -> tuple[str, str]:
    """How to reach one service (``blob``, ``queue``) of the host's own ``AzureWebJobsStorage``: a
    connection string and ``""``, or ``""`` and the service's endpoint for the managed identity.

    Accepts a connection string (Azurite, or a key-based account) or the identity-based
    ``AzureWebJobsStorage__<service>ServiceUri`` (what infra/ deploys: the account's own endpoint, in any
    cloud) or ``__accountName``. The Functions host reads an account name as public Azure's ("valid
    only if the account isn't in a sovereign cloud", Microsoft's "Connecting to host storage with an
    identity"), and so does this, refusing it when the allowed vaults are in another cloud.
    """
    import os

    from rotators.core.errors import ConfigurationError

    connection = os.environ.get("AzureWebJobsStorage", "").strip()
    service_uri = os.environ.get(SERVICE_URI_SETTINGS[service], "").strip()
    account = os.environ.get("AzureWebJobsStorage__accountName", "").strip()
    if connection:
        return connection, ""
    if service_uri or account:
        return "", service_uri or _public_endpoint(account, service)
    raise ConfigurationError(
        f"AzureWebJobsStorage is not set: set a connection string, {SERVICE_URI_SETTINGS[service]} "
        "or AzureWebJobsStorage__accountName."
    )


def _public_endpoint(account: str, service: str) -> str:
    from rotators.core.clouds import PUBLIC
    from rotators.core.errors import ConfigurationError

    clouds = {vault.cloud.name for vault in get_settings().allowed_vaults} - {PUBLIC.name}
    if clouds:
        raise ConfigurationError(
            f"AzureWebJobsStorage__accountName names an account in public Azure, but the allowed vaults are in "
            f"{', '.join(sorted(clouds))}: set {SERVICE_URI_SETTINGS[service]} to the account's {service} endpoint."
        )
    return f"https://{account}.{service}.{PUBLIC.storage_suffix}"


@functools.cache
def graph_client(graph_host: str) -> PipelineClient[HttpRequest, HttpResponse]:
    """Microsoft Graph through azure-core's pipeline (three REST calls need no Graph SDK: README, "Entra ID
    applications"), with the managed identity's token for that host and the policies, timeouts, retries and
    deadline of every client (:func:`_configuration`). A call that must not be re-sent passes ``retry_total=0``."""
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy

    options = client_options()
    config = _configuration(options, BearerTokenCredentialPolicy(credential(), f"https://{graph_host}/.default"))
    return PipelineClient(f"https://{graph_host}", config=config, **options)


def arm_time(text: object) -> datetime | None:
    """A time an ARM answer gives as ISO text (UTC when it names no zone; Python 3.11 reads seven fractional digits
    and a ``Z``); ``None`` when it is none."""
    try:
        at = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=timezone.utc)

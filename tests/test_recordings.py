"""Replay of live Azure traffic that Microsoft's own test suites recorded (issue 10, item 7).

``tests/recordings/`` holds the recordings byte for byte; its README names the source of each.
Keys in them are scrubbed, so values are never compared: shapes are (key sets, value types, URL forms).

* Contract (``test_stand_in_answers_as_recorded``): each recorded request of an operation the
  product uses goes to the stand-in over HTTPS with a valid token, against resources created
  under the recorded names, and its status, the headers the SDKs read and the body's shape are
  compared with what Azure answered. One test per recording, interaction and aspect, so a
  mismatch names all three; known mismatches are ``xfail(strict=True)`` and say what differs.
* Parsing (``test_product_reads_recorded_answer``): the recorded answers are served to the real
  SDK clients, and the product's own calls (``rotators.kinds``, ``rotators.adapters.vault``), or
  the SDK call where the product makes none, must read every field they use from them.

The api-version sent to the stand-in is the one the product's clients send, never the recorded
one: every recording predates the product's SDKs, and the stand-in speaks (and may accept only)
the versions the product uses. Where a later api-version added (or dropped) a field, an older
recording's answer lacks (or has) it; ``_ADDED_LATER`` and ``_REMOVED_LATER`` list those fields
with the recordings that show the change, and only those differences are let through.

Two recorded requests are not replayed to the stand-in: Key Vault list-versions calls made after a
restore from backup (``*keyvault__test_keyvault_secret`` 2020-07/18, 2023-12/26), a state the
stand-in cannot rebuild; their answers are still parsed.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import yaml

from localazure import LocalAzure
from rotators.adapters import clients
from rotators.core.records import NewVersion

RECORDINGS = Path(__file__).parent / "recordings"
# Folder in tests/recordings -> the short name test ids use.
SOURCES = {
    "azure-cli@eimajtrebor-fork-2020-07": "2020-07",
    "azure-cli@yahyaalaidyaboyaser-fork-2023-12": "2023-12",
    "azure-sdk-assets": "sdk-assets",
}
_SDK_ASSETS_PREFIX = "python__keyvault-secrets__test_samples_secrets.pyTestExamplesKeyVaulttest_example_"
ARM = "management.azure.com"
VAULT_SUFFIX = ".vault.azure.net"
AUDIENCES = {
    "storage": "https://management.azure.com",
    "cosmos": "https://management.azure.com",
    "keyvault": "https://vault.azure.net",
}
TERMINAL = {"Succeeded", "Failed", "Canceled"}
# Every pending status Azure's Cosmos DB operations showed in the recordings (INDEX.md A1, A2, A4).
AZURE_PENDING = {"Enqueued", "Dequeued"}
RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")


# --- reading the recordings ------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    recording: str  # short: "2023-12/cosmosdb__test_keys_database_account", "sdk-assets/secret_crud_operations[7.6]"
    index: int
    method: str
    url: str
    request_headers: dict[str, str] = field(repr=False)
    request_body: str = field(repr=False)
    status: int
    headers: dict[str, str] = field(repr=False)
    body: str = field(repr=False)

    @property
    def name(self) -> str:
        return f"{self.recording}/{self.index}"

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    @property
    def service(self) -> str:
        if self.host.endswith(VAULT_SUFFIX):
            return "keyvault"
        return "storage" if "/microsoft.storage/" in self.path.lower() else "cosmos"

    @property
    def api_version(self) -> str:
        return dict(parse_qsl(self.query)).get("api-version", "")

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body.strip() else None


def _headers(raw: dict[str, Any] | None) -> dict[str, str]:
    return {name.lower(): str(value[0] if isinstance(value, list) else value) for name, value in (raw or {}).items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _load(path: Path) -> list[Interaction]:
    short = f"{SOURCES[path.parent.name]}/{path.stem.removeprefix(_SDK_ASSETS_PREFIX)}"
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":  # test-proxy session record
        return [
            Interaction(
                short,
                index,
                entry["RequestMethod"],
                entry["RequestUri"],
                _headers(entry["RequestHeaders"]),
                _text(entry["RequestBody"]),
                int(entry["StatusCode"]),
                _headers(entry["ResponseHeaders"]),
                _text(entry["ResponseBody"]),
            )
            for index, entry in enumerate(json.loads(text)["Entries"])
        ]
    return [
        Interaction(
            short,
            index,
            item["request"]["method"],
            item["request"]["uri"],
            _headers(item["request"]["headers"]),
            _text(item["request"]["body"]),
            int(item["response"]["status"]["code"]),
            _headers(item["response"]["headers"]),
            _text((item["response"]["body"] or {}).get("string")),
        )
        for index, item in enumerate(yaml.safe_load(text)["interactions"])
    ]


CASSETTES = {
    cassette[0].recording: cassette
    for cassette in (_load(path) for path in sorted(RECORDINGS.glob("*/*.*")) if path.suffix in (".yaml", ".json"))
}


# --- which recorded interactions are operations the product uses -----------------------------

_ACCOUNT = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"(?P<type>Microsoft\.Storage/storageAccounts|Microsoft\.DocumentDB/databaseAccounts)/(?P<name>[^/]+)"
    r"(?P<rest>/.*)?",
    re.IGNORECASE,
)
_STATUS_URL = re.compile(r"/providers/Microsoft\.DocumentDB/locations/[^/]+/operationsStatus/(?P<id>[^/?]+)", re.I)
_RESULT_URL = re.compile(r"/databaseAccounts/[^/]+/regenerateKey/operationResults/(?P<id>[^/?]+)", re.I)
_STORAGE_POLL = re.compile(r"/providers/Microsoft\.Storage/locations/[^/]+/asyncoperations/[^/]+", re.I)
_SECRETS = re.compile(r"/secrets(?:/(?P<name>[^/]+)(?:/(?P<rest>[^/]*))?)?/?")
_ARM_OPERATIONS = {
    ("storage", "POST", "/listkeys"): "storage.list_keys",
    ("storage", "POST", "/regeneratekey"): "storage.regenerate_key",
    ("storage", "GET", ""): "storage.get_account",
    ("cosmos", "GET", ""): "cosmos.get_account",
    ("cosmos", "POST", "/listkeys"): "cosmos.list_keys",
    ("cosmos", "POST", "/readonlykeys"): "cosmos.readonly_keys",
    ("cosmos", "POST", "/listconnectionstrings"): "cosmos.list_connection_strings",
    ("cosmos", "POST", "/regeneratekey"): "cosmos.regenerate_key",
}
POLLS = ("cosmos.operation_status", "cosmos.operation_result")


def _regenerations(cassette: list[Interaction]) -> dict[str, Interaction]:
    """Operation id -> the Cosmos DB regenerateKey that started it (from its status and result URLs)."""
    found = {}
    for item in cassette:
        if item.service == "cosmos" and item.method == "POST" and item.path.lower().endswith("/regeneratekey"):
            for header in ("azure-asyncoperation", "location"):
                url = item.headers.get(header, "")
                if match := _STATUS_URL.search(url) or _RESULT_URL.search(url):
                    found[match["id"]] = item
    return found


def _secret_name(item: Interaction) -> str | None:
    match = _SECRETS.fullmatch(item.path)
    return match["name"].lower() if match and match["name"] else None


def _vault_operation(item: Interaction) -> str | None:
    if item.status == 401:
        return "keyvault.challenge"
    match = _SECRETS.fullmatch(item.path)
    if match is None or (match["name"] is None and item.method != "GET"):
        return None
    if match["name"] is None:
        return "keyvault.list_secrets"
    if item.method == "GET":
        return "keyvault.list_versions" if match["rest"] == "versions" else "keyvault.get_secret"
    if item.method == "PUT" and not match["rest"]:
        return "keyvault.set_secret"
    return "keyvault.update_secret" if item.method == "PATCH" else None


def _arm_operation(item: Interaction, regenerations: dict[str, Interaction]) -> str | None:
    for pattern, name in ((_STATUS_URL, "cosmos.operation_status"), (_RESULT_URL, "cosmos.operation_result")):
        if (match := pattern.search(item.path)) and match["id"] in regenerations:
            return name
    if _STORAGE_POLL.search(item.path) and item.status == 200 and item.body:
        return "storage.account"  # a create's last poll answers with the account, as a GET would
    match = _ACCOUNT.fullmatch(item.path)
    if match is None:
        return None
    service = "storage" if match["type"].lower().startswith("microsoft.storage") else "cosmos"
    return _ARM_OPERATIONS.get((service, item.method, (match["rest"] or "").rstrip("/").lower()))


def _operation(item: Interaction, regenerations: dict[str, Interaction]) -> str | None:
    if item.host.endswith(VAULT_SUFFIX):
        return _vault_operation(item)
    return _arm_operation(item, regenerations) if item.host == ARM else None


@dataclass(frozen=True)
class Case:
    interaction: Interaction
    operation: str
    origin: Interaction | None = None  # the regenerateKey a poll belongs to
    operation_id: str = ""
    setup: tuple[Interaction, ...] = ()  # Key Vault writes to replay first, so the vault holds what it held
    previous_page: Interaction | None = None  # the page whose nextLink this request follows
    reproducible: bool = True

    @property
    def id(self) -> str:
        return f"{self.interaction.name}-{self.operation}"


def _vault_history(cassette: list[Interaction], item: Interaction) -> tuple[tuple[Interaction, ...], bool]:
    """The recorded secret writes before ``item`` still in force, and whether the stand-in can hold that state
    (it has no delete/restore: a secret restored from a backup cannot be rebuilt)."""
    writes: list[Interaction] = []
    restored: set[str] = set()
    for earlier in cassette[: item.index]:
        name = _secret_name(earlier)
        if earlier.status >= 300:
            continue
        if earlier.method == "DELETE" and earlier.path.startswith("/secrets/"):
            writes = [write for write in writes if _secret_name(write) != name]
            restored.discard(name or "")
        elif earlier.method == "POST" and earlier.path.rstrip("/") == "/secrets/restore":
            restored.add(urlsplit(earlier.json()["id"]).path.split("/")[2].lower())
        elif _vault_operation(earlier) in ("keyvault.set_secret", "keyvault.update_secret"):
            writes.append(earlier)
    touched = _secret_name(item)
    return tuple(writes), not (restored and (touched is None or touched in restored))


def _same_url(a: str, b: str) -> bool:
    """The same request URL, ignoring an explicit default port (Key Vault's nextLinks carry ``:443``)."""
    one, other = urlsplit(a), urlsplit(b)
    return (one.hostname, one.path, one.query) == (other.hostname, other.path, other.query)


def _catalogue() -> list[Case]:
    cases = []
    for cassette in CASSETTES.values():
        regenerations = _regenerations(cassette)
        for item in cassette:
            operation = _operation(item, regenerations)
            if operation is None:
                continue
            case = Case(item, operation)
            if operation in POLLS:
                match = _STATUS_URL.search(item.path) or _RESULT_URL.search(item.path)
                assert match is not None
                case = Case(item, operation, regenerations[match["id"]], match["id"])
            elif item.service == "keyvault":
                setup, reproducible = _vault_history(cassette, item)
                previous = next(
                    (
                        earlier
                        for earlier in cassette[: item.index]
                        if _same_url(str((_json_or_none(earlier) or {}).get("nextLink") or ""), item.url)
                    ),
                    None,
                )
                case = Case(item, operation, setup=setup, previous_page=previous, reproducible=reproducible)
            cases.append(case)
    return cases


def _json_or_none(item: Interaction) -> Any:
    try:
        parsed = item.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


CASES = _catalogue()


# --- comparing answers ------------------------------------------------------------------------

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def url_shape(url: str, *, host: bool = True) -> str:
    """A URL with its identifiers generalised: GUIDs, 32-hex versions, region names; query parameter names only."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    shaped = []
    for at, segment in enumerate(segments):
        if _GUID.fullmatch(segment):
            segment = "{guid}"  # noqa: PLW2901
        elif _HEX32.fullmatch(segment):
            segment = "{version}"  # noqa: PLW2901
        elif at and segments[at - 1].lower() == "locations":
            segment = "{location}"  # noqa: PLW2901
        shaped.append(segment)
    where = (parts.hostname or "") if host else "{host}"
    port = f":{parts.port}" if parts.port else ""
    names = "&".join(sorted(name for name, _ in parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.scheme}://{where}{port}{'/'.join(shaped)}" + (f"?{names}" if names else "")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "url" if value.startswith("https://") else "string"
    return "array" if isinstance(value, list) else "object"


def _skeleton(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _skeleton(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_skeleton(item) for item in value]
    return _kind(value)


def _canonical(value: Any) -> str:
    return json.dumps(_skeleton(value), sort_keys=True)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def shape_diffs(want: Any, got: Any, excused: Callable[[str, str], bool], path: str = "") -> list[str]:
    """How ``got`` differs in shape from ``want``: keys recursively, value types, URL forms; never values."""
    where = path or "(body)"
    if _kind(want) != _kind(got):
        return [f"{where}: {_kind(want)} in the recording, {_kind(got)} from the stand-in"]
    diffs: list[str] = []
    if isinstance(want, dict):
        diffs += [
            f"{_join(path, key)}: missing from the stand-in's answer"
            for key in sorted(want.keys() - got.keys())
            if not excused(_join(path, key), "missing")
        ]
        diffs += [
            f"{_join(path, key)}: only in the stand-in's answer"
            for key in sorted(got.keys() - want.keys())
            if not excused(_join(path, key), "extra")
        ]
        for key in sorted(want.keys() & got.keys()):
            diffs += shape_diffs(want[key], got[key], excused, _join(path, key))
    elif isinstance(want, list):
        if len(want) != len(got):
            diffs.append(f"{where}: {len(want)} items in the recording, {len(got)} from the stand-in")
        for one, other in zip(sorted(want, key=_canonical), sorted(got, key=_canonical), strict=False):
            diffs += [diff for diff in shape_diffs(one, other, excused, f"{path}[]") if diff not in diffs]
    elif _kind(want) == "url" and url_shape(want, host=False) != url_shape(got, host=False):
        recorded, answered = url_shape(want, host=False), url_shape(got, host=False)
        diffs.append(f"{where}: {recorded} in the recording, {answered} from the stand-in")
    return diffs


# What changed between the api-versions recorded: the older recordings' answers lack a field that the newer
# recordings of the same operation always show (or the reverse), and the stand-in answers as the version the
# product sends. (operation prefix, path) -> the api-version of the newer recordings that show the change.
_ADDED_LATER: dict[tuple[str, str], str] = {
    # storage__test_renew_account_key.yaml: 2019-06-01 (2020-07) has no creationTime, 2023-01-01 (2023-12) has it.
    ("storage.", "keys[].creationTime"): "2023-01-01",
    # keyvault__test_keyvault_secret.yaml: 7.0 (2020-07) has no recoverableDays, 7.4 (2023-12) and 7.6 have it.
    ("keyvault.", "attributes.recoverableDays"): "7.4",
    ("keyvault.", "value[].attributes.recoverableDays"): "7.4",
    # cosmosdb__test_update_database_account.yaml: 2020-04-01 lists no keyKind or type, 2023-11-15 does.
    ("cosmos.list_connection_strings", "connectionStrings[].keyKind"): "2023-11-15",
    ("cosmos.list_connection_strings", "connectionStrings[].type"): "2023-11-15",
    # Every 2023-11-15 account GET has these (both cosmosdb cassettes); no 2020-04-01 one does.
    **{
        ("cosmos.get_account", path): "2023-11-15"
        for path in (
            "identity",
            "properties.analyticalStorageConfiguration",
            "properties.backupPolicy",
            "properties.defaultIdentity",
            "properties.disableLocalAuth",
            "properties.enableBurstCapacity",
            "properties.enablePartitionMerge",
            "properties.keysMetadata",
            "properties.minimalTlsVersion",
            "properties.networkAclBypass",
            "properties.networkAclBypassResourceIds",
            "properties.sqlEndpoint",
        )
    },
}
_REMOVED_LATER: dict[tuple[str, str], str] = {
    # Every 2020-04-01 account GET has these; no 2023-11-15 one does.
    ("cosmos.get_account", "properties.connectorOffer"): "2023-11-15",
    ("cosmos.get_account", "properties.enableCassandraConnector"): "2023-11-15",
}


def _excuser(case: Case) -> Callable[[str, str], bool]:
    """Whether a difference at a path is only the api-version: ``which`` is "extra" (only in the
    stand-in's answer) or "missing" (only in the recording's)."""
    recorded = case.interaction.api_version

    def excused(path: str, which: str) -> bool:
        table = _ADDED_LATER if which == "extra" else _REMOVED_LATER
        return any(
            case.operation.startswith(prefix)
            and (path == changed or path.startswith(f"{changed}."))
            and recorded < since
            for (prefix, changed), since in table.items()
        )

    return excused


def _media(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _challenge(value: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = value.partition(" ")
    return scheme.lower(), {key.lower(): item for key, item in re.findall(r'([\w-]+)="([^"]*)"', rest)}


def _challenge_diffs(want: str, got: str) -> list[str]:
    (scheme, recorded), (their_scheme, answered) = _challenge(want), _challenge(got)
    diffs = []
    if scheme != their_scheme or recorded.keys() != answered.keys():
        diffs.append(f"www-authenticate: {scheme} {sorted(recorded)} recorded, {their_scheme} {sorted(answered)}")
    if recorded.get("resource") != answered.get("resource"):
        diffs.append(f"www-authenticate resource: {recorded.get('resource')} recorded, {answered.get('resource')}")
    # The SDK takes only the tenant from the authority (2020 named login.windows.net, 2023 login.microsoftonline.com).
    authority, their_authority = recorded.get("authorization", ""), answered.get("authorization", "")
    if url_shape(authority, host=False) != url_shape(their_authority, host=False):
        diffs.append(f"www-authenticate authorization: {authority} recorded, {their_authority} from the stand-in")
    return diffs


def header_diffs(recorded: Interaction, answer: requests.Response) -> list[str]:
    """The headers the SDKs read: content-type, the LRO URLs, Retry-After in any form, the Key Vault challenge."""
    got = {name.lower(): value for name, value in answer.headers.items()}
    want = recorded.headers
    diffs = []
    if "content-type" in want and recorded.body and _media(got.get("content-type")) != _media(want["content-type"]):
        diffs.append(f"content-type: {want['content-type']} recorded, {got.get('content-type')} from the stand-in")
    for name in ("azure-asyncoperation", "location") if recorded.host == ARM else ():
        if (name in want) != (name in got):
            diffs.append(f"{name}: {'present' if name in want else 'absent'} in the recording, not so in the stand-in")
        elif name in want and url_shape(want[name]) != url_shape(got[name]):
            diffs.append(f"{name}: {url_shape(want[name])} recorded, {url_shape(got[name])} from the stand-in")
    recorded_retry = [name for name in RETRY_HEADERS if name in want]
    answered_retry = [name for name in RETRY_HEADERS if name in got]
    if recorded_retry != answered_retry:
        diffs.append(f"retry headers: {recorded_retry or 'none'} recorded, {answered_retry or 'none'} in the stand-in")
    if ("www-authenticate" in want) != ("www-authenticate" in got):
        diffs.append("www-authenticate: present on one side only")
    elif "www-authenticate" in want:
        diffs += _challenge_diffs(want["www-authenticate"], got["www-authenticate"])
    return diffs


def body_diffs(case: Case, answer: requests.Response) -> list[str]:
    want = case.interaction.json()
    text = answer.content.decode("utf-8", "replace")
    if want is None:
        return [f"the recording has no body; the stand-in answered {len(text)} bytes"] if text.strip() else []
    try:
        got = json.loads(text) if text.strip() else None
    except ValueError:
        return ["the stand-in's body is not JSON"]
    if got is None:
        return [f"the recording has a body ({_canonical(want)[:200]}); the stand-in answered none"]
    diffs = shape_diffs(want, got, _excuser(case))
    if case.operation in (*POLLS, "cosmos.regenerate_key") and isinstance(got, dict) and "status" in want:
        recorded, answered = want["status"], got.get("status")
        if recorded in TERMINAL and answered != recorded:
            diffs.append(f"status: {recorded!r} in the recording, {answered!r} from the stand-in")
        if recorded not in TERMINAL and answered not in AZURE_PENDING:
            diffs.append(
                f"status: {answered!r} from the stand-in where Azure says {recorded!r} "
                f"(its pending statuses: {', '.join(sorted(AZURE_PENDING))})"
            )
    return diffs


# --- the contract: the stand-in answers each recorded request as Azure did -----------------------

_API_VERSION = re.compile(r"(^|&)api-version=[^&]*")


def _product_api_versions() -> dict[str, str]:
    """What the product's clients send (built as the product builds them)."""
    from rotators.core.clouds import PUBLIC

    subscription = "00000000-0000-0000-0000-000000000000"
    return {
        "storage": str(clients.storage_client(subscription, PUBLIC)._config.api_version),
        "cosmos": str(clients.cosmos_client(subscription, PUBLIC)._config.api_version),
        "keyvault": str(clients.secret_client("https://kv-app.vault.azure.net").api_version),
    }


class _Client:
    """Sends recorded requests to the stand-in through its proxy, as the SDKs would, with a valid token."""

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.versions = _product_api_versions()
        self._tokens: dict[str, str] = {}
        self.sent: list[str] = []

    def token(self, audience: str) -> str:
        if audience not in self._tokens:
            from azure.identity import DefaultAzureCredential

            self._tokens[audience] = DefaultAzureCredential().get_token(f"{audience}/.default").token
        return self._tokens[audience]

    def send(
        self, item: Interaction, *, path: str | None = None, url: str | None = None, authorize: bool = True
    ) -> requests.Response:
        if url is None:
            # The recorded api-version predates the product's SDKs: send the one the product sends.
            query = _API_VERSION.sub(lambda m: f"{m[1]}api-version={self.versions[item.service]}", item.query)
            url = f"https://{item.host}{path or item.path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if item.request_body:
            headers["Content-Type"] = item.request_headers.get("content-type", "application/json")
        if authorize:
            headers["Authorization"] = f"Bearer {self.token(AUDIENCES[item.service])}"
        self.sent.append(f"{item.method} {url}")
        return requests.request(item.method, url, data=item.request_body.encode() or None, headers=headers, timeout=30)


def _create_account(cloud: LocalAzure, item: Interaction) -> None:
    match = _ACCOUNT.search(item.path)
    assert match is not None, item.name
    create = cloud.storage.create_account if item.service == "storage" else cloud.cosmosdb.create_account
    create(match["name"], subscription=match["sub"], resource_group=match["rg"])


def _replay(client: _Client, case: Case) -> requests.Response:
    item = case.interaction
    if item.host == ARM:
        _create_account(client.cloud, case.origin or item)
        if case.origin is None:
            return client.send(item)
        # A poll: start the same operation, let it be pending or done as the recorded answer was, and
        # send the recorded poll request with the stand-in's operation id in place of Azure's.
        client.cloud.cosmosdb.operation_delay = 0.0 if (item.json() or {}).get("status") in TERMINAL else 3600.0
        client.cloud.cosmosdb.retry_after = None  # as recorded: no Retry-After
        client.cloud.cosmosdb.status_readable = True  # the recording's identity could read it
        started = client.send(case.origin)
        assert started.status_code == 202, f"{case.origin.name}: the stand-in answered {started.status_code}"
        found = _STATUS_URL.search(started.headers.get("Azure-AsyncOperation", ""))
        assert found is not None, f"{case.origin.name}: no operation id in the stand-in's Azure-AsyncOperation"
        return client.send(item, path=item.path.replace(case.operation_id, found["id"]))
    client.cloud.keyvault.create_vault(item.host.removesuffix(VAULT_SUFFIX))
    versions = {}  # Azure's version ids in the recording -> the stand-in's for the same writes
    for write in case.setup:
        done = client.send(write, path=_with_versions(write.path, versions))
        assert done.status_code == 200, f"setup {write.name}: the stand-in answered {done.status_code}"
        versions[_version_of(write.json()["id"])] = _version_of(done.json()["id"])
    if case.previous_page is not None:
        page = client.send(case.previous_page)
        next_link = page.json().get("nextLink") if page.ok else None
        assert next_link, f"{case.previous_page.name}: the stand-in gave no nextLink where Azure gave one"
        return client.send(item, url=next_link)
    return client.send(item, path=_with_versions(item.path, versions), authorize=case.operation != "keyvault.challenge")


def _version_of(secret_id: str) -> str:
    return urlsplit(secret_id).path.rstrip("/").split("/")[-1]


def _with_versions(path: str, versions: dict[str, str]) -> str:
    return "/".join(versions.get(segment, segment) for segment in path.split("/"))


def _recorded_status(case: Case) -> Any:
    return (_json_or_none(case.interaction) or {}).get("status")


def _has_next_link(case: Case) -> bool:
    return bool((_json_or_none(case.interaction) or {}).get("nextLink"))


def _kerb_listing_without_kerb(case: Case) -> bool:
    names = {key.get("keyName") for key in (_json_or_none(case.interaction) or {}).get("keys", [])}
    return "$expand=kerb" in case.interaction.query and not names & {"kerb1", "kerb2"}


def _bundle_without_tags(case: Case) -> bool:
    body = _json_or_none(case.interaction) or {}
    return (
        case.operation in ("keyvault.set_secret", "keyvault.get_secret", "keyvault.update_secret")
        and "tags" not in body
    )


# Where the stand-in still disagrees with the recordings, none of which the product depends on:
# (which cases, aspect, what differs). Each case is xfail(strict=True): it fails loudly once fixed.
KNOWN_MISMATCHES: list[tuple[Callable[[Case], bool], str, str]] = [
    (
        lambda case: case.operation == "cosmos.get_account",
        "body",
        "the Cosmos DB account GET is trimmed: it lacks 14 (2020-04-01) to 25 (2023-11-15) of the properties Azure "
        "returns (backupPolicy, publicNetworkAccess, failoverPolicies, ipRules, ...), "
        "consistencyPolicy.maxStalenessPrefix, locations[].isZoneRedundant and (2023) identity and systemData",
    ),
    (
        lambda case: case.operation == "cosmos.regenerate_key",
        "headers",
        "regenerateKey's Location points at .../locations/{loc}/operationResults/{id}, Azure's at "
        ".../databaseAccounts/{name}/regenerateKey/operationResults/{id}; it sends retry-after-ms where Azure sends "
        "no Retry-After at all (2023: Azure-AsyncOperation also carries signed t, c, s, h query parameters)",
    ),
    (
        lambda case: case.operation.startswith("keyvault.list") and _has_next_link(case),
        "body",
        "Key Vault nextLink has no explicit port; Azure's is https://{vault}.vault.azure.net:443/...",
    ),
    (
        _kerb_listing_without_kerb,
        "body",
        "listKeys?$expand=kerb lists kerb1 and kerb2 on every account; Azure lists them only where Kerberos "
        "(AADDS) is enabled",
    ),
    (
        _bundle_without_tags,
        "body",
        'a secret without tags is answered with "tags": {}; Key Vault leaves tags out',
    ),
]


def _contract_params() -> Iterator[Any]:
    for case in CASES:
        if case.operation == "storage.account" or not case.reproducible:
            continue  # no recorded request to replay / a state the stand-in cannot rebuild (restore from backup)
        for aspect in ("status", "headers", "body"):
            reasons = [reason for applies, which, reason in KNOWN_MISMATCHES if which == aspect and applies(case)]
            marks = [pytest.mark.xfail(strict=True, reason=f"stand-in: {'; '.join(reasons)}")] if reasons else []
            yield pytest.param(case, aspect, id=f"{case.id}-{aspect}", marks=marks)


@pytest.mark.parametrize(("case", "aspect"), list(_contract_params()))
def test_stand_in_answers_as_recorded(cloud: LocalAzure, case: Case, aspect: str) -> None:
    client = _Client(cloud)
    answer = _replay(client, case)
    recorded = case.interaction
    request = client.sent[-1]
    if aspect == "status":
        assert answer.status_code == recorded.status, (
            f"{request}: Azure {recorded.status}, stand-in {answer.status_code}"
        )
        return
    diffs = header_diffs(recorded, answer) if aspect == "headers" else body_diffs(case, answer)
    assert not diffs, f"{request} ({recorded.name}, stand-in {answer.status_code}):\n" + "\n".join(diffs)


# --- parsing: the product's SDK calls read the recorded answers ----------------------------------


class _Credential:
    """Tokens for the SDK clients; remembers what each request asked for (Key Vault's challenge names the tenant)."""

    def __init__(self) -> None:
        self.asked: list[tuple[tuple[str, ...], str | None]] = []

    def get_token(self, *scopes: str, tenant_id: str | None = None, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.asked.append((scopes, tenant_id))
        return AccessToken("recorded-traffic", int(time.time()) + 3600)


class _Replay(requests.adapters.BaseAdapter):
    """A requests transport that answers with recorded responses, in order; an unauthenticated request
    (Key Vault's first) gets the recorded challenge."""

    def __init__(self, script: list[Interaction], *, challenge: Interaction | None = None) -> None:
        super().__init__()
        self.script = list(script)
        self.challenge = challenge
        self.exchanges: list[tuple[requests.PreparedRequest, Interaction]] = []
        self._builder = requests.adapters.HTTPAdapter()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if self.challenge is not None and "Authorization" not in request.headers:
            return self._answer(request, self.challenge)
        assert self.script, f"the SDK sent {request.method} {request.url} beyond the recorded exchange"
        recorded = self.script.pop(0)
        self.exchanges.append((request, recorded))
        return self._answer(request, recorded)

    def _answer(self, request: requests.PreparedRequest, recorded: Interaction) -> requests.Response:
        import urllib3

        headers = {
            name: value
            for name, value in recorded.headers.items()
            if name not in ("content-length", "transfer-encoding", "content-encoding")
        }
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(recorded.body.encode()),
            headers=headers,
            status=recorded.status,
            preload_content=False,
            decode_content=False,
        )
        return self._builder.build_response(request, raw)

    def close(self) -> None:
        self._builder.close()

    def sent_as_recorded(self, path: str | None = None) -> None:
        """Every request the SDK sent had the recorded method and path (or ``path``)."""
        assert not self.script, f"the SDK stopped before {[item.name for item in self.script]}"
        for request, recorded in self.exchanges:
            sent = urlsplit(request.url or "")
            assert (request.method, sent.path.lower()) == (recorded.method, (path or recorded.path).lower()), (
                f"{recorded.name}: the SDK sent {request.method} {sent.path}, Azure was sent {recorded.method} "
                f"{path or recorded.path}"
            )


def _transport(replay: _Replay) -> Any:
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    session.trust_env = False
    session.mount("https://", replay)
    return RequestsTransport(session=session, session_owner=False)


def _resource(account_id: str) -> Any:
    from rotators.core.clouds import PUBLIC
    from rotators.core.parsing import parse_resource_id
    from rotators.core.resources import Resource

    parsed = parse_resource_id(account_id)
    assert parsed is not None, f"the product refuses the recorded account id {account_id}"
    return Resource(parsed, PUBLIC)


def _account_id(item: Interaction) -> str:
    match = _ACCOUNT.search(item.path)
    assert match is not None, item.name
    return f"/subscriptions/{match['sub']}/resourceGroups/{match['rg']}/providers/{match['type']}/{match['name']}"


def _storage(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.mgmt.storage import StorageManagementClient

    from rotators.kinds.storage import KIND

    item, body = case.interaction, case.interaction.json()
    account_id = body["id"] if case.operation == "storage.account" else _account_id(item)
    resource = _resource(account_id)
    replay = _Replay([item, item])
    client = StorageManagementClient(_Credential(), resource.subscription, transport=_transport(replay))
    monkeypatch.setattr(clients, "storage_client", lambda subscription, cloud: client)
    accounts = client.storage_accounts
    if case.operation == "storage.account":
        # The product's describe (a GET of the account) reads keyCreationTime and allowSharedKeyAccess.
        described = KIND.describe(resource)
        created = body["properties"].get("keyCreationTime")
        assert sorted(described.generated) == (["key1", "key2"] if created else [])
        assert described.key_auth_disabled is None  # allowSharedKeyAccess absent: keys allowed
        account = accounts.get_properties(resource.resource_group, resource.name)
        assert account.allow_shared_key_access is body["properties"].get("allowSharedKeyAccess")
        replay.sent_as_recorded(path=account_id)
        return
    if case.operation == "storage.list_keys":
        keys = KIND.list_keys(resource)
        listed = accounts.list_keys(resource.resource_group, resource.name)
    else:
        key_name = item.request_json()["keyName"]
        keys = KIND.regenerate(resource, key_name) or {}
        sent = json.loads(replay.exchanges[0][0].body or b"null")
        assert sent == item.request_json(), f"the product sent {sent}, Azure was sent {item.request_json()}"
        listed = accounts.regenerate_key(resource.resource_group, resource.name, {"keyName": key_name})
    assert sorted(keys) == ["key1", "key2"] and all(keys.values())
    for key, raw in zip(listed.keys_property or [], body["keys"], strict=True):
        assert key.key_name == raw["keyName"] and key.value and key.permissions
        assert (key.creation_time is not None) == ("creationTime" in raw), key.key_name
    replay.sent_as_recorded()


def _cosmos(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.mgmt.cosmosdb import CosmosDBManagementClient

    from rotators.kinds.cosmosdb import KIND

    item, body = case.interaction, case.interaction.json()
    resource = _resource(_account_id(item))
    replay = _Replay([item, item])
    client = CosmosDBManagementClient(_Credential(), resource.subscription, transport=_transport(replay))
    monkeypatch.setattr(clients, "cosmos_client", lambda subscription, cloud: client)
    accounts, group, name = client.database_accounts, resource.resource_group, resource.name
    kinds = ("primary", "secondary", "primaryReadonly", "secondaryReadonly")
    if case.operation == "cosmos.get_account":
        described = KIND.describe(resource)
        properties = body["properties"]
        assert sorted(described.generated) == sorted(kinds if "keysMetadata" in properties else [])
        assert (described.key_auth_disabled is not None) == bool(properties.get("disableLocalAuth"))
        account = accounts.get(group, name)
        assert account.disable_local_auth is properties.get("disableLocalAuth")
        if "keysMetadata" in properties:
            assert account.keys_metadata is not None and account.keys_metadata.primary_master_key is not None
            assert account.keys_metadata.primary_master_key.generation_time is not None
    elif case.operation == "cosmos.list_keys":
        keys = KIND.list_keys(resource)
        assert sorted(keys) == sorted(kinds) and all(keys.values())
        replay.script.pop()  # the product's call is the SDK's
    elif case.operation == "cosmos.readonly_keys":
        read_only = accounts.list_read_only_keys(group, name)
        assert read_only.primary_readonly_master_key and read_only.secondary_readonly_master_key
        replay.script.pop()
    elif case.operation == "cosmos.list_connection_strings":
        strings = accounts.list_connection_strings(group, name).connection_strings or []
        assert len(strings) == len(body["connectionStrings"])
        assert all(each.connection_string and each.description for each in strings)
        assert [each.key_kind for each in strings] == [raw.get("keyKind") for raw in body["connectionStrings"]]
        replay.script.pop()
    else:  # regenerateKey: 202 {"status":"Enqueued"}, not followed (the product reads completion from the account)
        assert KIND.regenerate(resource, item.request_json()["keyKind"]) is None
        sent = json.loads(replay.exchanges[0][0].body or b"null")
        assert sent == item.request_json(), f"the product sent {sent}, Azure was sent {item.request_json()}"
        replay.script.pop()
    replay.sent_as_recorded()


def _vault_client(case: Case, script: list[Interaction], credential: _Credential) -> tuple[Any, _Replay]:
    from azure.keyvault.secrets import SecretClient

    cassette = CASSETTES[case.interaction.recording]
    challenge = next(item for item in cassette if item.status == 401 and item.host == case.interaction.host)
    replay = _Replay(script, challenge=challenge)
    return SecretClient(f"https://{case.interaction.host}", credential, transport=_transport(replay)), replay


def _pages(case: Case) -> list[Interaction]:
    """The recorded list page and the pages its nextLinks lead to."""
    chain, cassette = [case.interaction], CASSETTES[case.interaction.recording]
    while link := (_json_or_none(chain[-1]) or {}).get("nextLink"):
        chain.append(next(item for item in cassette if item.index > chain[-1].index and _same_url(item.url, link)))
    return chain


def _vault(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timezone

    from rotators.adapters import vault
    from rotators.core.clouds import VaultAddress

    item, credential = case.interaction, _Credential()
    address = VaultAddress.from_url(f"https://{item.host}")
    if case.operation == "keyvault.challenge":
        # The recorded 401, then the write it held back; the token asked for names the challenge's tenant.
        from azure.keyvault.secrets._shared import http_challenge_cache

        http_challenge_cache.remove_challenge_for_url(f"https://{item.host}")
        written = CASSETTES[item.recording][item.index + 1]
        client, replay = _vault_client(case, [written], credential)
        monkeypatch.setattr(clients, "secret_client", lambda url: client)
        version = NewVersion(_secret_name(written) or "", {}, None, datetime.now(timezone.utc))
        info = vault.write_version(address, version, "v")
        assert info.version and info.created_on
        tenant = urlsplit(_challenge(item.headers["www-authenticate"])[1]["authorization"]).path.strip("/")
        assert credential.asked == [(("https://vault.azure.net/.default",), tenant)]
        replay.sent_as_recorded()
        return
    pages = _pages(case) if case.operation.startswith("keyvault.list") else [item]
    client, replay = _vault_client(case, pages, credential)
    monkeypatch.setattr(clients, "secret_client", lambda url: client)
    body = item.json()
    _VAULT_CALLS[case.operation](client, address, item, body, pages)
    replay.sent_as_recorded()


def _vault_get(client: Any, address: Any, item: Interaction, body: Any, pages: list[Interaction]) -> None:
    from rotators.adapters import vault

    name, version = _secret_name(item) or "", _version_of(body["id"])
    if item.path.endswith("/"):  # the latest version: the product's read
        info, value = vault.read_current(address, name)
        assert (info.version, info.tags, info.content_type) == (version, body.get("tags", {}), body.get("contentType"))
        assert info.created_on is not None and value == body["value"]
    else:
        secret = client.get_secret(name, version)
        assert secret.properties.version == version and secret.properties.created_on is not None
        assert secret.value == body["value"]


def _vault_set(client: Any, address: Any, item: Interaction, body: Any, pages: list[Interaction]) -> None:
    from datetime import datetime, timezone

    from rotators.adapters import vault

    info = vault.write_version(address, NewVersion(_secret_name(item) or "", {}, None, datetime.now(timezone.utc)), "v")
    assert info.version == _version_of(body["id"]) and info.created_on is not None
    assert info.tags == body.get("tags", {}) and info.content_type == body.get("contentType")
    assert (info.expires_on is not None) == ("exp" in body["attributes"])


def _vault_list(client: Any, address: Any, item: Interaction, body: Any, pages: list[Interaction]) -> None:
    from rotators.adapters import vault

    recorded = [entry for page in pages for entry in page.json()["value"]]
    if item.path.rstrip("/") == "/secrets":  # the product's sweep
        listed = list(vault.list_secrets(address))
        assert [info.name for info in listed] == [urlsplit(entry["id"]).path.split("/")[2] for entry in recorded]
        assert all(info.created_on is not None for info in listed)
        return
    versions = list(client.list_properties_of_secret_versions(_secret_name(item)))
    assert [each.version for each in versions] == [_version_of(entry["id"]) for entry in recorded]
    assert all(each.created_on is not None and each.enabled is not None for each in versions)


def _vault_update(client: Any, address: Any, item: Interaction, body: Any, pages: list[Interaction]) -> None:
    sent = item.request_json() or {}
    properties = client.update_secret_properties(
        _secret_name(item),
        _version_of(item.path) if not item.path.endswith("/") else None,
        enabled=sent.get("attributes", {}).get("enabled"),
        content_type=sent.get("contentType"),
        tags=sent.get("tags"),
    )
    assert properties.version == _version_of(body["id"]) and properties.updated_on is not None
    assert properties.enabled == body["attributes"]["enabled"]


_VAULT_CALLS: dict[str, Callable[[Any, Any, Interaction, Any, list[Interaction]], None]] = {
    "keyvault.get_secret": _vault_get,
    "keyvault.set_secret": _vault_set,
    "keyvault.list_secrets": _vault_list,
    "keyvault.list_versions": _vault_list,
    "keyvault.update_secret": _vault_update,
}


def _parse_params() -> Iterator[Any]:
    for case in CASES:
        if case.operation not in POLLS:  # the product never reads a status URL (rotators/kinds/cosmosdb.py)
            yield pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", list(_parse_params()))
def test_product_reads_recorded_answer(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    service = case.interaction.service
    parse = _vault if service == "keyvault" else _storage if service == "storage" else _cosmos
    parse(case, monkeypatch)

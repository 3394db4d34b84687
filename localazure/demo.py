"""``python -m localazure.demo`` (``make demo``): the whole loop on the local stand-in for Azure.

It starts the stand-in and Azurite, creates a Storage and a Cosmos DB account, enrols
secrets (one near expiry for each, and one misconfigured), delivers near-expiry events
through the real function handlers, then shows the vault before and after and proves that
each secret now holds a live key of its resource, the alternate of the one it held.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timedelta, timezone

from localazure import Azurite, LocalAzure

VAULT = "kv-demo"


def run() -> int:
    logging.getLogger("rotators").setLevel(logging.INFO)
    with LocalAzure() as cloud, Azurite() as azurite:
        os.environ.update(cloud.environment())
        os.environ.update({"AzureWebJobsStorage": azurite.connection_string, "ROTATION_ALLOWED_VAULTS": VAULT})
        for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "MSI_ENDPOINT"):
            os.environ.pop(name, None)
        return _show(cloud)


def _show(cloud: LocalAzure) -> int:
    import azure.functions as func

    import function_app
    from rotators.core.clouds import VaultAddress
    from rotators.workflows.status import render, vault_status

    now = datetime.now(timezone.utc)
    cloud.keyvault.create_vault(VAULT)
    storage = cloud.storage.create_account("stdemo")
    cosmos = cloud.cosmosdb.create_account("cosmos-demo")
    old = now - timedelta(days=61)
    expiring = now + timedelta(days=29)
    secrets = {
        "storage-connection": ("key1", storage, "ConnectionString"),
        "cosmos-key": ("primary", cosmos, "Key"),
        "cosmos-readonly-key": ("primaryReadonly", cosmos, "Key"),
    }
    versions = {}
    for name, (credential, account, value_format) in secrets.items():
        key = account.keys[credential]  # the demo's CredentialId values are the stand-in's key names
        value = key if value_format == "Key" else f"AccountName={account.name};AccountKey={key}"
        tags = {
            "CredentialId": credential,
            "ProviderAddress": account.id,
            "ValidityPeriodDays": "90",
            "ValueFormat": value_format,
        }
        if name == "storage-connection":
            tags["Consumers"] = "rg-apps/app-web"  # the app below: refreshed and asked after each rotation
        versions[name] = cloud.keyvault.seed_secret(VAULT, name, value, tags=tags, created=old, expires=expiring)
    # An App Service app reading storage-connection through a versionless Key Vault reference.
    reference = f"@Microsoft.KeyVault(SecretUri=https://{VAULT}.vault.azure.net/secrets/storage-connection/)"
    cloud.appservice.create_app("app-web", {"STORAGE": reference})
    versions["misconfigured-key"] = cloud.keyvault.seed_secret(
        VAULT,
        "misconfigured-key",
        "not-a-key",
        created=old,
        expires=expiring,
        tags={"CredentialId": "key3", "ProviderAddress": storage.id, "ValidityPeriodDays": "90"},
    )
    address = VaultAddress.from_name(VAULT)
    print(f"== Vault {VAULT} before ==")
    print(render(vault_status(address, now=datetime.now(timezone.utc))))

    handler = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
    events = [
        func.EventGridEvent(
            id=f"demo-{name}",
            data={
                "Id": f"{address.url}/secrets/{name}/{version}",
                "VaultName": VAULT,
                "ObjectType": "Secret",
                "ObjectName": name,
                "Version": version,
                "NBF": None,
                "EXP": expiring.timestamp(),
            },
            topic=f"/vaults/{VAULT}",
            subject=name,
            event_type="Microsoft.KeyVault.SecretNearExpiry",
            event_time=None,
            data_version="1",
        )
        for name, version in versions.items()
    ]

    def regenerations() -> int:
        return len(cloud.calls("storage.regenerate_key")) + len(cloud.calls("cosmos.regenerate_key"))

    print("\n== Delivering Microsoft.KeyVault.SecretNearExpiry through RotateOnSecretEvent ==")
    for event in events:
        handler["RotateOnSecretEvent"](event)
    first = regenerations()
    print("\n== Delivering the first event again (Event Grid delivers at least once) ==")
    handler["RotateOnSecretEvent"](events[0])
    print(f"regenerations: {first} for the first delivery, {regenerations() - first} for the duplicate")

    print(f"\n== Vault {VAULT} after ==")
    print(render(vault_status(address, now=datetime.now(timezone.utc))))
    print("\n== On demand: POST /api/rotate with dryRun ==")
    request = func.HttpRequest(
        "POST",
        "/api/rotate",
        body=json.dumps({"vaultName": VAULT, "secretName": "cosmos-key", "dryRun": True}).encode(),
    )
    response = handler["RotateSecret"](request)
    print(response.status_code, response.get_body().decode())

    print("\n== Check: each rotated secret holds a live key, the alternate of the one it held ==")
    healthy = True
    for name, (credential, _, _) in secrets.items():
        current = cloud.keyvault.current_secret(VAULT, name)
        holds = current.tags["CredentialId"]
        account = secrets[name][1]
        live = account.keys[holds] in current.value
        healthy &= live and holds != credential
        print(f"{name}: {credential} -> {holds}, value is the live {holds}: {'yes' if live else 'NO'}")
    print("misconfigured-key: untouched, versions:", len(cloud.keyvault.secret_versions(VAULT, "misconfigured-key")))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(run())

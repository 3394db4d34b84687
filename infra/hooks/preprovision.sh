#!/bin/sh
# azd preprovision hook (azure.yaml): checks what Bicep cannot, before anything is deployed.
#  1. The app gets a resource group of its own: `azd down` deletes AZURE_RESOURCE_GROUP whole.
#  2. Every vault uses Azure RBAC (enableRbacAuthorization): on an access-policy vault the role
#     assignments succeed and grant nothing, so every rotation would get 403.
#     https://learn.microsoft.com/azure/key-vault/general/rbac-guide
#  3. A vault that already has an Event Grid system topic (one per source) names it in
#     ROTATION_EXISTING_SYSTEM_TOPICS, and that topic has a system-assigned identity (dead letters).
#  4. ROTATION_SUBNET_ID, if set, is delegated to Microsoft.App/environments (Flex Consumption).
# azd passes the environment's values (azd env set ...) as environment variables
# (Azure/azure-dev cli/azd/pkg/ext/hooks_runner.go). Needs the Azure CLI, signed in (az login).
set -u

failures=0
fail() {
    printf 'preprovision: %s\n' "$*" >&2
    failures=$((failures + 1))
}
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
# A JSON array of names, or an object of name -> name, as lines ("a" or "a:b"); names hold no
# quotes, commas, colons or spaces, which the checks below enforce.
json_items() { printf '%s' "$1" | tr -d '[]{}" \t\r\n' | tr ',' '\n' | sed '/^$/d'; }
valid_name() { printf '%s' "$1" | grep -Eq '^[A-Za-z0-9-]{3,128}$'; }

if ! command -v az >/dev/null 2>&1; then
    printf 'preprovision: the Azure CLI (az) is needed to check the vaults before deploying: https://learn.microsoft.com/cli/azure/install-azure-cli\n' >&2
    exit 1
fi
sub=${AZURE_SUBSCRIPTION_ID:-}
az_() { if [ -n "$sub" ]; then az "$@" --subscription "$sub"; else az "$@"; fi; }

app_group=${AZURE_RESOURCE_GROUP:-}
vault_group=${ROTATION_VAULT_RESOURCE_GROUP:-}
if [ -z "$app_group" ]; then
    fail "set AZURE_RESOURCE_GROUP to a resource group for the rotator alone (azd down deletes it): azd env set AZURE_RESOURCE_GROUP rg-key-rotation"
fi
if [ -z "$vault_group" ]; then
    fail "set ROTATION_VAULT_RESOURCE_GROUP to the resource group of the vaults: azd env set ROTATION_VAULT_RESOURCE_GROUP <group>"
fi
if [ -n "$app_group" ] && [ "$(lower "$app_group")" = "$(lower "$vault_group")" ]; then
    fail "AZURE_RESOURCE_GROUP is the vaults' resource group ($vault_group): azd down deletes AZURE_RESOURCE_GROUP with everything in it, vaults included. Choose another group: azd env set AZURE_RESOURCE_GROUP rg-key-rotation"
fi

vaults=$(json_items "${ROTATION_VAULT_NAMES:-}")
if [ -z "$vaults" ]; then
    fail "set ROTATION_VAULT_NAMES to a JSON array of vault names: azd env set ROTATION_VAULT_NAMES '[\"kv-prod\"]'"
fi
topics=$(json_items "${ROTATION_EXISTING_SYSTEM_TOPICS:-}")
for entry in $topics; do
    case $entry in
        *:*) valid_name "${entry%%:*}" && valid_name "${entry#*:}" || fail "ROTATION_EXISTING_SYSTEM_TOPICS: '$entry' is not a vault name and a topic name" ;;
        *) fail "ROTATION_EXISTING_SYSTEM_TOPICS must be a JSON object {\"<vault>\": \"<system topic>\"}" ;;
    esac
done
if [ "$failures" -gt 0 ]; then
    exit 1
fi

for vault in $vaults; do
    if ! valid_name "$vault"; then
        fail "ROTATION_VAULT_NAMES: '$vault' is not a vault name"
        continue
    fi
    if ! shown=$(az_ keyvault show --name "$vault" --resource-group "$vault_group" \
        --query "join('|', [id, to_string(properties.enableRbacAuthorization)])" --output tsv); then
        fail "cannot read Key Vault '$vault' in resource group '$vault_group' (az keyvault show failed; check the name, the group and az login)"
        continue
    fi
    vault_id=${shown%%|*}
    rbac=${shown#*|}
    if [ "$(lower "$rbac")" != "true" ]; then
        fail "Key Vault '$vault' uses access policies (enableRbacAuthorization is ${rbac:-unset}), not Azure RBAC: the rotator's Key Vault Secrets Officer role would be granted and ignored, and every rotation would fail with 403 Forbidden. Switch the vault to the RBAC permission model (https://learn.microsoft.com/azure/key-vault/general/rbac-migration), after granting RBAC roles to whatever reads it through access policies today: az keyvault update --name $vault --resource-group $vault_group --enable-rbac-authorization true"
    fi

    wanted=""
    for entry in $topics; do
        if [ "$(lower "${entry%%:*}")" = "$(lower "$vault")" ]; then wanted=${entry#*:}; fi
    done
    found=$(az_ eventgrid system-topic list --resource-group "$vault_group" --query "[].[name, source]" --output tsv |
        while IFS="$(printf '\t')" read -r name source; do
            if [ "$(lower "$source")" = "$(lower "$vault_id")" ]; then printf '%s\n' "$name"; fi
        done)
    if [ -z "$found" ]; then
        if [ -n "$wanted" ]; then
            fail "ROTATION_EXISTING_SYSTEM_TOPICS names '$wanted' for vault '$vault', but '$vault' has no system topic in '$vault_group'; remove the entry to let the deployment create one"
        fi
        continue
    fi
    if [ "$(lower "$found")" = "$(lower "$wanted")" ] || { [ -z "$wanted" ] && [ "$found" = "$vault-events" ]; }; then
        identity=$(az_ eventgrid system-topic show --resource-group "$vault_group" --name "$found" \
            --query "identity.principalId" --output tsv)
        if [ -z "$identity" ]; then
            fail "system topic '$found' of vault '$vault' has no system-assigned identity, which Event Grid needs to write dead letters: az eventgrid system-topic update --resource-group $vault_group --name $found --identity systemassigned"
        fi
    else
        fail "vault '$vault' already has the Event Grid system topic '$found' (Azure allows one per vault). Reuse it: azd env set ROTATION_EXISTING_SYSTEM_TOPICS '{\"$vault\": \"$found\"}' (one entry per such vault)"
    fi
done

subnet=${ROTATION_SUBNET_ID:-}
if [ -n "$subnet" ]; then
    if ! delegations=$(az network vnet subnet show --ids "$subnet" --query "delegations[].serviceName" --output tsv); then
        fail "cannot read subnet ROTATION_SUBNET_ID=$subnet"
    elif ! printf '%s\n' "$delegations" | grep -qix 'Microsoft.App/environments'; then
        fail "subnet $subnet is not delegated to Microsoft.App/environments, which Flex Consumption needs: az network vnet subnet update --ids $subnet --delegations Microsoft.App/environments"
    fi
fi

if [ "$failures" -gt 0 ]; then
    printf 'preprovision: %s problem(s); nothing was deployed.\n' "$failures" >&2
    exit 1
fi
printf 'preprovision: vaults use Azure RBAC; resource groups and system topics are in order.\n'

#!/bin/sh
# azd preprovision hook (azure.yaml): checks what Bicep cannot, before anything is deployed.
#  1. The app gets a resource group of its own: `azd down` deletes AZURE_RESOURCE_GROUP whole, so it
#     holds no vault, no rotated resource and no consumer.
#  2. AZURE_LOCATION is a Flex Consumption region main.bicep knows (its `location` @allowed list);
#     main.bicep picks zone-redundant storage there where infra/regions.json says it exists.
#  3. The signed-in cloud delivers Key Vault's expiry events through Event Grid (rotations start there).
#  4. Every vault uses Azure RBAC (enableRbacAuthorization): on an access-policy vault the role
#     assignments succeed and grant nothing, so every rotation would get 403.
#     https://learn.microsoft.com/azure/key-vault/general/rbac-guide
#  5. A vault that already has an Event Grid system topic (one per source, in any resource group of
#     the subscription) names it in ROTATION_EXISTING_SYSTEM_TOPICS, and that topic has a
#     system-assigned identity (dead letters).
#  6. ROTATION_SUBNET_ID, if set, is delegated to Microsoft.App/environments (Flex Consumption).
# Each problem is one line with the command that fixes it. azd passes the environment's values
# (azd env set ...) as environment variables (Azure/azure-dev cli/azd/pkg/ext/hooks_runner.go).
# Needs the Azure CLI, signed in (az login). preprovision.ps1 is its Windows twin.
set -u

failures=0
fail() {
    printf 'preprovision: %s\n' "$*" >&2
    failures=$((failures + 1))
}
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
# A JSON array of names or IDs, or an object of name -> value, as lines ("a" or "a:b"); the values
# hold no quotes, commas, colons or spaces, which the checks below enforce.
json_items() { printf '%s' "$1" | tr -d '[]{}" \t\r\n' | tr ',' '\n' | sed '/^$/d'; }
valid_name() { printf '%s' "$1" | grep -Eq '^[A-Za-z0-9-]{3,128}$'; }
valid_group() { printf '%s' "$1" | grep -Eq '^[A-Za-z0-9._()-]{1,90}$'; }
# The Flex Consumption regions main.bicep allows: the @allowed list right above `param location`.
flex_regions() {
    awk '/^@allowed\(\[/ { list = ""; on = 1; next }
         on && /^\]\)/ { on = 0; next }
         on { gsub(/[ \047]/, ""); list = list $0 "\n" }
         /^param location / { printf "%s", list; exit }' "$(dirname "$0")/../main.bicep"
}

if ! command -v az >/dev/null 2>&1; then
    printf 'preprovision: the Azure CLI (az) is needed to check the vaults before deploying: https://learn.microsoft.com/cli/azure/install-azure-cli\n' >&2
    exit 1
fi
sub=${AZURE_SUBSCRIPTION_ID:-}
az_() { if [ -n "$sub" ]; then az "$@" --subscription "$sub"; else az "$@"; fi; }

app_group=${AZURE_RESOURCE_GROUP:-}
vault_group=${ROTATION_VAULT_RESOURCE_GROUP:-}
another_group="Choose another group for the rotator: azd env set AZURE_RESOURCE_GROUP rg-key-rotation"
if [ -z "$app_group" ]; then
    fail "set AZURE_RESOURCE_GROUP to a resource group for the rotator alone (azd down deletes it): azd env set AZURE_RESOURCE_GROUP rg-key-rotation"
fi
if [ -z "$vault_group" ]; then
    fail "set ROTATION_VAULT_RESOURCE_GROUP to the resource group of the vaults: azd env set ROTATION_VAULT_RESOURCE_GROUP <group>"
fi
if [ -n "$app_group" ] && [ "$(lower "$app_group")" = "$(lower "$vault_group")" ]; then
    fail "AZURE_RESOURCE_GROUP is the vaults' resource group ($vault_group): azd down deletes AZURE_RESOURCE_GROUP with everything in it, vaults included. $another_group"
fi
# Resource IDs read /subscriptions/<sub>/resourceGroups/<group>/providers/...
for variable in ROTATION_STORAGE_ACCOUNT_IDS ROTATION_COSMOS_ACCOUNT_IDS ROTATION_KEY_RESOURCE_IDS \
    ROTATION_CONSUMER_APP_IDS ROTATION_CONSUMER_APPCONFIG_IDS; do
    eval "ids=\${$variable:-}"
    for id in $(json_items "$ids"); do
        id_sub=$(printf '%s' "$id" | cut -d/ -f3)
        id_group=$(printf '%s' "$id" | cut -d/ -f5)
        if [ -n "$app_group" ] && [ "$(lower "$id_group")" = "$(lower "$app_group")" ] &&
            { [ -z "$sub" ] || [ "$(lower "$id_sub")" = "$(lower "$sub")" ]; }; then
            fail "$variable names $id, which is in AZURE_RESOURCE_GROUP ($app_group): azd down deletes that group with everything in it. $another_group"
        fi
    done
done

location=${AZURE_LOCATION:-}
if [ -n "$location" ] && ! flex_regions | grep -qix "$location"; then
    fail "AZURE_LOCATION '$location' is not a Flex Consumption region infra/main.bicep knows, so neither the plan nor the storage's redundancy can be chosen there: azd env set AZURE_LOCATION swedencentral (az functionapp list-flexconsumption-locations lists the current ones; a new one goes in location's @allowed list in infra/main.bicep, and in infra/regions.json if Azure lists it for zone-redundant storage)"
fi

vaults=$(json_items "${ROTATION_VAULT_NAMES:-}")
if [ -z "$vaults" ]; then
    fail "set ROTATION_VAULT_NAMES to a JSON array of vault names: azd env set ROTATION_VAULT_NAMES '[\"kv-prod\"]'"
fi
topics=$(json_items "${ROTATION_EXISTING_SYSTEM_TOPICS:-}")
for entry in $topics; do
    value=${entry#*:}
    case $entry in
        *:*/*) valid_name "${entry%%:*}" && valid_group "${value%%/*}" && valid_name "${value#*/}" ;;
        *:*) valid_name "${entry%%:*}" && valid_name "$value" ;;
        *) false ;;
    esac || fail "ROTATION_EXISTING_SYSTEM_TOPICS must be a JSON object {\"<vault>\": \"<system topic>\"} or {\"<vault>\": \"<resource group>/<system topic>\"}; '$entry' is not"
done
if [ "$failures" -gt 0 ]; then
    exit 1
fi

# Rotations start from Key Vault's SecretNearExpiry events, which Event Grid delivers only in clouds
# that offer the Microsoft.KeyVault.vaults topic type with them.
if ! az eventgrid topic-type list-event-types --name Microsoft.KeyVault.vaults --query "[].name" --output tsv 2>/dev/null |
    grep -qix 'Microsoft.KeyVault.SecretNearExpiry'; then
    fail "the Azure cloud az is signed in to ($(az cloud show --query name --output tsv 2>/dev/null)) does not deliver Key Vault's SecretNearExpiry events through Event Grid (az eventgrid topic-type list-event-types --name Microsoft.KeyVault.vaults), which start every rotation. Sign in to a cloud that does: az cloud set --name AzureCloud && az login"
fi

# Every system topic of the subscription, once: a vault's may sit in any of its groups.
tab=$(printf '\t')
if ! system_topics=$(az_ eventgrid system-topic list --query "[].[name, source, resourceGroup]" --output tsv); then
    fail "cannot list the Event Grid system topics of the subscription (az eventgrid system-topic list failed; check az login)"
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
        fail "Key Vault '$vault' uses access policies (enableRbacAuthorization is ${rbac:-unset}), not Azure RBAC: the rotator's role on its secrets would be granted and ignored, and every rotation would fail with 403 Forbidden. Switch the vault to the RBAC permission model (https://learn.microsoft.com/azure/key-vault/general/rbac-migration), after granting RBAC roles to whatever reads it through access policies today: az keyvault update --name $vault --resource-group $vault_group --enable-rbac-authorization true"
    fi

    wanted=""
    for entry in $topics; do
        if [ "$(lower "${entry%%:*}")" = "$(lower "$vault")" ]; then wanted=${entry#*:}; fi
    done
    found=$(printf '%s\n' "$system_topics" | while IFS="$tab" read -r name source group; do
        if [ -n "$name" ] && [ "$(lower "$source")" = "$(lower "$vault_id")" ]; then printf '%s\t%s\n' "$name" "$group"; fi
    done | head -n 1)
    if [ -z "$found" ]; then
        if [ -n "$wanted" ]; then
            fail "ROTATION_EXISTING_SYSTEM_TOPICS names '$wanted' for vault '$vault', but '$vault' has no system topic in this subscription; remove the entry to let the deployment create one"
        fi
        continue
    fi
    topic=${found%%"$tab"*}
    topic_group=${found#*"$tab"}
    if [ "$(lower "$topic_group")" = "$(lower "$vault_group")" ]; then reuse=$topic; else reuse="$topic_group/$topic"; fi
    if [ "$(lower "$wanted")" = "$(lower "$reuse")" ] || [ "$(lower "$wanted")" = "$(lower "$topic_group/$topic")" ] ||
        { [ -z "$wanted" ] && [ "$reuse" = "$vault-events" ]; }; then
        identity=$(az_ eventgrid system-topic show --resource-group "$topic_group" --name "$topic" \
            --query "identity.principalId" --output tsv)
        if [ -z "$identity" ]; then
            fail "system topic '$topic' of vault '$vault' has no system-assigned identity, which Event Grid needs to write dead letters: az eventgrid system-topic update --resource-group $topic_group --name $topic --identity systemassigned"
        fi
    else
        fail "vault '$vault' already has the Event Grid system topic '$topic' in resource group '$topic_group' (Azure allows one per vault). Reuse it: azd env set ROTATION_EXISTING_SYSTEM_TOPICS '{\"$vault\": \"$reuse\"}' (one entry per such vault)"
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
printf 'preprovision: resource groups, region, cloud, vaults and system topics are in order.\n'

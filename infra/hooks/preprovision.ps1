# azd preprovision hook (azure.yaml), the Windows twin of preprovision.sh: the same checks, the same
# messages. Checks what Bicep cannot, before anything is deployed:
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
# Needs the Azure CLI, signed in (az login).
$ErrorActionPreference = 'Stop'
$failures = 0
function Fail([string] $message) {
    [Console]::Error.WriteLine("preprovision: $message")
    $script:failures++
}
function Az-Sub {
    if ($env:AZURE_SUBSCRIPTION_ID) { az @args --subscription $env:AZURE_SUBSCRIPTION_ID } else { az @args }
}
function Json-List([string] $raw) {
    if (-not $raw) { return @() }
    try { return @($raw | ConvertFrom-Json) } catch { return @() }
}
$namePattern = '^[A-Za-z0-9-]{3,128}$'
$groupPattern = '^[A-Za-z0-9._()-]{1,90}$'
$anotherGroup = 'Choose another group for the rotator: azd env set AZURE_RESOURCE_GROUP rg-key-rotation'

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine('preprovision: the Azure CLI (az) is needed to check the vaults before deploying: https://learn.microsoft.com/cli/azure/install-azure-cli')
    exit 1
}

$appGroup = "$env:AZURE_RESOURCE_GROUP"
$vaultGroup = "$env:ROTATION_VAULT_RESOURCE_GROUP"
if (-not $appGroup) {
    Fail 'set AZURE_RESOURCE_GROUP to a resource group for the rotator alone (azd down deletes it): azd env set AZURE_RESOURCE_GROUP rg-key-rotation'
}
if (-not $vaultGroup) {
    Fail 'set ROTATION_VAULT_RESOURCE_GROUP to the resource group of the vaults: azd env set ROTATION_VAULT_RESOURCE_GROUP <group>'
}
if ($appGroup -and ($appGroup -ieq $vaultGroup)) {
    Fail "AZURE_RESOURCE_GROUP is the vaults' resource group ($vaultGroup): azd down deletes AZURE_RESOURCE_GROUP with everything in it, vaults included. $anotherGroup"
}
# Resource IDs read /subscriptions/<sub>/resourceGroups/<group>/providers/...
foreach ($variable in 'ROTATION_STORAGE_ACCOUNT_IDS', 'ROTATION_COSMOS_ACCOUNT_IDS', 'ROTATION_KEY_RESOURCE_IDS',
    'ROTATION_CONSUMER_APP_IDS', 'ROTATION_CONSUMER_APPCONFIG_IDS') {
    foreach ($id in (Json-List ([Environment]::GetEnvironmentVariable($variable)))) {
        $parts = "$id".Split('/')
        if ($parts.Count -lt 5) { continue }
        if ($appGroup -and ($parts[4] -ieq $appGroup) -and (-not $env:AZURE_SUBSCRIPTION_ID -or ($parts[2] -ieq $env:AZURE_SUBSCRIPTION_ID))) {
            Fail "$variable names $id, which is in AZURE_RESOURCE_GROUP ($appGroup): azd down deletes that group with everything in it. $anotherGroup"
        }
    }
}

# The Flex Consumption regions main.bicep allows: the @allowed list right above `param location`.
$location = "$env:AZURE_LOCATION"
if ($location) {
    $regions = @(); $list = @(); $inList = $false
    foreach ($line in Get-Content (Join-Path $PSScriptRoot '..' 'main.bicep')) {
        if ($line -match '^@allowed\(\[') { $list = @(); $inList = $true; continue }
        if ($inList -and $line -match '^\]\)') { $inList = $false; continue }
        if ($inList) { $list += $line.Trim().Trim("'") }
        if ($line -match '^param location ') { $regions = $list; break }
    }
    if (-not ($regions -icontains $location)) {
        Fail "AZURE_LOCATION '$location' is not a Flex Consumption region infra/main.bicep knows, so neither the plan nor the storage's redundancy can be chosen there: azd env set AZURE_LOCATION swedencentral (az functionapp list-flexconsumption-locations lists the current ones; a new one goes in location's @allowed list in infra/main.bicep, and in infra/regions.json if Azure lists it for zone-redundant storage)"
    }
}

$vaults = Json-List $env:ROTATION_VAULT_NAMES
if ($vaults.Count -eq 0) {
    Fail "set ROTATION_VAULT_NAMES to a JSON array of vault names: azd env set ROTATION_VAULT_NAMES '[""kv-prod""]'"
}
$topics = @{}
if ($env:ROTATION_EXISTING_SYSTEM_TOPICS) {
    $shape = 'ROTATION_EXISTING_SYSTEM_TOPICS must be a JSON object {"<vault>": "<system topic>"} or {"<vault>": "<resource group>/<system topic>"}'
    try {
        $parsed = $env:ROTATION_EXISTING_SYSTEM_TOPICS | ConvertFrom-Json
        foreach ($property in $parsed.PSObject.Properties) {
            $value = "$($property.Value)"
            $group, $topic = if ($value.Contains('/')) { $value.Split('/', 2) } else { '', $value }
            if ($property.Name -match $namePattern -and $topic -match $namePattern -and (-not $group -or $group -match $groupPattern)) {
                $topics[$property.Name.ToLower()] = $value
            } else {
                Fail "$shape; '$($property.Name):$value' is not"
            }
        }
    } catch {
        Fail $shape
    }
}
if ($failures -gt 0) { exit 1 }

# Rotations start from Key Vault's SecretNearExpiry events, which Event Grid delivers only in clouds
# that offer the Microsoft.KeyVault.vaults topic type with them.
$eventTypes = @(az eventgrid topic-type list-event-types --name Microsoft.KeyVault.vaults --query '[].name' --output tsv 2>$null)
if ($LASTEXITCODE -ne 0 -or -not ($eventTypes -icontains 'Microsoft.KeyVault.SecretNearExpiry')) {
    $cloudName = az cloud show --query name --output tsv 2>$null
    Fail "the Azure cloud az is signed in to ($cloudName) does not deliver Key Vault's SecretNearExpiry events through Event Grid (az eventgrid topic-type list-event-types --name Microsoft.KeyVault.vaults), which start every rotation. Sign in to a cloud that does: az cloud set --name AzureCloud && az login"
}

# Every system topic of the subscription, once: a vault's may sit in any of its groups.
$systemTopics = @(Az-Sub eventgrid system-topic list --output json | ConvertFrom-Json)
if ($LASTEXITCODE -ne 0) {
    Fail 'cannot list the Event Grid system topics of the subscription (az eventgrid system-topic list failed; check az login)'
}
foreach ($vault in $vaults) {
    if ("$vault" -notmatch $namePattern) {
        Fail "ROTATION_VAULT_NAMES: '$vault' is not a vault name"
        continue
    }
    $shown = Az-Sub keyvault show --name $vault --resource-group $vaultGroup --query "join('|', [id, to_string(properties.enableRbacAuthorization)])" --output tsv
    if ($LASTEXITCODE -ne 0 -or -not $shown) {
        Fail "cannot read Key Vault '$vault' in resource group '$vaultGroup' (az keyvault show failed; check the name, the group and az login)"
        continue
    }
    $vaultId, $rbac = "$shown".Split('|', 2)
    if ($rbac -ne 'true') {
        Fail "Key Vault '$vault' uses access policies (enableRbacAuthorization is $rbac), not Azure RBAC: the rotator's role on its secrets would be granted and ignored, and every rotation would fail with 403 Forbidden. Switch the vault to the RBAC permission model (https://learn.microsoft.com/azure/key-vault/general/rbac-migration), after granting RBAC roles to whatever reads it through access policies today: az keyvault update --name $vault --resource-group $vaultGroup --enable-rbac-authorization true"
    }

    $wanted = $topics["$vault".ToLower()]
    $found = $systemTopics | Where-Object { $_.source -ieq $vaultId } | Select-Object -First 1
    if (-not $found) {
        if ($wanted) {
            Fail "ROTATION_EXISTING_SYSTEM_TOPICS names '$wanted' for vault '$vault', but '$vault' has no system topic in this subscription; remove the entry to let the deployment create one"
        }
        continue
    }
    $topic = $found.name
    $topicGroup = $found.resourceGroup
    $reuse = if ($topicGroup -ieq $vaultGroup) { $topic } else { "$topicGroup/$topic" }
    if (($wanted -ieq $reuse) -or ($wanted -ieq "$topicGroup/$topic") -or (-not $wanted -and $reuse -ceq "$vault-events")) {
        $identity = Az-Sub eventgrid system-topic show --resource-group $topicGroup --name $topic --query 'identity.principalId' --output tsv
        if (-not $identity) {
            Fail "system topic '$topic' of vault '$vault' has no system-assigned identity, which Event Grid needs to write dead letters: az eventgrid system-topic update --resource-group $topicGroup --name $topic --identity systemassigned"
        }
    } else {
        Fail "vault '$vault' already has the Event Grid system topic '$topic' in resource group '$topicGroup' (Azure allows one per vault). Reuse it: azd env set ROTATION_EXISTING_SYSTEM_TOPICS '{""$vault"": ""$reuse""}' (one entry per such vault)"
    }
}

if ($env:ROTATION_SUBNET_ID) {
    $delegations = az network vnet subnet show --ids $env:ROTATION_SUBNET_ID --query 'delegations[].serviceName' --output tsv
    if ($LASTEXITCODE -ne 0) {
        Fail "cannot read subnet ROTATION_SUBNET_ID=$env:ROTATION_SUBNET_ID"
    } elseif (-not (@($delegations) -icontains 'Microsoft.App/environments')) {
        Fail "subnet $env:ROTATION_SUBNET_ID is not delegated to Microsoft.App/environments, which Flex Consumption needs: az network vnet subnet update --ids $env:ROTATION_SUBNET_ID --delegations Microsoft.App/environments"
    }
}

if ($failures -gt 0) {
    [Console]::Error.WriteLine("preprovision: $failures problem(s); nothing was deployed.")
    exit 1
}
Write-Output 'preprovision: resource groups, region, cloud, vaults and system topics are in order.'

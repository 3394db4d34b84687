# azd preprovision hook (azure.yaml), the Windows twin of preprovision.sh: the same checks, the same
# messages. Checks what Bicep cannot, before anything is deployed:
#  1. The app gets a resource group of its own: `azd down` deletes AZURE_RESOURCE_GROUP whole.
#  2. Every vault uses Azure RBAC (enableRbacAuthorization): on an access-policy vault the role
#     assignments succeed and grant nothing, so every rotation would get 403.
#     https://learn.microsoft.com/azure/key-vault/general/rbac-guide
#  3. A vault that already has an Event Grid system topic (one per source) names it in
#     ROTATION_EXISTING_SYSTEM_TOPICS, and that topic has a system-assigned identity (dead letters).
#  4. ROTATION_SUBNET_ID, if set, is delegated to Microsoft.App/environments (Flex Consumption).
# azd passes the environment's values (azd env set ...) as environment variables
# (Azure/azure-dev cli/azd/pkg/ext/hooks_runner.go). Needs the Azure CLI, signed in (az login).
$ErrorActionPreference = 'Stop'
$failures = 0
function Fail([string] $message) {
    [Console]::Error.WriteLine("preprovision: $message")
    $script:failures++
}
function Az-Sub {
    if ($env:AZURE_SUBSCRIPTION_ID) { az @args --subscription $env:AZURE_SUBSCRIPTION_ID } else { az @args }
}
$namePattern = '^[A-Za-z0-9-]{3,128}$'

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
    Fail "AZURE_RESOURCE_GROUP is the vaults' resource group ($vaultGroup): azd down deletes AZURE_RESOURCE_GROUP with everything in it, vaults included. Choose another group: azd env set AZURE_RESOURCE_GROUP rg-key-rotation"
}

$vaults = @()
try { if ($env:ROTATION_VAULT_NAMES) { $vaults = @($env:ROTATION_VAULT_NAMES | ConvertFrom-Json) } } catch { $vaults = @() }
if ($vaults.Count -eq 0) {
    Fail "set ROTATION_VAULT_NAMES to a JSON array of vault names: azd env set ROTATION_VAULT_NAMES '[""kv-prod""]'"
}
$topics = @{}
if ($env:ROTATION_EXISTING_SYSTEM_TOPICS) {
    try {
        $parsed = $env:ROTATION_EXISTING_SYSTEM_TOPICS | ConvertFrom-Json
        foreach ($property in $parsed.PSObject.Properties) {
            if ($property.Name -match $namePattern -and "$($property.Value)" -match $namePattern) {
                $topics[$property.Name.ToLower()] = "$($property.Value)"
            } else {
                Fail "ROTATION_EXISTING_SYSTEM_TOPICS: '$($property.Name)': '$($property.Value)' is not a vault name and a topic name"
            }
        }
    } catch {
        Fail 'ROTATION_EXISTING_SYSTEM_TOPICS must be a JSON object {"<vault>": "<system topic>"}'
    }
}
if ($failures -gt 0) { exit 1 }

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
        Fail "Key Vault '$vault' uses access policies (enableRbacAuthorization is $rbac), not Azure RBAC: the rotator's Key Vault Secrets Officer role would be granted and ignored, and every rotation would fail with 403 Forbidden. Switch the vault to the RBAC permission model (https://learn.microsoft.com/azure/key-vault/general/rbac-migration), after granting RBAC roles to whatever reads it through access policies today: az keyvault update --name $vault --resource-group $vaultGroup --enable-rbac-authorization true"
    }

    $wanted = $topics["$vault".ToLower()]
    $listed = Az-Sub eventgrid system-topic list --resource-group $vaultGroup --output json | ConvertFrom-Json
    $found = @($listed | Where-Object { $_.source -ieq $vaultId } | ForEach-Object { $_.name }) | Select-Object -First 1
    if (-not $found) {
        if ($wanted) {
            Fail "ROTATION_EXISTING_SYSTEM_TOPICS names '$wanted' for vault '$vault', but '$vault' has no system topic in '$vaultGroup'; remove the entry to let the deployment create one"
        }
        continue
    }
    if (($found -ieq $wanted) -or (-not $wanted -and $found -ceq "$vault-events")) {
        $identity = Az-Sub eventgrid system-topic show --resource-group $vaultGroup --name $found --query 'identity.principalId' --output tsv
        if (-not $identity) {
            Fail "system topic '$found' of vault '$vault' has no system-assigned identity, which Event Grid needs to write dead letters: az eventgrid system-topic update --resource-group $vaultGroup --name $found --identity systemassigned"
        }
    } else {
        Fail "vault '$vault' already has the Event Grid system topic '$found' (Azure allows one per vault). Reuse it: azd env set ROTATION_EXISTING_SYSTEM_TOPICS '{""$vault"": ""$found""}' (one entry per such vault)"
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
Write-Output 'preprovision: vaults use Azure RBAC; resource groups and system topics are in order.'

// The function app on a Flex Consumption plan, its own storage (identity-based AzureWebJobsStorage,
// no shared keys), Application Insights, and the data roles the host needs on that storage.
//
// Only Flex Consumption: a Linux Elastic Premium plan needs an Azure Files content share reached with
// the account's shared keys, which this storage account disables. Flex Consumption deploys from a blob
// container with a managed identity and supports virtual network integration
// (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan).
param location string
param appName string
param userAssignedIdentityId string
@description('Subnet delegated to Microsoft.App/environments, or empty.')
param virtualNetworkSubnetId string
param allowedVaults string
param minIntervalHours int
param sweepSchedule string
param deadLetterContainerName string
@description('Standard_ZRS where the region has it, else Standard_LRS (main.bicep decides from regions.json).')
@allowed([
  'Standard_ZRS'
  'Standard_LRS'
])
param storageSku string

@description('Endpoint of the Event Grid topic for outcome events; empty for none.')
param eventsTopicEndpoint string = ''

@description('Workspace ID (customerId) of the Log Analytics workspace holding the vaults\' audit logs; empty for none.')
param auditWorkspaceCustomerId string = ''

var suffix = uniqueString(resourceGroup().id, appName)
var userAssigned = !empty(userAssignedIdentityId)
var storageName = take('st${replace(appName, '-', '')}${suffix}', 24)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: Flex Consumption without a VNet reaches its own storage over the public endpoint; shared keys are off, so only Entra ID identities with data roles get in
  // checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35; blob public access is disabled
  // checkov:skip=CKV_AZURE_206: ZRS (LRS in the regions without it) is replicated; locks and the deployment package need no geo-replication
  // checkov:skip=CKV_AZURE_43: the name is take('st<app><uniqueString>', 24), lower-case letters and digits; checkov cannot evaluate it
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'deployments'
  properties: {
    publicAccess: 'None'
  }
}

// Event Grid writes undeliverable events here with the system topic's identity (dead-letter-access.bicep).
resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs-${suffix}'
  location: location
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: false
  }
}

// FC1 / FlexConsumption, reserved (Linux): as in Azure-Samples/functions-quickstart-python-http-azd,
// infra/main.bicep (module appServicePlan).
resource hostingPlan 'Microsoft.Web/serverfarms@2023-12-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy needs three always-on instances; a rotation that misses a zone outage is redelivered
  name: '${appName}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Identity-based host storage by service URI, the account's own endpoints: AzureWebJobsStorage__accountName
// "is valid only if the account isn't in a sovereign cloud and doesn't have a custom DNS" (Microsoft's
// "Connecting to host storage with an identity",
// https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity),
// and extensions build core.windows.net from it (Azure/azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.
// EventHubs 6.5.4 release notes). The rotation locks read __blobServiceUri too (rotators/adapters/clients.py).
var commonSettings = [
  {
    name: 'AzureWebJobsStorage__blobServiceUri'
    value: storage.properties.primaryEndpoints.blob
  }
  {
    name: 'AzureWebJobsStorage__queueServiceUri'
    value: storage.properties.primaryEndpoints.queue
  }
  {
    name: 'AzureWebJobsStorage__tableServiceUri'
    value: storage.properties.primaryEndpoints.table
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: userAssigned ? reference(userAssignedIdentityId, '2023-01-31').clientId : ''
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: userAssigned ? reference(userAssignedIdentityId, '2023-01-31').clientId : ''
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: insights.properties.ConnectionString
  }
  {
    name: 'ROTATION_ALLOWED_VAULTS'
    value: allowedVaults
  }
  {
    name: 'ROTATION_MIN_INTERVAL_HOURS'
    value: string(minIntervalHours)
  }
  {
    name: 'ROTATION_SWEEP_SCHEDULE'
    value: sweepSchedule
  }
  {
    // Microsoft Graph of the vaults' cloud, for Entra ID application passwords; a US Government L5 (DoD)
    // deployment sets dod-graph.microsoft.us (README, "Entra ID applications").
    name: 'ROTATION_GRAPH_HOST'
    value: 'cloud'
  }
  {
    // off: an application's previous password stays until the next rotation; confirmed: removed once every
    // declared consumer confirms the current version (README, "Entra ID applications").
    name: 'ROTATION_EARLY_PASSWORD_REVOCATION'
    value: 'off'
  }
  {
    // How old the current version must be before early revocation removes older passwords (at least 24: App
    // Service refetches Key Vault references within 24 hours; README, "Entra ID applications").
    name: 'ROTATION_EARLY_REVOCATION_MIN_HOURS'
    value: '72'
  }
  {
    name: 'ROTATION_POLL_SECONDS'
    value: '5'
  }
  {
    name: 'ROTATION_HTTP_TIMEOUT_SECONDS'
    value: '30'
  }
  {
    name: 'ROTATION_EVENT_BUDGET_SECONDS'
    value: '25'
  }
  {
    name: 'ROTATION_HTTP_BUDGET_SECONDS'
    value: '120'
  }
  {
    name: 'ROTATION_CLI_BUDGET_SECONDS'
    value: '600'
  }
  {
    name: 'ROTATION_SWEEP_BUDGET_SECONDS'
    value: '300'
  }
  {
    name: 'ROTATION_EVENTS_TOPIC_ENDPOINT'
    value: eventsTopicEndpoint
  }
  {
    name: 'ROTATION_VERIFY'
    value: 'best-effort'
  }
  {
    name: 'ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES'
    value: '15'
  }
  {
    name: 'ROTATION_APPCONFIG_SENTINEL'
    value: 'Sentinel'
  }
  {
    name: 'ROTATION_AUDIT_WORKSPACE_ID'
    value: auditWorkspaceCustomerId
  }
]

// azd finds the app to deploy to by the tag azd-service-name = the service's key in azure.yaml
// (Azure/azure-dev cli/azd/pkg/project/resource_manager.go, GetServiceResources; tag name in
// cli/azd/pkg/azure/tags.go, TagKeyAzdServiceName); the Flex sample tags its app the same way
// (Azure-Samples/functions-quickstart-python-http-azd, infra/app/api.bicep).
resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  // checkov:skip=CKV_AZURE_16: the HTTP trigger uses function keys; Event Grid and the timer do not go through App Service authentication
  // checkov:skip=CKV_AZURE_222: Event Grid delivers events to the function's public endpoint
  // checkov:skip=CKV_AZURE_71: the identity is SystemAssigned or UserAssigned through a conditional expression checkov cannot evaluate
  // checkov:skip=CKV_AZURE_212: an event-driven app on a consumption plan; Event Grid retries cover a lost instance
  // checkov:skip=CKV_AZURE_213: Functions hosts have no health-check route; the platform monitors the host
  name: '${appName}-func-${suffix}'
  location: location
  kind: 'functionapp,linux'
  tags: {
    'azd-service-name': 'rotator'
  }
  identity: userAssigned ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${userAssignedIdentityId}': {}
    }
  } : {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: hostingPlan.id
    httpsOnly: true
    clientCertEnabled: true
    clientCertMode: 'Optional'
    // Virtual network integration on Flex Consumption: a subnet delegated to Microsoft.App/environments
    // (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan, "Considerations";
    // Azure-Samples/functions-quickstart-python-http-azd, infra/app/api.bicep and infra/app/vnet.bicep).
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}deployments'
          authentication: userAssigned ? {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: userAssignedIdentityId
          } : {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      // Per function: the sweep's queue functions scale on their own instances, each taking up to 24
      // messages at once (host.json extensions.queues); 40 is Flex Consumption's lowest maximum, 1000
      // its highest (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan).
      scaleAndConcurrency: {
        maximumInstanceCount: 40
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: commonSettings
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

var principalId = userAssigned ? reference(userAssignedIdentityId, '2023-01-31').principalId : functionApp.identity.principalId

module hostStorage 'host-storage-access.bicep' = {
  name: 'host-storage-access'
  params: {
    storageAccountName: storage.name
    principalId: principalId
  }
}

output functionAppId string = functionApp.id
output functionAppName string = functionApp.name
output principalId string = principalId
output storageAccountId string = storage.id
output storageAccountName string = storage.name
output insightsId string = insights.id

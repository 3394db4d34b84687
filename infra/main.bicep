// The rotation function app, its least-privilege roles, and the Event Grid wiring.
// `azd up` deploys it (see azure.yaml); `az deployment group create` works too (README, "Deploy").
//
// Deploy it into a resource group of its own, never into the one that holds the vaults: `azd down`
// deletes the whole AZURE_RESOURCE_GROUP (Azure/azure-dev cli/azd/pkg/azapi/standard_deployments.go,
// DeleteResourceGroupDeployment), and infra/hooks/preprovision.* refuses a vault group equal to it.
targetScope = 'resourceGroup'

// Regions where Flex Consumption runs: the list of Microsoft's own Flex Consumption azd template
// (Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep, param location).
// `az functionapp list-flexconsumption-locations` prints the current list
// (https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#view-currently-supported-regions).
// azd filters its location prompt by @allowed (Azure/azure-dev cli/azd/pkg/infra/provisioning/bicep/
// bicep_provider.go, locationParameterFilterImpl).
@description('Region of the function app and its storage: one where Flex Consumption runs.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string = resourceGroup().location

@description('Prefix of every resource name.')
@minLength(3)
@maxLength(16)
param appName string = 'kvrotate'

@description('Names of the Key Vaults (RBAC authorization) the app rotates secrets in.')
@minLength(1)
param vaultNames array

@description('Resource group of those vaults. Required, and never the group this template deploys into: `azd down` deletes that group.')
param vaultResourceGroupName string

@description('Event Grid system topics that already exist, as {vault name: topic name} for a topic in the vault\'s resource group or {vault name: \'<group>/<topic name>\'} for one in another group of the subscription; each with a system-assigned identity. A topic is created for every other vault.')
param existingSystemTopicNames object = {}

@description('The role the app gets on each vault: the Key Vault Secrets Rotator custom role (read, list, write and tag secrets; vault-secrets-role.bicep), or the built-in Key Vault Secrets Officer (which can also delete and purge every secret), should the custom role not be wanted.')
@allowed([
  'KeyVaultSecretsRotator'
  'KeyVaultSecretsOfficer'
])
param vaultRole string = 'KeyVaultSecretsRotator'

@description('Resource IDs of the Storage accounts whose keys the app rotates.')
param storageAccountIds array = []

@description('Resource IDs of the Cosmos DB accounts whose keys the app rotates.')
param cosmosAccountIds array = []

@description('Resource IDs of the other resources whose keys the app rotates, of any type key-rotators.json lists but Storage and Cosmos DB accounts (their own parameters above); Service Bus, Event Hubs, Relay and Notification Hubs rules, or their namespaces; Azure Managed Redis databases, or their clusters; Machine Learning online endpoints, or their workspaces; API Management subscriptions, or their services. Each gets its type\'s Key Rotator role on the resource (on the namespace, for a rule; on the cluster, for a database; on the workspace, for an endpoint; on the service, for a subscription).')
param keyResourceIds array = []

@description('Resource IDs of the App Service and Function apps that read rotated secrets (Consumers tags). Each gets the Key Vault Reference Reader custom role for the app (read its Key Vault references, nothing else), on the app only; its slots inherit it.')
param consumerAppIds array = []

@description('Resource IDs of the App Configuration stores named in Consumers tags (appconfig:<group>/<store>). The app gets App Configuration Data Owner on each, to set their sentinel key.')
param consumerAppConfigurationIds array = []

@description('Resource IDs of the API Management services whose named values are named in Consumers tags (apim:<group>/<service>/<named value>). The app gets the API Management Named Value Refresher custom role on each (read named values, refresh them from Key Vault; never list their values).')
param consumerApiManagementIds array = []

@description('Resource IDs of the Container Apps named in Consumers tags (containerapp:<group>/<app>[/restart]). The app gets the Container App Revision Restarter custom role on each (read the app and its revisions, restart a revision).')
param consumerContainerAppIds array = []

@description('Resource ID of the Log Analytics workspace that receives the vaults\' AuditEvent logs, to confirm consumers by the reads in Key Vault\'s audit trail; empty for none. The app gets Log Analytics Reader on it.')
param auditWorkspaceId string = ''

@description('The Workspace ID (a GUID, the workspace\'s customerId) of that workspace, for the app setting ROTATION_AUDIT_WORKSPACE_ID; empty for none.')
param auditWorkspaceCustomerId string = ''

@description('Create a diagnostic setting on each vault that sends AuditEvent to the audit workspace (table AZKVAuditLogs). Leave false when the vaults already send their audit logs there.')
param sendVaultAuditToWorkspace bool = false

@description('Resource ID of a subnet delegated to Microsoft.App/environments, to reach vaults and accounts behind a firewall; empty for no virtual network integration.')
param virtualNetworkSubnetId string = ''

@description('Resource ID of a user-assigned identity to run as; empty for a system-assigned one.')
param userAssignedIdentityId string = ''

@description('Cool-down between two rotations of one secret, in hours (README, "Settings": why 72).')
@minValue(0)
@maxValue(8760)
param minIntervalHours int = 72

@description('NCRONTAB schedule of the sweep timer.')
param sweepSchedule string = '0 0 * * * *'

@description('Create the Event Grid subscriptions. They need the function code deployed, so azd sets this after its first deploy.')
param wireEvents bool = true

@description('Deploy an Event Grid topic (local auth off) for outcome events, with EventGrid Data Sender for the app.')
param deployOutcomeTopic bool = false

@secure()
@description('Webhook that receives KeyRotation.RotationFailed and SecretMisconfigured from that topic as CloudEvents; it must answer CloudEvents\' OPTIONS handshake (Teams and plain HTTP endpoints do not: use alertEmail). Empty for none.')
param outcomeWebhookUrl string = ''

@description('Email address that an Azure Monitor alert notifies of failed and misconfigured rotations; empty for no alert.')
param alertEmail string = ''

@description('Deploy an example App Service that reads one secret through a Key Vault reference.')
param deployExampleConsumer bool = false

@description('Secret the example consumer reads.')
param exampleSecretName string = 'storage-key'

var deadLetterContainerName = 'event-dead-letters'
var outcomeTopicName = take('${appName}-outcomes-${uniqueString(resourceGroup().id)}', 50)
// Zone-redundant storage only where the region has it (regions.json), else locally redundant.
var storageSku = contains(loadJsonContent('regions.json').zoneRedundantStorage, location) ? 'Standard_ZRS' : 'Standard_LRS'
// Each vault's reused system topic as [group, topic] (or [topic], in the vault's group), and the group
// its subscription goes to.
var reusedTopics = [for name in vaultNames: contains(existingSystemTopicNames, name) ? split(existingSystemTopicNames[name], '/') : []]
var topicGroups = [for (name, i) in vaultNames: length(reusedTopics[i]) == 2 ? reusedTopics[i][0] : vaultResourceGroupName]

// One key per resource group ('<subscription>/<group>'), to create each custom role once per group.
var storageGroups = [for id in storageAccountIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}')]
var cosmosGroups = [for id in cosmosAccountIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}')]
// The top-level type of each other resource (segments 6 and 7 of its ID), and one key per group and type.
var keyResourceTypes = [for id in keyResourceIds: toLower('${split(id, '/')[6]}/${split(id, '/')[7]}')]
var consumerGroups = [for id in consumerAppIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}')]
var apimGroups = [for id in consumerApiManagementIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}')]
var containerAppGroups = [for id in consumerContainerAppIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}')]
var apimRole = loadJsonContent('modules/consumer-apim.json')
var containerAppRole = loadJsonContent('modules/consumer-containerapp.json')
// The audit workspace as a list of none or one, so that nothing reads its ID when there is none.
var auditWorkspaces = empty(auditWorkspaceId) ? [] : [auditWorkspaceId]
var keyGroups = [for (id, i) in keyResourceIds: toLower('${split(id, '/')[2]}/${split(id, '/')[4]}/${keyResourceTypes[i]}')]

// The topic first: the app's setting takes its endpoint as Azure reports it, and the app's role on it
// waits for the app's identity (outcome-sender.bicep).
module outcomeTopic 'modules/outcome-topic.bicep' = if (deployOutcomeTopic) {
  name: 'outcome-topic'
  params: {
    location: location
    topicName: outcomeTopicName
    failureWebhookUrl: outcomeWebhookUrl
  }
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    appName: appName
    userAssignedIdentityId: userAssignedIdentityId
    virtualNetworkSubnetId: virtualNetworkSubnetId
    allowedVaults: join(vaultNames, ',')
    minIntervalHours: minIntervalHours
    sweepSchedule: sweepSchedule
    deadLetterContainerName: deadLetterContainerName
    storageSku: storageSku
    eventsTopicEndpoint: deployOutcomeTopic ? outcomeTopic.outputs.endpoint : ''
    auditWorkspaceCustomerId: auditWorkspaceCustomerId
  }
}

module outcomeSender 'modules/outcome-sender.bicep' = if (deployOutcomeTopic) {
  name: 'outcome-sender'
  params: {
    topicName: outcomeTopic.outputs.topicName
    principalId: app.outputs.principalId
  }
}

module alerts 'modules/alerts.bicep' = if (!empty(alertEmail)) {
  name: 'alerts'
  params: {
    location: location
    appName: appName
    insightsId: app.outputs.insightsId
    email: alertEmail
  }
}

// The vaults, read for their region: a system topic lives in its source's region, and a module
// parameter may carry what only the deployment knows (vault.bicep).
resource vaultRefs 'Microsoft.KeyVault/vaults@2023-07-01' existing = [for vaultName in vaultNames: {
  name: vaultName
  scope: resourceGroup(vaultResourceGroupName)
}]

// The Key Vault Secrets Rotator custom role, once in the vaults' group, before any vault assigns it.
module vaultSecretsRole 'modules/vault-secrets-role.bicep' = if (vaultRole == 'KeyVaultSecretsRotator') {
  name: 'vault-secrets-role'
  scope: resourceGroup(vaultResourceGroupName)
}

// Per vault, in order: the rotator's role and the system topic (vault.bicep), then the topic
// identity's role on the dead-letter container (dead-letter-access.bicep), then the subscription
// that dead-letters with that identity (events.bicep), in the topic's group.
module vaults 'modules/vault.bicep' = [for (vaultName, i) in vaultNames: {
  name: 'vault-${vaultName}'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    vaultName: vaultName
    vaultLocation: vaultRefs[i].location
    principalId: app.outputs.principalId
    useSecretsOfficer: vaultRole == 'KeyVaultSecretsOfficer'
    existingTopicName: empty(reusedTopics[i]) ? '' : last(reusedTopics[i])
    existingTopicResourceGroup: topicGroups[i]
  }
  dependsOn: [
    vaultSecretsRole
  ]
}]

module deadLetterAccess 'modules/dead-letter-access.bicep' = [for (vaultName, i) in vaultNames: {
  name: 'dead-letter-access-${vaultName}'
  params: {
    storageAccountName: app.outputs.storageAccountName
    containerName: deadLetterContainerName
    topicName: vaults[i].outputs.topicName
    principalId: vaults[i].outputs.topicPrincipalId
  }
}]

module events 'modules/events.bicep' = [for (vaultName, i) in vaultNames: if (wireEvents) {
  name: 'events-${vaultName}'
  scope: resourceGroup(topicGroups[i])
  params: {
    topicName: deadLetterAccess[i].outputs.topicName
    functionAppId: app.outputs.functionAppId
    deadLetterStorageId: app.outputs.storageAccountId
    deadLetterContainerName: deadLetterContainerName
  }
}]

// One custom role per resource group: only the first account of each group creates it, so no two
// deployments write the same role definition in parallel (indexOf:
// https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-array#indexof).
module storageRoles 'modules/storage-role.bicep' = [for (group, i) in storageGroups: if (indexOf(storageGroups, group) == i) {
  name: 'storage-role-${i}'
  scope: resourceGroup(split(storageAccountIds[i], '/')[2], split(storageAccountIds[i], '/')[4])
}]

module storageTargets 'modules/storage-target.bicep' = [for (id, i) in storageAccountIds: {
  name: 'storage-target-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    accountName: last(split(id, '/'))
    principalId: app.outputs.principalId
  }
  dependsOn: [
    storageRoles
  ]
}]

module cosmosRoles 'modules/cosmos-role.bicep' = [for (group, i) in cosmosGroups: if (indexOf(cosmosGroups, group) == i) {
  name: 'cosmos-role-${i}'
  scope: resourceGroup(split(cosmosAccountIds[i], '/')[2], split(cosmosAccountIds[i], '/')[4])
}]

module cosmosTargets 'modules/cosmos-target.bicep' = [for (id, i) in cosmosAccountIds: {
  name: 'cosmos-target-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    accountName: last(split(id, '/'))
    principalId: app.outputs.principalId
  }
  dependsOn: [
    cosmosRoles
  ]
}]

module consumerRoles 'modules/consumer-refresher-role.bicep' = [for (group, i) in consumerGroups: if (indexOf(consumerGroups, group) == i) {
  name: 'consumer-role-${i}'
  scope: resourceGroup(split(consumerAppIds[i], '/')[2], split(consumerAppIds[i], '/')[4])
}]

module consumerApps 'modules/consumer-refresher-target.bicep' = [for (id, i) in consumerAppIds: {
  name: 'consumer-app-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    appName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
  dependsOn: [
    consumerRoles
  ]
}]

module consumerStores 'modules/consumer-store.bicep' = [for (id, i) in consumerAppConfigurationIds: {
  name: 'consumer-store-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    storeName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
}]

module apimRoles 'modules/consumer-role.bicep' = [for (group, i) in apimGroups: if (indexOf(apimGroups, group) == i) {
  name: 'consumer-apim-role-${i}'
  scope: resourceGroup(split(consumerApiManagementIds[i], '/')[2], split(consumerApiManagementIds[i], '/')[4])
  params: {
    roleKey: 'apim-named-value-refresher'
    roleName: apimRole.roleName
    roleDescription: 'Read API Management named values and refresh them from Key Vault (key rotation).'
    actions: apimRole.actions
  }
}]

module apimConsumers 'modules/consumer-apim-target.bicep' = [for (id, i) in consumerApiManagementIds: {
  name: 'consumer-apim-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    serviceName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
  dependsOn: [
    apimRoles
  ]
}]

module containerAppRoles 'modules/consumer-role.bicep' = [for (group, i) in containerAppGroups: if (indexOf(containerAppGroups, group) == i) {
  name: 'consumer-containerapp-role-${i}'
  scope: resourceGroup(split(consumerContainerAppIds[i], '/')[2], split(consumerContainerAppIds[i], '/')[4])
  params: {
    roleKey: 'container-app-revision-restarter'
    roleName: containerAppRole.roleName
    roleDescription: 'Read Container Apps and their revisions, restart a revision (key rotation).'
    actions: containerAppRole.actions
  }
}]

module containerAppConsumers 'modules/consumer-containerapp-target.bicep' = [for (id, i) in consumerContainerAppIds: {
  name: 'consumer-containerapp-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    containerAppName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
  dependsOn: [
    containerAppRoles
  ]
}]

module auditReader 'modules/audit-reader.bicep' = [for (id, i) in auditWorkspaces: {
  name: 'audit-reader-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    workspaceName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
}]

module vaultAudit 'modules/vault-audit.bicep' = [for vaultName in (sendVaultAuditToWorkspace ? (empty(auditWorkspaceId) ? [] : vaultNames) : []): {
  name: 'vault-audit-${vaultName}'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    vaultName: vaultName
    workspaceId: auditWorkspaceId
  }
}]

module keyRoles 'modules/key-rotator-role.bicep' = [for (group, i) in keyGroups: if (indexOf(keyGroups, group) == i) {
  name: 'key-role-${i}'
  scope: resourceGroup(split(keyResourceIds[i], '/')[2], split(keyResourceIds[i], '/')[4])
  params: {
    resourceType: keyResourceTypes[i]
  }
}]

module keyTargets 'modules/key-rotator-target.bicep' = [for (id, i) in keyResourceIds: {
  name: 'key-target-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    resourceType: keyResourceTypes[i]
    resourceName: split(id, '/')[8]
    principalId: app.outputs.principalId
  }
  dependsOn: [
    keyRoles
  ]
}]

module consumer 'modules/consumer.bicep' = if (deployExampleConsumer) {
  name: 'example-consumer'
  params: {
    location: location
    appName: appName
    vaultName: vaultNames[0]
    vaultResourceGroupName: vaultResourceGroupName
    secretName: exampleSecretName
  }
}

output functionAppName string = app.outputs.functionAppName
output principalId string = app.outputs.principalId

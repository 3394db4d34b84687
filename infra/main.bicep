// The rotation function app, its least-privilege roles, and the Event Grid wiring.
// `azd up` deploys it (see azure.yaml); `az deployment group create` works too (README, "Deploy").
targetScope = 'resourceGroup'

@description('Region of the function app and its storage.')
param location string = resourceGroup().location

@description('Prefix of every resource name.')
@minLength(3)
@maxLength(16)
param appName string = 'kvrotate'

@description('Names of the Key Vaults (RBAC authorization) the app rotates secrets in.')
@minLength(1)
param vaultNames array

@description('Resource group of those vaults.')
param vaultResourceGroupName string = resourceGroup().name

@description('Resource IDs of the Storage accounts whose keys the app rotates.')
param storageAccountIds array = []

@description('Resource IDs of the Cosmos DB accounts whose keys the app rotates.')
param cosmosAccountIds array = []

@description('FlexConsumption (default) or Premium (for vaults behind a firewall or a VNet).')
@allowed([
  'FlexConsumption'
  'Premium'
])
param plan string = 'FlexConsumption'

@description('Resource ID of a user-assigned identity to run as; empty for a system-assigned one.')
param userAssignedIdentityId string = ''

@description('Cool-down between two rotations of one secret, in hours.')
param minIntervalHours int = 24

@description('NCRONTAB schedule of the sweep timer.')
param sweepSchedule string = '0 0 * * * *'

@description('Create the Event Grid subscriptions. They need the function code deployed, so azd sets this after its first deploy.')
param wireEvents bool = true

@description('Deploy an example App Service that reads one secret through a Key Vault reference.')
param deployExampleConsumer bool = false

@description('Secret the example consumer reads.')
param exampleSecretName string = 'storage-key'

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    appName: appName
    plan: plan
    userAssignedIdentityId: userAssignedIdentityId
    allowedVaults: join(vaultNames, ',')
    minIntervalHours: minIntervalHours
    sweepSchedule: sweepSchedule
  }
}

module vaults 'modules/vault.bicep' = [for vaultName in vaultNames: {
  name: 'vault-${vaultName}'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    location: location
    vaultName: vaultName
    principalId: app.outputs.principalId
    functionAppId: app.outputs.functionAppId
    deadLetterStorageId: app.outputs.storageAccountId
    wireEvents: wireEvents
  }
}]

module storageTargets 'modules/storage-target.bicep' = [for (id, i) in storageAccountIds: {
  name: 'storage-target-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    accountName: last(split(id, '/'))
    principalId: app.outputs.principalId
  }
}]

module cosmosTargets 'modules/cosmos-target.bicep' = [for (id, i) in cosmosAccountIds: {
  name: 'cosmos-target-${i}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    accountName: last(split(id, '/'))
    principalId: app.outputs.principalId
  }
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

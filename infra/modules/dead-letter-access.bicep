// Storage Blob Data Contributor for one vault's system topic identity, on the dead-letter container
// only. The app's storage account disables shared keys, so Event Grid must dead-letter with the
// topic's managed identity (deadLetterWithResourceIdentity, events.bicep), and that identity needs
// Storage Blob Data Contributor on the destination
// (https://learn.microsoft.com/azure/event-grid/add-identity-roles: "Azure Blob storage | Storage Blob
// Data Contributor"; https://learn.microsoft.com/azure/event-grid/managed-service-identity). Scoped to
// the container, the narrowest scope a role assignment takes for blob data.
// Role ID: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-contributor
param storageAccountName string
param containerName string
param topicName string
@description('The system topic\'s identity (vault.bicep reads it).')
param principalId string

var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: containerName
}

// The name carries the principal: a topic made again (a new identity) gets a new assignment instead of
// colliding with the old one's name ("Tenant ID, application ID, principal ID, and scope are not allowed
// to be updated", RoleAssignmentUpdateNotPermitted: https://learn.microsoft.com/azure/role-based-access-control/troubleshooting).
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, blobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// events.bicep takes the topic name from here, so the subscription waits for this role.
output topicName string = topicName

// The data roles the Functions host (and the rotation locks) need on the app's own storage, for the
// app's identity: Storage Blob Data Owner, Storage Queue Data Contributor and Storage Table Data
// Contributor, as Microsoft's "Connecting to host storage with an identity" asks for AzureWebJobsStorage
// (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
// A module of its own so that each assignment's name can carry the principal ID: a name must be known
// at the start of a deployment (BCP120), and only a module parameter brings the identity's principal ID
// in as such. A new identity then gets new assignments instead of colliding with the old ones' names
// ("Tenant ID, application ID, principal ID, and scope are not allowed to be updated",
// https://learn.microsoft.com/azure/role-based-access-control/troubleshooting).
param storageAccountName string
param principalId string

// Storage Queue Data Contributor also serves the sweep's queues (rotation-vaults, rotation-secrets and
// their -poison queues): its actions queues/read, write and delete and its data actions messages/read,
// write, delete and process/action cover creating the queues, putting, receiving and deleting messages
// and reading a queue's message count (Microsoft's "Azure built-in roles for Storage", role
// 974c5e8b-45b9-4653-ba55-5f855dd0fb88,
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-queue-data-contributor).
var roles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource hostRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(storage.id, principalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

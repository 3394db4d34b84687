// A Storage account whose keys are rotated: the 'Storage Account Key Rotator' custom role
// (storage-role.bicep, created in this resource group before this module runs), on the account only.
param accountName string
param principalId string

// The role's ID in its subscription-level form, /subscriptions/{id}/providers/Microsoft.Authorization/
// roleDefinitions/{guid}, the form role assignments take (https://learn.microsoft.com/rest/api/authorization/role-assignments/create).
var keyRotator = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'storage-key-rotator'))

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource keyRotatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, keyRotator)
  scope: account
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

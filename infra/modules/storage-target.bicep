// A Storage account whose keys are rotated: list and regenerate keys, nothing else.
param accountName string
param principalId string

var keyOperator = '81a9662b-bebf-436f-a333-f67b29880f12'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource keyOperatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, keyOperator)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyOperator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

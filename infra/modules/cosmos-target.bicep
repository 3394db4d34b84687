// A Cosmos DB account whose keys are rotated. No built-in role fits: Cosmos DB Operator
// excludes listKeys and regenerateKey, and DocumentDB Account Contributor is far broader.
param accountName string
param principalId string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: accountName
}

resource keyRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'cosmos-db-key-rotator')
  properties: {
    roleName: 'Cosmos DB Key Rotator (${resourceGroup().name})'
    description: 'Read, list and regenerate the keys of Cosmos DB accounts.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.DocumentDB/databaseAccounts/read'
          'Microsoft.DocumentDB/databaseAccounts/listKeys/action'
          'Microsoft.DocumentDB/databaseAccounts/readonlykeys/action'
          'Microsoft.DocumentDB/databaseAccounts/regenerateKey/action'
        ]
        notActions: []
      }
    ]
  }
}

resource keyRotatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, keyRotator.id)
  scope: account
  properties: {
    roleDefinitionId: keyRotator.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

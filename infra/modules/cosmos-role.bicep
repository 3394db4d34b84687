// The custom role the rotator holds on Cosmos DB accounts, created once per resource group
// (main.bicep deploys this module for the first account of each group only).
//
// Actions: the product reads the account (keysMetadata generation times tell when a regeneration has
// finished), lists keys, and regenerates one; it never reads the operation-status URL, which lives
// outside the account's scope, nor the read-only keys. They and the role's name are the Cosmos DB
// kind's (rotators/kinds/cosmosdb.py), read from key-rotators.json, which is generated from the kinds.
// No built-in role fits: Cosmos DB Operator excludes listKeys and regenerateKey, DocumentDB Account
// Contributor is far broader (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/databases).
//
// name: a GUID, unique per resource group (guid() of the group's ID). roleName: unique in the tenant,
// or Azure refuses it ("This display name must be unique at the scope of the Microsoft Entra
// directory", https://learn.microsoft.com/azure/role-based-access-control/custom-roles#custom-role-properties),
// hence the group's name and a hash after the product's name for the role.
var rotators = loadJsonContent('key-rotators.json')
var rotator = rotators['microsoft.documentdb/databaseaccounts']

resource keyRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'cosmos-key-rotator')
  properties: {
    roleName: '${rotator.roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: 'Read Cosmos DB accounts, list and regenerate their keys (key rotation).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: rotator.actions
        notActions: []
      }
    ]
  }
}

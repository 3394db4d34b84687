// The custom role the rotator holds on resources of one type (key-rotators.json, generated from the
// kinds: exactly the read, list-keys and regenerate actions its kind calls), created once per
// resource group and type.
// Name and display name unique per group as for the Storage and Cosmos DB roles (storage-role.bicep).
@description('Top-level ARM type, lower-case, as key-rotators.json lists it: microsoft.cache/redis.')
param resourceType string

var rotators = loadJsonContent('key-rotators.json')
var rotator = rotators[resourceType]

resource keyRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'key-rotator', resourceType)
  properties: {
    roleName: '${rotator.roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: 'Read ${resourceType} resources, list and regenerate their keys (key rotation).'
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

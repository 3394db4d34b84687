// The custom role the rotator holds on Storage accounts, created once per resource group
// (main.bicep deploys this module for the first account of each group only).
//
// Actions: the product reads the account (keyCreationTime, allowSharedKeyAccess), lists keys and
// regenerates one; they and the role's name are the Storage kind's (rotators/kinds/storage.py), read
// from key-rotators.json, which is generated from the kinds. The built-in Storage Account Key
// Operator Service Role has listkeys and regeneratekey but not read, so it no longer fits.
//
// name: a GUID, unique per resource group. roleName: unique in the tenant, or Azure refuses it
// (https://learn.microsoft.com/azure/role-based-access-control/custom-roles#custom-role-properties),
// hence the group's name and a hash after the product's name for the role.
var rotators = loadJsonContent('key-rotators.json')
var rotator = rotators['microsoft.storage/storageaccounts']

resource keyRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'storage-key-rotator')
  properties: {
    roleName: '${rotator.roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: 'Read Storage accounts, list and regenerate their keys (key rotation).'
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

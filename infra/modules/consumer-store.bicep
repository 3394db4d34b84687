// An App Configuration store that holds a Key Vault reference to a rotated secret (a Consumers entry
// appconfig:<group>/<store>): App Configuration Data Owner for the rotator on that store only, so it
// can set the sentinel key its apps reload on ("Microsoft Entra authorization - REST API reference":
// writing key-values takes Data Owner; Data Reader only reads).
param storeName string
param principalId string

var dataOwner = '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b' // App Configuration Data Owner

resource store 'Microsoft.AppConfiguration/configurationStores@2024-06-01' existing = {
  name: storeName
}

resource sentinelWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(store.id, principalId, dataOwner)
  scope: store
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

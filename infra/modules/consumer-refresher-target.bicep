// One app that reads a rotated secret (a Consumers entry <group>/<app>[/<slot>]): the Key Vault
// Reference Reader role (consumer-refresher-role.bicep, created in this group first) on the
// app only; its slots are its child resources and inherit the assignment.
param appName string
param principalId string

var refresher = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'key-vault-reference-refresher'))

resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: appName
}

resource refresherOnApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(site.id, principalId, refresher)
  scope: site
  properties: {
    roleDefinitionId: refresher
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// One Container App named in a Consumers tag (containerapp:<group>/<app>[/restart]): the Container App
// Revision Restarter role (consumer-role.bicep, created in this group first) on the app only.
param containerAppName string
param principalId string

var restarter = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'container-app-revision-restarter'))

resource containerApp 'Microsoft.App/containerApps@2024-03-01' existing = {
  name: containerAppName
}

resource restarterOnApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(containerApp.id, principalId, restarter)
  scope: containerApp
  properties: {
    roleDefinitionId: restarter
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// One API Management service whose named values are Consumers (apim:<group>/<service>/<named value>):
// the API Management Named Value Refresher role (consumer-role.bicep, created in this group first) on
// the service only.
param serviceName string
param principalId string

var refresher = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'apim-named-value-refresher'))

resource service 'Microsoft.ApiManagement/service@2022-08-01' existing = {
  name: serviceName
}

resource refresherOnService 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(service.id, principalId, refresher)
  scope: service
  properties: {
    roleDefinitionId: refresher
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

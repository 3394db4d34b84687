// EventGrid Data Sender for the app on its outcome topic (outcome-topic.bicep), and nothing else.
// A module of its own: the app's settings wait for the topic's endpoint, and this role for the app's
// identity, so the topic comes first, then the app, then this.
// Role: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration#eventgrid-data-sender
param topicName string
param principalId string

var dataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'd5a91429-5739-47e2-a06b-3470a27159e7')

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, dataSender)
  scope: topic
  properties: {
    roleDefinitionId: dataSender
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

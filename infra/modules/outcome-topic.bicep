// The optional Event Grid custom topic the app publishes its outcome events to
// (KeyRotation.SecretRotated, RotationFailed, RotationPending, SecretMisconfigured), with local
// (key) authentication disabled: only Entra ID identities with EventGrid Data Sender publish.
// An example subscription sends failures and misconfigurations to a webhook (a Logic App's HTTP
// trigger that emails, a Teams or ticketing webhook) when one is given.
param location string
param topicName string
param principalId string

@secure()
@description('Webhook (https) that receives KeyRotation.RotationFailed and SecretMisconfigured; empty for no subscription.')
param failureWebhookUrl string = ''

// EventGrid Data Sender (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration#eventgrid-data-sender).
var dataSenderRoleId = 'd5a91429-5739-47e2-a06b-3470a27159e7'
var dataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSenderRoleId)

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  // checkov:skip=CKV_AZURE_193: the app publishes over the public endpoint unless it has VNet integration; local auth is off, so only identities with EventGrid Data Sender publish
  name: topicName
  location: location
  identity: {
    type: 'SystemAssigned' // for deliveries with a managed identity, should a subscription need one
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
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

resource failures 'Microsoft.EventGrid/topics/eventSubscriptions@2022-06-15' = if (!empty(failureWebhookUrl)) {
  parent: topic
  name: 'rotation-failures'
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: failureWebhookUrl
      }
    }
    filter: {
      includedEventTypes: [
        'KeyRotation.RotationFailed'
        'KeyRotation.SecretMisconfigured'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output endpoint string = topic.properties.endpoint

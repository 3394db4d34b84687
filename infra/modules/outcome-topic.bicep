// The optional Event Grid custom topic the app publishes its outcome events to
// (KeyRotation.SecretRotated, RotationFailed, RotationPending, SecretMisconfigured), with local
// (key) authentication disabled: only Entra ID identities with EventGrid Data Sender publish
// (outcome-sender.bicep gives the app that role). The app reads the topic's endpoint from here, as
// Azure reports it, so no host name is built for any cloud.
//
// An optional subscription sends failures and misconfigurations to a webhook. The topic takes and
// delivers CloudEvents 1.0 (a CloudEvents input schema delivers CloudEvents), so Event Grid first
// checks the endpoint with CloudEvents' abuse-protection handshake, an HTTP OPTIONS carrying
// WebHook-Request-Origin that must be answered with WebHook-Allowed-Origin ("Endpoint validation with
// CloudEvents schema", https://learn.microsoft.com/azure/event-grid/end-point-validation-cloud-events-schema).
// Only an endpoint written to answer it works; Microsoft documents none of Teams incoming webhooks,
// Logic Apps' HTTP request trigger or a plain HTTP endpoint doing so, and the subscription is refused
// then. For email, use the Azure Monitor alert instead (alerts.bicep, main.bicep's alertEmail).
param location string
param topicName string

@secure()
@description('Webhook (https) that answers CloudEvents\' OPTIONS handshake and receives KeyRotation.RotationFailed and SecretMisconfigured; empty for no subscription.')
param failureWebhookUrl string = ''

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

output topicName string = topic.name
output endpoint string = topic.properties.endpoint

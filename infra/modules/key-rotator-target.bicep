// One resource whose keys are rotated: its type's Key Rotator custom role (key-rotator-role.bicep,
// created in this resource group before this module runs), assigned on the resource only.
//
// A role assignment's scope must be a resource symbol of a literal type, so each supported type
// has its `existing` declaration and its assignment, and only the one matching resourceType deploys.
@description('Top-level ARM type, lower-case, as key-rotators.json lists it: microsoft.cache/redis.')
param resourceType string

@description('Name of the top-level resource (the namespace, for Service Bus, Event Hubs, Relay and Notification Hubs rules; the cluster, for a Managed Redis database; the workspace, for a Machine Learning online endpoint; the service, for an API Management subscription).')
param resourceName string

param principalId string

// The role's ID in its subscription-level form, the form role assignments take
// (https://learn.microsoft.com/rest/api/authorization/role-assignments/create).
var keyRotator = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'key-rotator', resourceType))

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = if (resourceType == 'microsoft.servicebus/namespaces') {
  name: resourceName
}

resource serviceBusRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.servicebus/namespaces') {
  name: guid(serviceBus.id, principalId, keyRotator)
  scope: serviceBus
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource eventHubs 'Microsoft.EventHub/namespaces@2024-01-01' existing = if (resourceType == 'microsoft.eventhub/namespaces') {
  name: resourceName
}

resource eventHubsRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.eventhub/namespaces') {
  name: guid(eventHubs.id, principalId, keyRotator)
  scope: eventHubs
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource relay 'Microsoft.Relay/namespaces@2021-11-01' existing = if (resourceType == 'microsoft.relay/namespaces') {
  name: resourceName
}

resource relayRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.relay/namespaces') {
  name: guid(relay.id, principalId, keyRotator)
  scope: relay
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource notificationHubs 'Microsoft.NotificationHubs/namespaces@2023-09-01' existing = if (resourceType == 'microsoft.notificationhubs/namespaces') {
  name: resourceName
}

resource notificationHubsRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.notificationhubs/namespaces') {
  name: guid(notificationHubs.id, principalId, keyRotator)
  scope: notificationHubs
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource redis 'Microsoft.Cache/redis@2024-11-01' existing = if (resourceType == 'microsoft.cache/redis') {
  name: resourceName
}

resource redisRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.cache/redis') {
  name: guid(redis.id, principalId, keyRotator)
  scope: redis
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Azure Managed Redis: granted on the cluster, which holds its databases (rotators/kinds/managedredis.py).
resource managedRedis 'Microsoft.Cache/redisEnterprise@2025-07-01' existing = if (resourceType == 'microsoft.cache/redisenterprise') {
  name: resourceName
}

resource managedRedisRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.cache/redisenterprise') {
  name: guid(managedRedis.id, principalId, keyRotator)
  scope: managedRedis
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource cognitive 'Microsoft.CognitiveServices/accounts@2025-09-01' existing = if (resourceType == 'microsoft.cognitiveservices/accounts') {
  name: resourceName
}

resource cognitiveRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.cognitiveservices/accounts') {
  name: guid(cognitive.id, principalId, keyRotator)
  scope: cognitive
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource search 'Microsoft.Search/searchServices@2025-05-01' existing = if (resourceType == 'microsoft.search/searchservices') {
  name: resourceName
}

resource searchRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.search/searchservices') {
  name: guid(search.id, principalId, keyRotator)
  scope: search
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource maps 'Microsoft.Maps/accounts@2023-06-01' existing = if (resourceType == 'microsoft.maps/accounts') {
  name: resourceName
}

resource mapsRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.maps/accounts') {
  name: guid(maps.id, principalId, keyRotator)
  scope: maps
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Azure Machine Learning online endpoints: granted on the workspace, which holds its endpoints
// (rotators/kinds/mlendpoints.py).
resource mlWorkspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = if (resourceType == 'microsoft.machinelearningservices/workspaces') {
  name: resourceName
}

resource mlWorkspaceRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.machinelearningservices/workspaces') {
  name: guid(mlWorkspace.id, principalId, keyRotator)
  scope: mlWorkspace
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2025-09-01' existing = if (resourceType == 'microsoft.communication/communicationservices') {
  name: resourceName
}

resource communicationRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.communication/communicationservices') {
  name: guid(communication.id, principalId, keyRotator)
  scope: communication
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource batch 'Microsoft.Batch/batchAccounts@2025-06-01' existing = if (resourceType == 'microsoft.batch/batchaccounts') {
  name: resourceName
}

resource batchRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.batch/batchaccounts') {
  name: guid(batch.id, principalId, keyRotator)
  scope: batch
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (resourceType == 'microsoft.containerregistry/registries') {
  name: resourceName
}

resource containerRegistryRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.containerregistry/registries') {
  name: guid(containerRegistry.id, principalId, keyRotator)
  scope: containerRegistry
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource eventGridDomain 'Microsoft.EventGrid/domains@2025-02-15' existing = if (resourceType == 'microsoft.eventgrid/domains') {
  name: resourceName
}

resource eventGridDomainRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.eventgrid/domains') {
  name: guid(eventGridDomain.id, principalId, keyRotator)
  scope: eventGridDomain
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource eventGridTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = if (resourceType == 'microsoft.eventgrid/topics') {
  name: resourceName
}

resource eventGridTopicRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.eventgrid/topics') {
  name: guid(eventGridTopic.id, principalId, keyRotator)
  scope: eventGridTopic
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource eventGridNamespace 'Microsoft.EventGrid/namespaces@2025-02-15' existing = if (resourceType == 'microsoft.eventgrid/namespaces') {
  name: resourceName
}

resource eventGridNamespaceRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.eventgrid/namespaces') {
  name: guid(eventGridNamespace.id, principalId, keyRotator)
  scope: eventGridNamespace
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = if (resourceType == 'microsoft.signalrservice/signalr') {
  name: resourceName
}

resource signalRRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.signalrservice/signalr') {
  name: guid(signalR.id, principalId, keyRotator)
  scope: signalR
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = if (resourceType == 'microsoft.signalrservice/webpubsub') {
  name: resourceName
}

resource webPubSubRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.signalrservice/webpubsub') {
  name: guid(webPubSub.id, principalId, keyRotator)
  scope: webPubSub
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// API Management subscriptions: granted on the service, which holds its subscriptions
// (rotators/kinds/apimanagement.py).
resource apiManagement 'Microsoft.ApiManagement/service@2024-05-01' existing = if (resourceType == 'microsoft.apimanagement/service') {
  name: resourceName
}

resource apiManagementRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.apimanagement/service') {
  name: guid(apiManagement.id, principalId, keyRotator)
  scope: apiManagement
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource appConfiguration 'Microsoft.AppConfiguration/configurationStores@2024-06-01' existing = if (resourceType == 'microsoft.appconfiguration/configurationstores') {
  name: resourceName
}

resource appConfigurationRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (resourceType == 'microsoft.appconfiguration/configurationstores') {
  name: guid(appConfiguration.id, principalId, keyRotator)
  scope: appConfiguration
  properties: {
    roleDefinitionId: keyRotator
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

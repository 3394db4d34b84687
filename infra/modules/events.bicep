// One vault's Event Grid subscription: near-expiry and expiry events to RotateOnSecretEvent, dead
// letters written with the system topic's own managed identity into the app's storage (which accepts
// only Entra ID). deadLetterWithResourceIdentity "uses the managed identity setup on the parent
// resource (namely, topic or domain)" (Azure.ResourceManager.EventGrid EventGridSubscriptionData.
// DeadLetterWithResourceIdentity, https://learn.microsoft.com/dotnet/api/azure.resourcemanager.eventgrid.eventgridsubscriptiondata.deadletterwithresourceidentity);
// the identity "must also be a member of the Storage Blob Data Contributor role on the storage account
// that's used for dead-lettering" (https://learn.microsoft.com/azure/event-grid/managed-service-identity).
// Deployed after the topic exists and its identity holds Storage Blob Data Contributor on the container
// (main.bicep: vault.bicep, then dead-letter-access.bicep, then this).
param topicName string
param functionAppId string
param deadLetterStorageId string
param deadLetterContainerName string

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: topicName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'rotate-on-secret-expiry'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/RotateOnSecretEvent'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.KeyVault.SecretNearExpiry'
        'Microsoft.KeyVault.SecretExpired'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

// One vault, in its own resource group: the rotator's Key Vault Secrets Officer role, and the
// vault's Event Grid system topic, created here unless one already exists.
//
// - Only one system topic is allowed per source ("Only one Azure Event Grid system topic is allowed per
//   source", https://learn.microsoft.com/azure/event-grid/system-topics; a second one is refused with
//   "There is an existing tracked system topic for the given source ... Only one system topic is allowed
//   per source", MicrosoftDocs/azure-docs PR 97986). Azure creates one implicitly, in the source's
//   resource group, with the first event subscription made on the vault itself (Azure's rotation
//   sample Azure-Samples/keyvault-rotation-storageaccountkey-powershell, ARM-Templates/Function/
//   azuredeploy.json, does so). Such a topic is passed in as existingTopicName and reused.
// - A regional source's system topic lives in the source's region
//   (https://learn.microsoft.com/azure/event-grid/system-topics, "Location"): the vault's, not the app's.
// - The topic gets a system-assigned identity, with which Event Grid writes dead letters
//   (deadLetterWithResourceIdentity, events.bicep; role in dead-letter-access.bicep).
// New-or-existing pattern: https://learn.microsoft.com/azure/azure-resource-manager/bicep/conditional-resource-deployment#new-or-existing-resource
param vaultName string
param principalId string
@description('Name of the vault\'s existing system topic (in this resource group), or empty to create one.')
param existingTopicName string = ''

var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var createTopic = empty(existingTopicName)
var topicName = createTopic ? '${vaultName}-events' : existingTopicName

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource officer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficer)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = if (createTopic) {
  name: topicName
  location: vault.location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: vault.id
    topicType: 'Microsoft.KeyVault.vaults'
  }
}

// Read by main.bicep only after this whole module (topic included) has deployed.
output topicName string = topicName

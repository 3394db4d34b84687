// One vault, in its own resource group: the rotator's role on the vault's secrets, and the vault's
// Event Grid system topic, created here unless one already exists.
//
// - Only one system topic is allowed per source ("Only one Azure Event Grid system topic is allowed per
//   source", https://learn.microsoft.com/azure/event-grid/system-topics; a second one is refused with
//   "There is an existing tracked system topic for the given source ... Only one system topic is allowed
//   per source", MicrosoftDocs/azure-docs PR 97986). Azure creates one implicitly with the first event
//   subscription made on the vault itself (Azure's rotation sample Azure-Samples/keyvault-rotation-
//   storageaccountkey-powershell, ARM-Templates/Function/azuredeploy.json, does so), in the group that
//   subscription's deployment named, which need not be the vault's. Such a topic is passed in as
//   existingTopicName (in existingTopicResourceGroup) and reused.
// - A regional source's system topic lives in the source's region
//   (https://learn.microsoft.com/azure/event-grid/system-topics, "Location"): the vault's, not the app's.
//   The caller reads it (vaultLocation): of a resource, `existing` or not, only id, name, type and
//   apiVersion can be calculated at the start of a deployment, and a location must be (BCP120), while a
//   module parameter may carry a value known only during the deployment.
// - The topic gets a system-assigned identity, with which Event Grid writes dead letters
//   (deadLetterWithResourceIdentity, events.bicep; its role in dead-letter-access.bicep, named by the
//   principal ID this module outputs).
// New-or-existing pattern: https://learn.microsoft.com/azure/azure-resource-manager/bicep/conditional-resource-deployment#new-or-existing-resource
param vaultName string
@description('The vault\'s region (the caller reads it from the vault).')
param vaultLocation string
param principalId string
@description('Grant the built-in Key Vault Secrets Officer instead of the Key Vault Secrets Rotator custom role (vault-secrets-role.bicep, created in this group first).')
param useSecretsOfficer bool = false
@description('Name of the vault\'s existing system topic, or empty to create one.')
param existingTopicName string = ''
@description('Resource group of that topic, in this subscription.')
param existingTopicResourceGroup string = resourceGroup().name

var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var secretsRotator = guid(resourceGroup().id, 'key-vault-secrets-rotator') // vault-secrets-role.bicep
var secretsRoleId = useSecretsOfficer ? secretsOfficer : secretsRotator
var createTopic = empty(existingTopicName)
var topicName = createTopic ? '${vaultName}-events' : existingTopicName

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

// Named as before the custom role existed, so a deployment that keeps Secrets Officer keeps its assignment.
resource secrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = if (createTopic) {
  name: topicName
  location: vaultLocation
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: vault.id
    topicType: 'Microsoft.KeyVault.vaults'
  }
}

resource reused 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = if (!createTopic) {
  name: topicName
  scope: resourceGroup(existingTopicResourceGroup)
}

// Read by main.bicep only after this whole module (topic included) has deployed.
output topicName string = topicName
output topicPrincipalId string = createTopic ? topic.identity.principalId : reused.identity.principalId

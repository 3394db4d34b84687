// An example consumer: an App Service that reads the rotated secret through a versionless
// Key Vault reference, so it follows every rotation without a code change.
//
// Its identity must hold Key Vault Secrets User before the app first resolves the reference, or the
// app keeps the literal '@Microsoft.KeyVault(...)' text until its next refresh (up to 24 hours).
// So the reference resolves with a user-assigned identity that gets the role first, and the app is
// created only after that role assignment ("Some apps need to reference secrets at creation time,
// when a system-assigned identity would not yet be available. In these cases, a user-assigned
// identity can be created and given access to the vault in advance", then keyVaultReferenceIdentity:
// https://learn.microsoft.com/azure/app-service/app-service-key-vault-references#access-vaults-with-a-user-assigned-identity).
param location string
param appName string
param vaultName string
param vaultResourceGroupName string
param secretName string

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var suffix = uniqueString(resourceGroup().id, appName)

resource readerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-consumer-id-${suffix}'
  location: location
}

module reader 'consumer-access.bicep' = {
  name: 'consumer-access'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    vaultName: vaultName
    principalId: readerIdentity.properties.principalId
    roleId: secretsUser
  }
}

resource consumerPlan 'Microsoft.Web/serverfarms@2023-12-01' = {
  // checkov:skip=CKV_AZURE_225: an example app on a Basic plan
  name: '${appName}-consumer-plan-${suffix}'
  location: location
  kind: 'linux'
  sku: {
    name: 'B1'
  }
  properties: {
    reserved: true
  }
}

resource consumerApp 'Microsoft.Web/sites@2023-12-01' = {
  // checkov:skip=CKV_AZURE_222: an example app that must be reachable to be looked at
  // checkov:skip=CKV_AZURE_212: an example app on a Basic plan
  // checkov:skip=CKV_AZURE_213: the example has no health route
  name: '${appName}-consumer-${suffix}'
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${readerIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: consumerPlan.id
    httpsOnly: true
    clientCertEnabled: true
    clientCertMode: 'Optional'
    keyVaultReferenceIdentity: readerIdentity.id
    siteConfig: {
      linuxFxVersion: 'PYTHON|3.11'
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        {
          name: 'STORAGE_KEY'
          value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'
        }
      ]
    }
  }
  // The role first, then the app that resolves the reference at start.
  dependsOn: [
    reader
  ]
}

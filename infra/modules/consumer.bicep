// An example consumer: an App Service that reads the rotated secret through a versionless
// Key Vault reference, so it follows every rotation without a code change.
param location string
param appName string
param vaultName string
param vaultResourceGroupName string
param secretName string

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var suffix = uniqueString(resourceGroup().id, appName)

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
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: consumerPlan.id
    httpsOnly: true
    clientCertEnabled: true
    clientCertMode: 'Optional'
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
}

module reader 'consumer-access.bicep' = {
  name: 'consumer-access'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    vaultName: vaultName
    principalId: consumerApp.identity.principalId
    roleId: secretsUser
  }
}

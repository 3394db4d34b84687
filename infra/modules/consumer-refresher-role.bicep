// The Key Vault Reference Reader custom role (consumer-refresher.json: read the Key Vault
// references of App Service and Function apps, nothing else; why it grants no refresh is there), created
// once per resource group holding consumer apps; consumer-refresher-target.bicep assigns it on
// each app. Name and display name unique per group as for the other custom roles.
var refresher = loadJsonContent('consumer-refresher.json')

resource refresherRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'key-vault-reference-refresher')
  properties: {
    roleName: '${refresher.roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: 'Read the Key Vault references of App Service and Function apps (key rotation).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: refresher.actions
        notActions: []
      }
    ]
  }
}

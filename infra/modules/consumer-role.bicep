// A consumer custom role (consumer-apim.json, consumer-containerapp.json: what each may do is there),
// created once per resource group holding such consumers; consumer-apim-target.bicep and
// consumer-containerapp-target.bicep assign it on each resource. Name and display name unique per
// group as for the other custom roles.
param roleKey string
param roleName string
param roleDescription string
param actions array

resource consumerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, roleKey)
  properties: {
    roleName: '${roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: roleDescription
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: actions
        notActions: []
      }
    ]
  }
}

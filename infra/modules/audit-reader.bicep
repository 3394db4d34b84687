// The Log Analytics workspace that receives the vaults' AuditEvent logs: Log Analytics Reader for the
// rotator on that workspace only, so that one query per confirmation can read which version each
// consumer's identity last read (README, Consumers).
param workspaceName string
param principalId string

var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893' // Log Analytics Reader

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource auditReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, logAnalyticsReader)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// A vault's diagnostic setting that sends its AuditEvent logs to the audit workspace, in the
// resource-specific table AZKVAuditLogs ("Supported logs for Microsoft.KeyVault/vaults"; the product's
// query reads AzureDiagnostics too, for vaults already sending there). Deployed only when asked
// (sendVaultAuditToWorkspace): a vault may already send its logs elsewhere, and ingestion is billed.
param vaultName string
param workspaceId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource audit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'key-rotation-audit'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

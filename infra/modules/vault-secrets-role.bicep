// The custom role the rotator holds on its vaults, created once in the vaults' resource group:
// exactly the Key Vault data actions the product performs on secrets, and nothing else.
//
// What the product calls (rotators/adapters/vault.py) and the data action Key Vault checks for it
// (Microsoft's "Azure permissions for Security", Microsoft.KeyVault DataActions:
// https://learn.microsoft.com/azure/role-based-access-control/permissions/security#microsoftkeyvault):
// - Get Secret (the current version's value, a rollback's source): secrets/getSecret/action, "Gets the
//   value of a secret";
// - list secrets and a secret's versions, read a version's properties: secrets/readMetadata/action,
//   "List or view the properties of a secret, but not its value";
// - Set Secret (each new version): secrets/setSecret/action, "Sets the value of a secret";
// - Update Secret (a version's tags, `consumers --apply`): secrets/update/action, "Updates the
//   specified attributes associated with the given secret".
// No delete, purge, backup, restore or recover: Key Vault Secrets Officer (secrets/*) allows all of
// them, so a compromised rotator could destroy every secret; this role cannot. The built-in stays
// available as a fallback (main.bicep, vaultRole), should Azure refuse this definition.
// tools/rbac-actions finds the first three among the actions of Microsoft's built-in roles (its catalog's
// supplement); Microsoft.KeyVault is not in its main snapshot, so update/action is reported not
// verifiable (RBAC002), and the permission page above is its source.
//
// name: a GUID, unique per resource group. roleName: unique in the tenant, or Azure refuses it
// (https://learn.microsoft.com/azure/role-based-access-control/custom-roles#custom-role-properties).
var roleName = 'Key Vault Secrets Rotator'

resource secretsRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'key-vault-secrets-rotator')
  properties: {
    roleName: '${roleName} (${take(resourceGroup().name, 64)} ${uniqueString(resourceGroup().id)})'
    description: 'Read, list, write and tag the secrets of Key Vaults (key rotation); no delete, purge, backup or restore.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/getSecret/action'
          'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
          'Microsoft.KeyVault/vaults/secrets/update/action'
        ]
        notDataActions: []
      }
    ]
  }
}

// An Azure Monitor alert on failed and misconfigured rotations: a log search alert rule
// (Microsoft.Insights/scheduledQueryRules, kind LogAlert) over the function's Application Insights,
// every 15 minutes on the last 15, to an action group that emails one address. Unlike a webhook on
// the outcome topic it needs no handshake from the receiver
// (https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule;
// action groups: https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups).
// The query (failed-rotations.kql) matches the product's own Error lines.
param location string
param appName string
@description('Resource ID of the function\'s Application Insights component.')
param insightsId string
@description('Address that receives the alert.')
param email string

var suffix = uniqueString(resourceGroup().id, appName)

resource operators 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${appName}-operators-${suffix}'
  location: 'global'
  properties: {
    groupShortName: 'keyrotation' // at most 12 characters: the sender name in the email
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: email
        useCommonAlertSchema: true
      }
    ]
  }
}

resource failedRotations 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${appName}-failed-rotations-${suffix}'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'Key rotation failed or misconfigured'
    description: 'A rotation was refused for good, failed unexpectedly, or the sweep found a secret it cannot rotate. The alert\'s search results name the secret and the reason.'
    severity: 1
    enabled: true
    scopes: [
      insightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('failed-rotations.kql')
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: [
        operators.id
      ]
    }
  }
}

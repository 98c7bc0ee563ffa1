// Reportback in one resource group: a Python Function App on the Flex Consumption
// plan that reaches its storage account, Application Insights and Microsoft Graph
// with its system-assigned managed identity, so no key or secret is stored anywhere.
// Deploy with `azd up` or `az deployment group create` (see the README).
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it seeds the resource token and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region of every resource. It must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@minLength(3)
@maxLength(320)
@description('Address of the Exchange Online reporting mailbox that user reports arrive in.')
param reportingMailbox string

@minLength(3)
@maxLength(320)
@description('Mailbox that notifications are sent from when no custom sender is configured.')
param defaultSender string

@minLength(1)
@maxLength(2000)
@description('Comma-separated domains of the organization; a custom sender must be in one.')
param acceptedDomains string

@minLength(11)
@maxLength(100)
@description('NCRONTAB schedule (six fields, UTC) of the reporting-mailbox poll.')
param pollSchedule string = '0 */1 * * * *'

@minLength(36)
@maxLength(36)
@description('Application (client) ID of the Entra app registration that signs callers in and defines the roles reader, reviewer and settings_admin.')
param authClientId string

@minLength(10)
@maxLength(200)
@description('Microsoft Graph endpoint; change it only for a national cloud.')
param graphBaseUrl string = 'https://graph.microsoft.com/v1.0'

@minValue(1)
@maxValue(10000)
@description('Notifications one sender mailbox may send a minute; Exchange Online allows 30.')
param sendsPerMinute int = 30

@description('Keep a copy of each notification in the sender mailbox\'s Sent Items.')
param saveToSentItems bool = false

@minValue(1)
@maxValue(1000)
@description('Maximum number of instances the Flex Consumption plan scales out to.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Memory of one instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps the app\'s logs and telemetry.')
param logRetentionDays int = 90

@minValue(1)
@maxValue(365)
@description('Days a deleted blob or container (raw reports, logos) can still be restored.')
param blobSoftDeleteDays int = 14

@allowed([
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
  'Standard_ZRS'
  'Standard_LRS'
])
@description('Replication of the storage account that keeps raw reports, audit entries and app state.')
param storageSku string = 'Standard_GRS'

@description('Tags added to every resource.')
param tags object = {}

// Names follow the Azure abbreviations plus a token that is stable per environment.
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var allTags = union(tags, {
  'azd-env-name': environmentName
})
var storageAccountName = 'st${resourceToken}'
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

// Storage names the app uses; tests compare them with storage/clients.py.
var tableNames = [
  'reports'
  'audit'
  'deliveries'
  'settings'
  'state'
]
var queueNames = [
  'notifications'
  'notifications-poison'
  'notifications-poison-poison'
]
var containerNames = [
  'raw-reports'
  'assets'
  'locks'
]

// Built-in role definition IDs, the same in every tenant.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

// Holds the raw MIME of every report, so only Entra identities may read it: shared
// keys and anonymous blob access are off.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:The app has no virtual network, so it reaches storage over the public endpoint; shared keys are off, so every request needs an Entra token.
  // checkov:skip=CKV_AZURE_59:Public network access for the same reason as CKV_AZURE_35; shared keys are off.
  // checkov:skip=CKV_AZURE_43:The name is 'st' plus a 13-character uniqueString() token, which checkov cannot evaluate; tests check the naming rule.
  name: storageAccountName
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Soft delete lets an operator restore a raw report deleted by mistake.
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
  }
}

// Raw reports, the organization logo and the poll's lease blobs; the app also
// creates them if missing.
resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in containerNames: {
  parent: blobService
  name: name
  properties: {
    publicAccess: 'None'
  }
}]

// Flex Consumption deploys the app's package from this container.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The notification queue and the poison queues that failed messages move to.
resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for name in queueNames: {
  parent: queueService
  name: name
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Reports, audit entries, deliveries, settings and poll state.
resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for name in tableNames: {
  parent: tableService
  name: name
}]

// Application Insights keeps its data here.
resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: allTags
  properties: {
    retentionInDays: logRetentionDays
    sku: {
      name: 'PerGB2018'
    }
  }
}

// Local (key) authentication is off: the host and the app's exporter sign in with
// the managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone redundancy of a Flex Consumption plan is offered only in some regions, so it is left to the deployer.
  name: 'plan-${resourceToken}'
  location: location
  tags: allTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// The app itself. The azd-service-name tag tells azd where to deploy the code.
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:Without a virtual network the app serves on its public endpoint; App Service authentication lets no request reach the app without an Entra sign-in.
  // checkov:skip=CKV_AZURE_17:Callers sign in with Entra bearer tokens; requiring client certificates as well would reject them.
  // checkov:skip=CKV_AZURE_212:Flex Consumption starts instances on demand; always-ready instances would bill around the clock for a poll that runs once a minute.
  // checkov:skip=CKV_AZURE_213:A health check probe calls the app without a token, and every route requires sign-in and a role.
  name: functionAppName
  location: location
  tags: union(allTags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// FTP and basic-auth deployment are off; azd and az deploy with Entra tokens.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// The Functions host keeps leases and keys in blobs; Microsoft documents Storage Blob
// Data Owner for identity-based AzureWebJobsStorage. It also covers deployments.
resource blobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The verdict API enqueues notifications and the queue trigger reads them.
resource queueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reports, audit entries, deliveries and settings live in tables.
resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Lets the identity send telemetry while the component's key authentication is off.
resource telemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, monitoringMetricsPublisherRoleId)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Every setting the code reads (config.SETTINGS); tests compare the names. There is
// no AzureWebJobsStorage connection string: it would need a key, and the host uses
// AzureWebJobsStorage__accountName with the identity instead. The settings wait for
// the role assignments so that the host never starts without storage access.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // Checkov reads this sites/config resource as a whole site, but it holds only app settings, so site-level checks do not apply here.
  // checkov:skip=CKV_AZURE_13:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_63:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_65:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_66:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_80:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_88:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_222:Site-level check; this resource is not the site.
  parent: functionApp
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storage.name
    REPORTBACK_STORAGE_PREFIX: ''
    REPORTBACK_MAILBOX_DIR: '/tmp/reportback-mailbox'
    REPORTBACK_REPORTING_MAILBOX: reportingMailbox
    REPORTBACK_GRAPH_BASE_URL: graphBaseUrl
    REPORTBACK_SENDS_PER_MINUTE: string(sendsPerMinute)
    REPORTBACK_SAVE_TO_SENT_ITEMS: saveToSentItems ? 'true' : 'false'
    REPORTBACK_DEFAULT_SENDER: defaultSender
    REPORTBACK_ACCEPTED_DOMAINS: acceptedDomains
    REPORTBACK_POLL_SCHEDULE: pollSchedule
    REPORTBACK_POLL_SECONDS: '10'
    REPORTBACK_LOCAL_ROLE: 'reader'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  }
  dependsOn: [
    blobRole
    queueRole
    tableRole
    telemetryRole
  ]
}

// App Service authentication (Entra ID) signs every caller in and passes the app
// roles of the token to the app in X-MS-CLIENT-PRINCIPAL, which only it can set.
// Without a client secret, browser sign-in uses the OpenID Connect implicit flow,
// so no secret is stored; the README lists the app registration settings it needs.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // Checkov reads this sites/config resource as a whole site, but it holds only the authentication settings, so site-level checks do not apply here.
  // checkov:skip=CKV_AZURE_13:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_63:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_65:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_66:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_80:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_88:Site-level check; this resource is not the site.
  // checkov:skip=CKV_AZURE_222:Site-level check; this resource is not the site.
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    // Browsers opening the review portal are sent to the Entra sign-in page; API
    // clients send an Entra bearer token instead.
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        // NOTE: checked offline only. The README sets requestedAccessTokenVersion=2
        // on the registration because it is unverified whether this v2.0 issuer also
        // accepts v1 access tokens (issuer sts.windows.net).
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output APPLICATIONINSIGHTS_NAME string = appInsights.name
output REPORTBACK_API_URL string = 'https://${functionApp.properties.defaultHostName}/api'
output REPORTBACK_PRINCIPAL_ID string = functionApp.identity.principalId
output REPORTBACK_SIGN_IN_REDIRECT_URI string = 'https://${functionApp.properties.defaultHostName}/.auth/login/aad/callback'

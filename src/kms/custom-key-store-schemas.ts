import { z } from 'zod';
import { awsEnum, awsInt, awsString, markSensitive, sensitiveString } from '../core/index.js';

/**
 * The custom key store operations' input shapes (botocore's kms model), kept apart from schemas.ts because Coffer
 * validates them and then refuses the operations (operations/custom-key-stores.ts). The password and the XKS
 * proxy credential are sensitive in AWS's model: a ValidationException never shows them, and the audit log drops
 * them (audit/redaction.ts).
 */
const customKeyStoreId = awsString({ min: 1, max: 64 });
const customKeyStoreName = awsString({ min: 1, max: 256 });
const cloudHsmClusterId = awsString({ min: 19, max: 24, pattern: /^cluster-[2-7a-zA-Z]{11,16}$/ });
const keyStorePassword = sensitiveString({ min: 7, max: 32 });
const xksProxyUriEndpoint = awsString({ min: 10, max: 128, pattern: /^https:\/\/[a-zA-Z0-9.-]+$/ });
const xksProxyUriPath = awsString({ min: 10, max: 128, pattern: /^(\/[a-zA-Z0-9/_-]+\/kms\/xks\/v\d{1,2})$|^(\/kms\/xks\/v\d{1,2})$/ });
const xksProxyVpcEndpointServiceName = awsString({ min: 20, max: 64, pattern: /^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$/ });
const xksProxyVpcEndpointServiceOwner = awsString({ min: 12, max: 12, pattern: /^[0-9]{12}$/ });
const xksProxyAuthenticationCredential = markSensitive(
  z.object({
    AccessKeyId: sensitiveString({ min: 20, max: 30, pattern: /^[A-Z2-7]+$/ }),
    RawSecretAccessKey: sensitiveString({ min: 43, max: 64, pattern: /^[a-zA-Z0-9/+=]+$/ }),
  }),
);
const xksProxyConnectivity = awsEnum(['PUBLIC_ENDPOINT', 'VPC_ENDPOINT_SERVICE'] as const);

export const customKeyStoreSchemas = {
  CreateCustomKeyStore: z.object({
    CustomKeyStoreName: customKeyStoreName,
    CloudHsmClusterId: cloudHsmClusterId.optional(),
    TrustAnchorCertificate: awsString({ min: 1, max: 5000 }).optional(),
    KeyStorePassword: keyStorePassword.optional(),
    CustomKeyStoreType: awsEnum(['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const).optional(),
    XksProxyUriEndpoint: xksProxyUriEndpoint.optional(),
    XksProxyUriPath: xksProxyUriPath.optional(),
    XksProxyVpcEndpointServiceName: xksProxyVpcEndpointServiceName.optional(),
    XksProxyVpcEndpointServiceOwner: xksProxyVpcEndpointServiceOwner.optional(),
    XksProxyAuthenticationCredential: xksProxyAuthenticationCredential.optional(),
    XksProxyConnectivity: xksProxyConnectivity.optional(),
  }),
  ConnectCustomKeyStore: z.object({ CustomKeyStoreId: customKeyStoreId }),
  DeleteCustomKeyStore: z.object({ CustomKeyStoreId: customKeyStoreId }),
  DescribeCustomKeyStores: z.object({
    CustomKeyStoreId: customKeyStoreId.optional(),
    CustomKeyStoreName: customKeyStoreName.optional(),
    Limit: awsInt({ min: 1, max: 1000 }).optional(),
    Marker: awsString({ min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ }).optional(),
  }),
  DisconnectCustomKeyStore: z.object({ CustomKeyStoreId: customKeyStoreId }),
  UpdateCustomKeyStore: z.object({
    CustomKeyStoreId: customKeyStoreId,
    NewCustomKeyStoreName: customKeyStoreName.optional(),
    KeyStorePassword: keyStorePassword.optional(),
    CloudHsmClusterId: cloudHsmClusterId.optional(),
    XksProxyUriEndpoint: xksProxyUriEndpoint.optional(),
    XksProxyUriPath: xksProxyUriPath.optional(),
    XksProxyVpcEndpointServiceName: xksProxyVpcEndpointServiceName.optional(),
    XksProxyVpcEndpointServiceOwner: xksProxyVpcEndpointServiceOwner.optional(),
    XksProxyAuthenticationCredential: xksProxyAuthenticationCredential.optional(),
    XksProxyConnectivity: xksProxyConnectivity.optional(),
  }),
} as const;

import type { IamTag } from './iam.js';

/**
 * An IAM OpenID Connect identity provider of an account: the issuer Coffer trusts for
 * AssumeRoleWithWebIdentity, the audiences (client ids) it accepts, and optionally the issuer's signing keys
 * given by hand (`coffer oidc set-jwks`) for an issuer Coffer cannot reach.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
 */
export type OidcProviderRecord = {
  accountId: string;
  /** `arn:aws:iam::<account>:oidc-provider/<host/path of the URL>`: unique per account. */
  arn: string;
  /** The issuer URL as given (`https://host/path`), which a token's `iss` must name. */
  url: string;
  clientIds: string[];
  /** 40-hex SHA-1 thumbprints, kept and returned as IAM does; Coffer verifies TLS with the system trust store. */
  thumbprints: string[];
  tags: IamTag[];
  /** A JWKS document (JSON text) used instead of fetching the issuer's keys; undefined to fetch them. */
  jwks?: string;
  createdAt: Date;
};

export type OidcProviderCreateOutcome = 'created' | 'exists' | 'limit-exceeded';
export type OidcProviderUpdateOutcome = 'updated' | 'absent' | 'limit-exceeded';

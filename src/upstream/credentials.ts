/**
 * AWS credentials for signing Bedrock calls (docs/bedrock-wire.md#credentials).
 *
 * Input: a credential provider — by default the AWS SDK's Node chain (environment, SSO, shared files,
 * credential_process, IRSA web identity, EKS Pod Identity / container endpoint, IMDS). Output: a
 * `CredentialSource` whose `get()` answers from memory on the hot path.
 *
 * Invariants: credentials are resolved lazily on the first `get()`, then reused. Credentials without an
 * `expiration` are kept until `invalidate()`. With one, when fewer than 5 minutes remain a refresh starts
 * in the background while the current credentials keep being served (a failed background refresh keeps
 * them and is retried at most every 10 s); once they have actually expired, `get()` waits for the refresh.
 * Concurrent callers share one in-flight resolution. `invalidate()` (after an expired-token answer) drops
 * the cached credentials so the next `get()` resolves afresh. Time comes from the injected `now()`.
 *
 * Errors: a failed blocking resolution rejects every waiter with `SidecarError('internal_error')` (the
 * sidecar cannot authenticate itself; the client is not at fault) and is retried on the next `get()`.
 * Credentials are never logged and never put into an error message.
 */
import { defaultProvider, type DefaultProviderInit } from '@aws-sdk/credential-provider-node';
import { SidecarError, isSidecarError } from '../errors.ts';
import { rememberSecret } from '../ops/secrets.ts';

/** Structurally the `@smithy/types` identity, declared here so no transitive package is imported. */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  readonly credentialScope?: string;
  readonly accountId?: string;
}

export type AwsCredentialIdentityProvider = (
  identityProperties?: Record<string, unknown>,
) => Promise<AwsCredentialIdentity>;

export interface CredentialSource {
  get(): Promise<AwsCredentialIdentity>;
  /** Forgets the cached credentials; the next `get()` resolves new ones. */
  invalidate(): void;
}

export interface CredentialSourceOptions {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Refresh in the background when fewer than this many milliseconds remain (the SDK's own window). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** Minimum spacing of background refresh attempts, so short-lived credentials cannot hammer IMDS/STS. */
export const BACKGROUND_RETRY_MS = 10 * 1000;

/**
 * The AWS SDK's default Node credential chain. It is memoised by the SDK with the same 5-minute rule, and
 * honours `{ forceRefresh: true }`, which `createCredentialSource` passes whenever it decides to refresh —
 * so the SDK's cache never hands back credentials the source has just invalidated.
 */
export function defaultCredentialProvider(init?: DefaultProviderInit): AwsCredentialIdentityProvider {
  const chain = defaultProvider(init);
  return (identityProperties) => chain(identityProperties);
}

function credentialError(error: unknown): SidecarError {
  if (isSidecarError(error)) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  return new SidecarError('internal_error', `AWS credentials could not be resolved: ${name}: ${detail}`, {
    upstreamCode: name,
    cause: error,
  });
}

function checkIdentity(identity: AwsCredentialIdentity | undefined): AwsCredentialIdentity {
  if (
    typeof identity !== 'object' ||
    identity === null ||
    typeof identity.accessKeyId !== 'string' ||
    identity.accessKeyId === '' ||
    typeof identity.secretAccessKey !== 'string' ||
    identity.secretAccessKey === ''
  ) {
    throw new SidecarError('internal_error', 'AWS credentials could not be resolved: the provider returned no key');
  }
  // Known by value from now on, so that no error text or log line can carry them (ops/secrets.ts).
  rememberSecret('aws.accessKeyId', identity.accessKeyId);
  rememberSecret('aws.secretAccessKey', identity.secretAccessKey);
  rememberSecret('aws.sessionToken', identity.sessionToken);
  return identity;
}

export function createCredentialSource(
  provider: AwsCredentialIdentityProvider,
  options: CredentialSourceOptions = {},
): CredentialSource {
  const now = options.now ?? Date.now;
  let current: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  let lastBackgroundAttemptMs = Number.NEGATIVE_INFINITY;

  function refresh(): Promise<AwsCredentialIdentity> {
    if (inflight) return inflight;
    // Started on a microtask so `inflight` is set before the provider can settle, even synchronously.
    const attempt = Promise.resolve()
      .then(() => provider({ forceRefresh: true }))
      .then(
        (identity) => {
          current = checkIdentity(identity);
          return current;
        },
        (error: unknown) => {
          throw credentialError(error);
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    inflight = attempt;
    return attempt;
  }

  return {
    async get() {
      const nowMs = now();
      const expiresMs = current?.expiration?.getTime();
      if (current && (expiresMs === undefined || expiresMs > nowMs)) {
        if (
          expiresMs !== undefined &&
          expiresMs - nowMs < REFRESH_WINDOW_MS &&
          !inflight &&
          nowMs - lastBackgroundAttemptMs >= BACKGROUND_RETRY_MS
        ) {
          lastBackgroundAttemptMs = nowMs;
          // The current credentials stay valid meanwhile; a failure is retried on a later get().
          refresh().catch(() => undefined);
        }
        return current;
      }
      return refresh();
    },
    invalidate() {
      current = undefined;
    },
  };
}

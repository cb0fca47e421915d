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
 * Bounded: a resolution that has not settled within `timeoutMs` fails (its waiters get a prompt 503) and
 * the next `get()` starts a new one. A credentials endpoint that accepts and never answers (the SDK's own
 * request timeout only warns) would otherwise hold every request forever, and, as the SDK coalesces calls
 * onto the one pending, every later one too: so each resolution of the default chain is a fresh chain. An
 * abandoned resolution that answers late is still used. At most MAX_UNSETTLED resolutions may be left
 * unanswered at once (each holds a socket); beyond that `get()` fails at once until one settles.
 * `usable()` says whether signing can proceed now (for readiness).
 *
 * Errors: a failed blocking resolution rejects every waiter with `SidecarError('unavailable')` naming the
 * credential source (the sidecar cannot authenticate itself; the client is not at fault, and may retry)
 * and is retried on the next `get()`. Credentials are never logged and never put into an error message;
 * each resolved key is remembered by value so no error text can carry it (ops/secrets.ts).
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

export type AwsCredentialIdentityProvider = (identityProperties?: Record<string, unknown>) => Promise<AwsCredentialIdentity>;

export interface CredentialSource {
  get(): Promise<AwsCredentialIdentity>;
  /** Forgets the cached credentials; the next `get()` resolves new ones. */
  invalidate(): void;
  /** Credentials are held and not expired: a request can be signed without waiting. */
  usable(): boolean;
  /** Why the latest resolution failed, while no usable credentials are held. */
  lastError(): SidecarError | undefined;
}

export interface CredentialSourceOptions {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Longest one resolution may take (read at each resolution, so a reload applies). Default 5000. */
  timeoutMs?: () => number;
  /** Where credentials come from, for messages ("the container credentials endpoint http://…"). */
  description?: string;
}

/** Refresh in the background when fewer than this many milliseconds remain (the SDK's own window). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** Minimum spacing of background refresh attempts, so short-lived credentials cannot hammer IMDS/STS. */
export const BACKGROUND_RETRY_MS = 10 * 1000;
/** Most resolutions left unanswered at once (each may hold a socket to a hung endpoint). */
export const MAX_UNSETTLED = 4;

/**
 * The AWS SDK's default Node credential chain. It is memoised by the SDK with the same 5-minute rule, and
 * honours `{ forceRefresh: true }`, which `createCredentialSource` passes whenever it decides to refresh —
 * so the SDK's cache never hands back credentials the source has just invalidated.
 */
export function defaultCredentialProvider(init?: DefaultProviderInit): AwsCredentialIdentityProvider {
  // A fresh chain per resolution: the SDK's memoised chain hands every call the one pending resolution,
  // so a resolution that hangs would hang all later ones (createCredentialSource memoises instead).
  return (identityProperties) => defaultProvider(init)(identityProperties);
}

/** Which source of the default chain the environment points at, for messages (never a secret). */
export function describeCredentialSource(env: Readonly<Record<string, string | undefined>>): string {
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) return 'the environment (AWS_ACCESS_KEY_ID)';
  if (env.AWS_PROFILE) return `the AWS profile "${env.AWS_PROFILE}"`;
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN)
    return `IRSA web identity (STS AssumeRoleWithWebIdentity for ${env.AWS_ROLE_ARN})`;
  const container =
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ??
    (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ? `http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}` : undefined);
  if (container) return `the container credentials endpoint ${container.split('?')[0]} (EKS Pod Identity / ECS)`;
  if (env.AWS_EC2_METADATA_DISABLED !== 'true') return 'the AWS default chain (last: the instance metadata service, IMDS)';
  return 'the AWS default chain';
}

function credentialError(error: unknown, description: string): SidecarError {
  if (isSidecarError(error)) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  return new SidecarError('unavailable', `AWS credentials could not be resolved from ${description}: ${name}: ${detail}`, {
    upstreamCode: name,
    cause: error,
  });
}

function checkIdentity(identity: AwsCredentialIdentity | undefined, description: string): AwsCredentialIdentity {
  if (
    typeof identity !== 'object' ||
    identity === null ||
    typeof identity.accessKeyId !== 'string' ||
    identity.accessKeyId === '' ||
    typeof identity.secretAccessKey !== 'string' ||
    identity.secretAccessKey === ''
  ) {
    throw new SidecarError('unavailable', `AWS credentials could not be resolved from ${description}: it returned no key`);
  }
  // Known by value from now on, so that no error text or log line can carry them (ops/secrets.ts).
  rememberSecret('aws.accessKeyId', identity.accessKeyId);
  rememberSecret('aws.secretAccessKey', identity.secretAccessKey);
  rememberSecret('aws.sessionToken', identity.sessionToken);
  return identity;
}

export function createCredentialSource(provider: AwsCredentialIdentityProvider, options: CredentialSourceOptions = {}): CredentialSource {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? (() => 5_000);
  const description = options.description ?? 'the credential provider';
  let current: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  let lastBackgroundAttemptMs = Number.NEGATIVE_INFINITY;
  let failure: SidecarError | undefined;
  let unsettled = 0;

  function refresh(): Promise<AwsCredentialIdentity> {
    if (inflight) return inflight;
    if (unsettled >= MAX_UNSETTLED) {
      failure = new SidecarError(
        'unavailable',
        `AWS credentials could not be resolved from ${description}: ${unsettled} earlier attempts are still unanswered`,
      );
      return Promise.reject(failure);
    }
    // Started on a microtask so `inflight` is set before the provider can settle, even synchronously.
    const call = Promise.resolve().then(() => provider({ forceRefresh: true }));
    unsettled++;
    let timedOut = false;
    call.then(
      (identity) => {
        unsettled--;
        if (!timedOut) return;
        // Abandoned, then answered after all: as good as any (they are checked like the rest).
        try {
          current = checkIdentity(identity, description);
          failure = undefined;
        } catch {
          // Nothing usable: the next get() tries again.
        }
      },
      () => {
        unsettled--;
      },
    );
    const limit = timeoutMs();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(
          new SidecarError(
            'unavailable',
            `AWS credentials could not be resolved from ${description}: no answer within ${limit} ms (upstream.credentials_timeout_ms)`,
            { upstreamCode: 'CREDENTIALS_TIMEOUT' },
          ),
        );
      }, limit);
    });
    const attempt = Promise.race([call, timeout])
      .then((identity) => checkIdentity(identity, description))
      .then(
        (identity) => {
          current = identity;
          failure = undefined;
          return current;
        },
        (error: unknown) => {
          failure = credentialError(error, description);
          throw failure;
        },
      )
      .finally(() => {
        clearTimeout(timer);
        inflight = undefined;
      });
    inflight = attempt;
    return attempt;
  }

  function fresh(nowMs: number): boolean {
    const expiresMs = current?.expiration?.getTime();
    return current !== undefined && (expiresMs === undefined || expiresMs > nowMs);
  }

  return {
    async get() {
      const nowMs = now();
      if (current && fresh(nowMs)) {
        const expiresMs = current.expiration?.getTime();
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
    usable() {
      return fresh(now());
    },
    lastError() {
      return fresh(now()) ? undefined : failure;
    },
  };
}

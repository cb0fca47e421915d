/**
 * The one set of test credentials: AWS's documented example key pair (the SigV4 test suite signs with
 * it), which the in-process emulator accepts by default. Tests that need a different or wrong key take
 * one from `otherCredentials`, so every test key is made here. Hand a copy (`{ ...TEST_CREDENTIALS }`) to anything
 * that may write to it: the AWS SDK records where credentials came from on the object itself.
 */
export const TEST_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }> = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/**
 * A key pair distinct from TEST_CREDENTIALS and from every other label's: a rotated key, a client's own
 * key that must not travel, an identity whose secrets must never be logged (`session` adds a session
 * token). Key ids have AWS's shape (`AKIA` + 16, `ASIA` + 16 with a session, as the log redaction knows
 * them) and name their label (`AKIAROTATED000000000`).
 */
export function otherCredentials(
  label: string,
  options: { session?: boolean } = {},
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const tag = label.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return {
    accessKeyId: `${options.session ? 'ASIA' : 'AKIA'}${tag.slice(0, 16).padEnd(16, '0')}`,
    secretAccessKey: `${tag}/secretAccessKey/${TEST_CREDENTIALS.secretAccessKey}`.slice(0, 40),
    ...(options.session ? { sessionToken: `${tag}sessionToken+IQoJb3JpZ2luX2VjEJr` } : {}),
  };
}

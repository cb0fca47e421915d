/**
 * The one set of test credentials: AWS's documented example key pair (the SigV4 test suite signs with
 * it), which the in-process emulator accepts by default. Tests that need a different or wrong key derive
 * it from these, so a change of key is made here. Hand a copy (`{ ...TEST_CREDENTIALS }`) to anything
 * that may write to it: the AWS SDK records where credentials came from on the object itself.
 */
export const TEST_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }> = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

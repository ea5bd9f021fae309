// Raised when a policy file does not validate; the message names every offending field.
export class PolicyError extends Error {
  override name = 'PolicyError' as const;
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

// An error the CLI reports as one line and an exit code: 1 the operation failed, 2 bad usage or
// not supported, 3 the target (stack, credentials, local runtime) could not be reached.
export class CliError extends Error {
  override name = 'CliError' as const;
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
  }
}

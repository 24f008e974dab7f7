/** An error the user caused or can fix: printed as one line, no stack trace, with its exit code. */
export class UserError extends Error {
  constructor(
    message: string,
    /** 1: a check or lesson failed; 2: usage or environment (bad flag, busy port, bad data dir). */
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

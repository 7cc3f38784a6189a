/**
 * Exit statuses of `mutual`, so that scripts can tell what happened without parsing text.
 * They are part of the CLI's contract: never renumbered.
 */
export const EXIT = {
  /** done */
  ok: 0,
  /** any other error: refused request, bad answer, local I/O */
  error: 1,
  /** bad command line: unknown option, missing argument, malformed ID, amount, day or key file */
  usage: 2,
  /** the bank rejected the instruction (its code is printed) */
  rejected: 3,
  /** verify or audit found that what the node sent does not verify */
  verificationFailed: 4,
  /** the node could not be reached */
  unreachable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The text of the exit statuses, for `mutual --help` and the README. */
export const EXIT_HELP = `Exit status:
  0  ok
  1  error (refused request, unexpected answer, local I/O)
  2  usage error (bad option or argument; bad ID, amount, day or key file)
  3  the bank rejected the instruction (its code and message are printed)
  4  verification failed (verify, audit): keep the output as evidence
  5  the node is unreachable`;

// Known errors: printed as one line with the fix, no stack. Anything else keeps its stack.

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A bad flag or flag value: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = EXIT_USAGE;
}

/** The input cannot be read as a list of addresses: exit 2. */
export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode = EXIT_USAGE;
}

/** A failure while running (I/O, output): exit 1. */
export class RunError extends Error {
  override name = 'RunError';
  readonly exitCode = EXIT_RUNTIME;
}

/** Stopped by SIGINT/SIGTERM: exit 130, as shells report a Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  readonly exitCode = EXIT_INTERRUPTED;
}

export type KnownError = UsageError | InputError | RunError | InterruptedError;

export function isKnownError(error: unknown): error is KnownError {
  return (
    error instanceof UsageError || error instanceof InputError || error instanceof RunError || error instanceof InterruptedError
  );
}

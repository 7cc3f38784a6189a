import { MutualError } from '@mutual/interface';

/** The MutualError thrown by `f`; fails the test when `f` returns or throws anything else. */
export function thrown(f: () => unknown): MutualError {
  try {
    f();
  } catch (e) {
    if (e instanceof MutualError) return e;
    throw e;
  }
  throw new Error('expected a MutualError, but nothing was thrown');
}

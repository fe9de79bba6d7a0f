/**
 * `work`, or whatever `onTimeout` returns (or throws) if it has not settled within `ms`. The timer never keeps the
 * process alive and is cleared as soon as `work` settles.
 */
export async function withDeadline<T, F>(work: Promise<T>, ms: number, onTimeout: () => F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<F>((resolve) => {
    timer = setTimeout(() => {
      // A promise of onTimeout's result: what it throws becomes the rejection.
      resolve(Promise.resolve().then(onTimeout));
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

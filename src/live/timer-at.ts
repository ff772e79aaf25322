/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const LONGEST_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `fire` at the wall-clock time `at` (ms since the epoch), however far away, unless
 * cancelled first. Unref'd: a timer of this kind never keeps the process up on its own.
 */
export function timerAt(at: number, fire: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const delay = at - now();
    if (delay <= 0) {
      timer = undefined;
      fire();
      return;
    }
    timer = setTimeout(arm, Math.min(delay, LONGEST_DELAY_MS));
    timer.unref();
  };
  if (Number.isFinite(at)) arm();
  return () => clearTimeout(timer);
}

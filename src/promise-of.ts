/**
 * What `start(...args)` promises, with a synchronous throw as a rejection. The layers of a
 * device load follow each other's promises without async functions (each would cost a
 * promise and a microtask turn per device), so each starts the next through this.
 */
export function promiseOf<A extends unknown[], T>(start: (...args: A) => Promise<T>, ...args: A): Promise<T> {
  try {
    return start(...args);
  } catch (error) {
    return Promise.reject(error);
  }
}

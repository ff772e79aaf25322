/**
 * The events of one subscriber, as an async iterator. A device that changes faster than a
 * client reads is not queued version after version: only the newest waiting device is kept
 * (a screen shows the device as it is now), while a final item (an error) is never dropped.
 */
export interface LatestQueue<T> extends AsyncIterableIterator<T> {
  /** Queues `item`, replacing a waiting item that `replaceable` says may go. */
  push(item: T): void;
  /** Ends the stream once the queued items are read. */
  end(): void;
  readonly ended: boolean;
  return(): Promise<IteratorResult<T>>;
}

export function createLatestQueue<T>(replaceable: (item: T) => boolean, onClose: () => void): LatestQueue<T> {
  const items: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let ended = false;
  let closed = false;
  // Once, whichever way the stream stops: read to its end, or returned by the consumer.
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
  };

  const queue: LatestQueue<T> = {
    push(item) {
      if (ended) return;
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: item, done: false });
        return;
      }
      const last = items.at(-1);
      if (last !== undefined && replaceable(last) && replaceable(item)) items[items.length - 1] = item;
      else items.push(item);
    },
    end() {
      if (ended) return;
      ended = true;
      if (waiting && items.length === 0) {
        const resolve = waiting;
        waiting = undefined;
        close();
        resolve({ value: undefined, done: true });
      }
    },
    get ended() {
      return ended;
    },
    next() {
      if (items.length > 0) return Promise.resolve({ value: items.shift()!, done: false });
      if (ended) {
        close();
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      ended = true;
      items.length = 0;
      close();
      const resolve = waiting;
      waiting = undefined;
      resolve?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return queue;
    },
  };
  return queue;
}

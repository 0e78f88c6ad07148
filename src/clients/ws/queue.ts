/**
 * A bounded FIFO read through an async iterator. `push` answers `false` instead of growing past
 * `capacity`, so a slow consumer costs at most `capacity` items of memory.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<T, undefined>) => void) | undefined;
  #failer: ((error: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item; `false` when the queue is full or ended (the item is not kept). */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.#failer = undefined;
      waiter({ value: item, done: false });
      return true;
    }
    if (this.size >= this.capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Ends the queue: readers get what is queued, then `done` (or `error` when given). */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    const failer = this.#failer;
    this.#waiter = undefined;
    this.#failer = undefined;
    if (error !== undefined) failer?.(error);
    else waiter?.({ value: undefined, done: true });
  }

  /** Drops queued items and ends the queue. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.end();
  }

  /** The next item, waiting for one when the queue is empty. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) {
      const value = this.#items[this.#head] as T;
      this.#items[this.#head] = undefined as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) {
      return this.#error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.#error);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failer = reject;
    });
  }
}

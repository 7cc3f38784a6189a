/**
 * The newest items of an append-only sequence, by index: a contiguous range ending at the
 * newest index set, in a ring of fixed capacity. Setting and reading cost an array access,
 * with no hashing and no allocation, which matters on the commit path (one entry and about
 * two Merkle nodes per transfer).
 */
export class RecentRing<T> {
  readonly capacity: number;
  readonly #items: Array<T | undefined>;
  /** one past the newest index held */
  #end = 0;
  #count = 0;

  /** @param capacity - items kept; 0 keeps none */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  /**
   * Keeps `item` at `index`, forgetting the oldest item when full. An index other than the one
   * after the newest starts the range again: what was held is forgotten.
   */
  set(index: number, item: T): void {
    if (this.capacity === 0) return;
    if (this.#count > 0 && index !== this.#end) this.#count = 0;
    this.#items[index % this.capacity] = item;
    this.#end = index + 1;
    if (this.#count < this.capacity) this.#count++;
  }

  has(index: number): boolean {
    return index < this.#end && index >= this.#end - this.#count;
  }

  get(index: number): T | undefined {
    return this.has(index) ? this.#items[index % this.capacity] : undefined;
  }
}

/**
 * The Merkle nodes of the latest `entries` leaves of a log, every level: a ring per level,
 * level l holding the newest ceil(entries / 2^l) nodes (at least one).
 */
export class RecentNodes {
  readonly #entries: number;
  readonly #levels: Array<RecentRing<Uint8Array>> = [];

  constructor(entries: number) {
    this.#entries = entries;
  }

  set(level: number, index: number, hash: Uint8Array): void {
    while (this.#levels.length <= level) {
      this.#levels.push(new RecentRing<Uint8Array>(Math.max(1, Math.ceil(this.#entries / 2 ** this.#levels.length))));
    }
    this.#levels[level]!.set(index, hash);
  }

  get(level: number, index: number): Uint8Array | undefined {
    return this.#levels[level]?.get(index);
  }
}

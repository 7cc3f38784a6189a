/**
 * A map of at most `max` keys that forgets the key set longest ago first. The mesh keeps what
 * it knows per peer (strikes, a refusal, when it last followed up a hello) and per unknown
 * bank (a fork proof waiting) in these: peer IDs and bank keys are keys, and keys cost nothing
 * to make, so nothing kept per key may grow with the number of keys that show up. A key
 * forgotten is treated as one never seen.
 */
export class BoundedMap<V> {
  readonly #max: number;
  /** In the order set: the first is the one set longest ago. */
  readonly #map = new Map<string, V>();

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** Sets the value of `key`, as the newest; past the bound, forgets the oldest. */
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    for (const oldest of this.#map.keys()) {
      if (this.#map.size <= this.#max) break;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  /**
   * Forgets, oldest first, the keys whose value `stale` holds of, up to the first that it does
   * not: for values that age from the time they were set, that is every stale one.
   */
  forgetStale(stale: (value: V) => boolean): void {
    for (const [key, value] of this.#map) {
      if (!stale(value)) break;
      this.#map.delete(key);
    }
  }

  get size(): number {
    return this.#map.size;
  }
}

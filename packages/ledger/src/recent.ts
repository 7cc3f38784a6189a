/**
 * Deletes the oldest keys of `map` (in insertion order) beyond its newest `max`, in one pass of
 * one iterator: a new iterator per deletion would walk past every key deleted before it (a Map
 * keeps them as holes until it is rehashed). The eviction of the node's bounded caches.
 */
export function keepNewest<K>(map: Map<K, unknown>, max: number): void {
  let drop = map.size - max;
  if (drop <= 0) return;
  for (const k of map.keys()) {
    map.delete(k);
    if (--drop === 0) return;
  }
}

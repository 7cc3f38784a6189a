// hypercore ships no TypeScript types; this declares the part of its API the sync benchmark uses.
declare module 'hypercore' {
  import type { Duplex } from 'node:stream';
  class Hypercore {
    constructor(storage: string, key?: Uint8Array | null, options?: Record<string, unknown>);
    readonly key: Uint8Array;
    readonly length: number;
    readonly contiguousLength: number;
    ready(): Promise<void>;
    append(blocks: Uint8Array | Uint8Array[]): Promise<{ length: number; byteLength: number }>;
    get(index: number, options?: Record<string, unknown>): Promise<Uint8Array | null>;
    update(options?: { wait?: boolean }): Promise<boolean>;
    download(range?: { start?: number; end?: number; linear?: boolean }): { done(): Promise<void>; destroy(): void };
    replicate(isInitiator: boolean, options?: Record<string, unknown>): Duplex;
    close(): Promise<void>;
  }
  export default Hypercore;
}

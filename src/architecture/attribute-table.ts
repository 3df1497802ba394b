/**
 * An open-addressing hash table from fixed-width integer tuples to dense ids
 * (0, 1, 2, … in insertion order). Attributes are tuples
 * (template, value₁, …, value_k), so looking one up costs a few integer
 * multiplies instead of building and hashing a string.
 */
export class TupleTable {
  /** Ints per key. */
  readonly stride: number;
  /** keys[id·stride …] — the tuple of each id. */
  keys: Int32Array;
  private slots: Int32Array; // id + 1, or 0 for empty
  private mask: number;
  size = 0;

  constructor(stride: number, capacity = 1 << 12) {
    this.stride = stride;
    let cap = 16;
    while (cap < capacity * 2) cap <<= 1;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.keys = new Int32Array(Math.max(16, capacity) * stride);
  }

  private hash(key: Int32Array): number {
    let h = 0x811c9dc5 | 0;
    const s = this.stride;
    for (let i = 0; i < s; i++) {
      h = Math.imul(h ^ key[i]!, 0x01000193);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  private equals(id: number, key: Int32Array): boolean {
    const s = this.stride;
    const base = id * s;
    const keys = this.keys;
    for (let i = 0; i < s; i++) if (keys[base + i] !== key[i]) return false;
    return true;
  }

  /** Id of the tuple in `key[0 … stride)`, or −1. */
  get(key: Int32Array): number {
    let i = this.hash(key);
    const slots = this.slots;
    const mask = this.mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) return -1;
      if (this.equals(v - 1, key)) return v - 1;
      i = (i + 1) & mask;
    }
  }

  /** Id of the tuple, inserting it if new. */
  add(key: Int32Array): number {
    let i = this.hash(key);
    const mask = this.mask;
    for (;;) {
      const v = this.slots[i]!;
      if (v === 0) break;
      if (this.equals(v - 1, key)) return v - 1;
      i = (i + 1) & mask;
    }
    const id = this.size++;
    const s = this.stride;
    if ((id + 1) * s > this.keys.length) {
      const grown = new Int32Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys.set(key.subarray(0, s), id * s);
    this.slots[i] = id + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const cap = this.slots.length * 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    const s = this.stride;
    for (let id = 0; id < this.size; id++) {
      let i = this.hash(this.keys.subarray(id * s, id * s + s));
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = id + 1;
    }
  }
}

/**
 * Open-addressing hash map from fixed-width integer tuples to non-negative
 * integers. Each slot stores the value and the key inline, so a probe reads
 * one cache line.
 */
class TupleMap {
  private readonly width: number;
  /** slot i: [value + 1 (0 = empty), key…] at i·(width + 1) */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(width: number, capacity = 16) {
    this.width = width;
    let cap = 16;
    while (cap < capacity * 2) cap <<= 1;
    this.slots = new Int32Array(cap * (width + 1));
    this.mask = cap - 1;
  }

  private hash(key: Int32Array, off: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < this.width; i++) {
      h = Math.imul(h ^ key[off + i]!, 0x01000193);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  /** Slot holding key[off … off+width), or the empty slot where it would go. */
  private find(key: Int32Array, off: number): number {
    const s = this.width;
    const w = s + 1;
    const slots = this.slots;
    const mask = this.mask;
    let i = this.hash(key, off);
    for (;;) {
      const base = i * w;
      if (slots[base] === 0) return i;
      let eq = true;
      for (let j = 0; j < s; j++) {
        if (slots[base + 1 + j] !== key[off + j]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
      i = (i + 1) & mask;
    }
  }

  get(key: Int32Array, off: number): number {
    return this.slots[this.find(key, off) * (this.width + 1)]! - 1;
  }

  /** The value of the key, or `value` after inserting it when absent. */
  getOrInsert(key: Int32Array, off: number, value: number): number {
    const i = this.find(key, off);
    const base = i * (this.width + 1);
    const v = this.slots[base]!;
    if (v !== 0) return v - 1;
    this.slots[base] = value + 1;
    for (let j = 0; j < this.width; j++) this.slots[base + 1 + j] = key[off + j]!;
    this.size++;
    if (this.size * 2 > this.mask + 1) this.grow();
    return value;
  }

  /** Replace every stored value v by remap[v] (all ≥ 0: nothing removed, keys unchanged). */
  renumber(remap: Int32Array): void {
    const w = this.width + 1;
    const slots = this.slots;
    for (let base = 0; base < slots.length; base += w) {
      const v = slots[base]!;
      if (v !== 0) slots[base] = remap[v - 1]! + 1;
    }
  }

  private grow(): void {
    const old = this.slots;
    const w = this.width + 1;
    const cap = (this.mask + 1) * 2;
    this.slots = new Int32Array(cap * w);
    this.mask = cap - 1;
    const slots = this.slots;
    for (let base = 0; base < old.length; base += w) {
      if (old[base] === 0) continue;
      let i = this.hash(old, base + 1);
      while (slots[i * w] !== 0) i = (i + 1) & this.mask;
      // copied in place: a subarray per entry made rehashing allocation-bound
      const to = i * w;
      for (let j = 0; j < w; j++) slots[to + j] = old[base + j]!;
    }
  }
}

/**
 * Dense ids (0, 1, 2, … in insertion order) for integer tuples
 * (template, value₁, …, value_k): attributes. Each template has its own
 * hash map, so the small tables of frequent templates (POS n-grams) stay in
 * cache while word templates use large ones; `keys` keeps the tuples by id.
 */
export class TupleTable {
  /** Ints per key: the template, then the values. */
  readonly stride: number;
  /** keys[id·stride …] — the tuple of each id. */
  keys: Int32Array;
  size = 0;
  private maps: TupleMap[] = [];

  constructor(stride: number, capacity = 1 << 12) {
    this.stride = stride;
    this.keys = new Int32Array(Math.max(16, capacity) * stride);
  }

  private map(template: number): TupleMap {
    let m = this.maps[template];
    if (m === undefined) {
      for (let t = this.maps.length; t <= template; t++)
        this.maps.push(new TupleMap(this.stride - 1));
      m = this.maps[template]!;
    }
    return m;
  }

  /**
   * Renumber the ids: `keep` lists every id once, in its new order (a
   * permutation: nothing dropped). The hash maps keep their slots — only the
   * stored ids change — and the tuples move to their new places.
   */
  permute(keep: ArrayLike<number>): void {
    const n = this.size;
    if (keep.length !== n) throw new Error("TupleTable.permute: keep must list every id once");
    const remap = new Int32Array(n);
    const s = this.stride;
    const keys = new Int32Array(Math.max(16, n) * s);
    for (let i = 0; i < n; i++) {
      const a = keep[i]!;
      remap[a] = i;
      for (let j = 0; j < s; j++) keys[i * s + j] = this.keys[a * s + j]!;
    }
    for (const m of this.maps) m?.renumber(remap);
    this.keys = keys;
  }

  /** Id of the tuple in `key[0 … stride)`, or −1. */
  get(key: Int32Array): number {
    const m = this.maps[key[0]!];
    return m === undefined ? -1 : m.get(key, 1);
  }

  /** Id of the tuple, inserting it if new. */
  add(key: Int32Array): number {
    const id = this.map(key[0]!).getOrInsert(key, 1, this.size);
    if (id !== this.size) return id;
    const s = this.stride;
    if ((id + 1) * s > this.keys.length) {
      const grown = new Int32Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    for (let j = 0; j < s; j++) this.keys[id * s + j] = key[j]!;
    this.size++;
    return id;
  }
}

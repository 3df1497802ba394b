/**
 * Names ↔ dense ids (0, 1, …) for the given attributes of CRFsuite data,
 * looked up straight from a range of a longer string — a row's tab-separated
 * fields — so that reading an attribute file makes no string per field: the
 * range is hashed (FNV-1a over its UTF-16 code units) and compared in place
 * against the names' code units, kept one after another in one arena (no
 * string object per name either: about half the memory of a Map of strings).
 * Open addressing with linear probing; a slot holds the hash and id + 1 side
 * by side; at most half the slots are used.
 */
export class NameTable {
  /** [hash, id + 1] per slot (id + 1 = 0: empty). */
  private slots: Int32Array;
  private mask: number;
  /** The names' code units, one after another: name i is arena[start[i], start[i + 1]). */
  private arena: Uint16Array;
  private start: Int32Array;
  private count = 0;

  constructor(capacity = 1 << 12) {
    let cap = 16;
    while (cap < 2 * capacity) cap *= 2;
    this.slots = new Int32Array(2 * cap);
    this.mask = cap - 1;
    this.arena = new Uint16Array(16 * capacity);
    this.start = new Int32Array(capacity + 1);
  }

  get size(): number {
    return this.count;
  }

  /** FNV-1a hash of s[a, b). */
  static hash(s: string, a: number, b: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h;
  }

  /** Id of s[a, b) whose hash is h, or −1. */
  find(s: string, a: number, b: number, h: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const start = this.start;
    const mask = this.mask;
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const id1 = slots[2 * p + 1]!;
      if (id1 === 0) return -1;
      if (slots[2 * p] === h) {
        const lo = start[id1 - 1]!;
        if (start[id1]! - lo === b - a) {
          const off = lo - a;
          let i = a;
          while (i < b && arena[off + i] === s.charCodeAt(i)) i++;
          if (i === b) return id1 - 1;
        }
      }
    }
  }

  /** Id of the whole string `name`, or −1. */
  get(name: string): number {
    return this.find(name, 0, name.length, NameTable.hash(name, 0, name.length));
  }

  /** Id of s[a, b) (hash h), adding it when new. */
  addRange(s: string, a: number, b: number, h: number): number {
    const id = this.find(s, a, b, h);
    return id >= 0 ? id : this.insert(s, a, b, h);
  }

  /** Id of `name`, adding it when new. */
  add(name: string): number {
    return this.addRange(name, 0, name.length, NameTable.hash(name, 0, name.length));
  }

  /** The name of id i (0 ≤ i < size). */
  name(i: number): string {
    const lo = this.start[i]!;
    const hi = this.start[i + 1]!;
    let out = "";
    for (let j = lo; j < hi; j += 8192) {
      out += String.fromCharCode.apply(
        null,
        this.arena.subarray(j, Math.min(hi, j + 8192)) as unknown as number[],
      );
    }
    return out;
  }

  /**
   * A table of the names `keep` (ids, each at most once), renumbered 0, 1, …
   * in that order: their code units copied in the new order and the stored
   * hashes re-placed (no name rebuilt as a string, none hashed again).
   */
  retain(keep: ArrayLike<number>): NameTable {
    const n = keep.length;
    const out = new NameTable(n);
    const remap = new Int32Array(this.count).fill(-1);
    let units = 0;
    for (let i = 0; i < n; i++) {
      const a = keep[i]!;
      remap[a] = i;
      units += this.start[a + 1]! - this.start[a]!;
    }
    if (out.arena.length < units) out.arena = new Uint16Array(units);
    if (out.start.length < n + 1) out.start = new Int32Array(n + 1);
    let at = 0;
    const from = this.arena;
    const to = out.arena;
    for (let i = 0; i < n; i++) {
      const a = keep[i]!;
      const end = this.start[a + 1]!;
      for (let j = this.start[a]!; j < end; j++) to[at++] = from[j]!;
      out.start[i + 1] = at;
    }
    out.count = n;
    const slots = this.slots;
    if (n === this.count) {
      // a permutation: every slot stays where it is, only its id changes
      out.slots = slots.slice();
      out.mask = this.mask;
      const s2 = out.slots;
      for (let q = 1; q < s2.length; q += 2) if (s2[q] !== 0) s2[q] = remap[s2[q]! - 1]! + 1;
      return out;
    }
    for (let q = 0; q < slots.length; q += 2) {
      const id1 = slots[q + 1]!;
      if (id1 !== 0 && remap[id1 - 1]! >= 0) out.place(slots[q]!, remap[id1 - 1]!);
    }
    return out;
  }

  private insert(s: string, a: number, b: number, h: number): number {
    const id = this.count;
    const off = this.start[id]!;
    const end = off + (b - a);
    if (end > this.arena.length) {
      const bigger = new Uint16Array(Math.max(2 * this.arena.length, end));
      bigger.set(this.arena.subarray(0, off));
      this.arena = bigger;
    }
    const arena = this.arena;
    for (let i = a; i < b; i++) arena[off + i - a] = s.charCodeAt(i);
    if (id + 2 > this.start.length) {
      const bigger = new Int32Array(2 * this.start.length);
      bigger.set(this.start);
      this.start = bigger;
    }
    this.start[id + 1] = end;
    this.count = id + 1;
    if (2 * this.count > this.mask + 1) this.rehash();
    this.place(h, id);
    return id;
  }

  private place(h: number, id: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let p = h & mask;
    while (slots[2 * p + 1] !== 0) p = (p + 1) & mask;
    slots[2 * p] = h;
    slots[2 * p + 1] = id + 1;
  }

  private rehash(): void {
    const old = this.slots;
    const cap = 2 * (this.mask + 1);
    this.slots = new Int32Array(2 * cap);
    this.mask = cap - 1;
    for (let q = 0; q < old.length; q += 2) {
      const id1 = old[q + 1]!;
      if (id1 !== 0) this.place(old[q]!, id1 - 1);
    }
  }
}

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

  /** Room for `capacity` names of `units` code units in all (both grow when needed). */
  constructor(capacity = 1 << 12, units = 16 * capacity) {
    let cap = 16;
    while (cap < 2 * capacity) cap *= 2;
    this.slots = new Int32Array(2 * cap);
    this.mask = cap - 1;
    this.arena = new Uint16Array(Math.max(16, units));
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
   * The names `keep` (default: all, in id order) as UTF-8, one after another:
   * name i is text[start[i], start[i + 1]). A model file stores the table so
   * (no JSON string per name); null when a name is not well-formed UTF-16
   * (a lone surrogate, which UTF-8 cannot carry).
   */
  encode(keep?: ArrayLike<number>): { text: Uint8Array; start: Int32Array } | null {
    const n = keep ? keep.length : this.count;
    const start = new Int32Array(n + 1);
    let bytes = 0;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const a = keep ? keep[i]! : i;
      bytes += this.start[a + 1]! - this.start[a]!;
    }
    let text: Uint8Array = new Uint8Array(bytes);
    const arena = this.arena;
    const enc = new TextEncoder();
    let at = 0;
    for (let i = 0; i < n; i++) {
      const a = keep ? keep[i]! : i;
      const lo = this.start[a]!;
      const hi = this.start[a + 1]!;
      let j = lo;
      while (j < hi && arena[j]! < 0x80) j++;
      if (j === hi) {
        if (at + (hi - lo) > text.length) text = grow(text, at + (hi - lo));
        for (let k = lo; k < hi; k++) text[at++] = arena[k]!;
      } else {
        // a name with non-ASCII characters: through the encoder
        ascii = false;
        const name = this.name(a);
        if (LONE_SURROGATE.test(name)) return null;
        const utf8 = enc.encode(name);
        if (at + utf8.length > text.length) text = grow(text, at + utf8.length);
        text.set(utf8, at);
        at += utf8.length;
      }
      start[i + 1] = at;
    }
    return { text: ascii ? text : text.slice(0, at), start };
  }

  /**
   * The table of names given as `encode` writes them (ids 0, 1, … in order).
   * Throws (plain Error) when the offsets are not increasing within the text,
   * a name is not valid UTF-8, or a name occurs twice.
   */
  static decode(text: Uint8Array, start: Int32Array): NameTable {
    const n = start.length - 1;
    if (n < 0 || start[0] !== 0 || start[n] !== text.length)
      throw new Error("attribute names: offsets do not cover the text");
    for (let i = 0; i < n; i++)
      if (start[i + 1]! < start[i]!)
        throw new Error(`attribute names: offset ${i + 1} goes backwards`);
    // a name has at most as many UTF-16 code units as UTF-8 bytes: the arena never grows
    const out = new NameTable(Math.max(1, n), text.length);
    const arena = out.arena;
    const dec = new TextDecoder("utf-8", { fatal: true });
    let at = 0;
    for (let i = 0; i < n; i++) {
      const lo = start[i]!;
      const hi = start[i + 1]!;
      let j = lo;
      while (j < hi && text[j]! < 0x80) j++;
      if (j === hi) {
        for (let k = lo; k < hi; k++) arena[at++] = text[k]!;
      } else {
        let name: string;
        try {
          name = dec.decode(text.subarray(lo, hi));
        } catch {
          throw new Error(`attribute names: name ${i} is not valid UTF-8`);
        }
        for (let k = 0; k < name.length; k++) arena[at++] = name.charCodeAt(k);
      }
      const a = out.start[i]!;
      let h = 0x811c9dc5 | 0;
      for (let k = a; k < at; k++) h = Math.imul(h ^ arena[k]!, 0x01000193);
      out.start[i + 1] = at;
      // place it (the table has room for all n), meeting any equal name on the way
      const slots = out.slots;
      const ostart = out.start;
      let p = h & out.mask;
      for (let id1 = slots[2 * p + 1]!; id1 !== 0; id1 = slots[2 * p + 1]!) {
        if (slots[2 * p] === h && ostart[id1]! - ostart[id1 - 1]! === at - a) {
          const lo = ostart[id1 - 1]!;
          let k = 0;
          while (k < at - a && arena[lo + k] === arena[a + k]) k++;
          if (k === at - a) throw new Error(`attribute names: name ${i} occurs twice`);
        }
        p = (p + 1) & out.mask;
      }
      slots[2 * p] = h;
      slots[2 * p + 1] = i + 1;
      out.count = i + 1;
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

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function grow(a: Uint8Array, need: number): Uint8Array {
  const b = new Uint8Array(Math.max(2 * a.length, need));
  b.set(a);
  return b;
}

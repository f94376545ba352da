/** A binary min-heap of drafts ordered by time, then by insertion (stable, so output is deterministic). */
import type { Draft } from './render.ts';

interface Entry {
  readonly draft: Draft;
  readonly seq: number;
}

function before(a: Entry, b: Entry): boolean {
  return a.draft.t < b.draft.t || (a.draft.t === b.draft.t && a.seq < b.seq);
}

export class DraftHeap {
  private readonly items: Entry[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): Draft | undefined {
    return this.items[0]?.draft;
  }

  push(draft: Draft): void {
    const items = this.items;
    const entry = { draft, seq: this.seq++ };
    let i = items.length;
    items.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as Entry;
      if (!before(entry, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = entry;
  }

  pop(): Draft | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop() as Entry;
    if (items.length > 0) {
      let i = 0;
      const n = items.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && before(items[r] as Entry, items[l] as Entry) ? r : l;
        if (!before(items[child] as Entry, last)) break;
        items[i] = items[child] as Entry;
        i = child;
      }
      items[i] = last;
    }
    return top.draft;
  }
}

/**
 * @module batch-requests
 * The requests of the last batch that still view its slab: those whose
 * answer was not decided inside the batch (Dispatcher.goAsync adds them).
 * When the batch's microtask checkpoint is over, the addon calls
 * Dispatcher.detachPending, which calls `release`: a request answered in the
 * checkpoint is ended (it never needs its bytes again); the ones still
 * pending copy their own bytes out of the slab before the addon reuses it.
 *
 * Those copies share one latin1 string made for the batch (one native call
 * instead of one a request; the setImmediate hello 7,125 -> 6,797
 * instructions a request, callgrind), and each request keeps only its own
 * slice of it (Request._detachShared): JS cannot reach from a slice to the
 * rest of the string it was cut from.
 */
import type { Reply } from './reply';
import type { Request } from './request';

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

export class BatchRequests {
  /** Replies in batch order; [0, len) are live, the rest cleared (the array keeps its room). */
  private readonly list: (Reply | null)[] = [];
  private len = 0;

  /** Small (a store at the end grows the array once): inlined into Dispatcher.row at little of its budget. */
  add(res: Reply): void {
    this.list[this.len++] = res;
  }

  /**
   * Every request of the batch is answered and its handler has returned
   * (its promise settled): nothing of the batch can read its request any
   * more, so the batch may end before its checkpoint does.
   */
  allSettled(): boolean {
    const list = this.list;
    for (let i = 0; i < this.len; i++) {
      const r = list[i] as Reply;
      if (!r._done || !r._settled) return false;
    }
    return true;
  }

  /** Ends the answered requests and detaches the pending ones; returns how many are pending. */
  release(): number {
    const list = this.list;
    const n = this.len;
    this.len = 0;
    let first = -1;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (!(list[i] as Reply)._done) {
        if (first < 0) first = i;
        last = i;
      }
    }
    let shared = '';
    let slab: Uint8Array | null = null;
    let from = 0;
    if (first >= 0 && first !== last) {
      const a = (list[first] as Reply)._req as Request;
      const b = (list[last] as Reply)._req as Request;
      // Rows are in slab order; a nested batch (inject from a handler) has another slab.
      if (a._slab === b._slab && a._raw === null && b._raw === null && !a._ended && !b._ended) {
        slab = a._slab;
        from = a._methodOff;
        shared = latin1Slice.call(slab, from, b._bodyOff + b._bodyLen);
      }
    }
    let open = 0;
    for (let i = 0; i < n; i++) {
      const res = list[i] as Reply;
      list[i] = null;
      const req = res._req as Request;
      if (res._done) req._end();
      else {
        if (req._slab === slab && req._methodOff >= from && req._bodyOff + req._bodyLen <= from + shared.length) req._detachShared(shared, from);
        else req._detach();
        open++;
      }
    }
    return open;
  }
}

// Driving an incremental parser the way a ringloop connection feeds it, without sockets.

/**
 * Feeds `chunks` one after the other, as reads of a connection: parses every complete item (calling
 * `onItem(buffer)` for each, while the parser still points into `buffer`) and keeps the unconsumed
 * tail, copied into a fresh buffer as the reactor may move it, in front of the next read. Stops at
 * the first failure. Returns `{ code }` (the failing parse's result) or `{ code: 0, leftover }`.
 */
export function feedReads(parser, chunks, needMore, onItem) {
  let pending = Buffer.alloc(0);
  for (const chunk of chunks) {
    pending = Buffer.concat([pending, chunk]);
    let off = 0;
    for (;;) {
      const r = parser.parse(pending, off);
      if (r > 0) {
        onItem(pending);
        off += r;
        continue;
      }
      if (r === needMore) break;
      return { code: r };
    }
    pending = Buffer.from(pending.subarray(off));
  }
  return { code: 0, leftover: pending.length };
}

/** Splits `buf` at the given offsets. */
export function splitAt(buf, cuts) {
  const out = [];
  let last = 0;
  for (const c of cuts) {
    out.push(buf.subarray(last, c));
    last = c;
  }
  out.push(buf.subarray(last));
  return out;
}

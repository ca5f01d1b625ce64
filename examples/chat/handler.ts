/**
 * A line chat: every line a client sends goes to every other client, whichever reactor holds it.
 * `npm run example -- chat --loops 4`, then `nc 127.0.0.1 9000` in a few terminals.
 *
 * Each connection joins the topic `chat` when it opens; a line is published to that topic, which
 * costs one inbox message per reactor that holds chatters, and each reactor writes it to its own
 * chatters from one buffer (the sender is left out). A connection leaves the topic when it closes.
 * Whole lines only: what follows the last newline stays buffered until the rest arrives (a line
 * longer than `readBufferCap` closes its connection with EMSGSIZE). A chatter that stops reading
 * is dropped with ENOBUFS once `writeBufferCap` of lines is waiting for it.
 */
import { defineHandler } from '../../lib/index.js';

const ROOM = 'chat';

export default defineHandler({
  onOpened(c) {
    c.subscribe(ROOM);
  },
  react(c) {
    const buf = c.peek();
    if (buf === null) return;
    const end = buf.lastIndexOf(10) + 1;
    if (end === 0) return;
    c.publish(ROOM, c.next(end)!);
  },
});

/**
 * UDP echo: `react` runs once per datagram, and what it returns goes straight back to that
 * datagram's sender as one datagram. The view points into the reactor's read arena, so the reply
 * is sent from there without a copy (recvmmsg in, sendmmsg out, one JS call per batch).
 */
import { defineHandler } from '../../lib/index.js';

export default defineHandler({
  react(c) {
    return c.next();
  },
});

// The package's types from a CommonJS TypeScript file (module nodenext): require-style import.
import ringloop = require('ringloop');
import { defineHandler, type Engine } from 'ringloop';

export const h = defineHandler({
  react(c) {
    return c.next();
  },
});
export function listen(e: Engine): void {
  e.on('message', (msg, loop) => void [msg, loop]);
  // @ts-expect-error -- unknown event name, from CommonJS too
  e.on('mesage', () => undefined);
}
export const serve: typeof ringloop.serve = ringloop.serve;

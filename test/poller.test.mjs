// Which poller backend the loaded addon was built with, and the wake-up fd every backend pairs
// with it. test/kqueue/run.sh sets RINGLOOP_EXPECT_POLLER=kqueue, so a kqueue run that loaded
// another build fails here instead of passing on epoll.
import t from 'tap';
import { native } from '../dist/lib/channel/native.js';
import { fdCount } from './helpers/resources.mjs';

const expected = process.env.RINGLOOP_EXPECT_POLLER ?? (process.platform === 'linux' ? 'epoll' : 'kqueue');

t.test(`the addon's poller is ${expected}`, async (t) => {
  t.equal(native.poller, expected);
});

t.test('a wake fd is one descriptor: signalling it never fails and closeFd releases all of it', async (t) => {
  const before = fdCount();
  const fd = native.createWakeFd();
  t.ok(Number.isInteger(fd) && fd >= 0, 'a descriptor number');
  let failed = 0;
  for (let i = 0; i < 1000; i++) if (native.wake(fd) !== 0) failed++;
  t.equal(failed, 0, 'a thousand signals without a reader never fail');
  t.equal(native.closeFd(fd), 0);
  t.equal(fdCount(), before, 'nothing left open');
});

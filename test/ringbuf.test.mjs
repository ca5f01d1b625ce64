// The connections' native ring buffer, driven through its test wrapper.
import t from 'tap';
import { native } from '../dist/lib/channel/native.js';

function bytes(n, seed) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

t.test('allocates nothing until written, then grows by doubling from 4 KiB', async (t) => {
  const r = new native.TestRing(1 << 20);
  t.equal(r.capacity, 0);
  t.ok(r.write(bytes(10, 1)));
  t.equal(r.capacity, 4096);
  t.ok(r.write(bytes(5000, 2)));
  t.equal(r.capacity, 8192);
  t.equal(r.size, 5010);
  t.same(r.read(10), bytes(10, 1));
  t.same(r.read(5000), bytes(5000, 2));
});

t.test('wraps around the end of its memory and reads back in order', async (t) => {
  const r = new native.TestRing(1 << 20);
  r.write(bytes(3000, 1));
  r.read(2000);
  t.ok(r.write(bytes(3000, 2)), 'fits without growing');
  t.equal(r.capacity, 4096);
  t.equal(r.pieces(), 2, 'the contents now wrap');
  const all = r.read(4000);
  t.same(all.subarray(0, 1000), bytes(3000, 1).subarray(2000));
  t.same(all.subarray(1000), bytes(3000, 2));
});

t.test('growing while wrapped keeps every byte in order', async (t) => {
  const r = new native.TestRing(1 << 20);
  r.write(bytes(3500, 1));
  r.read(3000);
  r.write(bytes(3000, 2));
  t.equal(r.pieces(), 2);
  t.ok(r.write(bytes(10000, 3)));
  t.equal(r.capacity, 16384);
  t.equal(r.pieces(), 1, 'linearised on growth');
  const all = r.read(r.size);
  t.same(all.subarray(0, 500), bytes(3500, 1).subarray(3000));
  t.same(all.subarray(500, 3500), bytes(3000, 2));
  t.same(all.subarray(3500), bytes(10000, 3));
});

t.test('refuses a write past its cap, whole, leaving the contents untouched', async (t) => {
  const r = new native.TestRing(8192);
  t.ok(r.write(bytes(8000, 1)));
  t.notOk(r.write(bytes(193, 2)), 'refused');
  t.equal(r.size, 8000);
  t.ok(r.write(bytes(192, 3)), 'exactly up to the cap is fine');
  t.same(r.read(8192).subarray(8000), bytes(192, 3));
});

t.test('gives its memory back only when empty', async (t) => {
  const r = new native.TestRing(1 << 20);
  r.write(bytes(100, 1));
  r.release();
  t.equal(r.capacity, 4096, 'kept while holding bytes');
  r.read(100);
  r.release();
  t.equal(r.capacity, 0, 'released when drained');
});

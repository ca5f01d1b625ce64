// Listen-address parsing: valid forms, clear errors, and a bounded fuzz run.
import t from 'tap';
import { parseAddress } from '../dist/lib/index.js';

t.test('valid addresses', async (t) => {
  t.match(parseAddress('tcp://127.0.0.1:9000'), { scheme: 'tcp', family: 4, host: '127.0.0.1', port: 9000 });
  t.match(parseAddress('tcp://:0'), { family: 4, host: '', port: 0 });
  t.match(parseAddress('tcp6://[::1]:80'), { scheme: 'tcp6', family: 6, host: '::1', port: 80 });
  t.match(parseAddress('tcp://[::]:9000'), { family: 6, host: '::' });
  t.match(parseAddress('tcp4://0.0.0.0:65535'), { family: 4, port: 65535 });
  t.match(parseAddress('unix:///tmp/x.sock'), { scheme: 'unix', family: 0, host: '/tmp/x.sock' });
  t.match(parseAddress('TCP://localhost:1'), { scheme: 'tcp', host: 'localhost' });
  t.match(parseAddress('udp://127.0.0.1:53'), { scheme: 'udp', family: 4, port: 53, dgram: true });
  t.match(parseAddress('udp6://[::1]:53'), { scheme: 'udp6', family: 6, dgram: true });
  t.match(parseAddress('udp4://:0'), { scheme: 'udp4', family: 4, host: '', dgram: true });
  t.match(parseAddress('tcp://:1'), { dgram: false });
});

t.test('bad addresses say what is wrong', async (t) => {
  t.throws(() => parseAddress('tcp://:99999'), /invalid port 99999/);
  t.throws(() => parseAddress('tcp://:-1'), /expected tcp:\/\/host:port/);
  t.throws(() => parseAddress('foo://x'), /unsupported scheme "foo"/);
  t.throws(() => parseAddress('udp6://127.0.0.1:1'), /udp6 address with an IPv4 host/);
  t.throws(() => parseAddress('udp4://[::1]:1'), /udp4 address with an IPv6 host/);
  t.throws(() => parseAddress('udp://:70000'), /invalid port 70000/);
  t.throws(() => parseAddress('127.0.0.1:9000'), /expected scheme:\/\/host:port/);
  t.throws(() => parseAddress('tcp6://127.0.0.1:1'), /tcp6 address with an IPv4 host/);
  t.throws(() => parseAddress('tcp4://[::1]:1'), /IPv6 host/);
  t.throws(() => parseAddress('tcp://[nope]:1'), /invalid IPv6 address/);
  t.throws(() => parseAddress('unix://relative'), /absolute/);
  t.throws(() => parseAddress(`unix:///${'a'.repeat(200)}`), /too long/);
  t.throws(() => parseAddress(42), /must be a string/);
});

t.test('fuzz: random and mutated inputs only ever give a result or a TypeError/RangeError', async (t) => {
  const seeds = ['tcp://127.0.0.1:9000', 'tcp6://[::1]:80', 'unix:///tmp/a.sock', 'tcp://:0', 'tcp4://1.2.3.4:5', 'udp6://[::1]:53'];
  const alphabet = 'tcpunix46:/[]0123456789.abcdef:%@ \u0000\u00ff\ud83d';
  let seed = 12345;
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let odd = 0;
  for (let i = 0; i < 20000; i++) {
    let s;
    if (i % 2) {
      s = '';
      const len = rnd(40);
      for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    } else {
      const a = [...seeds[rnd(seeds.length)]];
      for (let k = 0; k < 1 + rnd(4); k++) {
        const at = rnd(a.length + 1);
        const op = rnd(3);
        if (op === 0) a.splice(at, 1);
        else if (op === 1) a.splice(at, 0, alphabet[rnd(alphabet.length)]);
        else a[at] = alphabet[rnd(alphabet.length)];
      }
      s = a.join('');
    }
    try {
      const r = parseAddress(s);
      if (!(r.port >= 0 && r.port <= 65535) || ![0, 4, 6].includes(r.family)) odd++;
    } catch (e) {
      if (!(e instanceof TypeError || e instanceof RangeError) || !e.message) odd++;
    }
  }
  t.equal(odd, 0, '20,000 inputs, no unexpected outcome');
});
